"""``history``: what was posted, newest slot first, from the slot records.

Years of slots are thousands of records, so a listing reads only what it
shows: the record keys name their slot (``.../2026-11-26T120000Z.json``), so
they are listed, filtered by ``since`` and sorted without opening a record,
and only the newest ``limit`` are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ArtBotError
from .ledger import format_time
from .slots import MAX_RECORD_BYTES, PostStatus, SlotRecord, slot_keys, slot_of_key
from .store import Store

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
    total: int = 0
    """How many slots matched before ``limit``."""

    def to_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.slots]

    def lines(self) -> list[str]:
        if not self.slots:
            return ["No slot has been posted yet." if not self.total else "No slot matches."]
        out: list[str] = []
        for entry in self.slots:
            out.extend(entry.lines())
        if self.total > len(self.slots):
            out.append(
                f"({len(self.slots)} of {self.total} slots; --limit N or --since TIME for others)"
            )
        return out


def read_history(store: Store, *, since: datetime | None = None, limit: int | None) -> History:
    """The newest ``limit`` slots at or after ``since``, reading only those records."""
    stamp = format_time(since) if since else None
    keyed = []
    for key in slot_keys(store):
        slot = slot_of_key(key)
        if slot is not None and (stamp is None or format_time(slot) >= stamp):
            keyed.append((slot, key))
    keyed.sort(reverse=True)
    out = History(total=len(keyed))
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
