"""Stores: the same behaviour from a directory and from S3 (moto's server)."""

from __future__ import annotations

import pytest

from soviet_art_bot.errors import Conflict, NotFound, StoreError


def test_write_read_head_list(any_store):
    etag = any_store.write("state/a.json", b"one")
    assert any_store.read("state/a.json") == b"one"
    info = any_store.head("state/a.json")
    assert info.size == 3 and info.etag == etag
    any_store.write("images/b.jpg", b"img")
    assert [o.key for o in any_store.list("state/")] == ["state/a.json"]
    assert sorted(o.key for o in any_store.list()) == ["images/b.jpg", "state/a.json"]
    any_store.delete("state/a.json")
    assert any_store.head("state/a.json") is None


def test_missing_object(any_store, tmp_path):
    with pytest.raises(NotFound):
        any_store.read("catalog.json")
    assert any_store.read_versioned("catalog.json") is None
    with pytest.raises(NotFound):
        any_store.download("images/x.jpg", tmp_path / "x.jpg")


def test_compare_and_swap(any_store):
    first = any_store.write_if("state/ledger.json", b"v1", etag=None)
    with pytest.raises(Conflict):
        any_store.write_if("state/ledger.json", b"v1-again", etag=None)
    second = any_store.write_if("state/ledger.json", b"v2", etag=first)
    with pytest.raises(Conflict):
        any_store.write_if("state/ledger.json", b"v3", etag=first)  # stale etag
    assert any_store.read_versioned("state/ledger.json") == (b"v2", second)


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "", ".partial/x"])
def test_refuses_keys_outside_the_store(any_store, key):
    with pytest.raises(StoreError):
        any_store.write(key, b"x")
