"""ART_BOT_GALLERY=true: the Lambda handler refreshes the gallery after a post,
and a gallery failure never fails the post."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gallery_helpers import fill

from soviet_art_bot import handler
from soviet_art_bot.config import Settings
from soviet_art_bot.gallery.thumbs import make_thumbs
from soviet_art_bot.log import Logger
from soviet_art_bot.store import DirStore

REPO = Path(__file__).resolve().parent.parent
DRIVER = [sys.executable, str(REPO / "tests" / "lambda_driver.py"), "--times"]
QUIET = Logger(io.StringIO())


@pytest.fixture(params=["dir", "s3"])
def deployment(request, tmp_path, aws_env):
    if request.param == "dir":
        store = DirStore(tmp_path / "collection")
    else:
        store = request.getfixturevalue("s3_store")
    fill(store, 6)
    make_thumbs(store, logger=QUIET)
    env = {
        **os.environ,
        **aws_env,
        "ART_BOT_STORE": store.url,
        "ART_BOT_PLATFORMS": "outbox",
        "ART_BOT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ART_BOT_GALLERY": "true",
    }
    return env, store


def test_each_post_refreshes_the_gallery(deployment):
    env, store = deployment
    times = ["2026-11-30T18:00:00Z", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"]
    proc = subprocess.run([*DRIVER, *times], env=env, capture_output=True, text=True, timeout=120)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["result"]["status"] for x in lines] == ["posted", "posted", "already-posted"]
    logs = [json.loads(x) for x in proc.stderr.splitlines() if x.startswith("{")]
    refreshes = [x for x in logs if x["step"] == "gallery_refresh"]
    assert [x["outcome"] for x in refreshes] == ["ok", "ok"]  # not again for a repeat delivery
    index = store.read("gallery/index.html").decode()
    for line in lines[:2]:
        assert f'data-slot="{line["result"]["slot"]}"' in index
        assert line["result"]["posts"]["outbox"]["url"] in index
    assert 'data-slot="2026-11-30T18:00:00Z"' in store.read("gallery/2026-11.html").decode()
    assert store.exists("gallery/2026-12.html") and store.exists("gallery/palettes.html")


def test_without_the_setting_there_is_no_gallery(deployment):
    env, store = deployment
    env = {**env, "ART_BOT_GALLERY": "false"}
    proc = subprocess.run(
        [*DRIVER, "2026-12-01T00:00:00Z"], env=env, capture_output=True, text=True, timeout=120
    )
    assert json.loads(proc.stdout)["ok"]
    assert not store.exists("gallery/index.html")
    assert "gallery_refresh" not in proc.stderr


def test_a_broken_gallery_never_fails_the_post(tmp_path, monkeypatch):
    store = DirStore(tmp_path / "collection")
    fill(store, 4)
    (store.root / "gallery").write_text("a file where the gallery's folder should be")
    log = io.StringIO()
    settings = Settings(
        store=str(store.root),
        platforms=("outbox",),
        outbox_dir=str(tmp_path / "outbox"),
        gallery=True,
    )
    monkeypatch.setattr(handler, "_bots", {})
    result = handler.handle({"time": "2026-12-01T06:00:00Z"}, settings=settings, logger=Logger(log))
    assert result["status"] == "posted" and result["posts"]["outbox"]["id"]
    errors = [json.loads(x) for x in log.getvalue().splitlines()]
    (failure,) = [x for x in errors if x["step"] == "gallery_refresh"]
    assert failure["outcome"] == "error" and "gallery" in failure["error"]
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 1


def test_the_setting_is_a_yes_no_value():
    env = {"ART_BOT_STORE": "/tmp/x", "ART_BOT_PLATFORMS": "outbox"}  # noqa: S108
    assert Settings.resolve({**env, "ART_BOT_GALLERY": "true"}).gallery is True
    assert Settings.resolve(env).gallery is False
    with pytest.raises(Exception, match="ART_BOT_GALLERY='maybe' is not a yes/no value"):
        Settings.resolve({**env, "ART_BOT_GALLERY": "maybe"})


def test_the_deploy_packages_jinja2_and_grants_the_gallery_only_when_enabled(tmp_path):
    from test_deploy_units import ACCOUNT, ENV, allows

    from soviet_art_bot.deploy import load_config
    from soviet_art_bot.deploy.build import ROOT, requirement_files
    from soviet_art_bot.deploy.policy import role_policy

    b = "arn:aws:s3:::my-soviet-art/collection"
    off, on = load_config(ENV), load_config({**ENV, "ART_BOT_GALLERY": "true"})
    assert on.gallery and not off.gallery and on.function_env["ART_BOT_GALLERY"] == "true"
    for config, allowed in ((off, False), (on, True)):
        policy = role_policy(config, ACCOUNT)
        assert allows(policy, "s3:PutObject", f"{b}/gallery/index.html", {}) is allowed
        assert allows(policy, "s3:GetObject", f"{b}/thumbs/palettes.json", {}) is allowed
        assert not allows(policy, "s3:PutObject", f"{b}/thumbs/palettes.json", {})
    files = requirement_files(on.platforms, gallery=on.gallery)
    assert [f.name for f in files] == ["requirements.txt", "requirements-gallery.txt"]
    assert "Jinja2==" in (ROOT / "requirements-gallery.txt").read_text()
    assert requirement_files(off.platforms) == files[:1]
    (tmp_path / "requirements.txt").write_text("")
    with pytest.raises(Exception, match="ART_BOT_GALLERY=true needs it"):
        requirement_files(["x"], tmp_path, gallery=True)


def test_the_lambdas_refresh_never_imports_an_image_library(deployment):
    env, store = deployment
    script = (
        "import json, sys\n"
        "from soviet_art_bot.handler import lambda_handler\n"
        "result = lambda_handler({'time': '2026-12-01T12:00:00Z'}, None)\n"
        "print(json.dumps([result['status'], sorted(m for m in sys.modules\n"
        "      if m.split('.')[0] in ('PIL', 'numpy', 'tqdm'))]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["posted", []]
    assert '"step": "gallery_refresh"' in proc.stderr and '"outcome": "ok"' in proc.stderr
    assert 'data-slot="2026-12-01T12:00:00Z"' in store.read("gallery/index.html").decode()
