"""The typed slot record reads what the first version wrote, and its lease."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soviet_art_bot.errors import ArtBotError, SlotBusy
from soviet_art_bot.ledger import slot_key
from soviet_art_bot.slots import (
    PlatformPost,
    PostStatus,
    RecordError,
    SlotLease,
    SlotRecord,
    read_slot,
    slot_keys,
    slot_of_key,
)

# Records written by the code before the typed record (commit 91c953a), by
# posting through it: posted, partial (failed + pending), a pending duplicate
# check, a painting switched for one platform, images set aside, a live lease.
FIXTURES = Path(__file__).parent / "fixtures" / "slots"
SLOT = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_records_of_the_first_version_load_and_round_trip(path):
    data = path.read_bytes()
    record = SlotRecord.from_json(data, path.name)
    assert record.to_json() == json.loads(data)  # rewriting keeps every field as it was
    assert record.slot == "2026-11-26T12:00:00Z"
    assert record.find_painting(record.painting_id).id == record.painting_id


def test_fixture_fields_are_typed():
    partial = SlotRecord.from_json((FIXTURES / "partial.json").read_bytes(), "partial")
    assert partial.status("outbox") is PostStatus.POSTED
    assert partial.status("scripted") is PostStatus.FAILED
    assert partial.platforms["scripted"].error == "scripted: 503 Service Unavailable"
    assert partial.status("other") is PostStatus.PENDING and partial.started()
    assert not partial.done(["outbox", "scripted"]) and partial.done(["outbox"])
    switched = SlotRecord.from_json((FIXTURES / "switched.json").read_bytes(), "switched")
    other = switched.platforms["scripted"].painting_id
    assert other != switched.painting_id and switched.find_painting(other).title
    assert switched.tried() == {switched.painting_id}
    leased = SlotRecord.from_json((FIXTURES / "leased-pending.json").read_bytes(), "leased")
    assert leased.lease is not None and leased.lease.held_by_other("me", leased.lease.until - 1)
    dup = SlotRecord.from_json((FIXTURES / "pending-duplicate-check.json").read_bytes(), "d")
    assert dup.platforms["scripted"].duplicate_checks == 1


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a slot record"),
        (b'{"slot": "x", "painting": "p"}', "'painting'"),
        (
            b'{"slot": "x", "painting": {"id": "a"}, "platforms": {"x": {"status": "won"}}}',
            "platforms.x: 'status' is 'won'",
        ),
        (
            b'{"slot": "x", "painting": {"id": "a"}, "platforms": {"x": {"status": "pending"}}}',
            "needs 'text'",
        ),
        (b'{"slot": "x", "painting": {"id": "a"}, "lease": {"owner": 3}}', "'lease'"),
        (b'{"version": 2, "slot": "x", "painting": {"id": "a"}}', "'version' is 2"),
        (b'{"slot": "x", "painting": {"id": "a"}, "set_aside": [7]}', "set_aside[0]"),
    ],
)
def test_a_damaged_record_is_one_clear_error(doc, fragment):
    with pytest.raises(RecordError, match="delete it to redo the slot") as info:
        SlotRecord.from_json(doc, "state/slots/x.json")
    assert fragment in str(info.value) and "state/slots/x.json" in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: (
            st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
        ),
    )
)
def test_any_json_is_a_record_or_a_record_error(value):
    base = json.loads((FIXTURES / "partial.json").read_bytes())
    for key in ("platforms", "lease", "set_aside", "painting", "alternates"):
        try:
            SlotRecord.from_json(json.dumps({**base, key: value}).encode(), "r")
        except RecordError:
            pass


def test_unknown_fields_survive_a_rewrite():
    doc = json.loads((FIXTURES / "posted.json").read_bytes())
    doc["future"] = {"kept": True}
    doc["platforms"]["outbox"]["note"] = "kept too"
    record = SlotRecord.from_json(json.dumps(doc).encode(), "r")
    assert record.to_json() == doc


def test_the_lease_creates_once_and_saves_by_compare_and_swap(any_store):
    deadline = time.monotonic() + 60
    painting = {"id": "a", "image": "images/a.jpg", "title": "T", "artist": "A"}

    def create():
        return SlotRecord(slot="2026-11-26T12:00:00Z", painting=painting, created_at="now")

    first = SlotLease(any_store, SLOT, deadline=deadline)
    assert first.acquire(create, lambda r: False)
    first.record.platforms["outbox"] = PlatformPost.pending("a", "text", attempt=1)
    first.save()
    other = SlotLease(any_store, SLOT, deadline=time.monotonic() + 0.3)
    with pytest.raises(SlotBusy, match="being posted by another invocation"):
        other.acquire(create, lambda r: False)  # waits for the live lease, then gives up
    first.release()
    assert read_slot(any_store, SLOT).lease is None
    assert other.acquire(create, lambda r: False)
    with pytest.raises(SlotBusy, match="took over"):
        first.save()  # a stale etag never overwrites the newer holder
    assert not SlotLease(any_store, SLOT, deadline=deadline).acquire(create, lambda r: True)
    assert slot_keys(any_store) == [slot_key(SLOT)]
    assert slot_of_key(slot_key(SLOT)) == SLOT


def test_record_used_before_acquire_is_an_error(dir_store):
    with pytest.raises(ArtBotError, match="before acquire"):
        SlotLease(dir_store, SLOT, deadline=0).record  # noqa: B018
