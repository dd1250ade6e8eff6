"""Choosing what to post: no repeats inside the window, uniform, small state."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from soviet_art_bot.catalog import CATALOG_KEY, load_index
from soviet_art_bot.errors import ArtBotError, NothingToPost
from soviet_art_bot.ledger import Ledger, choose, parse_time, slot_key

WEEK = timedelta(days=7)
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_index(store, count):
    entries = [
        {"id": f"p{i:05d}", "image": f"images/p{i:05d}.jpg", "title": f"T{i}", "artist": "A"}
        for i in range(count)
    ]
    store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": entries}).encode())
    return load_index(store)


def chi_square_critical(df: int, z: float = 3.09) -> float:
    """Wilson-Hilferty upper quantile of chi-square (z=3.09: p = 0.001)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def test_months_of_posting_never_repeat_inside_the_window(dir_store):
    index = make_index(dir_store, 150)
    ledger = Ledger()
    rng = random.Random(1917)
    last_posted: dict[str, datetime] = {}
    counts: Counter[str] = Counter()
    for n in range(4 * 365):  # a year of four posts a day
        now = START + timedelta(hours=6 * n)
        painting = choose(index, ledger, now=now, window=WEEK, rng=rng)
        if painting.id in last_posted:
            assert now - last_posted[painting.id] >= WEEK
        last_posted[painting.id] = now
        counts[painting.id] += 1
        ledger.record_post(painting.id, now)
        ledger.prune(now, WEEK)
        assert len(ledger.recent) <= 28  # the hot state stays small forever
    assert len(counts) == 150  # every painting was posted
    expected = 4 * 365 / 150
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < chi_square_critical(149)


def test_choice_is_uniform_among_allowed_paintings(dir_store):
    index = make_index(dir_store, 80)
    ledger = Ledger()
    for i in range(20):  # twenty posted within the week, some older ones outside it
        ledger.record_post(f"p{i:05d}", START - timedelta(hours=6 * i))
    ledger.record_post("p00079", START - timedelta(days=30))
    ledger.put_aside("p00078", at=START, until=START + WEEK, reason="missing image")
    rng = random.Random(42)
    draws = Counter(choose(index, ledger, now=START, window=WEEK, rng=rng).id for _ in range(20000))
    allowed = {f"p{i:05d}" for i in range(20, 78)} | {"p00079"}
    assert set(draws) == allowed  # never a recent or set-aside one
    expected = 20000 / len(allowed)
    chi2 = sum((draws[pid] - expected) ** 2 / expected for pid in allowed)
    assert chi2 < chi_square_critical(len(allowed) - 1)


def test_least_recently_posted_when_everything_is_recent(dir_store):
    index = make_index(dir_store, 5)
    ledger = Ledger()
    for i, pid in enumerate(["p00003", "p00001", "p00000", "p00004", "p00002"]):
        ledger.record_post(pid, START + timedelta(hours=6 * i))
    now = START + timedelta(hours=30)
    assert choose(index, ledger, now=now, window=WEEK, rng=random.Random(0)).id == "p00003"
    # ...but never a painting that is set aside
    ledger.put_aside("p00003", at=now, until=now + WEEK, reason="missing image")
    assert choose(index, ledger, now=now, window=WEEK, rng=random.Random(0)).id == "p00001"


def test_everything_set_aside_is_a_clear_error(dir_store):
    index = make_index(dir_store, 2)
    ledger = Ledger()
    for pid in index.ids:
        ledger.put_aside(pid, at=START, until=START + WEEK, reason="duplicate", platform="x")
    with pytest.raises(NothingToPost, match="set aside for x"):
        choose(index, ledger, now=START, window=WEEK, rng=random.Random(0), platform="x")
    # other platforms are unaffected, and the set-aside expires
    assert choose(index, ledger, now=START, window=WEEK, rng=random.Random(0)).id in index.ids
    later = START + WEEK + timedelta(hours=1)
    assert choose(index, ledger, now=later, window=WEEK, rng=random.Random(0), platform="x")


def test_ledger_prune_forgets_expired_set_asides():
    ledger = Ledger()
    ledger.put_aside("a", at=START, until=START + timedelta(days=1), reason="r")
    ledger.record_post("b", START)
    ledger.prune(START + timedelta(days=8), WEEK)
    assert ledger.recent == {} and ledger.set_aside == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T12:00:00Z", "2026-11-26T12:00:00+00:00"),
        ("2026-11-26T13:00:00+01:00", "2026-11-26T12:00:00+00:00"),
        ("2026-11-26T12:00:00.123Z", "2026-11-26T12:00:00+00:00"),
    ],
)
def test_slot_times(value, expected):
    assert parse_time(value).isoformat() == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", 12])
def test_bad_slot_times_are_named(value):
    with pytest.raises(ArtBotError, match="event 'time'"):
        parse_time(value)


def test_slot_keys_are_dated():
    assert (
        slot_key(parse_time("2026-11-26T12:00:00Z"))
        == "state/slots/2026/11/26/2026-11-26T120000Z.json"
    )


def test_image_set_asides_lapse_when_the_catalog_changes(dir_store):
    index = make_index(dir_store, 3)
    ledger = Ledger()
    ledger.put_aside(
        "p00000", at=START, until=START + WEEK, reason="missing", catalog=index.fingerprint
    )
    ledger.put_aside("p00001", at=START, until=START + WEEK, reason="duplicate", platform="x")
    assert ledger.aside_ids(START, "x", index.fingerprint) == {"p00000", "p00001"}
    new = make_index(dir_store, 4)  # a re-ingest: new fingerprint
    assert new.fingerprint != index.fingerprint
    assert ledger.aside_ids(START, "x", new.fingerprint) == {"p00001"}
