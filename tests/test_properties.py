"""Property-based tests of the parsers that read what anyone could write.

Whatever bytes or JSON values a catalog or an event holds, the parser either
accepts them as something the bot can use safely, or refuses them with one
error of our tree; no other exception escapes. Runs are derandomized (the
same examples every time, so CI never flakes) and take a few seconds.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soviet_art_bot.catalog import dump_catalog, parse_catalog
from soviet_art_bot.errors import CatalogError, EventError
from soviet_art_bot.store import check_key
from soviet_art_bot.times import EARLIEST, MAX_AHEAD, format_time, parse_time

FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Any text, lone surrogates (Cs) and control characters (Cc, NUL included) often.
ANY_TEXT = st.lists(
    st.characters(categories=("L", "M", "N", "P", "S", "Z"))
    | st.characters(categories=("Cc",))
    | st.characters(categories=("Cs",)),
    max_size=30,
).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


def field(good: list, strange: st.SearchStrategy = ANY_TEXT) -> st.SearchStrategy:
    """Usually a good value (so whole entries get accepted), else anything at all."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), strange, JSON_VALUES)


ENTRY = st.fixed_dictionaries(
    {
        "id": field(["p1", "p2", "577271cfedc2cb3880c2de61"]),
        "image": field(["images/p1.jpg", "images/a/b.png"], ANY_TEXT.map(lambda t: f"images/{t}")),
        "title": field(["Winter in Kursk"], ANY_TEXT.map(lambda t: f"Lenin{t}")),
        "artist": field(["Aleksandr Deyneka"]),
    },
    optional={
        "year": field(["1916", "", "XX cent."]),
        "width": field([634], st.integers(-2, 10**30)),
        "bytes": field([123456], st.integers(-2, 10**6)),
        "sha256": field(["0" * 64], st.sampled_from(["A" * 64, "0" * 63])),
        "extra": JSON_VALUES,
    },
)
DOCUMENT = st.fixed_dictionaries(
    {
        "version": st.one_of(st.just(1), st.just(1), JSON_VALUES),
        "paintings": st.one_of(
            st.lists(ENTRY, max_size=3), st.lists(ENTRY, max_size=3), JSON_VALUES
        ),
    }
)


def _usable(paintings) -> None:
    """What the bot relies on in an accepted catalog."""
    assert paintings and len({p.id for p in paintings}) == len(paintings)
    for p in paintings:
        for text in (p.id, p.title, p.artist, p.year, p.image, p.source_url):
            text.encode("utf-8")  # no lone surrogate reaches a platform or a file name
        assert check_key(p.image) == p.image
        assert not re.search(r"[\x00-\x1f\x7f]", p.image + p.id)  # no NUL in a key or name
    assert parse_catalog(dump_catalog(paintings, source="t")) == paintings


@FAST
@given(st.binary(max_size=400))
def test_catalog_parser_takes_any_bytes(data):
    try:
        paintings = parse_catalog(data)
    except CatalogError as exc:
        assert "catalog.json" in str(exc) and len(str(exc)) < 1000
    else:
        _usable(paintings)


@FAST
@given(DOCUMENT, st.booleans())
def test_catalog_parser_takes_any_json(doc, ascii_only):
    data = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        paintings = parse_catalog(data)
    except CatalogError as exc:
        assert "catalog.json" in str(exc) and len(str(exc)) < 1000
    else:
        _usable(paintings)


GOOD = {"id": "p1", "image": "images/p1.jpg", "title": "Winter in Kursk", "artist": "Deyneka"}


@FAST
@given(
    st.sampled_from([*GOOD, "year", "source_url", "width", "sha256"]),
    ANY_TEXT | ANY_TEXT.map(lambda t: f"images/{t}") | JSON_VALUES,
    st.booleans(),
)
def test_catalog_parser_takes_any_value_in_any_field(name, value, ascii_only):
    doc = {"version": 1, "paintings": [{**GOOD, name: value}]}
    data = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        paintings = parse_catalog(data)
    except CatalogError as exc:
        assert "catalog.json" in str(exc) and len(str(exc)) < 1000
    else:
        _usable(paintings)


NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
EVENT_VALUES = (
    ANY_TEXT
    | JSON_VALUES
    | st.from_regex(r"\A\d{1,5}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,12})?([Zz]|[+-]\d\d:\d\d)?\Z")
    | st.tuples(st.datetimes(), st.sampled_from(["Z", "z", "+00:00", "-12:00", "+14:00", ""])).map(
        lambda t: f"{t[0].year:04d}-{t[0]:%m-%dT%H:%M:%S}{t[1]}"
    )
)


@FAST
@given(EVENT_VALUES)
def test_event_time_parser_takes_any_value(value):
    try:
        when = parse_time(value, now=NOW)
    except EventError as exc:
        assert str(exc).startswith("event 'time'") and len(str(exc)) < 300
    else:
        assert when.tzinfo is UTC and when.microsecond == 0
        assert EARLIEST <= when <= NOW + MAX_AHEAD


@FAST
@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 11, 27, 12)),
    st.integers(-23 * 60, 23 * 60),
)
def test_every_time_in_bounds_round_trips(naive, offset_minutes):
    when = naive.replace(tzinfo=UTC, microsecond=0)
    assert parse_time(format_time(when), now=NOW) == when
    offset = timedelta(minutes=offset_minutes)
    local = when + offset
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{local:%Y-%m-%dT%H:%M:%S}.5{sign}{hours:02d}:{minutes:02d}"
    if local.year >= 1000:
        assert parse_time(text, now=NOW) == when
