"""A store never reads or writes outside its root, and reads only regular files.

Links (to a secret file, to /dev/zero, to another folder), FIFOs and keys with
control characters are refused with one message naming the key and what to
do; nothing outside the store is read, written or posted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from soviet_art_bot.catalog import CATALOG_KEY, load_index
from soviet_art_bot.cli import main
from soviet_art_bot.errors import NotRegularFile, ObjectTooLarge, StoreError
from soviet_art_bot.ledger import LEDGER_KEY, read_ledger
from soviet_art_bot.sample import write_sample
from soviet_art_bot.store import DirStore, check_key

KEY = "images/p1.jpg"


@pytest.fixture
def outside(tmp_path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_bytes(b"the operator's private file\n")
    return secret


def _every_read(store: DirStore, key: str, tmp_path: Path):
    yield lambda: store.read(key)
    yield lambda: store.read_versioned(key)
    yield lambda: store.head(key)
    yield lambda: store.download(key, tmp_path / "copy", max_bytes=1000)


def test_a_link_to_a_file_outside_is_refused(dir_store, outside, tmp_path):
    dir_store.write("images/keep.jpg", b"x")
    os.symlink(outside, dir_store.root / KEY)
    for read in _every_read(dir_store, KEY, tmp_path):
        with pytest.raises(NotRegularFile) as info:
            read()
        message = str(info.value)
        assert KEY in message and "symbolic link" in message and "copy it" in message
    assert not (tmp_path / "copy").exists()
    assert [o.key for o in dir_store.list()] == ["images/keep.jpg"]


def test_a_linked_folder_is_refused_for_reads_and_writes(dir_store, outside, tmp_path):
    dir_store.write("catalog.json", b"{}")
    os.symlink(outside.parent, dir_store.root / "images")
    with pytest.raises(NotRegularFile, match=r"images is one\), not a folder"):
        dir_store.read("images/secret.txt")
    with pytest.raises(NotRegularFile, match="symbolic link"):
        dir_store.write("images/new.jpg", b"written outside?")
    with pytest.raises(NotRegularFile):
        dir_store.delete("images/secret.txt")
    assert sorted(p.name for p in outside.parent.iterdir()) == ["secret.txt"]
    assert outside.exists()


@pytest.mark.parametrize("internal", [".partial", ".locks"])
def test_linked_internal_folders_are_refused(dir_store, outside, internal):
    dir_store.root.mkdir(parents=True)
    os.symlink(outside.parent, dir_store.root / internal)
    with pytest.raises(StoreError, match="symbolic link"):
        dir_store.write_if("state/ledger.json", b"{}", etag=None)
    assert sorted(p.name for p in outside.parent.iterdir()) == ["secret.txt"]


def test_writing_over_a_link_replaces_the_link_not_its_target(dir_store, outside):
    dir_store.root.mkdir(parents=True)
    (dir_store.root / "state").mkdir()
    os.symlink(outside, dir_store.root / LEDGER_KEY)
    dir_store.write(LEDGER_KEY, b"{}")
    assert outside.read_bytes() == b"the operator's private file\n"
    assert not (dir_store.root / LEDGER_KEY).is_symlink()


def test_a_link_to_dev_zero_is_refused_at_once(dir_store, tmp_path):
    dir_store.write("images/keep.jpg", b"x")
    os.symlink("/dev/zero", dir_store.root / KEY)
    for read in _every_read(dir_store, KEY, tmp_path):
        with pytest.raises(NotRegularFile, match="symbolic link"):
            read()


def test_a_fifo_is_refused_without_waiting_for_a_writer(dir_store, tmp_path):
    dir_store.write("images/keep.jpg", b"x")
    os.mkfifo(dir_store.root / KEY)
    for read in _every_read(dir_store, KEY, tmp_path):
        with pytest.raises(NotRegularFile) as info:
            read()
        assert "FIFO" in str(info.value) and KEY in str(info.value)


def test_a_folder_where_an_image_should_be_is_refused(dir_store, tmp_path):
    (dir_store.root / KEY).mkdir(parents=True)
    with pytest.raises(NotRegularFile, match="directory"):
        dir_store.download(KEY, tmp_path / "copy")


def test_reads_are_bounded_by_the_bytes_read(dir_store, tmp_path):
    dir_store.write(KEY, b"x" * 5000)
    with pytest.raises(ObjectTooLarge, match="over 4,096 bytes"):
        dir_store.download(KEY, tmp_path / "copy", max_bytes=4096)
    with pytest.raises(ObjectTooLarge):
        dir_store.read(KEY, max_bytes=4096)
    assert not (tmp_path / "copy").exists()
    assert dir_store.download(KEY, tmp_path / "copy", max_bytes=5000) == 5000


@pytest.mark.parametrize(
    "key", ["images/a\x00b.jpg", "images/a\nb.jpg", "images/\x7f.jpg", "images/" + "a" * 1100]
)
def test_keys_with_control_characters_are_refused(any_store, key):
    for action in (
        lambda: any_store.read(key),
        lambda: any_store.write(key, b"x"),
        lambda: any_store.head(key),
        lambda: any_store.delete(key),
    ):
        with pytest.raises(StoreError, match="refusing store key"):
            action()
    with pytest.raises(StoreError):
        check_key(key)


def test_s3_reads_are_bounded_by_the_bytes_read(s3_store, tmp_path):
    s3_store.write(KEY, b"x" * 5000)
    with pytest.raises(ObjectTooLarge):
        s3_store.read(KEY, max_bytes=4096)
    with pytest.raises(ObjectTooLarge):
        s3_store.download(KEY, tmp_path / "copy", max_bytes=4096)
    assert s3_store.read_versioned(KEY, max_bytes=5000)[0] == b"x" * 5000


# -- as a user meets it: check and post ---------------------------------------------


def _one_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_check_refuses_a_linked_catalog(dir_store, outside, capsys):
    dir_store.root.mkdir(parents=True)
    outside.write_text(json.dumps({"version": 1, "paintings": []}))
    os.symlink(outside, dir_store.root / CATALOG_KEY)
    assert main(["check", "--store", str(dir_store.root)]) == 1
    line = _one_error(capsys.readouterr().err)
    assert "catalog.json: it is a symbolic link" in line and "copy it" in line


def _replace_image(store: DirStore, outside: Path, target: str):
    """The only painting's image becomes the real image moved out and linked back (so
    its bytes and sha256 match the catalog), a link to /dev/zero, or a FIFO."""
    painting, *_ = write_sample(store, 1, scale=0.1)
    image = store.root / painting.image
    if target == "outside":
        moved = outside.parent / "image.jpg"
        os.replace(image, moved)
        os.symlink(moved, image)
    elif target == "fifo":
        image.unlink()
        os.mkfifo(image)
    else:
        image.unlink()
        os.symlink(target, image)
    return painting


@pytest.mark.parametrize("target", ["outside", "/dev/zero", "fifo"])
def test_check_refuses_a_linked_or_special_image(dir_store, outside, capsys, target):
    painting = _replace_image(dir_store, outside, target)
    assert main(["check", "--store", str(dir_store.root), "--json"]) == 1
    out, err = capsys.readouterr()
    _one_error(err)
    (problem,) = json.loads(out)["problems"]
    assert problem["id"] == painting.id and problem["field"] == "image"
    assert problem["found"] == ("a FIFO" if target == "fifo" else "a symbolic link")


@pytest.mark.parametrize("target", ["outside", "/dev/zero", "fifo"])
def test_post_never_posts_a_linked_or_special_image(dir_store, outside, tmp_path, capsys, target):
    """Nothing is posted, the painting is set aside naming why, the error is one line."""
    painting = _replace_image(dir_store, outside, target)
    code = main(
        [
            "post",
            "--store",
            str(dir_store.root),
            "--platforms",
            "outbox",
            "--outbox-dir",
            str(tmp_path / "outbox"),
            "--slot",
            "2026-11-26T12:00:00Z",
        ]
    )
    assert code == 1
    _one_error(capsys.readouterr().err)
    assert not list((tmp_path / "outbox").glob("*"))
    ledger, _ = read_ledger(dir_store)
    (reason,) = [entry["reason"] for entry in ledger.set_aside["*"].values()]
    assert painting.image in reason
    assert ("FIFO" if target == "fifo" else "symbolic link") in reason
    assert len(load_index(dir_store)) == 1
