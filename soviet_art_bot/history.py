"""``history``: what was posted, newest slot first, from the slot records.

Years of slots are thousands of records, so a listing reads only what it
shows: the record keys name their slot (``.../2026/11/26/2026-11-26T120000Z.json``),
so they are listed a year at a time from the newest, filtered by ``since`` and
sorted without opening a record, and only the newest ``limit`` are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ArtBotError
from .ledger import SLOTS_PREFIX
from .slots import MAX_RECORD_BYTES, PostStatus, SlotRecord, slot_of_key
from .store import Store
from .times import EARLIEST, MAX_AHEAD

DEFAULT_LIMIT = 20


@dataclass
class SlotHistory:
    """One slot as ``history`` shows it."""

    slot: str
    painting: dict[str, str]
    posts: dict[str, dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)
    """Why a platform failed (shown to people; the JSON keeps DESIGN.md's shape)."""

    @classmethod
    def of(cls, record: SlotRecord) -> SlotHistory:
        painting = {k: str(record.painting.get(k) or "") for k in ("id", "title", "artist", "year")}
        posts = {
            name: {
                "status": post.status.value,
                "id": post.id if post.status is PostStatus.POSTED else None,
                "url": post.url if post.status is PostStatus.POSTED else None,
                "painting_id": post.painting_id,
            }
            for name, post in sorted(record.platforms.items())
        }
        errors = {name: post.error for name, post in record.platforms.items() if post.error}
        return cls(slot=record.slot, painting=painting, posts=posts, errors=errors)

    def to_json(self) -> dict[str, Any]:
        return {"slot": self.slot, "painting": self.painting, "posts": self.posts}

    def lines(self) -> list[str]:
        p = self.painting
        year = f", {p['year']}" if p["year"] else ""
        out = [f'{self.slot}  "{p["title"]}" by {p["artist"]}{year}']
        for name, post in self.posts.items():
            where = post["url"] or post["id"] or ""
            other = (
                f" (painting {post['painting_id']})"
                if post["painting_id"] and post["painting_id"] != p["id"]
                else ""
            )
            if name in self.errors and post["status"] != "posted":
                where = self.errors[name]
            out.append(f"  {name:<9} {post['status']:<8} {where}{other}".rstrip())
        if not self.posts:
            out.append("  (nothing posted yet)")
        return out


@dataclass
class History:
    slots: list[SlotHistory] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Records that could not be read, each with what to do about it."""
    more: bool = False
    """Whether older slots match than ``limit`` let through."""

    def to_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.slots]

    def lines(self) -> list[str]:
        if not self.slots:
            return ["No slot matches." if self.problems else "No slot has been posted yet."]
        out: list[str] = []
        for entry in self.slots:
            out.extend(entry.lines())
        if self.more:
            out.append(f"(the newest {len(self.slots)}; --limit N or --since TIME for older ones)")
        return out


def _newest_keys(
    store: Store, since: datetime | None, limit: int | None, now: datetime
) -> list[tuple[datetime, str]]:
    """Slot record keys at or after ``since``, newest first: one listing per year,
    newest year first, stopping once more than ``limit`` are known."""
    found: list[tuple[datetime, str]] = []
    first = max(EARLIEST.year, since.year if since else EARLIEST.year)
    for year in range((now + MAX_AHEAD).year, first - 1, -1):
        batch = []
        for info in store.list(f"{SLOTS_PREFIX}/{year:04d}/"):
            slot = slot_of_key(info.key)
            if slot is not None and (since is None or slot >= since):
                batch.append((slot, info.key))
        found.extend(sorted(batch, reverse=True))
        if limit is not None and len(found) > limit:
            break
    return found


def read_history(
    store: Store,
    *,
    since: datetime | None = None,
    limit: int | None,
    now: datetime | None = None,
) -> History:
    """The newest ``limit`` slots at or after ``since``, reading only those records.

    Record keys name their slot, and slots lie between 2020 and a day ahead of
    now (see :mod:`~soviet_art_bot.times`), so the keys are listed a year at a
    time from the newest and no record is opened before it is shown.
    """
    keyed = _newest_keys(store, since, limit, now or datetime.now(UTC))
    out = History(more=limit is not None and len(keyed) > limit)
    for _, key in keyed[:limit] if limit is not None else keyed:
        try:
            data = store.read_versioned(key, max_bytes=MAX_RECORD_BYTES)
        except ArtBotError as exc:  # too large, a link: say so, show the others
            out.problems.append(str(exc))
            continue
        if data is None:  # deleted since the listing
            continue
        try:
            out.slots.append(SlotHistory.of(SlotRecord.from_json(data[0], store.describe(key))))
        except ArtBotError as exc:
            out.problems.append(str(exc))
    return out
