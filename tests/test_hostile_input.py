"""Hand-written catalogs, state files and events, as an attacker or an unlucky operator
would write them: each gets one ``Error:`` line naming the file or field, and
nothing is posted and nothing is written."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from soviet_art_bot import handler
from soviet_art_bot.catalog import CATALOG_KEY, load_index
from soviet_art_bot.cli import main
from soviet_art_bot.errors import ArtBotError, EventError
from soviet_art_bot.ledger import LEDGER_KEY, Ledger, choose, read_ledger, slot_key
from soviet_art_bot.safejson import MAX_DEPTH, loads
from soviet_art_bot.sample import write_sample
from soviet_art_bot.store import DirStore
from soviet_art_bot.times import parse_time

SLOT = "2026-11-26T12:00:00Z"
ENTRY = {"id": "p1", "image": "images/p1.png", "title": "Lenin's funeral", "artist": "K. Yuon"}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes: what 'nothing written' compares."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def one_error_line(stderr: str) -> str:
    """The single ``Error:`` line; every other line must be a structured log line."""
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    others = [line for line in stderr.splitlines() if not line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    for line in others:
        json.loads(line)
    assert len(errors[0]) < 600, errors[0]
    return errors[0]


@pytest.fixture
def collection(tmp_path):
    store = DirStore(tmp_path / "store")
    write_sample(store, 3, scale=0.1)
    return store


def post(store, tmp_path, capsys, slot=SLOT):
    code = main(
        [
            "post",
            "--store",
            str(store.root),
            "--platforms",
            "outbox",
            "--outbox-dir",
            str(tmp_path / "outbox"),
            "--slot",
            slot,
        ]
    )
    return code, capsys.readouterr()


def posted(tmp_path):
    return sorted((tmp_path / "outbox").glob("*.json"))


def catalog(*entries) -> bytes:
    return json.dumps({"version": 1, "paintings": list(entries)}).encode()


DEEP = b'{"version": 1, "paintings": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
HUGE_NUMBER = catalog(ENTRY).replace(b'"p1",', b'"p1", "width": ' + b"7" * 5000 + b",", 1)
SURROGATE = catalog(ENTRY).replace(b"Lenin's funeral", b"Lenin\\ud800")
NUL_KEY = catalog({**ENTRY, "image": "images/p1\x00.png"})
CONTROL_KEY = catalog({**ENTRY, "image": "images/p1\n.png"})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (DEEP, "nests arrays and objects more than 64 deep"),
        (HUGE_NUMBER, "has a number 5000 digits long"),
        (SURROGATE, "lone UTF-16 surrogate (\\udXXX escape) in 'paintings[0].title'"),
        (NUL_KEY, "paintings[0] (id 'p1'): field 'image' ('images/p1\\x00.png')"),
        (CONTROL_KEY, "field 'image' ('images/p1\\n.png')"),
        (catalog(ENTRY)[:-7], "is not valid JSON"),
        (b"\xff" * 10, "is not UTF-8 text"),
        (b'{"version": 1, "paintings": [{"id": NaN}]}', "has NaN, which is not JSON"),
        (b'{"version": 1, "paintings": [1e999]}', "has a number out of range"),
    ],
    ids=[
        "deep",
        "5000-digits",
        "surrogate",
        "nul-key",
        "newline-key",
        "truncated",
        "latin1",
        "nan",
        "inf",
    ],
)
def test_hostile_catalog_is_one_error_for_check_and_post(
    data, expected, collection, tmp_path, capsys
):
    collection.write(CATALOG_KEY, data)
    before = snapshot(collection.root)
    assert main(["check", "--store", str(collection.root)]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "catalog.json" in line and expected in line
    code, out = post(collection, tmp_path, capsys)
    assert code == 1 and one_error_line(out.err) == line
    assert not posted(tmp_path)
    assert snapshot(collection.root) == before


def test_valid_escapes_and_brackets_in_strings_are_fine():
    emoji = json.dumps({**ENTRY, "title": "[[[{{{ 🎨"}).encode()  # ensure_ascii: a pair
    assert b"\\ud83c\\udfa8" in emoji
    assert loads(emoji, name="x", fix="y")["title"] == "[[[{{{ 🎨"
    nested = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert loads(nested, name="x", fix="y") is not None
    for depth in (MAX_DEPTH + 1, 900, 5000):  # under and over the decoder's own limit
        deeper = b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
        with pytest.raises(ArtBotError, match=f"more than {MAX_DEPTH} deep"):
            loads(deeper, name="x", fix="y")
    assert loads(b'\xef\xbb\xbf{"a": 1.5}', name="x", fix="y") == {"a": 1.5}


@pytest.mark.parametrize(
    ("ledger", "expected"),
    [
        (b"[]", "state/ledger.json must be a JSON object"),
        (b'{"recent": []}', "'recent' must be an object"),
        (b'{"recent": {"p1": 12}}', "recent['p1'] is 12, not a time"),
        (b'{"recent": {"p1": "yesterday"}}', "recent['p1'] is 'yesterday'"),
        (b'{"set_aside": {"*": "x"}}', "set_aside['*'] must be an object"),
        (
            b'{"set_aside": {"*": {"p1": {"at": "2026-11-01T00:00:00Z"}}}}',
            "set_aside['*']['p1']: 'until' is None",
        ),
        (b'{"recent": {}, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nests arrays"),
        (b'{"recent": {"p1": "2026-11-01T00:00:00Z"', "is not valid JSON"),
    ],
)
def test_hostile_ledger_is_one_error(ledger, expected, collection, tmp_path, capsys):
    collection.write(LEDGER_KEY, ledger)
    before = snapshot(collection.root)
    code, out = post(collection, tmp_path, capsys)
    line = one_error_line(out.err)
    assert code == 1 and "state/ledger.json" in line and expected in line
    assert "delete it" in line
    assert not posted(tmp_path) and snapshot(collection.root) == before


BASE = {"slot": SLOT, "painting": {"id": "p1"}}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ([], "is not a slot record"),
        ({**BASE, "painting": "p1"}, "field 'painting' must be a catalog entry"),
        ({**BASE, "platforms": "x"}, "field 'platforms' must be an object"),
        ({**BASE, "platforms": {"outbox": {"status": "done"}}}, "'status' is 'done'"),
        ({**BASE, "platforms": {"outbox": {"status": "pending"}}}, "a pending post needs"),
        ({**BASE, "set_aside": [{"id": 3}]}, "set_aside[0]: field 'painting_id'"),
        ({**BASE, "lease": {"owner": "o", "until": "soon"}}, "'lease' must hold"),
        (
            {**BASE, "platforms": {"outbox": {"status": "failed", "attempt": "x"}}},
            "platforms.outbox: field 'attempt' must be a whole number",
        ),
        (b'{"slot": "x", "painting": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nests arrays"),
        (b'{"slot": "2026-11-26T12:00:00Z", "painting": {"id": "p1"}', "is not valid JSON"),
    ],
)
def test_hostile_slot_record_is_one_error(record, expected, collection, tmp_path, capsys):
    key = slot_key(parse_time(SLOT))
    data = record if isinstance(record, bytes) else json.dumps(record).encode()
    collection.write(key, data)
    before = snapshot(collection.root)
    code, out = post(collection, tmp_path, capsys)
    line = one_error_line(out.err)
    assert code == 1 and key in line and expected in line, line
    assert "delete it to redo the slot" in line
    assert not posted(tmp_path) and snapshot(collection.root) == before


def test_a_lease_from_the_future_is_not_obeyed(collection, tmp_path, capsys):
    """A hand-edited lease till year 5000 would make every delivery wait and give up."""
    key = slot_key(parse_time(SLOT))
    painting = load_index(collection).get(0).to_json()
    record = {**BASE, "painting": painting, "lease": {"owner": "x", "until": 95e9}}
    collection.write(key, json.dumps(record).encode())
    code, _ = post(collection, tmp_path, capsys)
    assert code == 0 and len(posted(tmp_path)) == 1


def test_a_truncated_index_manifest_is_rebuilt(collection, tmp_path, capsys):
    """The index is derived from catalog.json: a damaged manifest is rebuilt, not fatal."""
    index = load_index(collection)
    manifest = f"{index.prefix}/manifest.json"
    collection.write(manifest, collection.read(manifest)[:20])
    code, _ = post(collection, tmp_path, capsys)
    assert code == 0 and len(posted(tmp_path)) == 1
    assert json.loads(collection.read(manifest))["ids"] == index.ids


def test_a_truncated_index_shard_is_one_error(collection, tmp_path, capsys):
    index = load_index(collection)
    shard = f"{index.prefix}/shard-00000.json"
    collection.write(shard, collection.read(shard)[:50])
    code, out = post(collection, tmp_path, capsys)
    line = one_error_line(out.err)
    assert code == 1 and "shard-00000.json is not valid JSON" in line
    assert "delete state/catalog/" in line and not posted(tmp_path)


# -- future dates in the ledger are repaired -----------------------------------

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_future_ledger_dates_are_repaired_not_obeyed(collection, tmp_path, capsys):
    ids = load_index(collection).ids
    doc = {
        "recent": {ids[0]: "9999-12-31T23:00:00Z"},
        "set_aside": {
            "*": {
                ids[1]: {
                    "at": "2026-11-20T00:00:00Z",
                    "until": "9999-12-31T23:00:00Z",
                    "reason": "r",
                }
            }
        },
    }
    ledger = Ledger.from_json(json.dumps(doc).encode(), now=NOW)
    assert ledger.recent[ids[0]] == "2026-11-26T12:00:00Z"
    assert ledger.set_aside["*"][ids[1]]["until"] == "2026-12-27T12:00:00Z"
    # obeyed, the 9999 date would block the painting forever; repaired, the
    # no-repeat window ends a week after the repair
    index = load_index(collection)
    week = timedelta(days=7)
    later = NOW + timedelta(days=8)
    chosen = {
        choose(index, ledger, now=later, window=week, rng=random.Random(s)).id for s in range(40)
    }
    assert ids[0] in chosen
    # a post writes the repaired ledger back
    collection.write(LEDGER_KEY, json.dumps(doc).encode())
    code, _ = post(collection, tmp_path, capsys)
    assert code == 0
    stored, _ = read_ledger(collection)
    assert "9999" not in collection.read(LEDGER_KEY).decode()
    assert all(
        at <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for at in stored.recent.values()
    )


# -- event times -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0001-01-01T00:00:00Z", "is before 2020, long before this bot existed"),
        ("9999-12-31T23:00:00Z", "is more than a day ahead of now"),
        (12, "event 'time' must be a string, not a number"),
        (None, "event 'time' must be a string, not null"),
        ({"t": 1}, "must be a string, not an object"),
        ("x" * 1_000_000, "event 'time' is 1,000,000 characters long"),
        ("2026-11-26T12:00:00\x00Z", "contains a control character"),
        ("2026-11-26T12:00:00", "is not an RFC 3339 time"),
        ("2026-11-26", "is not an RFC 3339 time"),
        ("2026-02-30T12:00:00Z", "is not a real date and time"),
        ("2026-11-26T24:00:00Z", "is not a real date and time"),
        ("", "event 'time' is empty"),
    ],
)
def test_hostile_event_times_are_one_error(value, expected, collection):
    settings = handler.Settings(store=str(collection.root), platforms=("outbox",))
    before = snapshot(collection.root)
    with pytest.raises(EventError) as info:
        handler.handle({"time": value}, settings=settings)
    assert expected in str(info.value) and len(str(info.value)) < 300
    assert "2026-11-26T12:00:00Z" in str(info.value)  # says what a good one looks like
    assert snapshot(collection.root) == before


def test_a_missing_time_is_missing(collection):
    settings = handler.Settings(store=str(collection.root), platforms=("outbox",))
    with pytest.raises(EventError, match="event 'time' is missing"):
        handler.handle({"detail-type": "Scheduled Event"}, settings=settings)


def test_the_lambda_logs_a_bad_time_once(collection, monkeypatch, capsys):
    monkeypatch.setenv("ART_BOT_STORE", str(collection.root))
    monkeypatch.setenv("ART_BOT_PLATFORMS", "outbox")
    with pytest.raises(EventError):
        handler.lambda_handler({"time": "9999-12-31T23:00:00Z"}, None)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 1 and lines[0]["error_type"] == "EventError"
    assert "more than a day ahead" in lines[0]["error"]


def test_slot_bounds_are_relative_to_now():
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert parse_time("2026-11-27T12:00:00Z", now=now) == now + timedelta(days=1)
    with pytest.raises(EventError):
        parse_time("2026-11-27T12:00:01Z", now=now)
    assert parse_time("2020-01-01T00:00:00Z", now=now).year == 2020
    assert parse_time("2026-11-26T13:30:00+01:30").hour == 12


@pytest.mark.parametrize(
    ("key", "data", "error_type"),
    [
        (CATALOG_KEY, SURROGATE, "CatalogError"),
        (CATALOG_KEY, NUL_KEY, "CatalogError"),
        (LEDGER_KEY, b'{"recent": []}', "StateError"),
    ],
)
def test_the_lambda_logs_a_hostile_file_once(
    collection, monkeypatch, capsys, key, data, error_type
):
    """In the Lambda the refusal is an error of our tree, logged once, nothing written."""
    collection.write(key, data)
    before = snapshot(collection.root)
    monkeypatch.setenv("ART_BOT_STORE", str(collection.root))
    monkeypatch.setenv("ART_BOT_PLATFORMS", "outbox")
    monkeypatch.setenv("ART_BOT_OUTBOX_DIR", str(collection.root.parent / "outbox"))
    with pytest.raises(ArtBotError):
        handler.lambda_handler({"time": SLOT}, None)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (invocation,) = [line for line in lines if line["step"] == "invocation"]
    assert invocation["error_type"] == error_type and invocation["outcome"] == "error"
    (logged,) = [line for line in lines if key in (line.get("error") or "")]
    assert logged["level"] == "error" and logged["error_type"] == error_type
    assert snapshot(collection.root) == before
    assert not (collection.root.parent / "outbox").exists()
