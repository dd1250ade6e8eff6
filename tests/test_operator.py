"""The operator's commands, driven as an operator would: preview, post --dry-run,
history, check, and how the CLI talks (people by default, --json, errors).

Every scenario that touches a store runs on a directory and on moto's S3
server; "writes nothing" is asserted on the store's bytes, not on our code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from soviet_art_bot.caption import grapheme_length, x_length
from soviet_art_bot.catalog import CATALOG_KEY
from soviet_art_bot.cli import COMMANDS, main
from soviet_art_bot.history import read_history
from soviet_art_bot.ledger import LEDGER_KEY, read_ledger, slot_key
from soviet_art_bot.platforms.mastodon import mastodon_length
from soviet_art_bot.preview import next_slot
from soviet_art_bot.sample import make_image, write_sample
from soviet_art_bot.store import DirStore, S3Store

CLI = str(Path(sys.executable).with_name("soviet-art-bot"))
FIXTURES = Path(__file__).parent / "fixtures" / "slots"
S1, S2, S3 = "2026-11-26T18:00:00Z", "2026-11-27T00:00:00Z", "2026-11-27T06:00:00Z"
CLOSED = "http://127.0.0.1:9"  # nothing listens there: any request would fail


def snapshot(store) -> dict[str, object]:
    """Every byte of the store (a directory's hidden lock and temp files included)."""
    if isinstance(store, DirStore):
        if not store.root.exists():
            return {}
        return {
            str(p.relative_to(store.root)): p.read_bytes() if p.is_file() else "dir"
            for p in sorted(store.root.rglob("*"))
        }
    s3 = boto3.client("s3")
    out: dict[str, object] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=store.bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=store.bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = (obj["ETag"], obj["LastModified"], body)
    return out


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Error: ")]


@pytest.fixture
def outbox(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "outbox"
    monkeypatch.setenv("ART_BOT_OUTBOX_DIR", str(path))
    return path


def posted_files(outbox: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(outbox.glob("*.json"))]


# -- preview and post --dry-run ---------------------------------------------------


def test_preview_and_dry_run_write_nothing_and_show_the_next_post(any_store, outbox, capsys):
    write_sample(any_store, 6, scale=0.1)
    url = any_store.url
    assert cli(capsys, "post", "--store", url, "--platforms", "outbox", "--slot", S1)[0] == 0
    before = snapshot(any_store)
    code, out, err = cli(
        capsys, "preview", "--store", url, "--platforms", "outbox,x", "--slot", S2, "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"slot", "painting", "posts"} and doc["slot"] == S2
    assert set(doc["painting"]) == {"id", "title", "artist", "year"}
    assert set(doc["posts"]) == {"outbox", "x"}
    for post in doc["posts"].values():
        assert set(post) == {"text", "alt_text", "image", "labels"} and post["labels"] == []
    code, dry, _ = cli(
        capsys,
        "post",
        "--dry-run",
        "--store",
        url,
        "--platforms",
        "outbox,x",
        "--slot",
        S2,
        "--json",
    )
    assert code == 0 and json.loads(dry) == doc
    assert snapshot(any_store) == before  # byte for byte, the lock files included
    assert len(posted_files(outbox)) == 1  # only the real post of S1
    # The real post of that slot is what the preview showed.
    code, out, _ = cli(
        capsys, "post", "--store", url, "--platforms", "outbox", "--slot", S2, "--json"
    )
    assert code == 0 and json.loads(out)["painting"] == doc["painting"]
    real = posted_files(outbox)[-1]
    assert real["text"] == doc["posts"]["outbox"]["text"]
    assert real["alt_text"] == doc["posts"]["outbox"]["alt_text"]
    assert Path(real["image"]).read_bytes() == any_store.read(doc["posts"]["outbox"]["image"])


def test_preview_needs_no_credentials_and_counts_as_each_platform(dir_store, capsys, monkeypatch):
    """Each platform's text is fitted as that platform counts; no request is made."""
    data = make_image(40, 30, seed="long")
    dir_store.write("images/long.jpg", data)
    title = "Праздник урожая 🌾 " * 40 + "収穫祭" * 60
    entry = {
        "id": "long",
        "image": "images/long.jpg",
        "title": title,
        "artist": "A. Plastov",
        "year": "1938",
        "labels": ["nudity"],
        "width": 40,
        "height": 30,
    }
    dir_store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": [entry]}).encode())
    for name in ("X_API_BASE_URL", "MASTODON_API_BASE_URL", "BLUESKY_PDS_URL"):
        monkeypatch.setenv(name, CLOSED)
    monkeypatch.setenv("BLUESKY_HANDLE", "bot.test")
    # the one painting is labelled: posted unmarked everywhere, X included (under the
    # default, warn, X would need another painting; tests/test_screening_e2e.py)
    monkeypatch.setenv("ART_BOT_SENSITIVE", "ignore")
    before = snapshot(dir_store)
    args = [
        "preview",
        "--store",
        str(dir_store.root),
        "--platforms",
        "x,mastodon,bluesky,outbox",
        "--slot",
        S1,
    ]
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    posts = json.loads(out)["posts"]
    assert x_length(posts["x"]["text"]) <= 280 < x_length(posts["outbox"]["text"])
    assert grapheme_length(posts["bluesky"]["text"]) <= 300
    assert 300 < mastodon_length(posts["mastodon"]["text"]) <= 500
    assert all(p["text"].endswith("\nA. Plastov, 1938") for p in posts.values())  # artist kept
    assert all(p["labels"] == [] and p["image"] == "images/long.jpg" for p in posts.values())
    code, out, _ = cli(capsys, *args)
    assert f"x ({x_length(posts['x']['text'])}/280 weighted characters)" in out
    assert f"bluesky ({grapheme_length(posts['bluesky']['text'])}/300 graphemes)" in out
    assert "labels: none" in out and "Nothing was written or posted" in out
    assert snapshot(dir_store) == before


def test_preview_sets_aside_a_bad_image_in_memory_only(any_store, outbox, capsys):
    write_sample(any_store, 4, scale=0.1)
    url = any_store.url
    base = ["--store", url, "--platforms", "outbox", "--slot", S1, "--json"]
    first = json.loads(cli(capsys, "preview", *base)[1])
    any_store.write(first["posts"]["outbox"]["image"], b"<html>gone</html>")
    before = snapshot(any_store)
    again = json.loads(cli(capsys, "preview", *base)[1])
    assert again["painting"]["id"] != first["painting"]["id"]
    assert snapshot(any_store) == before and any_store.head(LEDGER_KEY) is None
    code, out, _ = cli(capsys, "post", *base)
    assert code == 0 and json.loads(out)["painting"] == again["painting"]


def test_preview_of_a_posted_slot_shows_the_posts(dir_store, outbox, capsys):
    write_sample(dir_store, 3, scale=0.1)
    base = ["--store", str(dir_store.root), "--platforms", "outbox", "--slot", S1]
    posted = json.loads(cli(capsys, "post", *base, "--json")[1])
    doc = json.loads(cli(capsys, "preview", *base, "--json")[1])
    assert doc["posts"] == {} and doc["painting"] == posted["painting"]
    assert doc["already_posted"] == {"outbox": posted["posts"]["outbox"]}
    assert "outbox: already posted" in cli(capsys, "preview", *base)[1]


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-11-26T12:00:00+00:00", "2026-11-26T12:00:00+00:00"),
        ("2026-11-26T12:00:01+00:00", "2026-11-26T18:00:00+00:00"),
        ("2026-11-26T23:59:59+00:00", "2026-11-27T00:00:00+00:00"),
        ("2026-11-26T05:30:00+03:00", "2026-11-26T06:00:00+00:00"),
    ],
)
def test_the_default_preview_slot_is_the_next_six_hour_boundary(now, slot):
    assert next_slot(datetime.fromisoformat(now)) == datetime.fromisoformat(slot)


# -- history ---------------------------------------------------------------------------


def test_history_newest_first_with_each_platforms_status(any_store, outbox, capsys):
    write_sample(any_store, 6, scale=0.1)
    url = any_store.url
    for slot in (S1, S3, S2):
        assert cli(capsys, "post", "--store", url, "--platforms", "outbox", "--slot", slot)[0] == 0
    any_store.write(
        slot_key(datetime(2026, 11, 26, 12, tzinfo=UTC)), (FIXTURES / "partial.json").read_bytes()
    )
    code, out, err = cli(capsys, "history", "--store", url, "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert [e["slot"] for e in doc] == [S3, S2, S1, "2026-11-26T12:00:00Z"]
    newest = doc[0]
    assert set(newest) == {"slot", "painting", "posts"}
    post = newest["posts"]["outbox"]
    assert set(post) == {"status", "id", "url", "painting_id"} and post["status"] == "posted"
    assert post["painting_id"] == newest["painting"]["id"] and post["url"].startswith("file://")
    partial = doc[-1]["posts"]
    assert {k: v["status"] for k, v in partial.items()} == {
        "outbox": "posted",
        "other": "pending",
        "scripted": "failed",
    }
    assert partial["scripted"]["id"] is None and partial["scripted"]["url"] is None
    two = json.loads(cli(capsys, "history", "--store", url, "--json", "--limit", "2")[1])
    assert [e["slot"] for e in two] == [S3, S2]
    since = json.loads(cli(capsys, "history", "--store", url, "--json", "--since", S2)[1])
    assert [e["slot"] for e in since] == [S3, S2]
    code, out, _ = cli(capsys, "history", "--store", url, "--limit", "4")
    assert out.index(S3) < out.index(S2) < out.index(S1)
    assert "scripted  failed   scripted: 503 Service Unavailable" in out


class CountingStore(DirStore):
    def __init__(self, root):
        super().__init__(root)
        self.reads: list[str] = []

    def read(self, key, *, max_bytes=None):  # read_versioned reads through this too
        self.reads.append(key)
        return super().read(key, max_bytes=max_bytes)


def test_history_reads_only_the_records_it_shows(tmp_path):
    store = CountingStore(tmp_path / "s")
    record = json.loads((FIXTURES / "posted.json").read_bytes())
    slots = [
        datetime(2025, 1, 1, tzinfo=UTC).replace(day=d, hour=h)
        for d in range(1, 11)
        for h in (0, 6, 12, 18)
    ]
    for slot in slots:
        record["slot"] = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
        store.write(slot_key(slot), json.dumps(record).encode())
    found = read_history(store, limit=5)
    assert [e.slot for e in found.slots] == [
        s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in sorted(slots, reverse=True)[:5]
    ]
    assert sorted(store.reads) == sorted(slot_key(s) for s in sorted(slots)[-5:])
    assert found.more
    assert not read_history(store, limit=40).more and len(read_history(store, limit=40).slots) == 40


def test_history_of_a_new_store_and_of_a_damaged_record(dir_store, outbox, capsys):
    write_sample(dir_store, 3, scale=0.1)
    url = str(dir_store.root)
    assert cli(capsys, "history", "--store", url)[1].strip() == "No slot has been posted yet."
    assert json.loads(cli(capsys, "history", "--store", url, "--json")[1]) == []
    cli(capsys, "post", "--store", url, "--platforms", "outbox", "--slot", S1)
    dir_store.write(slot_key(datetime(2026, 11, 27, tzinfo=UTC)), b'{"slot": ')
    code, out, err = cli(capsys, "history", "--store", url, "--json")
    assert code == 0 and [e["slot"] for e in json.loads(out)] == [S1]
    assert "Warning:" in err and "2026-11-27T000000Z.json is not valid JSON" in err


# -- check -----------------------------------------------------------------------------


def hand_written(store, *, local: bool) -> dict[str, dict]:
    """A hand-written catalog with one good entry and every kind of bad image."""
    good = make_image(40, 30, seed="good")
    other = make_image(50, 20, seed="other")
    store.write("images/good.jpg", good)
    store.write("images/wrong.jpg", other)
    store.write("images/page.jpg", b"<!DOCTYPE html><html><body>Not found</body></html>")
    import hashlib

    entries = {
        "good": {
            "image": "images/good.jpg",
            "width": 40,
            "height": 30,
            "bytes": len(good),
            "sha256": hashlib.sha256(good).hexdigest(),
        },
        "missing": {"image": "images/missing.jpg"},
        "wrong": {
            "image": "images/wrong.jpg",
            "width": 40,
            "height": 30,
            "bytes": 10,
            "sha256": "0" * 64,
        },
        "page": {"image": "images/page.jpg"},
    }
    if local:
        (store.root / "images" / "elsewhere.jpg").symlink_to("/etc/hostname")
        (store.root / "images" / "folder.jpg").mkdir()
        entries["link"] = {"image": "images/elsewhere.jpg"}
        entries["folder"] = {"image": "images/folder.jpg"}
    paintings = [
        {"id": pid, "title": f"Title {pid}", "artist": "Me", **e} for pid, e in entries.items()
    ]
    store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": paintings}).encode())
    return {"good": good, "other": other}


def test_check_reports_every_image_problem(any_store, capsys):
    local = isinstance(any_store, DirStore)
    if local:
        any_store.root.mkdir(parents=True)
    images = hand_written(any_store, local=local)
    code, out, err = cli(capsys, "check", "--store", any_store.url, "--json")
    assert code == 1 and len(error_lines(err)) == 1 and "problem(s)" in err
    doc = json.loads(out)
    found = {(p["id"], p["field"]): (p["expected"], p["found"]) for p in doc["problems"]}
    import hashlib

    expected = {
        ("missing", "image"): (
            f"an image at {any_store.describe('images/missing.jpg')}",
            "nothing there",
        ),
        ("wrong", "width"): ("40", "50"),
        ("wrong", "height"): ("30", "20"),
        ("wrong", "bytes"): ("10", str(len(images["other"]))),
        ("wrong", "sha256"): ("0" * 64, hashlib.sha256(images["other"]).hexdigest()),
        ("page", "image"): (
            "a JPEG, PNG, GIF or WebP image",
            "not a JPEG/PNG/GIF/WebP image (looks like HTML: an error or other "
            "web page was served)",
        ),
    }
    if local:
        expected[("link", "image")] = (
            "a regular file at images/elsewhere.jpg inside the store",
            "a symbolic link",
        )
        expected[("folder", "image")] = (
            "a regular file at images/folder.jpg inside the store",
            "a directory",
        )
    assert found == expected
    assert not doc["ok"] and doc["images_checked"] == (6 if local else 4)
    code, out, _ = cli(capsys, "check", "--store", any_store.url)
    assert code == 1 and "wrong: width: expected 40, found 50" in out
    code, out, err = cli(capsys, "check", "--store", any_store.url, "--quick")
    assert code == 0 and "valid" in out and err == ""


def test_check_names_every_bad_entry(dir_store, capsys):
    good = make_image(10, 10, seed="g")
    dir_store.write("images/g.jpg", good)
    paintings = [
        {"id": "ok", "image": "images/g.jpg", "title": "T", "artist": "A"},
        {"id": "noimage", "title": "T", "artist": "A"},
        {"id": "badsize", "image": "images/g.jpg", "title": "T", "artist": "A", "width": -3},
        {"id": "ok", "image": "images/g.jpg", "title": "T", "artist": "A"},
    ]
    dir_store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": paintings}).encode())
    code, out, err = cli(capsys, "check", "--store", str(dir_store.root), "--json")
    assert code == 1
    found = {(p["id"], p["field"]) for p in json.loads(out)["problems"]}
    assert found == {("noimage", "image"), ("badsize", "width"), ("ok", "id")}
    (line,) = error_lines(err)  # the catalog's own refusal, as a post says it, then the count
    assert "(id 'noimage'): field 'image' is missing" in line
    assert line.endswith("; 2 more problem(s) listed above")


def test_a_set_aside_image_of_a_hand_written_catalog_does_not_mention_a_scrape(
    dir_store, outbox, capsys
):
    dir_store.write("images/a.jpg", make_image(10, 10, seed="a"))
    entry = {"id": "a", "image": "images/a.jpg", "title": "T", "artist": "A", "bytes": 1}
    dir_store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": [entry]}).encode())
    code, _, err = cli(capsys, "post", "--store", str(dir_store.root), "--platforms", "outbox")
    assert code == 1 and "set aside" in err
    reason = read_ledger(dir_store)[0].set_aside["*"]["a"]["reason"]
    assert "scrape" not in reason and "soviet-art-bot check" in reason


# -- how the CLI talks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["post", "--slot", "yesterday"], "--slot: 'yesterday' is not an RFC 3339 time"),
        (["preview", "--slot", "2026-13-01T00:00:00Z"], "is not a real date and time"),
        (["post", "--slot", "2099-01-01T00:00:00Z"], "--slot: 2099-01-01T00:00:00Z is more than"),
        (["history", "--since", "last week"], "--since: 'last week'"),
        (["history", "--limit", "0"], "--limit: '0' is not a whole number"),
        (["preview", "--bogus"], "unrecognized arguments: --bogus"),
        (["histroy"], "invalid choice: 'histroy'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_error_line_with_status_2(capsys, args, fragment):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.splitlines() == error_lines(err) and len(error_lines(err)) == 1
    assert fragment in err and "--help" in err


@pytest.mark.parametrize(
    ("command", "defaults"),
    [
        ("post", ["(default: now)", "(default: $ART_BOT_STORE)", "(default: $ART_BOT_PLATFORMS)"]),
        ("preview", ["(default: the next 6-hour boundary)"]),
        ("history", ["(default: 20, or all with --since)"]),
        ("scrape", ["(default: socialist-realism)", "(default: https://www.wikiart.org)"]),
        ("sample", ["(default: every painting of the sample, 12)"]),
    ],
)
def test_help_shows_defaults(capsys, command, defaults):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for default in defaults:
        assert default in out


def run(args, env):
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ART_BOT_", "X_"))}
    return {
        **clean,
        "ART_BOT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ART_BOT_STORE": str(tmp_path / "store"),
        "ART_BOT_PLATFORMS": "outbox",
    }


def test_people_json_and_log_lines(env, tmp_path):
    proc = run(["sample", "--count", "3"], env)  # ART_BOT_STORE, no --store
    assert proc.returncode == 0 and f"wrote 3 paintings to {tmp_path / 'store'}" in proc.stdout
    proc = run(["post", "--slot", S1], env)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"Posted slot {S1}: ") and "outbox: file://" in proc.stdout
    assert not [line for line in proc.stderr.splitlines() if line.startswith("{")]  # no logs
    assert "Warning: the collection has 3 painting(s), fewer than the 28" in proc.stderr
    proc = run(["post", "--slot", S2, "--json"], env)
    assert json.loads(proc.stdout)["status"] == "posted"  # one document, nothing else
    proc = run(["history", "--verbose", "--json"], env)
    assert [e["slot"] for e in json.loads(proc.stdout)] == [S2, S1]
    proc = run(["post", "--slot", S3, "--verbose"], env)
    logs = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert logs[-1]["step"] == "post_slot" and logs[-1]["outcome"] == "posted"
    proc = run(["post", "--slot", S3], {**env, "ART_BOT_LOG_LEVEL": "warning"})
    assert proc.returncode == 0 and "Already posted" in proc.stdout
    assert not [line for line in proc.stderr.splitlines() if line.startswith("{")]
    proc = run(["post", "--slot", S3], {**env, "ART_BOT_LOG_LEVEL": "info"})
    assert any(
        json.loads(x)["step"] == "post_slot" for x in proc.stderr.splitlines() if x.startswith("{")
    )
    proc = run(["history"], {**env, "ART_BOT_LOG_LEVEL": "loud"})
    assert proc.returncode == 1 and error_lines(proc.stderr) == [
        "Error: ART_BOT_LOG_LEVEL='loud' is not one of debug, info, warning, error, off"
    ]


def test_a_partial_failure_shows_what_was_posted_and_how_to_retry(env, tmp_path):
    write_sample(DirStore(tmp_path / "store"), 3, scale=0.1)
    x_env = {
        **env,
        "X_API_BASE_URL": CLOSED,
        "X_API_KEY": "k" * 25,
        "X_API_SECRET": "s" * 50,
        "X_ACCESS_TOKEN": "1-" + "a" * 40,
        "X_ACCESS_TOKEN_SECRET": "b" * 45,
    }
    proc = run(["post", "--platforms", "outbox,x", "--slot", S1], x_env)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"Posted only in part slot {S1}")
    assert "outbox: file://" in proc.stdout
    (error,) = error_lines(proc.stderr)
    assert error == proc.stderr.splitlines()[-1]
    assert f"run 'soviet-art-bot post --slot {S1}' again to post only what is missing" in error
    assert "delivery" not in error and "x: x:" not in error
    proc = run(["post", "--platforms", "outbox,x", "--slot", S1, "--json"], x_env)
    doc = json.loads(proc.stdout)
    assert doc["status"] == "incomplete" and set(doc["posts"]) == {"outbox"}
    assert set(doc["failed"]) == {"x"}


def test_the_lambda_honours_the_log_level(dir_store, tmp_path, monkeypatch, capsys):
    from soviet_art_bot.handler import lambda_handler

    write_sample(dir_store, 3, scale=0.1)
    monkeypatch.setenv("ART_BOT_STORE", str(dir_store.root))
    monkeypatch.setenv("ART_BOT_PLATFORMS", "outbox")
    monkeypatch.setenv("ART_BOT_OUTBOX_DIR", str(tmp_path / "outbox-lambda"))
    monkeypatch.setenv("ART_BOT_LOG_LEVEL", "error")
    assert lambda_handler({"time": S1}, None)["status"] == "posted"
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("ART_BOT_LOG_LEVEL", "sometimes")
    with pytest.raises(Exception, match="ART_BOT_LOG_LEVEL='sometimes'"):
        lambda_handler({"time": S2}, None)


def test_every_command_takes_store_and_json(capsys):
    for command in COMMANDS:
        if command == "scrape":
            continue
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "--store" in out and "--json" in out, command


def test_s3_store_for_history_and_check(s3_store, outbox, capsys):
    assert isinstance(s3_store, S3Store)
    write_sample(s3_store, 3, scale=0.1)
    url = s3_store.url
    assert cli(capsys, "check", "--store", url)[0] == 0
    cli(capsys, "post", "--store", url, "--platforms", "outbox", "--slot", S1)
    assert [e["slot"] for e in json.loads(cli(capsys, "history", "--store", url, "--json")[1])] == [
        S1
    ]


def test_a_directory_listing_walks_only_the_prefixs_folder(dir_store, tmp_path):
    """Same keys as filtering the whole store, for present, missing and linked folders."""
    write_sample(dir_store, 3, scale=0.1)
    record = (FIXTURES / "posted.json").read_bytes()
    for day in (1, 2):
        dir_store.write(slot_key(datetime(2026, 11, day, tzinfo=UTC)), record)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.json").write_text("{}")
    (dir_store.root / "state" / "slots" / "2025").symlink_to(tmp_path / "outside")
    every = [info.key for info in dir_store.list()]
    for prefix in (
        "state/slots/",
        "state/slots/2026/11/",
        "state/slots/2026/11/02/2026",
        "state/slots/2025/",
        "state/slots/2019/",
        "images/",
        "",
        "cat",
    ):
        assert [i.key for i in dir_store.list(prefix)] == [k for k in every if k.startswith(prefix)]
    assert [i.key for i in dir_store.list("state/slots/2026/")] == [
        slot_key(datetime(2026, 11, day, tzinfo=UTC)) for day in (1, 2)
    ]
