"""The slot record: what one scheduled slot chose, tried and posted, and its lease.

One JSON object per slot lives at ``state/slots/YYYY/MM/DD/<slot>.json``
(:func:`~soviet_art_bot.ledger.slot_key`). :class:`SlotRecord` is its typed
model, the only way the bot, ``preview``, ``history`` and the gallery read or
write it; :class:`SlotLease` owns the record's lifecycle for one invocation:
create-or-take (:meth:`SlotLease.acquire`), compare-and-swap writes
(:meth:`SlotLease.save`) and :meth:`SlotLease.release`.

The stored format is the one the first version wrote (``tests/fixtures/slots``
holds records it made): field names and shapes are unchanged, and fields this
version does not know are kept as they are when a record is rewritten.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from . import safejson
from .catalog import Painting, painting_from_json
from .errors import ArtBotError, Conflict, SlotBusy, StateError, StoreError
from .ledger import SLOTS_PREFIX, format_time, slot_key
from .log import Logger
from .store import Store

RECORD_VERSION = 1
LEASE_MARGIN = 5.0
POLL_SECONDS = 0.25
MAX_RECORD_BYTES = 4 * 1024 * 1024  # a painting, a few alternates and platform states
MAX_LEASE_SECONDS = 3600.0  # longer than any invocation holds a lease (Lambda stops at 900 s)


class PostStatus(StrEnum):
    """Where one platform's post for a slot stands."""

    PENDING = "pending"
    """A request was (maybe) sent and its answer is not known yet."""
    POSTED = "posted"
    FAILED = "failed"
    """The last attempt failed with nothing posted; the next delivery tries again."""


class RecordError(StateError):
    """A slot record that is not one this bot wrote."""


def _text(doc: dict[str, Any], name: str, where: str, *, required: bool = False) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}: field {name!r} must be a string")
    return value


def _int(doc: dict[str, Any], name: str, where: str) -> int:
    value = doc.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RecordError(f"{where}: field {name!r} must be a whole number")
    return value


@dataclass
class PlatformPost:
    """One platform's outcome in a slot; which fields are set depends on ``status``."""

    status: PostStatus
    painting_id: str | None = None
    attempt: int = 0
    text: str | None = None
    started_at: str | None = None
    """The first attempt's time: a platform looks for a lost post from then on."""
    duplicate_checks: int = 0
    id: str | None = None
    url: str | None = None
    posted_at: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def pending(
        cls, painting_id: str, text: str, *, attempt: int, earlier: PlatformPost | None = None
    ) -> PlatformPost:
        """The mark written before a request; ``earlier`` is the pending attempt it retries."""
        return cls(
            status=PostStatus.PENDING,
            painting_id=painting_id,
            text=text,
            attempt=attempt,
            started_at=(earlier.started_at if earlier else None) or format_time(datetime.now(UTC)),
            duplicate_checks=earlier.duplicate_checks if earlier else 0,
        )

    @classmethod
    def posted(
        cls, painting_id: str, post_id: str, url: str | None, *, attempt: int
    ) -> PlatformPost:
        return cls(
            status=PostStatus.POSTED,
            painting_id=painting_id,
            id=post_id,
            url=url,
            attempt=attempt,
            posted_at=format_time(datetime.now(UTC)),
        )

    def failed(self, error: str) -> None:
        """Mark this attempt failed (keeping its text and attempt count)."""
        self.status = PostStatus.FAILED
        self.error = error

    @classmethod
    def from_json(cls, doc: Any, where: str) -> PlatformPost:
        if not isinstance(doc, dict):
            raise RecordError(f"{where} is not an object")
        try:
            status = PostStatus(doc.get("status"))
        except ValueError:
            raise RecordError(
                f"{where}: 'status' is {doc.get('status')!r}, not one of "
                f"{', '.join(s.value for s in PostStatus)}"
            ) from None
        post = cls(
            status=status,
            painting_id=_text(doc, "painting_id", where),
            attempt=_int(doc, "attempt", where),
            text=_text(doc, "text", where),
            started_at=_text(doc, "started_at", where),
            duplicate_checks=_int(doc, "duplicate_checks", where),
            id=_text(doc, "id", where, required=status is PostStatus.POSTED),
            url=_text(doc, "url", where),
            posted_at=_text(doc, "posted_at", where),
            error=_text(doc, "error", where),
            extra={k: v for k, v in doc.items() if k not in _POST_FIELDS},
        )
        if status is PostStatus.PENDING and (post.text is None or post.painting_id is None):
            raise RecordError(f"{where}: a pending post needs 'text' and 'painting_id'")
        return post

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"status": self.status.value}
        if self.status is PostStatus.POSTED:
            doc.update(id=self.id, url=self.url, painting_id=self.painting_id)
            doc.update(attempt=self.attempt, posted_at=self.posted_at)
        else:
            optional = {
                "painting_id": self.painting_id,
                "text": self.text,
                "attempt": self.attempt if self.attempt or self.text is not None else None,
                "started_at": self.started_at,
                "duplicate_checks": self.duplicate_checks if self.text is not None else None,
                "error": self.error,
            }
            doc.update({k: v for k, v in optional.items() if v is not None})
        return {**self.extra, **{k: v for k, v in doc.items() if v is not None or k == "url"}}


_POST_FIELDS = set(PlatformPost.__dataclass_fields__) - {"extra"}


@dataclass(frozen=True)
class SetAside:
    """A painting this slot gave up on (``platform`` ``"*"``: for every platform)."""

    painting_id: str
    platform: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"painting_id": self.painting_id, "platform": self.platform, "reason": self.reason}


@dataclass(frozen=True)
class Lease:
    """Which invocation works on the slot, until when (epoch seconds)."""

    owner: str
    until: float

    def held_by_other(self, owner: str, now: float) -> bool:
        return self.owner != owner and self.until > now


@dataclass
class SlotRecord:
    """Everything stored about one slot."""

    slot: str
    painting: dict[str, Any]
    """The slot's painting as its catalog entry read when chosen."""
    created_at: str
    platforms: dict[str, PlatformPost] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)
    lease: Lease | None = None
    alternates: list[dict[str, Any]] = field(default_factory=list)
    """Paintings chosen for one platform that refused the slot's painting."""
    version: int = RECORD_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, slot: datetime, painting: Painting) -> SlotRecord:
        return cls(
            slot=format_time(slot),
            painting=painting.to_json(),
            created_at=format_time(datetime.now(UTC)),
        )

    # -- reading ---------------------------------------------------------------

    @property
    def painting_id(self) -> str:
        return str(self.painting.get("id"))

    def find_painting(self, painting_id: str, where: str = "slot record") -> Painting:
        """The slot's painting or one of its alternates, by id."""
        for doc in [self.painting, *self.alternates]:
            if doc.get("id") == painting_id:
                return painting_from_json(doc, f"{where} painting {painting_id!r}")
        raise ArtBotError(f"{where} does not describe painting {painting_id!r}")

    def status(self, platform: str) -> PostStatus | None:
        post = self.platforms.get(platform)
        return post.status if post else None

    def done(self, platforms: Iterator[str] | list[str] | dict[str, Any]) -> bool:
        return all(self.status(name) is PostStatus.POSTED for name in platforms)

    def started(self) -> bool:
        """Whether any platform has (or may have) this slot's painting already."""
        return any(
            p.status in (PostStatus.POSTED, PostStatus.PENDING) for p in self.platforms.values()
        )

    def tried(self) -> set[str]:
        return {entry.painting_id for entry in self.set_aside}

    # -- JSON ------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: bytes, where: str) -> SlotRecord:
        """Parse a stored record; :class:`RecordError` names ``where`` and the fix."""
        doc = safejson.loads(
            data,
            name=where,
            fix="delete it to redo the slot",
            error=RecordError,
            max_bytes=MAX_RECORD_BYTES,
        )
        if not isinstance(doc, dict):
            raise RecordError(f"{where} is not a slot record; delete it to redo the slot")
        try:
            return cls._from_doc(doc, where)
        except RecordError as exc:
            raise RecordError(f"{exc}; delete it to redo the slot") from None

    @classmethod
    def _from_doc(cls, doc: dict[str, Any], where: str) -> SlotRecord:
        version = doc.get("version", RECORD_VERSION)
        if version != RECORD_VERSION:
            raise RecordError(f"{where}: 'version' is {version!r}; this bot reads version 1")
        painting = doc.get("painting")
        if not isinstance(painting, dict) or not isinstance(painting.get("id"), str):
            raise RecordError(f"{where}: field 'painting' must be a catalog entry")
        platforms = doc.get("platforms") or {}
        if not isinstance(platforms, dict):
            raise RecordError(f"{where}: field 'platforms' must be an object")
        set_aside = doc.get("set_aside") or []
        alternates = doc.get("alternates") or []
        if not isinstance(set_aside, list) or not isinstance(alternates, list):
            raise RecordError(f"{where}: 'set_aside' and 'alternates' must be lists")
        if not all(isinstance(a, dict) for a in alternates):
            raise RecordError(f"{where}: every entry of 'alternates' must be a catalog entry")
        aside: list[SetAside] = []
        for i, entry in enumerate(set_aside):
            if not isinstance(entry, dict):
                raise RecordError(f"{where}: set_aside[{i}] is not an object")
            label = f"{where}: set_aside[{i}]"
            aside.append(
                SetAside(
                    painting_id=_text(entry, "painting_id", label, required=True) or "",
                    platform=_text(entry, "platform", label) or "*",
                    reason=_text(entry, "reason", label) or "",
                )
            )
        return cls(
            slot=_text(doc, "slot", where, required=True) or "",
            painting=painting,
            created_at=_text(doc, "created_at", where) or "",
            platforms={
                str(name): PlatformPost.from_json(post, f"{where}: platforms.{name}")
                for name, post in platforms.items()
            },
            set_aside=aside,
            lease=_lease(doc.get("lease"), where),
            alternates=list(alternates),
            version=version,
            extra={k: v for k, v in doc.items() if k not in _RECORD_FIELDS},
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            **self.extra,
            "version": self.version,
            "slot": self.slot,
            "painting": self.painting,
            "created_at": self.created_at,
            "platforms": {name: post.to_json() for name, post in self.platforms.items()},
            "set_aside": [entry.to_json() for entry in self.set_aside],
            "lease": (
                {"owner": self.lease.owner, "until": self.lease.until} if self.lease else None
            ),
        }
        if self.alternates:
            doc["alternates"] = self.alternates
        return doc

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False).encode()


_RECORD_FIELDS = set(SlotRecord.__dataclass_fields__) - {"extra"}


def _lease(value: Any, where: str) -> Lease | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(f"{where}: field 'lease' must be an object or null")
    owner, until = value.get("owner"), value.get("until", 0)
    if owner is None:
        return None
    if not isinstance(owner, str) or not isinstance(until, int | float) or isinstance(until, bool):
        raise RecordError(f"{where}: field 'lease' must hold 'owner' and 'until'")
    if until > time.time() + MAX_LEASE_SECONDS:
        return None  # from the future (a hand edit, a broken clock): lapsed, not obeyed
    return Lease(owner, float(until))


# -- reading records without a lease (preview, history, gallery) -----------------


def read_slot(store: Store, slot: datetime) -> SlotRecord | None:
    """The record of ``slot``, or None if the slot was never started."""
    key = slot_key(slot)
    current = store.read_versioned(key, max_bytes=MAX_RECORD_BYTES)
    return None if current is None else SlotRecord.from_json(current[0], store.describe(key))


def slot_keys(store: Store) -> list[str]:
    """Every slot record's key, oldest first (keys sort by slot time)."""
    return sorted(
        info.key
        for info in store.list(f"{SLOTS_PREFIX}/")
        if info.key.endswith(".json") and "/.partial" not in info.key
    )


def slot_of_key(key: str) -> datetime | None:
    """The slot a record key names (``.../2026-11-26T120000Z.json``), or None."""
    name = key.rsplit("/", 1)[-1].removesuffix(".json")
    try:
        return datetime.strptime(name, "%Y-%m-%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


# -- the lease ---------------------------------------------------------------------


class SlotLease:
    """One invocation's hold on one slot's record.

    :meth:`acquire` creates the record (only one invocation can: a conditional
    write) or takes its lease once no live one is held by another invocation;
    every later change goes through :meth:`save`, a compare-and-swap that fails
    with :class:`SlotBusy` if another invocation took over; :meth:`release`
    clears the lease so the next delivery need not wait for it to expire.
    """

    def __init__(
        self, store: Store, slot: datetime, *, deadline: float, logger: Logger | None = None
    ) -> None:
        self.store = store
        self.slot = slot
        self.slot_s = format_time(slot)
        self.key = slot_key(slot)
        self.deadline = deadline
        self.owner = uuid.uuid4().hex
        self.log = logger or Logger()
        self._record: SlotRecord | None = None
        self.etag: str | None = None

    @property
    def record(self) -> SlotRecord:
        if self._record is None:
            raise ArtBotError(f"slot {self.slot_s}: the record was used before acquire()")
        return self._record

    def _new_lease(self) -> Lease:
        seconds = max(self.deadline - time.monotonic(), 30.0) + LEASE_MARGIN
        return Lease(self.owner, round(time.time() + seconds, 3))

    def save(self) -> None:
        try:
            self.etag = self.store.write_if(self.key, self.record.dumps(), etag=self.etag)
        except Conflict:
            raise SlotBusy(
                f"slot {self.slot_s}: another invocation took over its record "
                f"({self.store.describe(self.key)}); it will finish the slot"
            ) from None

    def acquire(self, create: Callable[[], SlotRecord], done: Callable[[SlotRecord], bool]) -> bool:
        """Hold the slot's lease; False if ``done(record)`` says it needs nothing more.

        ``create`` makes the record (choosing the painting) when the slot is new.
        """
        waiting = False
        while True:
            current = self.store.read_versioned(self.key, max_bytes=MAX_RECORD_BYTES)
            if current is None:
                record = create()
                record.lease = self._new_lease()
                try:
                    self.etag = self.store.write_if(self.key, record.dumps(), etag=None)
                except Conflict:
                    continue  # a concurrent delivery created it first
                self._record = record
                self.log.info("slot_created", painting_id=record.painting_id, outcome="ok")
                return True
            self._record = SlotRecord.from_json(current[0], self.store.describe(self.key))
            self.etag = current[1]
            if done(self._record):
                return False
            lease = self._record.lease
            if lease is not None and lease.held_by_other(self.owner, time.time()):
                if not waiting:
                    waiting = True
                    until = datetime.fromtimestamp(lease.until, UTC)
                    self.log.info(
                        "wait_for_lease", outcome="waiting", lease_until=format_time(until)
                    )
                if time.monotonic() + POLL_SECONDS >= self.deadline:
                    raise SlotBusy(
                        f"slot {self.slot_s} is being posted by another invocation; "
                        "this delivery gives up (nothing was posted twice)"
                    )
                time.sleep(POLL_SECONDS)
                continue
            self._record.lease = self._new_lease()
            try:
                self.save()
                return True
            except SlotBusy:
                continue

    def release(self) -> None:
        self.record.lease = None
        try:
            self.save()
        except (SlotBusy, StoreError) as exc:  # the lease expires by itself anyway
            self.log.warning("release_lease", outcome="error", error=str(exc))
