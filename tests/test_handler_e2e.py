"""The Lambda handler end to end, in subprocesses, as Lambda would run it.

Against a directory store and against moto's S3 server on 127.0.0.1, posting
to the outbox. Also once through python-lambda-local, the tool the README
shows, and through ``soviet-art-bot post``, which must take the same path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from soviet_art_bot.sample import write_sample
from soviet_art_bot.store import DirStore

REPO = Path(__file__).resolve().parent.parent
DRIVER = [sys.executable, str(REPO / "tests" / "lambda_driver.py")]
SLOT = "2026-11-26T12:00:00Z"


@pytest.fixture(params=["dir", "s3"])
def deployment(request, tmp_path, aws_env):
    """Environment for a handler subprocess, with a filled store of either kind."""
    if request.param == "dir":
        store = DirStore(tmp_path / "collection")
        url = str(store.root)
    else:
        store = request.getfixturevalue("s3_store")
        url = store.url
    write_sample(store, scale=0.1)
    env = {**os.environ, **aws_env, "ART_BOT_STORE": url, "ART_BOT_PLATFORMS": "outbox",
           "ART_BOT_OUTBOX_DIR": str(tmp_path / "outbox")}  # fmt: skip
    return env, store


def run_driver(env, *times):
    proc = subprocess.run(
        [*DRIVER, "--times", *times], env=env, capture_output=True, text=True, timeout=120
    )
    return [json.loads(line) for line in proc.stdout.splitlines()], proc


def outbox(env):
    return sorted(Path(env["ART_BOT_OUTBOX_DIR"]).glob("*.json"))


def test_a_scheduled_event_posts_one_painting(deployment):
    env, store = deployment
    (line,), proc = run_driver(env, SLOT)
    assert line["ok"], line
    result = line["result"]
    assert result["status"] == "posted" and result["slot"] == SLOT
    assert set(result["painting"]) == {"id", "title", "artist", "year"}
    (post_file,) = outbox(env)
    post = json.loads(post_file.read_text())
    assert post["painting_id"] == result["painting"]["id"]
    assert Path(post["image"]).is_file()
    logs = [json.loads(x) for x in proc.stderr.splitlines() if x.startswith("{")]
    assert any(x["step"] == "post_slot" and x["outcome"] == "posted" for x in logs)


def test_repeated_deliveries_post_once(deployment):
    env, _ = deployment
    lines, _ = run_driver(env, SLOT, SLOT, SLOT)  # Lambda retries, EventBridge at-least-once
    assert [x["result"]["status"] for x in lines] == ["posted", "already-posted", "already-posted"]
    assert len({json.dumps(x["result"]["posts"]) for x in lines}) == 1
    more, _ = run_driver(env, SLOT)  # and from a cold container
    assert more[0]["result"]["status"] == "already-posted"
    assert len(outbox(env)) == 1


def test_concurrent_deliveries_post_once(deployment):
    env, _ = deployment
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: run_driver(env, SLOT)[0][0], range(4)))
    assert all(r["ok"] for r in runs), runs
    assert sorted(r["result"]["status"] for r in runs) == ["already-posted"] * 3 + ["posted"]
    assert len(outbox(env)) == 1


def test_python_lambda_local(deployment, tmp_path):
    env, _ = deployment
    event = json.loads((REPO / "event.json").read_text())
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    tool = Path(sys.executable).with_name("python-lambda-local")
    proc = subprocess.run(
        [str(tool), "-f", "lambda_handler", "-t", "60", "soviet_art_bot/handler.py", "event.json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "'status': 'posted'" in proc.stdout + proc.stderr
    (post_file,) = outbox(env)
    assert post_file.name.startswith(event["time"].replace(":", "-"))


def test_cli_post_takes_the_same_path(deployment):
    env, _ = deployment
    cli = Path(sys.executable).with_name("soviet-art-bot")
    proc = subprocess.run(
        [str(cli), "post", "--slot", SLOT, "--json"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)
    lines, _ = run_driver(env, SLOT)  # the Lambda sees the CLI's post for this slot
    assert lines[0]["result"] == {**first, "status": "already-posted"}
    assert len(outbox(env)) == 1


def test_a_week_of_slots_with_a_small_collection(deployment):
    env, _ = deployment
    times = [
        f"2026-03-{day:02d}T{hour:02d}:00:00Z" for day in range(1, 8) for hour in (0, 6, 12, 18)
    ]
    lines, _ = run_driver(env, *times)
    assert all(x["ok"] for x in lines)
    ids = [x["result"]["painting"]["id"] for x in lines]
    # 12 paintings, 28 slots in a week: each posted at most every 12th slot
    for i, pid in enumerate(ids):
        assert pid not in ids[max(0, i - 11) : i]
    assert len(outbox(env)) == 28
