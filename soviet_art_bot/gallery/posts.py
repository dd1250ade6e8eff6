"""What was posted, as the gallery shows it, read from the slot records.

A slot record (``state/slots/YYYY/MM/DD/<slot>.json``, written by the bot
and read here through its typed model, :class:`~soviet_art_bot.slots.SlotRecord`)
is the source of truth. A slot appears in the gallery once at least one
platform has ``posted`` it; its painting is the slot's painting, and a
platform that posted another one (it refused the first) is shown with that
painting's title. Records are state files like any other: one that is not
what the bot writes is skipped with a warning, never rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..caption import alt_text
from ..catalog import painting_from_json
from ..errors import ArtBotError, NotFound, StoreError
from ..ledger import SLOTS_PREFIX, format_time, parse_time
from ..log import Logger
from ..slots import PostStatus, SlotRecord
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
        return {
            "platform": self.platform,
            "id": self.post_id,
            "url": self.url,
            "other_title": self.other_title,
        }


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
            "slot": self.slot,
            "painting_id": self.painting_id,
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "alt_text": self.alt_text,
            "links": [link.to_json() for link in self.links],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GalleryPost:
        """The inverse of :meth:`to_json` (for the site's own data files)."""
        return cls(
            slot=str(doc["slot"]),
            painting_id=str(doc["painting_id"]),
            title=str(doc["title"]),
            artist=str(doc["artist"]),
            year=str(doc["year"]),
            alt_text=str(doc["alt_text"]),
            links=tuple(
                PostLink(
                    str(x["platform"]),
                    str(x["id"]),
                    _safe_url(x.get("url")),
                    None if x.get("other_title") is None else str(x["other_title"]),
                )
                for x in doc["links"]
            ),
        )


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

    Raises an :class:`~soviet_art_bot.errors.ArtBotError` or ValueError naming
    what is wrong when the record is malformed.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"{len(data)} bytes is too large for a slot record")
    record = SlotRecord.from_json(data, key)
    slot = format_time(parse_time(record.slot, what=f"{key} 'slot'"))
    painting = painting_from_json(record.painting, f"{key} painting")
    links = []
    for name in sorted(record.platforms):
        post = record.platforms[name]
        if post.status is not PostStatus.POSTED:
            continue
        pid = post.painting_id or painting.id
        other = None
        if pid != painting.id:
            try:
                other = record.find_painting(pid, key).title
            except ArtBotError:
                other = "another painting"
        url = _safe_url(post.url)
        links.append(PostLink(name[:40], str(post.id)[:200], url, other))
    if not links:
        return None
    return GalleryPost(
        slot=slot,
        painting_id=painting.id,
        title=painting.title,
        artist=painting.artist,
        year=painting.year,
        alt_text=alt_text(painting),  # the function the bot posted it with
        links=tuple(links),
    )


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
