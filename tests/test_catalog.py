"""catalog.json v1: what is accepted, what is refused and how the refusal reads."""

from __future__ import annotations

import json

import pytest

from soviet_art_bot.catalog import CATALOG_KEY, dump_catalog, load_index, parse_catalog
from soviet_art_bot.errors import CatalogError
from soviet_art_bot.sample import sample_paintings


def _doc(*entries, **top):
    return json.dumps({"version": 1, "paintings": list(entries), **top}).encode()


HAND_WRITTEN = {
    "id": "p1",
    "image": "images/p1.png",
    "title": "Lenin's funeral",
    "artist": "Konstantin Yuon",
}


def test_minimal_hand_written_catalog_is_accepted():
    (painting,) = parse_catalog(_doc(HAND_WRITTEN))
    assert painting.title == "Lenin's funeral"
    assert painting.year == ""
    assert painting.sha256 is None


def test_round_trip_keeps_every_field_and_extras():
    paintings = [p for p, _ in sample_paintings(3, scale=0.05)]
    extra = paintings[0].to_json() | {"museum": "Tretyakov"}
    data = dump_catalog(paintings, source="test")
    again = parse_catalog(data)
    assert again == paintings
    assert parse_catalog(_doc(extra))[0].to_json()["museum"] == "Tretyakov"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {**HAND_WRITTEN, "title": ""},
            "paintings[1] (id 'p1'): field 'title' must be a non-empty string",
        ),
        (
            {k: v for k, v in HAND_WRITTEN.items() if k != "image"},
            "paintings[1] (id 'p1'): field 'image' is missing",
        ),
        ({**HAND_WRITTEN, "image": "../etc/passwd"}, "field 'image'"),
        ({**HAND_WRITTEN, "width": -3}, "field 'width' must be a positive whole number"),
        ({**HAND_WRITTEN, "sha256": "abc"}, "field 'sha256' must be 64 lowercase hex digits"),
        ({**HAND_WRITTEN, "year": 1930}, "field 'year' must be a string"),
        ("just a string", "paintings[1] is not an object"),
    ],
)
def test_invalid_entry_is_named(entry, message):
    good = {**HAND_WRITTEN, "id": "p0"}
    with pytest.raises(CatalogError) as info:
        parse_catalog(_doc(good, entry))
    assert message in str(info.value)


def test_duplicate_ids_are_refused():
    with pytest.raises(
        CatalogError, match=r"paintings\[1\] \(id 'p1'\): id repeats paintings\[0\]"
    ):
        parse_catalog(_doc(HAND_WRITTEN, HAND_WRITTEN))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"version": 1, "paintings": [{"id": "p1", "ima', "not valid JSON (line 1"),
        (b'{"version": 2, "paintings": []}', "this bot reads version 1"),
        (b'{"version": 1, "paintings": []}', "lists no paintings"),
        (b"[]", "must be a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_invalid_documents(data, message):
    with pytest.raises(CatalogError, match=message.replace("(", r"\(")):
        parse_catalog(data)


def test_index_follows_the_catalog(any_store):
    """Editing catalog.json by hand is picked up by the next load, and validated."""
    any_store.write(CATALOG_KEY, _doc(HAND_WRITTEN))
    index = load_index(any_store)
    assert index.ids == ["p1"] and index.get(0).artist == "Konstantin Yuon"
    any_store.write(CATALOG_KEY, _doc(HAND_WRITTEN, {**HAND_WRITTEN, "id": "p2"}))
    assert load_index(any_store).ids == ["p1", "p2"]
    any_store.write(CATALOG_KEY, _doc(HAND_WRITTEN, {"id": "p3"}))
    with pytest.raises(CatalogError, match=r"\(id 'p3'\): field 'image' is missing"):
        load_index(any_store)


def test_large_catalog_is_read_by_shard(dir_store):
    entries = [{**HAND_WRITTEN, "id": f"p{i}", "image": f"images/p{i}.jpg"} for i in range(2500)]
    dir_store.write(CATALOG_KEY, _doc(*entries))
    index = load_index(dir_store)
    again = load_index(dir_store)  # served from the index, not catalog.json
    assert len(again) == 2500
    assert again.get(2499).id == "p2499" and again.get(1000).id == "p1000"
    assert len(list(dir_store.list(index.prefix))) == 4  # manifest + 3 shards
