"""``preview`` and ``post --dry-run``: what the bot would post, writing nothing.

A preview is a rehearsal of the real post, not a second implementation of
it: the same :class:`~soviet_art_bot.bot.Bot` code path runs (lease, choice,
image checks, set-asides of unreadable images, resolving pending attempts),
but over a :class:`DryRunStore`, which keeps every write in memory, and with
:class:`Rehearsal` platforms, which note the request instead of sending it.
So the store's bytes are the same before and after, no outbox file appears
and no platform hears of it, and what it shows is what the bot would do,
because the choice of painting is a function of the slot, the catalog and the
ledger (see :func:`~soviet_art_bot.bot.slot_rng`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from .caption import grapheme_length, post_text
from .catalog import CatalogIndex, Painting, load_index
from .config import Settings
from .errors import Conflict, NotFound, ObjectTooLarge
from .log import Logger
from .platforms.base import Platform, PostRequest, PostResult
from .store import ObjectInfo, Store, open_store

SLOT_HOURS = 6
REHEARSAL_SECONDS = 3.0  # how long a preview waits for a slot another invocation holds


def next_slot(now: datetime | None = None) -> datetime:
    """The next 6-hour boundary (00, 06, 12, 18 UTC) at or after ``now``."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(now - start) // timedelta(hours=SLOT_HOURS))  # ceiling division
    return start + steps * timedelta(hours=SLOT_HOURS)


# -- each platform's text, as it counts it, without its client -------------------


def _text_rules(name: str, painting: Painting) -> tuple[dict[str, Any], str]:
    """``post_text``'s limits for ``name``, as the platform's own ``text_for`` sets them.

    The platforms' objects need credentials (and Mastodon asks its instance),
    so a preview applies their published limits itself, from their modules.
    """
    from .caption import x_length
    from .platforms import bluesky, mastodon, outbox, x

    if name == "x":
        return {"limit": x.TEXT_LIMIT, "length": x_length}, "weighted characters"
    if name == "bluesky":
        rules = {"limit": bluesky.TEXT_LIMIT, "length": grapheme_length}
        rules["max_bytes"] = bluesky.TEXT_BYTES
        return rules, "graphemes"
    if name == "mastodon":
        # the instance's own limit is read when posting; 500 is Mastodon's default
        spoiler = mastodon.spoiler_text(tuple(getattr(painting, "labels", None) or ()))
        length = partial(
            mastodon.mastodon_length, spoiler_text=spoiler, url_length=mastodon.URL_LENGTH
        )
        return {"limit": mastodon.DEFAULT_MAX_CHARACTERS, "length": length}, "characters"
    return {"limit": outbox.TEXT_LIMIT, "length": len}, "characters"


class Rehearsal(Platform):
    """A platform that notes what it would be sent and sends nothing."""

    def __init__(self, name: str, *, logger: Logger | None = None) -> None:
        self.name = name  # type: ignore[misc]
        super().__init__(logger=logger)
        self.requests: list[PostRequest] = []

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        rules, _ = _text_rules(self.name, painting)
        return post_text(painting, link=link, **rules)

    def count(self, painting: Painting, text: str) -> tuple[int, int, str]:
        """The text's length as this platform counts it, its limit, and the unit."""
        rules, unit = _text_rules(self.name, painting)
        return rules["length"](text), rules["limit"], unit

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        self.requests.append(request)
        return PostResult(id="dry-run", url=None)


# -- a store that keeps writes to itself -------------------------------------------


class DryRunStore(Store):
    """Reads through to ``inner``; writes, deletes and their effects stay in memory.

    Compare-and-swap works as it does on the real store (the bot's lease and
    ledger logic runs unchanged), but nothing ever reaches ``inner``.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.url = inner.url
        self._objects: dict[str, bytes | None] = {}  # None: deleted here

    def describe(self, key: str) -> str:
        return self.inner.describe(key)

    @staticmethod
    def _etag(data: bytes) -> str:
        return "dry-" + hashlib.sha256(data).hexdigest()

    def _mine(self, key: str, max_bytes: int | None) -> bytes | None:
        data = self._objects[key]
        if data is not None and max_bytes is not None and len(data) > max_bytes:
            raise ObjectTooLarge(f"{self.describe(key)} is over {max_bytes:,} bytes")
        return data

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        if key not in self._objects:
            return self.inner.read(key, max_bytes=max_bytes)
        data = self._mine(key, max_bytes)
        if data is None:
            raise NotFound(key, self.describe(key))
        return data

    def read_versioned(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, str] | None:
        if key not in self._objects:
            return self.inner.read_versioned(key, max_bytes=max_bytes)
        data = self._mine(key, max_bytes)
        return None if data is None else (data, self._etag(data))

    def head(self, key: str) -> ObjectInfo | None:
        if key in self._objects:
            data = self._objects[key]
            return None if data is None else ObjectInfo(key, len(data), self._etag(data))
        return self.inner.head(key)

    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        self._objects[key] = bytes(data)
        return self._etag(data)

    def write_if(
        self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None
    ) -> str:
        current = self.read_versioned(key)
        if (current[1] if current else None) != etag:
            raise Conflict(self.describe(key))
        return self.write(key, data)

    def write_file(self, key: str, path: Path, *, content_type: str | None = None) -> str:
        return self.write(key, Path(path).read_bytes())

    def download(self, key: str, dest: Path, *, max_bytes: int | None = None) -> int:
        if key not in self._objects:
            return self.inner.download(key, dest, max_bytes=max_bytes)
        data = self.read(key, max_bytes=max_bytes)
        Path(dest).write_bytes(data)
        return len(data)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for info in self.inner.list(prefix):
            if info.key not in self._objects:
                yield info
        for key in sorted(self._objects):
            data = self._objects[key]
            if key.startswith(prefix) and data is not None:
                yield ObjectInfo(key, len(data), self._etag(data))

    def delete(self, key: str) -> None:
        self._objects[key] = None

    @property
    def writes(self) -> list[str]:
        """Keys the rehearsal would have written or deleted (for messages and tests)."""
        return sorted(self._objects)


# -- the preview ---------------------------------------------------------------------


@dataclass
class PlannedPost:
    """What one platform would receive."""

    platform: str
    text: str
    alt_text: str
    image: str
    labels: list[str]
    painting: Painting
    length: int
    limit: int
    unit: str

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "alt_text": self.alt_text,
            "image": self.image,
            "labels": self.labels,
        }


@dataclass
class Preview:
    """The outcome of a rehearsal of one slot."""

    slot: str
    painting: Painting
    posts: dict[str, PlannedPost] = field(default_factory=dict)
    already_posted: dict[str, dict[str, Any]] = field(default_factory=dict)
    collection_size: int = 0

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "slot": self.slot,
            "painting": self.painting.summary(),
            "posts": {name: post.to_json() for name, post in self.posts.items()},
        }
        if self.already_posted:
            doc["already_posted"] = self.already_posted
        return doc

    def lines(self) -> list[str]:
        """A short summary for a person."""
        p = self.painting
        year = f", {p.year}" if p.year else ""
        out = [f'Slot {self.slot}: "{p.title}" by {p.artist}{year} (id {p.id})']
        for name, post in self.posts.items():
            other = ""
            if post.painting.id != p.id:
                other = f' - another painting here: "{post.painting.title}"'
            out.append(f"  {name} ({post.length}/{post.limit} {post.unit}){other}:")
            out.extend(f"    | {line}" for line in post.text.splitlines())
            out.append(f"    alt text: {post.alt_text}")
            out.append(f"    image: {post.image}")
            out.append(f"    labels: {', '.join(post.labels) if post.labels else 'none'}")
        for name, post in self.already_posted.items():
            out.append(f"  {name}: already posted ({post.get('url') or post.get('id')})")
        out.append("Nothing was written or posted (a preview).")
        return out


def preview(
    settings: Settings,
    slot: datetime,
    *,
    store: Store | None = None,
    logger: Logger | None = None,
) -> Preview:
    """Rehearse ``slot`` through the bot's own code path; writes nothing anywhere."""
    from .bot import Bot

    dry = DryRunStore(store or open_store(settings.store))
    logger = logger or Logger()
    platforms = {name: Rehearsal(name, logger=logger) for name in settings.platforms}
    bot = Bot(settings=settings, store=dry, platforms=dict(platforms), logger=logger)
    result = bot.post(slot, deadline=time.monotonic() + REHEARSAL_SECONDS)
    index: CatalogIndex = load_index(dry)
    slot_painting = index.by_id(result["painting"]["id"])
    if slot_painting is None:  # the catalog changed since the slot's record was made
        from .slots import read_slot

        record = read_slot(dry, slot)
        assert record is not None
        slot_painting = record.find_painting(result["painting"]["id"])
    out = Preview(slot=result["slot"], painting=slot_painting, collection_size=len(index))
    for name, platform in platforms.items():
        if not platform.requests:
            out.already_posted[name] = result["posts"].get(name, {})
            continue
        request = platform.requests[-1]
        length, limit, unit = platform.count(request.painting, request.text)
        out.posts[name] = PlannedPost(
            platform=name,
            text=request.text,
            alt_text=request.alt_text,
            image=request.painting.image,
            labels=list(request.labels),  # as ART_BOT_SENSITIVE decided for this platform
            painting=request.painting,
            length=length,
            limit=limit,
            unit=unit,
        )
    return out
