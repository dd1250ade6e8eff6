"""Ingest a WikiArt style into a store: scrape, download, normalise, store.

The listing is read page by page in the calling thread while a bounded pool
downloads the images it names, so a cold ingest runs at WikiArt's image
limit rather than at the speed of one request after another. All requests
go through :class:`~soviet_art_bot.wikiart.WikiArtClient`, which holds the
limits.

Re-running is cheap and safe; the store itself is the only state:

* ``catalog.json`` is written last and atomically (with its posting index,
  via :func:`~soviet_art_bot.catalog.write_catalog`), and lists only images
  already in the store. Each entry keeps the listing's ``image_url`` (an extra
  field, ignored by readers), so a re-run knows which images it already has
  unchanged: same id, same image URL, object present with the catalogued
  size. Those are not requested again.
* An image stored by a run that was interrupted before writing the catalog
  (even by SIGKILL) is found under ``images/<id>.<ext>``, read back from the
  store, checked, and catalogued without asking WikiArt for it again.
* Images are written atomically (S3 PUT; the directory store renames from
  ``.partial/``, whose leftovers are removed at the start of a run), and an
  upload is skipped when the store already holds the same content.

Store keys come from painting ids only (validated, letters/digits/``-``/``_``),
never from anything in a URL. Nothing is written outside the store.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from . import safejson
from .catalog import CATALOG_KEY, Painting, parse_catalog, write_catalog
from .errors import ArtBotError, CatalogError, IngestError
from .images import EXTENSIONS, ImageRejected, normalise
from .log import Logger
from .sources import Source, WikiArtSource
from .sources.report import SOURCES_STATE
from .store import DirStore, ObjectInfo, Store
from .times import format_time
from .wikiart import (
    DEFAULT_ORIGIN,
    DEFAULT_STYLE,
    ImageRefused,
    InvalidPainting,
    ListedPainting,
    RetriesExhausted,
    WikiArtClient,
    check_style,
)

IMAGE_PREFIX = "images/"
WORKERS = 8  # enough to keep 20 requests/s flowing at ~100 ms a request
_IMAGE_EXTS = set(EXTENSIONS.values())
MAX_LISTED_REASONS = 25


def image_stem(painting_id: str) -> str:
    """The store name of a painting's image: its id, with a prefix's ':' as '-'.

    ``images/aic:123.jpg`` would read as a URL scheme in a relative link (the
    gallery's), so prefixed ids are stored as ``images/aic-123.jpg``; WikiArt
    ids have no ':' and keep their keys.
    """
    return painting_id.replace(":", "-")


@dataclass
class IngestSummary:
    """What a run did; ``lines()`` is the closing summary the CLI prints."""

    style: str
    store: str
    source: str = ""
    pages: int = 0
    listed: int = 0
    stored: int = 0
    downloaded: int = 0
    unchanged: int = 0
    recovered: int = 0
    reencoded: int = 0
    uploads_skipped: int = 0
    bytes_downloaded: int = 0
    bytes_stored: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    listing_requests: int = 0
    image_requests: int = 0
    retries: int = 0
    throttled: int = 0
    catalog_written: bool = False
    elapsed: float = 0.0
    duplicates: list[Any] = field(default_factory=list)  # sources.dedupe.Duplicate

    @property
    def ok(self) -> bool:
        """Every usable painting of the listing is stored and catalogued."""
        return not self.failed

    def lines(self) -> list[str]:
        out = [
            f"scrape of {self.source or 'wikiart:' + self.style} into {self.store}"
            f" ({'complete' if self.ok else 'INCOMPLETE'})",
            f"pages: {self.pages} ({self.listing_requests} listing requests)",
            f"paintings: {self.listed} listed, {self.stored} in the catalog"
            + ("" if self.catalog_written else " (catalog unchanged, not rewritten)"),
            f"downloaded: {self.downloaded} ({self.image_requests} image requests, "
            f"{self.retries} retries, {self.throttled} answered 429)",
            f"unchanged: {self.unchanged}"
            + (f" (+{self.recovered} recovered from an interrupted run)" if self.recovered else ""),
            f"re-encoded: {self.reencoded}",
            f"skipped: {len(self.skipped)}",
        ]
        for label, reason in self.skipped[:MAX_LISTED_REASONS]:
            out.append(f"  - {label}: {reason}")
        if len(self.skipped) > MAX_LISTED_REASONS:
            out.append(f"  ... and {len(self.skipped) - MAX_LISTED_REASONS} more")
        if self.duplicates:
            out.append(f"same work in two sources, kept once: {len(self.duplicates)}")
            for dup in self.duplicates[:MAX_LISTED_REASONS]:
                out.append(f"  - {dup.line()}")
        out.append(f"failed: {len(self.failed)}")
        for pid in self.failed:
            out.append(f"  - {pid}: {self.failures.get(pid, '')}")
        out.append(
            f"bytes: {_mb(self.bytes_downloaded)} downloaded, {_mb(self.bytes_stored)} written"
            + (
                f" ({self.uploads_skipped} uploads skipped: same content already stored)"
                if self.uploads_skipped
                else ""
            )
        )
        out.append(f"elapsed: {self.elapsed:.1f} s")
        if self.failed:
            out.append(
                f"{len(self.failed)} painting(s) could not be fetched after retries; "
                "re-run the same command to fetch only what is missing"
            )
        return out


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


@dataclass(frozen=True)
class _Outcome:
    painting: Painting
    how: str  # "downloaded" | "recovered"
    downloaded: int = 0
    written: int = 0
    reencoded: bool = False
    upload_skipped: bool = False


def _previous_catalog(store: Store, log: Logger) -> tuple[dict[str, Painting], list[Any]]:
    """The catalog's entries by id, each with its ``source`` (a v1 catalog
    written before sources existed names it once, at the top)."""
    current = store.read_versioned(CATALOG_KEY)
    if current is None:
        return {}, []
    data = current[0]
    try:
        paintings = parse_catalog(data, name=store.describe(CATALOG_KEY))
        top = safejson.loads(data, name=store.describe(CATALOG_KEY), fix="").get("source")
    except CatalogError as exc:
        log.warning("scrape.previous_catalog_ignored", error=str(exc))
        return {}, []
    as_written = [p.to_json() for p in paintings]
    top = top if isinstance(top, str) else ""
    out = {}
    for p in paintings:
        if not isinstance(p.extra.get("source"), str):
            p = replace(p, extra={**p.extra, "source": top})
        out[p.id] = p
    return out, as_written


def _stored_images(store: Store) -> dict[str, list[ObjectInfo]]:
    """Images already in the store, by painting id (from the key ``images/<id>.<ext>``)."""
    found: dict[str, list[ObjectInfo]] = {}
    for info in store.list(IMAGE_PREFIX):
        name = info.key[len(IMAGE_PREFIX) :]
        stem, dot, ext = name.rpartition(".")  # the id's image_stem
        if dot and "/" not in name and ext in _IMAGE_EXTS and stem:
            found.setdefault(stem, []).append(info)
    return found


def same_image_url(a: object, b: str) -> bool:
    """Whether two listing image URLs name the same image.

    Only the path and query count: WikiArt spreads one file over hosts
    ``uploads0..8`` (and a mirror or test server has its own origin), and a
    host change alone is no reason to download a painting again.
    """
    if not isinstance(a, str):
        return False
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.path, pa.query) == (pb.path, pb.query)


def _same_content(info: ObjectInfo | None, data: bytes) -> bool:
    if info is None or info.size != len(data):
        return False
    etag = info.etag.strip('"')
    return etag in (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())  # noqa: S324


def _provenance(listed: ListedPainting, source: str) -> dict[str, str]:
    """The extra fields naming where an entry came from and on what terms."""
    out = {"source": source, "image_url": listed.image_url}
    if listed.license:
        out["license"] = listed.license
    if listed.credit:
        out["credit"] = listed.credit
    return out


def _painting(listed: ListedPainting, source: str, key: str, width: int, height: int,
              data_len: int, sha: str) -> Painting:  # fmt: skip
    return Painting(
        id=listed.id,
        image=key,
        title=listed.title,
        artist=listed.artist,
        year=listed.year,
        source_url=listed.source_url,
        width=width,
        height=height,
        bytes=data_len,
        sha256=sha,
        extra=_provenance(listed, source),
    )


class _AboveTheBar:
    """A stream for log lines that prints them above the progress bar, not through it."""

    def write(self, text: str) -> int:
        from tqdm import tqdm

        if text.strip():
            tqdm.write(text.rstrip("\n"), file=sys.stderr)
        return len(text)

    def flush(self) -> None:
        pass


class _Progress:
    """A tqdm bar on a terminal; otherwise a plain log line every few seconds."""

    def __init__(self, enabled: bool, log: Logger, every: float = 5.0) -> None:
        self.log = log
        self.every = every
        self.done = 0
        self.total: int | None = None
        self._last = time.monotonic()
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=None, unit="painting", file=sys.stderr, dynamic_ncols=True)

    @property
    def bar(self) -> bool:
        return self._bar is not None

    def logger(self, log: Logger) -> Logger:
        """``log``, moved above the bar when both would write to the terminal."""
        if self._bar is not None and log.stream is sys.stderr:
            return Logger(_AboveTheBar(), **log.context)  # type: ignore[arg-type]
        return log

    def set_total(self, total: int | None) -> None:
        if total is not None and total != self.total:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def advance(self, summary: IngestSummary) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.log.info(
                "scrape.progress",
                done=self.done,
                total=self.total,
                downloaded=summary.downloaded,
                unchanged=summary.unchanged,
                failed=len(summary.failed),
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def scrape(
    store: Store,
    *,
    style: str = DEFAULT_STYLE,
    origin: str = DEFAULT_ORIGIN,
    logger: Logger | None = None,
    progress: bool | None = None,
    session: requests.Session | None = None,
    client: WikiArtClient | None = None,
    workers: int = WORKERS,
    source: Source | None = None,
) -> IngestSummary:
    """Ingest every painting of ``style`` into ``store``; see the module docstring.

    Returns the summary (``ok`` is False when some paintings could not be
    fetched after retries; everything else is stored and catalogued). Raises
    :class:`IngestError` when the listing itself cannot be read, and
    :class:`StoreError` when the store cannot be written; in both cases the
    catalog is left as it was and a re-run resumes.
    """
    own_client = client is None
    if source is None:
        style = check_style(style)
        wikiart = client if client is not None else WikiArtClient(origin, session=session)
        source = WikiArtSource(wikiart, style)
    else:
        style = getattr(source, "style", "")
    log = (logger or Logger()).bind(job="scrape", style=style, source=source.label)
    if progress is None:
        progress = sys.stderr.isatty()
    try:
        return _Run(store, source, style, log, bool(progress), max(1, workers)).run()
    finally:
        if own_client:
            source.client.close()


class _Run:
    def __init__(
        self, store: Store, source: Source, style: str, log: Logger, progress: bool,
        workers: int,
    ) -> None:  # fmt: skip
        self.store = store
        self.source = source
        self.client = source.client
        self.style = style
        self.workers = workers
        self.summary = IngestSummary(style=style, store=store.url, source=source.label)
        self.progress = _Progress(progress, log)
        self.log = self.progress.logger(log)
        self.lock = threading.Lock()
        self.previous: dict[str, Painting] = {}
        self.as_written: list[Any] = []
        self.stored: dict[str, list[ObjectInfo]] = {}

    # -- bookkeeping ---------------------------------------------------------

    def skip(self, label: str, reason: str, **fields: Any) -> None:
        with self.lock:
            self.summary.skipped.append((label, reason))
        self.log.warning("scrape.skipped", painting=label, reason=reason, **fields)

    def fail(self, listed: ListedPainting, reason: str) -> None:
        with self.lock:
            self.summary.failed.append(listed.id)
            self.summary.failures[listed.id] = f"{listed.image_url}: {reason}"
        self.log.error("scrape.failed", painting_id=listed.id, url=listed.image_url, error=reason)

    def stored_key(self, pid: str, prefer: str | None = None) -> ObjectInfo | None:
        infos = self.stored.get(image_stem(pid), [])
        for info in infos:
            if info.key == prefer:
                return info
        return infos[0] if infos else None

    # -- the run -------------------------------------------------------------

    def run(self) -> IngestSummary:
        started = time.monotonic()
        store = self.store
        if isinstance(store, DirStore):
            cleaned = store.clean_partials()
            if cleaned:
                self.log.info("scrape.cleaned_partials", count=cleaned)
        try:
            self.previous, self.as_written = _previous_catalog(store, self.log)
            self.stored = _stored_images(store)
        except BaseException:
            self.progress.close()
            raise
        self.log.info(
            "scrape.start",
            store=store.url,
            origin=self.client.origin,
            catalogued=len(self.previous),
            images_in_store=sum(len(v) for v in self.stored.values()),
        )
        order: list[str] = []
        results: dict[str, Painting] = {}
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ingest")
        futures: dict[Future[_Outcome], ListedPainting] = {}
        try:
            self._list(order, results, pool, futures)
            self._collect(results, futures)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            self.progress.close()
            self._count_requests()
        pool.shutdown(wait=True)

        summary = self.summary
        paintings = [results[pid] for pid in order if pid in results]
        if not order:
            raise IngestError(
                f"the listing of {self.source.label} at {self.source.first_page_url()} "
                f"has no usable paintings; {self.source.hint()}"
            )
        summary.stored = len(paintings)
        if paintings:
            from .screening import screen_ingested  # labels kept; classified when installed

            paintings = screen_ingested(store, self.previous, paintings, self.log)
            # Merge: this source's entries are replaced, every other source's
            # and style's are kept as they were (after this run's, by id).
            label = self.source.label
            others = [
                p
                for p in self.previous.values()
                if p.extra.get("source") != label and p.id not in results
            ]
            from .sources.dedupe import merge_same_works

            merged, summary.duplicates = merge_same_works(store, paintings, others)
            for dup in summary.duplicates:
                self.log.info("scrape.duplicate", kept=dup.kept, dropped=dup.dropped)
            summary.stored = sum(1 for p in merged if p.extra.get("source") == label)
            if [p.to_json() for p in merged] != self.as_written:
                labels = sorted({str(p.extra.get("source") or "") for p in merged} - {""})
                write_catalog(store, merged, source=",".join(labels) or label)
                summary.catalog_written = True
            self._record(summary)
        summary.elapsed = time.monotonic() - started
        self.log.info(
            "scrape.done",
            ok=summary.ok,
            pages=summary.pages,
            listed=summary.listed,
            stored=summary.stored,
            downloaded=summary.downloaded,
            unchanged=summary.unchanged,
            recovered=summary.recovered,
            reencoded=summary.reencoded,
            skipped=len(summary.skipped),
            failed=len(summary.failed),
            bytes_downloaded=summary.bytes_downloaded,
            listing_requests=summary.listing_requests,
            image_requests=summary.image_requests,
            catalog_written=summary.catalog_written,
            duration_ms=round(summary.elapsed * 1000, 1),
        )
        return summary

    def _record(self, summary: IngestSummary) -> None:
        """The source's last scrape, for ``soviet-art-bot sources`` (its own object,
        so scrapes of different sources never write the same one)."""
        record = {
            "source": self.source.label,
            "last_scrape": format_time(datetime.now(UTC)),
            "complete": summary.ok,
            "listed": summary.listed,
            "stored": summary.stored,
            "license": self.source.license,
        }
        key = f"{SOURCES_STATE}{image_stem(self.source.label)}.json"
        self.store.write(key, json.dumps(record).encode(), content_type="application/json")

    def _count_requests(self) -> None:
        stats = self.client.stats
        self.summary.listing_requests = stats.listing
        self.summary.image_requests = stats.image
        self.summary.retries = stats.retries
        self.summary.throttled = stats.throttled

    def _list(
        self,
        order: list[str],
        results: dict[str, Painting],
        pool: ThreadPoolExecutor,
        futures: dict[Future[_Outcome], ListedPainting],
    ) -> None:
        first_page: dict[str, int] = {}
        for page in self.source.pages():
            self.summary.pages += 1
            self.progress.set_total(page.total)
            if not self.progress.bar:  # the bar says it on a terminal
                self.log.info("scrape.page", page=page.number, paintings=len(page.paintings))
            for index, raw in enumerate(page.paintings):
                self.summary.listed += 1
                try:
                    listed = self.source.parse(raw)
                except InvalidPainting as exc:
                    label = exc.label or f"page {page.number} entry {index}"
                    self.skip(label, exc.reason)
                    self.progress.advance(self.summary)
                    continue
                if listed.id in first_page:
                    self.skip(
                        repr(listed.id),
                        f"duplicate id (first seen on page {first_page[listed.id]})",
                    )
                    self.progress.advance(self.summary)
                    continue
                first_page[listed.id] = page.number
                order.append(listed.id)
                kept = self._unchanged(listed)
                if kept is not None:
                    results[listed.id] = kept
                    self.summary.unchanged += 1
                    self.progress.advance(self.summary)
                    continue
                futures[pool.submit(self._fetch, listed)] = listed

    def _collect(
        self, results: dict[str, Painting], futures: dict[Future[_Outcome], ListedPainting]
    ) -> None:
        summary = self.summary
        for future in as_completed(futures):
            listed = futures[future]
            try:
                outcome = future.result()
            except (ImageRefused, ImageRejected) as exc:
                self.skip(repr(listed.id), exc.reason, url=listed.image_url)
                self._keep_previous(listed, results)
            except RetriesExhausted as exc:
                self.fail(listed, str(exc))
                self._keep_previous(listed, results)
            else:
                results[listed.id] = outcome.painting
                if outcome.how == "recovered":
                    summary.recovered += 1
                else:
                    summary.downloaded += 1
                    summary.bytes_downloaded += outcome.downloaded
                    summary.bytes_stored += outcome.written
                    summary.reencoded += int(outcome.reencoded)
                    summary.uploads_skipped += int(outcome.upload_skipped)
            self.progress.advance(summary)

    def _keep_previous(self, listed: ListedPainting, results: dict[str, Painting]) -> None:
        """A painting we could not refresh keeps its earlier, still stored, image."""
        old = self.previous.get(listed.id)
        info = self.stored_key(listed.id, old.image) if old is not None else None
        if old is not None and info is not None and info.key == old.image:
            results[listed.id] = old

    # -- one painting --------------------------------------------------------

    def _unchanged(self, listed: ListedPainting) -> Painting | None:
        """The catalogued painting, if its image is stored and its URL is the same."""
        old = self.previous.get(listed.id)
        if old is None or not same_image_url(old.extra.get("image_url"), listed.image_url):
            return None
        info = self.stored_key(listed.id, old.image)
        if info is None or info.key != old.image or (old.bytes and info.size != old.bytes):
            return None
        return Painting(
            id=listed.id,
            image=old.image,
            title=listed.title,
            artist=listed.artist,
            year=listed.year,
            source_url=listed.source_url,
            width=old.width,
            height=old.height,
            bytes=old.bytes,
            sha256=old.sha256,
            extra={**old.extra, **_provenance(listed, self.source.label)},
        )

    def _fetch(self, listed: ListedPainting) -> _Outcome:
        old = self.previous.get(listed.id)
        url_changed = (
            old is not None
            and old.extra.get("image_url") is not None
            and not same_image_url(old.extra.get("image_url"), listed.image_url)
        )
        info = self.stored_key(listed.id, old.image if old else None)
        if info is not None and not url_changed:
            recovered = self._recover(listed, info)
            if recovered is not None:
                return recovered
        got = self.client.image(listed.image_url)
        image = normalise(got.body)
        key = f"{IMAGE_PREFIX}{image_stem(listed.id)}.{image.extension}"
        existing = self.stored_key(listed.id, key)
        same = (
            existing is not None
            and existing.key == key
            and _same_content(self.store.head(key), image.data)
        )
        if not same:
            self.store.write(key, image.data, content_type=image.content_type)
        if image.reencoded:
            self.log.info(
                "scrape.reencoded", painting_id=listed.id, key=key,
                bytes_before=len(got.body), bytes=len(image.data),
            )  # fmt: skip
        return _Outcome(
            _painting(
                listed,
                self.source.label,
                key,
                image.width,
                image.height,
                len(image.data),
                image.sha256,
            ),
            "downloaded",
            downloaded=len(got.body),
            written=0 if same else len(image.data),
            reencoded=image.reencoded,
            upload_skipped=same,
        )

    def _recover(self, listed: ListedPainting, info: ObjectInfo) -> _Outcome | None:
        """An image an interrupted run stored: check it and keep it, without WikiArt."""
        try:
            data = self.store.read(info.key)
            image = normalise(data)
        except (ImageRejected, ArtBotError) as exc:
            self.log.warning("scrape.stored_image_unusable", key=info.key, error=str(exc))
            return None
        if (
            image.reencoded
            or f"{IMAGE_PREFIX}{image_stem(listed.id)}.{image.extension}" != info.key
        ):
            return None  # not something this ingest would have written: fetch afresh
        return _Outcome(
            _painting(
                listed,
                self.source.label,
                info.key,
                image.width,
                image.height,
                len(data),
                image.sha256,
            ),
            "recovered",
        )
