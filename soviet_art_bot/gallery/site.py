"""Render the gallery and publish it to a directory or an S3 prefix.

Pages:

* ``index.html``: the newest :data:`LATEST` posts, then every month.
* ``YYYY-MM.html``: every post of one month, newest first. Pages are per
  month, not numbered from the newest, so a new post changes only its own
  month's page: the site stays usable at 10,000 posts and a refresh after a
  post rewrites three pages, not all of them.
* ``palettes.html``: every posted painting's palette, grouped by decade.

Beside them the site keeps its own data (``data/site.json``: months and the
posted paintings with their palettes; ``data/months/YYYY-MM.json``: one
month's posts with the etag of each slot record they came from). A refresh
lists one month of slot records (one request) and reads only the records
whose etag changed, usually just the one it posted; a full build
(``soviet-art-bot gallery``) reads every month again. The slot records stay
the only source of truth: the data files are derived and a full build
rewrites them.

Every text is escaped by Jinja2's autoescape; colours are checked to be
``#rrggbb`` before they reach a ``style`` attribute; links are only http(s)
(or the outbox's file URLs). Nothing is loaded from another origin: CSS is
inline, there is no script, and the pages' Content-Security-Policy forbids
any.
"""

from __future__ import annotations

import colorsys
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import safejson
from ..config import check_store_url
from ..errors import ArtBotError, ConfigError, Conflict, NotFound
from ..ledger import SLOTS_PREFIX
from ..log import Logger
from ..store import DirStore, Store, open_store
from .palettes import check_palette, check_thumb, read_palettes
from .posts import GalleryPost, month_of_key, month_prefix, read_post
from .render import month_label, month_page, post_view, render_palettes, render_posts

LATEST = 60

SITE_DATA = "data/site.json"
DATA_VERSION = 1
CAS_ATTEMPTS = 5
MAX_BARCODE = 400  # stripes per decade bar; more adds nothing the eye can see
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",
}

_YEAR = re.compile(r"(?<!\d)(1[0-9]|20)\d{2}(?!\d)")


class GalleryError(ArtBotError):
    """The gallery could not be built or published."""


@dataclass
class Site:
    """Where the site is published: a store and a key prefix inside it."""

    store: Store
    prefix: str = ""

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def describe(self, name: str = "") -> str:
        return self.store.describe(self.key(name)) if name or self.prefix else self.store.url

    def write(self, name: str, data: bytes) -> None:
        content_type = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
        self.store.write(self.key(name), data, content_type=content_type)

    def read_json(self, name: str) -> tuple[Any, str | None]:
        """The parsed document and its etag; (None, None) if absent or unreadable."""
        got = self.store.read_versioned(self.key(name))
        if got is None:
            return None, None
        try:
            return safejson.loads(got[0], name=self.describe(name), fix="it is rebuilt"), got[1]
        except ArtBotError:
            return None, got[1]


def open_site(store: Store, out: str | None = None) -> Site:
    """``out`` (a directory or ``s3://BUCKET/PREFIX``), else ``gallery/`` in the store."""
    if out is None or not out.strip():
        return Site(store, "gallery/")
    target = open_store(check_store_url(out, source="--out"))
    same = target.url.rstrip("/") == store.url.rstrip("/")
    if isinstance(target, DirStore) and isinstance(store, DirStore):
        same = target.root.resolve() == store.root.resolve()
    if same:
        raise ConfigError(
            f"--out {out} is the store itself; the pages would sit among the collection: "
            "use a folder of their own (the default is gallery/ in the store)"
        )
    return Site(target)


@dataclass
class BuildSummary:
    site: str
    posts: int = 0
    months: int = 0
    records_read: int = 0
    pages: list[str] = field(default_factory=list)
    thumbs_copied: int = 0
    without_palette: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"gallery at {self.site}: {self.posts} posts in {self.months} months",
            f"wrote {len(self.pages)} pages ({', '.join(self.pages[:6])}"
            f"{' ...' if len(self.pages) > 6 else ''}), copied {self.thumbs_copied} thumbnails, "
            f"read {self.records_read} slot records",
        ]
        if self.without_palette:
            out.append(
                f"{len(self.without_palette)} posted painting(s) have no thumbnail or palette yet; "
                "run 'soviet-art-bot thumbs', then this command again"
            )
        return out


# -- data --------------------------------------------------------------------


def _load_month(site: Site, month: str) -> dict[str, dict[str, Any]]:
    """``{record key: {"etag", "post"}}`` from the site's data, or {} if unusable."""
    doc, _ = site.read_json(f"data/months/{month}.json")
    records = doc.get("records") if isinstance(doc, dict) else None
    if not isinstance(records, dict) or doc.get("version") != DATA_VERSION:
        return {}
    out = {}
    for key, item in records.items():
        try:
            post = item["post"]
            out[key] = {
                "etag": str(item["etag"]),
                "post": None if post is None else GalleryPost.from_json(post),
            }
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry is read again from its record
    return out


def _month_doc(month: str, records: dict[str, dict[str, Any]]) -> bytes:
    doc = {
        "version": DATA_VERSION,
        "month": month,
        "records": {
            key: {
                "etag": item["etag"],
                "post": None if item["post"] is None else item["post"].to_json(),
            }
            for key, item in sorted(records.items())
        },
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _posts(records: dict[str, dict[str, Any]]) -> list[GalleryPost]:
    """One post per slot, newest first (two records never share a slot key)."""
    by_slot = {item["post"].slot: item["post"] for item in records.values() if item["post"]}
    return [by_slot[s] for s in sorted(by_slot, reverse=True)]


def decade_of(year: str) -> int | None:
    """The decade a free-text year falls in (``"1920-1930"`` -> 1920), or None."""
    m = _YEAR.search(year)
    return int(m.group(0)) // 10 * 10 if m else None


def _hue_key(colour: str) -> tuple[float, float]:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    return (h if s > 0.12 else 1.0 + lightness, lightness)  # greys after the colours


def _barcode(
    palettes: Iterable[tuple[tuple[str, ...], tuple[float, ...]]],
) -> list[tuple[str, float]]:
    stripes: dict[str, float] = {}
    for colours, weights in palettes:
        for colour, weight in zip(colours, weights, strict=True):
            stripes[colour] = stripes.get(colour, 0.0) + weight
    ordered = sorted(stripes.items(), key=lambda cw: _hue_key(cw[0]))
    if len(ordered) > MAX_BARCODE:  # keep every n-th stripe, carrying the others' weight
        step = len(ordered) / MAX_BARCODE
        merged: list[tuple[str, float]] = []
        for i in range(MAX_BARCODE):
            chunk = ordered[int(i * step) : int((i + 1) * step)]
            merged.append((chunk[len(chunk) // 2][0], sum(w for _, w in chunk)))
        ordered = merged
    return [(c, round(w, 4)) for c, w in ordered if w > 0]


# -- the site's own record of posted paintings ------------------------------


@dataclass
class SitePainting:
    """A posted painting as the site shows it: credit, palette, published thumbnail."""

    title: str
    artist: str
    year: str
    palette: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()
    thumb: str | None = None  # site-relative path of the copied thumbnail
    thumb_width: int = 0
    thumb_height: int = 0
    source: str | None = None  # the palette entry's source the thumbnail was copied from

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "palette": list(self.palette),
            "weights": list(self.weights),
            "thumb": self.thumb,
            "thumb_width": self.thumb_width,
            "thumb_height": self.thumb_height,
            "source": self.source,
        }


def _load_site(site: Site) -> tuple[dict[str, int], dict[str, SitePainting], str | None]:
    doc, etag = site.read_json(SITE_DATA)
    if not isinstance(doc, dict) or doc.get("version") != DATA_VERSION:
        return {}, {}, etag
    months = {
        m: n
        for m, n in (doc.get("months") or {}).items()
        if isinstance(n, int) and re.fullmatch(r"\d{4}-\d{2}", str(m))
    }
    paintings: dict[str, SitePainting] = {}
    for pid, item in (doc.get("paintings") or {}).items():
        try:  # colours and thumbs are re-checked: this file is published, so never trusted
            palette, weights = ((), ())
            if item["palette"]:
                palette, weights = check_palette(item["palette"], item["weights"])
            thumb = item.get("thumb")
            paintings[pid] = SitePainting(
                str(item["title"]),
                str(item["artist"]),
                str(item["year"]),
                palette,
                weights,
                None if thumb is None else check_thumb(thumb),
                int(item.get("thumb_width") or 0),
                int(item.get("thumb_height") or 0),
                item.get("source") if isinstance(item.get("source"), str) else None,
            )
        except (KeyError, TypeError, ValueError):
            continue
    return months, paintings, etag


def _site_doc(months: dict[str, int], paintings: dict[str, SitePainting]) -> bytes:
    doc = {
        "version": DATA_VERSION,
        "months": dict(sorted(months.items())),
        "paintings": {k: paintings[k].to_json() for k in sorted(paintings)},
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


# -- building ----------------------------------------------------------------


def build(
    store: Store, out: str | None = None, *, rebuild: bool = False, logger: Logger | None = None
) -> BuildSummary:
    """Render every page of the gallery (``soviet-art-bot gallery``).

    Slot records unchanged since the last build (same etag) are not read
    again unless ``rebuild``; everything else is rendered afresh.
    """
    site = open_site(store, out)
    return _Update(store, site, (logger or Logger()).bind(job="gallery")).run(None, rebuild)


def refresh(
    store: Store, slot: datetime, out: str | None = None, *, logger: Logger | None = None
) -> BuildSummary:
    """Bring the gallery up to date after ``slot`` was posted: its month's page,
    ``index.html`` and ``palettes.html`` (and a neighbour's page when a month
    begins), reading only the slot records that changed."""
    site = open_site(store, out)
    log = (logger or Logger()).bind(job="gallery")
    slot = slot.astimezone(UTC)
    previous = (slot.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    # the previous month too: a slot posted there whose refresh failed is caught up
    return _Update(store, site, log).run({slot.strftime("%Y-%m"), previous}, False)


class _Update:
    def __init__(self, store: Store, site: Site, log: Logger) -> None:
        self.store, self.site, self.log = store, site, log

    def run(self, only: set[str] | None, rebuild: bool) -> BuildSummary:
        for _ in range(CAS_ATTEMPTS):
            try:
                return self._once(only, rebuild)
            except Conflict:  # another build committed first: start again from its data
                self.log.info("gallery.retry", reason="concurrent update")
        raise GalleryError(f"{self.site.describe(SITE_DATA)} kept changing; run the command again")

    def _once(self, only: set[str] | None, rebuild: bool) -> BuildSummary:
        summary = BuildSummary(site=self.site.describe())
        months, paintings, etag = _load_site(self.site)
        listing: dict[str, list[Any]] = {}
        prefixes = [month_prefix(m) for m in sorted(only)] if only else [SLOTS_PREFIX + "/"]
        for prefix in prefixes:
            for info in self.store.list(prefix):
                month = month_of_key(info.key)
                if month is not None:
                    listing.setdefault(month, []).append(info)
        todo = set(listing) | (set(months) if only is None else set(only))
        records: dict[str, dict[str, dict[str, Any]]] = {}
        touched: set[str] = set()  # months whose records changed since the last build
        for month in sorted(todo):
            records[month], changed = self._month(
                month, listing.get(month, []), reuse=not rebuild, summary=summary
            )
            if changed:
                touched.add(month)
        posts = {m: _posts(r) for m, r in records.items()}
        before = set(months)
        for month in todo:
            if posts[month]:
                months[month] = len(posts[month])
            else:
                months.pop(month, None)
        self._paintings(paintings, posts, full=only is None, summary=summary)
        for month in sorted(touched):
            self.site.write(f"data/months/{month}.json", _month_doc(month, records[month]))
        self.site.store.write_if(
            self.site.key(SITE_DATA),
            _site_doc(months, paintings),
            etag=etag,
            content_type=CONTENT_TYPES[".json"],
        )
        # Pages last, from committed data: a failure above leaves the old site whole.
        pages = set(months) if only is None else touched & set(months)
        everything = sorted(set(months) | before, reverse=True)
        for month in set(months) ^ before:  # a month came or went: its neighbours' links change
            pos = everything.index(month)
            pages |= {m for m in everything[max(pos - 1, 0) : pos + 2] if m in months}
        for month in sorted(todo - set(months)):
            if month in before:
                self.site.store.delete(self.site.key(month_page(month)))
        self._render(months, pages, posts, paintings, summary)
        summary.posts = sum(months.values())
        summary.months = len(months)
        summary.without_palette = sorted(p for p, s in paintings.items() if not s.palette)
        self.log.info(
            "gallery.done",
            site=summary.site,
            posts=summary.posts,
            pages=len(summary.pages),
            records_read=summary.records_read,
            thumbs_copied=summary.thumbs_copied,
        )
        return summary

    def _month(
        self, month: str, infos: list[Any], *, reuse: bool, summary: BuildSummary
    ) -> tuple[dict[str, dict[str, Any]], bool]:
        """The month's records, reading only those whose etag changed since the last build;
        and whether anything changed."""
        known = _load_month(self.site, month) if reuse else {}
        records: dict[str, dict[str, Any]] = {}
        changed = not reuse or bool(set(known) - {info.key for info in infos})
        for info in infos:
            old = known.get(info.key)
            if old is not None and old["etag"] == info.etag:
                records[info.key] = old
                continue
            summary.records_read += 1
            changed = True
            post = read_post(self.store, info.key, self.log)
            records[info.key] = {"etag": info.etag, "post": post}
        return records, changed

    def _paintings(
        self,
        paintings: dict[str, SitePainting],
        posts: dict[str, list[GalleryPost]],
        *,
        full: bool,
        summary: BuildSummary,
    ) -> None:
        """Join the posted paintings with their palettes; publish new thumbnails.

        A full build reads every palette (a ``thumbs`` run may have changed
        some); a refresh only those of paintings the site has none for yet.
        """
        posted = {}
        for month in sorted(posts):  # oldest first: the newest post's credit wins
            for post in reversed(posts[month]):
                posted[post.painting_id] = post
        need = (
            None if full else [p for p in posted if p not in paintings or not paintings[p].palette]
        )
        palettes = read_palettes(self.store, self.log, ids=need)
        published = (
            {i.key for i in self.site.store.list(self.site.key("thumbs/"))} if full else None
        )
        if full:
            for pid in set(paintings) - set(posted):
                del paintings[pid]
        for pid, post in posted.items():
            old = paintings.get(pid)
            entry = palettes.get(pid)
            item = SitePainting(post.title, post.artist, post.year)
            if entry is not None:
                item.palette, item.weights = entry.palette, entry.weights
                item.thumb_width, item.thumb_height = entry.width, entry.height
                item.thumb, item.source = entry.thumb, entry.source
                fresh = old is not None and old.source == entry.source and old.thumb == entry.thumb
                missing = published is not None and self.site.key(entry.thumb) not in published
                if (not fresh or missing) and not self._copy_thumb(entry.thumb, summary):
                    item.thumb, item.source = None, None
            elif old is not None and (old.palette or old.thumb):
                # known already (a refresh), or thumbs/ was cleared: keep what is published
                old.title, old.artist, old.year = post.title, post.artist, post.year
                item = old
            paintings[pid] = item

    def _copy_thumb(self, key: str, summary: BuildSummary) -> bool:
        try:
            data = self.store.read(key)
        except NotFound:
            self.log.warning(
                "gallery.thumb_missing", key=key, error="run 'soviet-art-bot thumbs' to make it"
            )
            return False
        self.site.write(key, data)
        summary.thumbs_copied += 1
        return True

    def _render(
        self,
        months: dict[str, int],
        pages: set[str],
        posts: dict[str, list[GalleryPost]],
        paintings: dict[str, SitePainting],
        summary: BuildSummary,
    ) -> None:
        """Write the month pages in ``pages``, ``index.html`` and ``palettes.html``."""
        built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        total = sum(months.values())
        order = sorted(months, reverse=True)

        def views(items: list[GalleryPost]) -> list[dict[str, Any]]:
            return [post_view(p, paintings.get(p.painting_id)) for p in items]

        def link(month: str) -> dict[str, str]:
            return {"href": month_page(month), "label": month_label(month)}

        for month in sorted(pages):
            pos = order.index(month)
            html = render_posts(
                heading=f"Posted in {month_label(month)}",
                lede=f"{months[month]} posts, newest first.",
                posts=views(self._month_posts(month, posts)),
                newer=link(order[pos - 1]) if pos > 0 else None,
                older=link(order[pos + 1]) if pos + 1 < len(order) else None,
                archive=[],
                total_posts=None,
                built_at=built_at,  # other months: unchanged
            )
            self._page(month_page(month), html, summary)
        latest: list[GalleryPost] = []
        for month in order:
            if len(latest) >= LATEST:
                break
            latest += self._month_posts(month, posts)
        archive = [{**link(m), "count": months[m]} for m in order]
        html = render_posts(
            heading="Latest posts",
            lede=f"The newest {min(LATEST, total)} of {total} posts; every month is listed below.",
            posts=views(latest[:LATEST]),
            newer=None,
            older=None,
            archive=archive,
            total_posts=total,
            built_at=built_at,
        )
        self._page("index.html", html, summary)
        self._page(
            "palettes.html",
            render_palettes(_decades(paintings), total_posts=total, built_at=built_at),
            summary,
        )

    def _month_posts(self, month: str, posts: dict[str, list[GalleryPost]]) -> list[GalleryPost]:
        if month not in posts:  # a month this update did not read: the site's data has it
            posts[month] = _posts(_load_month(self.site, month))
        return posts[month]

    def _page(self, name: str, html: bytes, summary: BuildSummary) -> None:
        self.site.write(name, html)
        summary.pages.append(name)


def _decades(paintings: dict[str, SitePainting]) -> list[dict[str, Any]]:
    """Posted paintings with a palette, by decade (oldest first, undated last)."""
    groups: dict[int | None, list[tuple[str, SitePainting]]] = {}
    for pid, item in paintings.items():
        if item.palette:
            groups.setdefault(decade_of(item.year), []).append((pid, item))
    out = []
    for decade in sorted(groups, key=lambda d: (d is None, d or 0)):
        members = sorted(groups[decade], key=lambda pi: (pi[1].year, pi[1].title, pi[0]))
        out.append(
            {
                "key": str(decade) if decade is not None else "undated",
                "label": f"{decade}s" if decade is not None else "Year unknown",
                "barcode": _barcode((m.palette, m.weights) for _, m in members),
                "paintings": [
                    {
                        "id": pid,
                        "title": m.title,
                        "artist": m.artist,
                        "year": m.year,
                        "palette": list(m.palette),
                    }
                    for pid, m in members
                ],
            }
        )
    return out
