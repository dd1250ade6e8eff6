"""The command line, driven as a user would: help, errors, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from soviet_art_bot.catalog import CATALOG_KEY
from soviet_art_bot.cli import COMMANDS, main
from soviet_art_bot.sample import write_sample
from soviet_art_bot.store import DirStore

REPO = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("soviet-art-bot"))
DRIVER = [
    sys.executable,
    str(REPO / "tests" / "lambda_driver.py"),
    "--times",
    "2026-11-26T12:00:00Z",
]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: soviet-art-bot {command}" in out and len(out.splitlines()) > 3


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


def run(args, env, **kw):
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ART_BOT_")}
    return {**clean, "ART_BOT_OUTBOX_DIR": str(tmp_path / "outbox")}


@pytest.fixture
def collection(tmp_path):
    store = DirStore(tmp_path / "collection")
    return store, write_sample(store, 3, scale=0.1)


def assert_one_error_line(proc, *fragments):
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, proc.stderr
    assert errors == [proc.stderr.splitlines()[-1]]  # the last thing the user sees
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def assert_nothing_posted(tmp_path):
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())


def test_missing_store_setting(env, tmp_path):
    proc = run(["post", "--platforms", "outbox"], env)
    assert_one_error_line(proc, "ART_BOT_STORE is not set")
    assert_nothing_posted(tmp_path)


def test_missing_platforms_setting(env, collection, tmp_path):
    proc = run(["post"], {**env, "ART_BOT_STORE": str(collection[0].root)})
    assert_one_error_line(proc, "ART_BOT_PLATFORMS is not set")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ftp://bucket/x", "is not a store"),
        ("s3://No_Such/x", "valid S3 bucket"),
        ("  ", "is empty"),
    ],
)
def test_malformed_store_setting(env, value, fragment, tmp_path):
    proc = run(["post"], {**env, "ART_BOT_STORE": value, "ART_BOT_PLATFORMS": "outbox"})
    assert_one_error_line(proc, "ART_BOT_STORE", fragment)
    assert_nothing_posted(tmp_path)


def test_unknown_platform(env, collection):
    proc = run(["post", "--store", str(collection[0].root), "--platforms", "x,myspace"], env)
    assert_one_error_line(proc, "--platforms", "'myspace'")


def test_options_override_the_environment(env, collection, tmp_path):
    env = {**env, "ART_BOT_STORE": str(tmp_path / "nowhere"), "ART_BOT_PLATFORMS": "x"}
    proc = run(["post", "--store", str(collection[0].root), "--platforms", "outbox", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "posted"


@pytest.mark.parametrize("how", ["truncated", "entry-without-image", "absent"])
def test_bad_catalog_posts_nothing(env, collection, tmp_path, how):
    store, _ = collection
    data = store.read(CATALOG_KEY)
    if how == "truncated":
        store.write(CATALOG_KEY, data[: len(data) // 3])
        fragments = ["catalog.json is not valid JSON", "truncated"]
    elif how == "entry-without-image":
        doc = json.loads(data)
        del doc["paintings"][1]["image"]
        store.write(CATALOG_KEY, json.dumps(doc).encode())
        fragments = ["paintings[1]", doc["paintings"][1]["id"], "field 'image' is missing"]
    else:
        store.delete(CATALOG_KEY)
        fragments = ["catalog.json does not exist", "scrape"]
    env = {**env, "ART_BOT_STORE": str(store.root), "ART_BOT_PLATFORMS": "outbox"}
    assert_one_error_line(run(["post"], env), *fragments)
    lambda_run = subprocess.run(DRIVER, env=env, capture_output=True, text=True, timeout=60)
    (line,) = [json.loads(x) for x in lambda_run.stdout.splitlines()]
    assert not line["ok"] and fragments[0] in line["error"] and line["type"] == "CatalogError"
    assert_nothing_posted(tmp_path)


def test_missing_images_post_nothing(env, collection, tmp_path):
    store, paintings = collection
    for painting in paintings:
        store.delete(painting.image)
    env = {**env, "ART_BOT_STORE": str(store.root), "ART_BOT_PLATFORMS": "outbox"}
    proc = run(["post"], env)
    assert_one_error_line(proc, "set aside")
    assert_nothing_posted(tmp_path)


def test_check_validates_a_hand_written_catalog(env, tmp_path):
    store = DirStore(tmp_path / "mine")
    store.write(CATALOG_KEY, json.dumps({"version": 1, "paintings": [
        {"id": "a", "image": "images/a.jpg", "title": "Mine", "artist": "Me"}]}).encode())  # fmt: skip
    proc = run(["check", "--store", str(store.root), "--quick"], env)
    assert proc.returncode == 0 and "valid, 1 paintings" in proc.stdout
    proc = run(["check", "--store", str(store.root)], env)  # the image is missing
    assert_one_error_line(proc, "1 problem(s)")
    assert "a: image: expected an image at" in proc.stdout and "nothing there" in proc.stdout
    store.write(CATALOG_KEY, b'{"version": 1, "paintings": [{"id": "a"}]}')
    proc = run(["check", "--store", str(store.root)], env)
    assert_one_error_line(proc, "(id 'a')", "'image'")  # what a post would say, too
    assert "a: image: expected a valid entry" in proc.stdout


def test_sample_then_post(env, tmp_path):
    proc = run(["sample", "--store", str(tmp_path / "s"), "--count", "3"], env)
    assert proc.returncode == 0 and "wrote 3 paintings" in proc.stdout
    proc = run(["post", "--store", str(tmp_path / "s"), "--platforms", "outbox"], env)
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 1


def test_a_store_that_cannot_be_written(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = run(["sample", "--store", str(blocker / "collection"), "--count", "1"], env)
    assert_one_error_line(proc, "cannot write", "a directory this user can read and write")


def test_secrets_from_ssm_without_a_region(env, collection, tmp_path):
    env = {k: v for k, v in env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    env.update(ART_BOT_SSM_PATH="/soviet-art-bot", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    proc = run(["post", "--store", str(collection[0].root), "--platforms", "x"], env)
    assert_one_error_line(proc, "no AWS region is set; set AWS_REGION")
    assert_nothing_posted(tmp_path)


@pytest.mark.parametrize("count", ["0", "-5"])
def test_sample_needs_a_positive_count(env, tmp_path, count):
    proc = run(["sample", "--store", str(tmp_path / "s"), "--count", count], env)
    assert proc.returncode == 2 and "--count" in proc.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("aws", "fragment"),
    [
        ({"AWS_PROFILE": "no-such-profile"}, "fix or unset AWS_PROFILE"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, "no AWS region is set"),
        ({"AWS_REGION": "eu west"}, "is not a region name"),
    ],
)
def test_aws_misconfiguration_is_one_line(env, collection, tmp_path, aws, fragment):
    env = {**env, "ART_BOT_SSM_PATH": "/soviet-art-bot", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    env.update(aws)
    if "AWS_PROFILE" in aws:
        env.pop("AWS_ACCESS_KEY_ID", None), env.pop("AWS_SECRET_ACCESS_KEY", None)
        env.pop("AWS_SESSION_TOKEN", None)
        env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    proc = run(["post", "--store", str(collection[0].root), "--platforms", "x"], env)
    assert_one_error_line(proc, fragment)
    proc = run(["check", "--store", "s3://some-bucket/collection"], env)
    assert_one_error_line(proc, fragment)
