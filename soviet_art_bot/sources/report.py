"""What a store holds per source: ``soviet-art-bot sources``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .. import safejson
from ..catalog import CATALOG_KEY, parse_catalog
from ..errors import ArtBotError, CatalogError
from ..store import Store

SOURCES_STATE = "state/sources/"
MAX_RECORD_BYTES = 64 * 1024


@dataclass(frozen=True)
class SourceLine:
    """One source in a store: how many entries, when last scraped, on what licence."""

    source: str
    count: int
    last_scrape: str = ""
    license: str = ""
    complete: bool | None = None


@dataclass
class SourcesReport:
    store: str
    sources: list[SourceLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "sources": [vars(s) for s in self.sources],
            "problems": self.problems,
        }

    def lines(self) -> list[str]:
        if not self.sources:
            return [f"{self.store}: no paintings yet; run 'soviet-art-bot scrape' first"]
        out = [f"{self.store}: {sum(s.count for s in self.sources)} paintings"]
        for s in self.sources:
            when = s.last_scrape or "never scraped here"
            if s.complete is False:
                when += " (incomplete)"
            out.append(
                f"  {s.source}: {s.count} paintings, last scrape {when}, "
                f"licence {s.license or 'not stated'}"
            )
        return out


def _records(store: Store, problems: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for info in store.list(SOURCES_STATE):
        try:
            doc = safejson.loads(
                store.read(info.key, max_bytes=MAX_RECORD_BYTES),
                name=store.describe(info.key),
                fix="re-run the scrape of that source",
            )
        except ArtBotError as exc:
            problems.append(str(exc))
            continue
        if isinstance(doc, dict) and isinstance(doc.get("source"), str):
            out[doc["source"]] = doc
    return out


def sources_report(store: Store) -> SourcesReport:
    """Count the catalog's entries per ``source`` and join each source's last-scrape record."""
    report = SourcesReport(store.url)
    data = store.read_versioned(CATALOG_KEY)
    counts: Counter[str] = Counter()
    if data is not None:
        try:
            paintings = parse_catalog(data[0], name=store.describe(CATALOG_KEY))
            top = json.loads(data[0]).get("source")
        except CatalogError as exc:
            raise CatalogError(f"{exc}; fix or re-scrape it before listing sources") from None
        for p in paintings:
            label = p.extra.get("source")
            counts[label if isinstance(label, str) else str(top or "unnamed")] += 1
    records = _records(store, report.problems)
    for label in sorted(set(counts) | set(records)):
        rec = records.get(label, {})
        report.sources.append(
            SourceLine(
                source=label,
                count=counts.get(label, 0),
                last_scrape=str(rec.get("last_scrape") or ""),
                license=str(rec.get("license") or ""),
                complete=rec.get("complete") if isinstance(rec.get("complete"), bool) else None,
            )
        )
    return report
