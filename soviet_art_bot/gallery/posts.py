"""What was posted, as the gallery shows it, read from the slot records.

A slot record (``state/slots/YYYY/MM/DD/<slot>.json``, written by the bot)
is the source of truth. A slot appears in the gallery once at least one
platform has ``posted`` it; its painting is the slot's painting, and a
platform that posted another one (it refused the first) is shown with that
painting's title. Records are state files like any other: one that is not
what the bot writes is skipped with a warning, never rendered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..caption import alt_text
from ..catalog import Painting, painting_from_json
from ..errors import NotFound, StoreError
from ..ledger import SLOTS_PREFIX, parse_time
from ..log import Logger
from ..store import Store

_MONTH = re.compile(r"\d{4}-\d{2}")
_URL_SCHEMES = ("https://", "http://", "file:///")
MAX_RECORD_BYTES = 2_000_000


@dataclass(frozen=True)
class PostLink:
    """One platform's post of the slot."""

    platform: str
    post_id: str
    url: str | None  # only http(s) or file URLs; anything else is shown, not linked
    other_title: str | None = None  # set when this platform posted another painting

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "id": self.post_id, "url": self.url,
                "other_title": self.other_title}  # fmt: skip


@dataclass(frozen=True)
class GalleryPost:
    """One posted slot, with what its page entry shows."""

    slot: str  # "2026-11-26T12:00:00Z"
    painting_id: str
    title: str
    artist: str
    year: str
    alt_text: str
    links: tuple[PostLink, ...]

    @property
    def month(self) -> str:
        return self.slot[:7]

    @property
    def date(self) -> str:
        return self.slot[:10]

    def to_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot, "painting_id": self.painting_id, "title": self.title,
            "artist": self.artist, "year": self.year, "alt_text": self.alt_text,
            "links": [link.to_json() for link in self.links],
        }  # fmt: skip

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GalleryPost:
        """The inverse of :meth:`to_json` (for the site's own data files)."""
        return cls(
            slot=str(doc["slot"]), painting_id=str(doc["painting_id"]), title=str(doc["title"]),
            artist=str(doc["artist"]), year=str(doc["year"]), alt_text=str(doc["alt_text"]),
            links=tuple(
                PostLink(str(x["platform"]), str(x["id"]), _safe_url(x.get("url")),
                         None if x.get("other_title") is None else str(x["other_title"]))
                for x in doc["links"]
            ),
        )  # fmt: skip


def month_prefix(month: str) -> str:
    """The slot records' folder for ``YYYY-MM``."""
    if not _MONTH.fullmatch(month):
        raise ValueError(f"not a month: {month!r}")
    return f"{SLOTS_PREFIX}/{month[:4]}/{month[5:7]}/"


def month_of_key(key: str) -> str | None:
    """``YYYY-MM`` of a slot record key, or None if the key is not one."""
    m = re.fullmatch(rf"{SLOTS_PREFIX}/(\d{{4}})/(\d{{2}})/\d{{2}}/[^/]+\.json", key)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def _safe_url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(_URL_SCHEMES) and len(value) <= 2000:
        if not any(c.isspace() or ord(c) < 32 for c in value):
            return value
    return None


def post_from_record(data: bytes, key: str) -> GalleryPost | None:
    """The gallery entry of one slot record; None if nothing was posted.

    Raises ValueError naming what is wrong when the record is malformed.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"{len(data)} bytes is too large for a slot record")
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    slot = parse_time(record.get("slot"), what=f"{key} 'slot'").strftime("%Y-%m-%dT%H:%M:%SZ")
    painting = painting_from_json(record.get("painting"), f"{key} painting")
    others: dict[str, Painting] = {}
    for doc in record.get("alternates") or []:
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            others[doc["id"]] = painting_from_json(doc, f"{key} alternate")
    states = record.get("platforms")
    if not isinstance(states, dict):
        raise ValueError("'platforms' is not an object")
    links = []
    for name in sorted(states):
        state = states[name]
        if not isinstance(state, dict) or state.get("status") != "posted":
            continue
        post_id = state.get("id")
        if not isinstance(post_id, str | int) or isinstance(post_id, bool):
            raise ValueError(f"platform {name!r}: posted without an id")
        pid = state.get("painting_id", painting.id)
        other = others.get(pid) if pid != painting.id else None
        links.append(PostLink(str(name)[:40], str(post_id)[:200], _safe_url(state.get("url")),
                              other.title if other else None))  # fmt: skip
    if not links:
        return None
    recorded_alt = record.get("alt_text")
    return GalleryPost(
        slot=slot,
        painting_id=painting.id,
        title=painting.title,
        artist=painting.artist,
        year=painting.year,
        alt_text=recorded_alt if isinstance(recorded_alt, str) and recorded_alt.strip()
        else alt_text(painting),
        links=tuple(links),
    )  # fmt: skip


def read_post(store: Store, key: str, log: Logger) -> GalleryPost | None:
    """:func:`post_from_record` of a stored record, logging (not raising) a bad one."""
    try:
        return post_from_record(store.read(key), key)
    except NotFound:  # deleted since it was listed
        return None
    except StoreError:  # the store failing is not a bad record: let the caller say so
        raise
    except Exception as exc:  # a bad state file costs its entry, never the gallery
        log.warning("gallery.record_skipped", key=key, error=str(exc)[:300])
        return None
