"""The bot's bookkeeping: what was posted when, and what each slot did.

Two kinds of object live under ``state/`` in the store:

``state/ledger.json``
    The small, hot state read on every post: when each painting was last
    posted (only inside the no-repeat window, so it never grows past about
    ``4 posts/day x window`` entries) and paintings *set aside* (an image
    that could not be read, or a text X refuses as a duplicate), each with an
    expiry. Updated by compare-and-swap, so concurrent posts never lose an
    entry.

``state/slots/YYYY/MM/DD/<slot>.json``
    One record per scheduled slot: the painting chosen, each platform's
    outcome (``pending`` before a request is sent, ``posted`` with the post
    id and URL, ``failed`` with the reason) and a *lease* naming the
    invocation currently working on it. These records are the full posting
    log; the bot reads only the one for the slot at hand.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import safejson
from .catalog import CatalogIndex, Painting
from .errors import ArtBotError, Conflict, NothingToPost, StateError, brief
from .store import Store
from .times import MAX_AHEAD, format_time, parse_stamp
from .times import parse_time as parse_time  # re-exported: callers import it from here

LEDGER_KEY = "state/ledger.json"
SLOTS_PREFIX = "state/slots"
ALL_PLATFORMS = "*"
CAS_ATTEMPTS = 20
CAS_BASE_BACKOFF = 0.02  # seconds
CAS_MAX_BACKOFF = 1.0
_SAMPLING_TRIES = 64
MAX_LEDGER_BYTES = 16 * 1024 * 1024  # thousands of entries at most; see the module docstring
LONGEST_SET_ASIDE = timedelta(days=31)  # bot.py sets aside for 30 days at most
_LEDGER_FIX = "fix it, or delete it to start the posting history afresh"
POSTS_PER_DAY = 4  # one slot every 6 hours


def window_shortfall(
    paintings: int, no_repeat_days: float, posts_per_day: int = POSTS_PER_DAY
) -> str | None:
    """Why ``paintings`` cannot fill the no-repeat window, or None if they can."""
    needed = math.ceil(posts_per_day * no_repeat_days)
    if paintings >= needed:
        return None
    days = f"{no_repeat_days:g}"
    return (
        f"the collection has {paintings} painting(s), fewer than the {needed} the no-repeat "
        f"window needs ({posts_per_day} posts a day x {days} days): paintings will repeat "
        f"within {days} days; add paintings or lower ART_BOT_NO_REPEAT_DAYS"
    )


def slot_key(slot: datetime) -> str:
    """Where a slot's record lives; dated folders keep listings cheap."""
    return f"{SLOTS_PREFIX}/{slot:%Y/%m/%d}/{slot:%Y-%m-%dT%H%M%SZ}.json"


@dataclass
class Ledger:
    """Recent posts and set-aside paintings; see the module docstring."""

    recent: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes, *, now: datetime | None = None) -> Ledger:
        """Read a stored ledger, refusing a damaged one and repairing future dates.

        A date after ``now`` (the clock) plus a day cannot be true: obeyed, it
        would keep a painting from being chosen for years. Such a post date
        becomes ``now``; such a set-aside is shortened to the longest the bot
        ever sets, counted from ``now``.
        """
        doc = safejson.loads(
            data, name=LEDGER_KEY, fix=_LEDGER_FIX, error=StateError, max_bytes=MAX_LEDGER_BYTES
        )
        if not isinstance(doc, dict):
            raise StateError(f"{LEDGER_KEY} must be a JSON object; {_LEDGER_FIX}")
        recent = doc.get("recent", {})
        set_aside = doc.get("set_aside", {})
        if not isinstance(recent, dict):
            raise StateError(f"{LEDGER_KEY}: 'recent' must be an object; {_LEDGER_FIX}")
        if not isinstance(set_aside, dict):
            raise StateError(f"{LEDGER_KEY}: 'set_aside' must be an object; {_LEDGER_FIX}")
        for pid, at in recent.items():
            if parse_stamp(at) is None:
                raise StateError(
                    f"{LEDGER_KEY}: recent[{brief(pid)}] is {brief(at)}, not a time like "
                    f"2026-11-26T12:00:00Z; {_LEDGER_FIX}"
                )
        for platform, entries in set_aside.items():
            where = f"{LEDGER_KEY}: set_aside[{brief(platform)}]"
            if not isinstance(entries, dict):
                raise StateError(f"{where} must be an object; {_LEDGER_FIX}")
            for pid, entry in entries.items():
                _check_aside(f"{where}[{brief(pid)}]", entry)
        ledger = cls(recent=dict(recent), set_aside={k: dict(v) for k, v in set_aside.items()})
        ledger.repair(now or datetime.now(UTC))
        return ledger

    def repair(self, now: datetime) -> int:
        """Bring dates from the future back to ``now``; returns how many were changed."""
        latest = format_time(now + MAX_AHEAD)
        stamp = format_time(now)
        longest = format_time(now + LONGEST_SET_ASIDE)
        changed = 0
        for pid, at in self.recent.items():
            if at > latest:
                self.recent[pid] = stamp
                changed += 1
        for entries in self.set_aside.values():
            for entry in entries.values():
                if entry["at"] > latest:
                    entry["at"] = stamp
                    changed += 1
                if entry["until"] > longest:
                    entry["until"] = longest
                    changed += 1
        return changed

    def to_json(self) -> bytes:
        return json.dumps(
            {"version": 1, "recent": self.recent, "set_aside": self.set_aside}, sort_keys=True
        ).encode()

    def record_post(self, painting_id: str, at: datetime) -> None:
        stamp = format_time(at)
        if self.recent.get(painting_id, "") < stamp:
            self.recent[painting_id] = stamp

    def put_aside(
        self, painting_id: str, *, at: datetime, until: datetime, reason: str,
        platform: str = ALL_PLATFORMS, catalog: str | None = None,
    ) -> None:  # fmt: skip
        """Keep ``painting_id`` from being chosen until ``until``.

        With ``catalog`` (the catalog's fingerprint) the entry lapses as soon as
        the catalog changes: a re-ingest may well have repaired the image.
        """
        entry = {"at": format_time(at), "until": format_time(until), "reason": reason}
        if catalog:
            entry["catalog"] = catalog
        self.set_aside.setdefault(platform, {})[painting_id] = entry

    def aside_ids(
        self, now: datetime, platform: str | None = None, catalog: str | None = None
    ) -> set[str]:
        stamp = format_time(now)
        ids: set[str] = set()
        for name in (ALL_PLATFORMS, platform):
            for pid, entry in self.set_aside.get(name or "", {}).items():
                if entry.get("until", "") <= stamp:
                    continue
                if catalog and entry.get("catalog", catalog) != catalog:
                    continue
                ids.add(pid)
        return ids

    def prune(self, now: datetime, window: timedelta) -> None:
        """Forget what no longer matters, so the ledger stays small forever."""
        horizon = format_time(now - window)
        self.recent = {pid: at for pid, at in self.recent.items() if at > horizon}
        stamp = format_time(now)
        for name in list(self.set_aside):
            kept = {k: v for k, v in self.set_aside[name].items() if v.get("until", "") > stamp}
            if kept:
                self.set_aside[name] = kept
            else:
                del self.set_aside[name]


def _check_aside(where: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise StateError(f"{where} must be an object; {_LEDGER_FIX}")
    for name in ("at", "until"):
        if parse_stamp(entry.get(name)) is None:
            raise StateError(
                f"{where}: {name!r} is {brief(entry.get(name))}, not a time like "
                f"2026-11-26T12:00:00Z; {_LEDGER_FIX}"
            )
    for name in ("reason", "catalog"):
        if name in entry and not isinstance(entry[name], str):
            raise StateError(f"{where}: {name!r} must be a string; {_LEDGER_FIX}")


def read_ledger(store: Store) -> tuple[Ledger, str | None]:
    current = store.read_versioned(LEDGER_KEY, max_bytes=MAX_LEDGER_BYTES)
    if current is None:
        return Ledger(), None
    return Ledger.from_json(current[0]), current[1]


def update_ledger(store: Store, change: Any, *, rng: random.Random | None = None) -> Ledger:
    """Apply ``change(ledger)`` with compare-and-swap, retrying on conflicts.

    Retries back off exponentially with full jitter, so writers that collide
    spread out instead of colliding again in lockstep.
    """
    rng = rng or random.Random()
    for attempt in range(CAS_ATTEMPTS):
        ledger, etag = read_ledger(store)
        change(ledger)
        try:
            store.write_if(LEDGER_KEY, ledger.to_json(), etag=etag)
            return ledger
        except Conflict:
            time.sleep(rng.uniform(0, min(CAS_MAX_BACKOFF, CAS_BASE_BACKOFF * 2**attempt)))
    raise ArtBotError(f"{LEDGER_KEY} kept changing under {CAS_ATTEMPTS} attempts; retry later")


def choose(
    index: CatalogIndex,
    ledger: Ledger,
    *,
    now: datetime,
    window: timedelta,
    rng: random.Random,
    platform: str | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> Painting:
    """A painting uniformly at random among those not posted within ``window``.

    When every painting was posted inside the window, the least recently
    posted one. Set-aside and ``exclude``d paintings are never chosen.
    """
    horizon = format_time(now - window)
    recent = {pid: at for pid, at in ledger.recent.items() if at > horizon}
    aside = ledger.aside_ids(now, platform, index.fingerprint)
    blocked = set(recent) | aside | set(exclude)
    ids = index.ids
    count = len(ids)
    if count == 0:
        raise NothingToPost("the catalog lists no paintings; run the scrape first")
    # Rejection sampling is uniform over the allowed paintings and reads no
    # more than the id list while few are blocked; otherwise list them.
    if len(blocked) * 2 < count:
        for _ in range(_SAMPLING_TRIES):
            pos = rng.randrange(count)
            if ids[pos] not in blocked:
                return index.get(pos)
    allowed = [pos for pos, pid in enumerate(ids) if pid not in blocked]
    if allowed:
        return index.get(rng.choice(allowed))
    unavailable = aside | set(exclude)
    known = set(ids)
    oldest = sorted(
        (at, pid) for pid, at in recent.items() if pid not in unavailable and pid in known
    )
    if oldest:
        pos = index.position(oldest[0][1])
        assert pos is not None
        return index.get(pos)
    raise NothingToPost(
        f"every painting of the catalog ({count}) is set aside"
        + (f" for {platform}" if platform else "")
        + f"; see {LEDGER_KEY} for the reasons (missing images, duplicate texts)"
    )
