"""The Lambda handler posting to X, end to end: moto's S3 and the fake X.

The handler runs in subprocesses (``tests/lambda_driver.py``: one warm
container a process, as Lambda's), reading its settings from the
environment exactly as on Lambda; the fake X (HTTPS on 127.0.0.1, every
signature checked) records each post, so every test can assert that a slot
ended with exactly one. Where X's timeline must be given time to show a post
(a 5xx, a lost answer it lags behind), the handler runs in this process
instead, its X platform built with a clock it shares with the fake, so the
waits move that clock rather than the test's time.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_x import FakeX

from soviet_art_bot import handler
from soviet_art_bot.caption import alt_text
from soviet_art_bot.catalog import Painting
from soviet_art_bot.config import Settings
from soviet_art_bot.errors import ArtBotError
from soviet_art_bot.log import Logger
from soviet_art_bot.platforms.x import CREDENTIALS, XCredentials, XPlatform
from soviet_art_bot.sample import write_sample

REPO = Path(__file__).resolve().parent.parent
DRIVER = [sys.executable, str(REPO / "tests" / "lambda_driver.py")]
SLOT = "2026-11-26T12:00:00Z"


class SkipClock:
    """Real time plus whatever the in-process platform slept."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def time(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)


@pytest.fixture
def clock() -> SkipClock:
    return SkipClock()


@pytest.fixture
def fake_x(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SkipClock):
    # X refuses a text among the account's 20 latest posts; with the 7-day
    # window (28 slots) the bot never repeats one that recent.
    with FakeX(tmp_path / "fake-x", duplicate_horizon=20, clock=clock.time) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
        yield fake


class Deployment:
    def __init__(self, env: dict[str, str], paintings: list[Painting], fake: FakeX) -> None:
        self.env = env
        self.paintings = {p.id: p for p in paintings}
        self.fake = fake

    def run(self, *times: str) -> list[dict[str, Any]]:
        """Deliver the slots to one warm container; one answer a delivery."""
        proc = subprocess.run([*DRIVER, "--times", *times], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=240)  # fmt: skip
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(lines) == len(times), proc.stderr[-3000:]
        for value in self.fake.credentials.values():  # not in results, errors or logs
            assert value not in proc.stdout and value not in proc.stderr
        return lines

    def assert_one_post(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The delivery's post is the fake's only post, with the image and its alt text."""
        assert answer["ok"], answer
        result = answer["result"]
        (post,) = self.fake.posts
        assert result["posts"]["x"] == {
            "id": post["id"],
            "url": f"https://x.com/i/web/status/{post['id']}",
        }
        self.assert_post_shows(post, result["painting"]["id"])
        return post

    def assert_post_shows(self, post: dict[str, Any], painting_id: str) -> None:
        painting = self.paintings[painting_id]
        assert post["text"].startswith(f'"{painting.title}"\n{painting.artist}')
        (media,) = post["media"]
        assert media["alt_text"] == alt_text(painting)
        assert media["size"] == painting.bytes and media["sha256"] == painting.sha256


@pytest.fixture
def deployment(fake_x: FakeX, aws_env: dict[str, str], s3_store) -> Deployment:
    paintings = write_sample(s3_store, 60, scale=0.05)
    env = {**os.environ, **aws_env, **fake_x.env, "ART_BOT_STORE": s3_store.url,
           "ART_BOT_PLATFORMS": "x", "PYTHONPATH": str(REPO)}  # fmt: skip
    return Deployment(env, paintings, fake_x)


class InProcess(Deployment):
    """The handler in this process; each delivery a cold container whose X platform is
    built with the shared clock (and the bot with it, through ``Bot.build(platforms=)``)."""

    def __init__(self, deployment: Deployment, clock: SkipClock,
                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
        super().__init__(deployment.env, list(deployment.paintings.values()), deployment.fake)
        self.clock = clock
        self.monkeypatch = monkeypatch  # the AWS settings are already set (aws_env)

    def deliver(self, slot: str, *, seconds: float = 900.0) -> dict[str, Any]:
        self.monkeypatch.setattr(handler, "_bots", {})  # a cold container
        c = self.fake.credentials
        x = XPlatform(XCredentials(*(c[n] for n in CREDENTIALS)), base_url=self.fake.url,
                      logger=Logger(io.StringIO()), sleep=self.clock.sleep,
                      clock=self.clock.time)  # fmt: skip
        settings = Settings.resolve(self.env)
        try:
            result = handler.handle({"time": slot}, settings=settings, remaining_seconds=seconds,
                                    platforms={"x": x})  # fmt: skip
            return {"ok": True, "result": result}
        except ArtBotError as exc:
            return {"ok": False, "error": str(exc)}
        finally:
            x.close()


@pytest.fixture
def in_process(deployment: Deployment, clock: SkipClock, monkeypatch: pytest.MonkeyPatch):
    return InProcess(deployment, clock, monkeypatch)


def slots(start: str, count: int) -> list[str]:
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return [(first + timedelta(hours=6 * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(count)]


def test_a_month_of_slots_posts_one_image_with_alt_text_each(deployment: Deployment) -> None:
    times = slots("2026-10-01T00:00:00Z", 31 * 4)  # in the past: a slot may not be ahead
    answers = deployment.run(*times)
    assert all(a["ok"] and a["result"]["status"] == "posted" for a in answers), answers
    assert [a["result"]["slot"] for a in answers] == times
    posts = {p["id"]: p for p in deployment.fake.posts}
    assert len(posts) == len(times)  # one post a slot, no more
    ids = [a["result"]["painting"]["id"] for a in answers]
    for answer, painting_id in zip(answers, ids, strict=True):
        deployment.assert_post_shows(posts[answer["result"]["posts"]["x"]["id"]], painting_id)
    for i, painting_id in enumerate(ids):  # 27 earlier slots are less than 7 days back
        assert painting_id not in ids[max(0, i - 27) : i], f"{times[i]} repeats a painting"
    assert deployment.fake.count("GET", "/2/users/me") == 0  # no answer was lost: no lookups


def test_duplicate_and_concurrent_deliveries_post_once(deployment: Deployment) -> None:
    first = deployment.run(SLOT, SLOT, SLOT)  # Lambda's retries, EventBridge's repeats
    assert [a["result"]["status"] for a in first] == ["posted", "already-posted", "already-posted"]
    post = deployment.assert_one_post(first[0])
    assert all(a["result"]["posts"] == first[0]["result"]["posts"] for a in first)
    other = "2026-11-26T18:00:00Z"
    with ThreadPoolExecutor(4) as pool:  # four containers at once, on a new slot
        answers = [a for (a,) in pool.map(lambda _: deployment.run(other), range(4))]
    assert sorted(a["result"]["status"] for a in answers) == ["already-posted"] * 3 + ["posted"]
    assert len({json.dumps(a["result"]["posts"]) for a in answers}) == 1
    assert len(deployment.fake.posts) == 2 and deployment.fake.posts[0] is post
    assert deployment.fake.count("POST", "/2/tweets") == 2


def test_a_503_burst_ends_with_one_post(in_process: InProcess) -> None:
    fake = in_process.fake
    fake.inject("POST", "/2/tweets", status=503, times=2)  # each looked up, then sent again
    in_process.assert_one_post(in_process.deliver(SLOT))
    later = "2026-11-26T18:00:00Z"
    fake.inject("POST", "/2/tweets", status=503, times=5)  # longer than one delivery
    failed = in_process.deliver(later)
    assert not failed["ok"] and "x:" in failed["error"]
    retried = in_process.deliver(later)
    assert retried["ok"] and retried["result"]["status"] == "posted"
    assert len(fake.posts) == 2
    assert fake.posts[1]["id"] == retried["result"]["posts"]["x"]["id"]


def test_a_429_waits_or_fails_cleanly_and_ends_with_one_post(deployment: Deployment) -> None:
    deployment.fake.inject("POST", "/2/tweets", status=429, reset_in=1)  # within the invocation
    (answer,) = deployment.run(SLOT)
    deployment.assert_one_post(answer)
    later = "2026-11-26T18:00:00Z"
    deployment.fake.inject("POST", "/2/tweets", status=429, reset_in=3600)  # past its end
    (failed,) = deployment.run(later)
    assert not failed["ok"] and "rate limit" in failed["error"]
    assert len(deployment.fake.posts) == 1
    (retried,) = deployment.run(later)  # the next delivery, after the reset
    assert retried["ok"] and retried["result"]["status"] == "posted"
    assert len(deployment.fake.posts) == 2


@pytest.mark.parametrize("how", ["drop", "500", "truncate"])
def test_a_lost_answer_ends_with_one_post(deployment: Deployment, how: str) -> None:
    deployment.fake.inject("POST", "/2/tweets", lose=how)  # posted, then the answer is lost
    (answer,) = deployment.run(SLOT)
    deployment.assert_one_post(answer)
    assert deployment.fake.count("POST", "/2/tweets") == 1  # found on the timeline: not re-sent


def test_a_delivery_that_cannot_settle_a_lost_answer_leaves_it_to_the_next(
    in_process: InProcess,
) -> None:
    fake = in_process.fake
    fake.timeline_lag = 20.0  # the post shows on the timeline 20 s after it is made
    fake.inject("POST", "/2/tweets", lose="drop", times=4)
    failed = in_process.deliver(SLOT, seconds=40)  # too little time to wait out the margin
    assert not failed["ok"] and "stays pending" in failed["error"] and SLOT in failed["error"]
    (post,) = fake.posts  # made by the first attempt, and nothing was sent again
    in_process.clock.sleep(60)  # Lambda's retry, a minute later
    retried = in_process.deliver(SLOT)
    assert retried["ok"] and retried["result"]["status"] == "posted"
    in_process.assert_one_post(retried)
    again = in_process.deliver(SLOT)  # and a cold container later finds the slot done
    assert again["result"]["status"] == "already-posted"
    assert again["result"]["posts"]["x"]["id"] == post["id"] and len(fake.posts) == 1
    assert fake.count("POST", "/2/tweets") == 1


def test_a_text_x_refuses_as_old_means_another_painting(
    fake_x: FakeX, aws_env: dict[str, str], s3_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process, with a seeded choice, so the refusal happens every run."""
    paintings = write_sample(s3_store, 6, scale=0.05)
    for p in paintings[:5]:  # the account posted these texts long ago; X will not repeat them
        fake_x.seed_post(f'"{p.title}"\n{p.artist}, {p.year}', age=timedelta(days=90))
    monkeypatch.setattr(handler, "_bots", {})  # a cold container
    env = {**fake_x.env, "ART_BOT_STORE": s3_store.url, "ART_BOT_PLATFORMS": "x"}
    settings = Settings.resolve(env)
    for name, value in fake_x.credentials.items():
        monkeypatch.setenv(name, value)
    rng = random.Random(7)
    result = handler.handle({"time": SLOT}, settings=settings, rng=rng)
    for bot in handler._bots.values():
        bot.platforms["x"].close()
    assert result["status"] == "posted"
    new = [p for p in fake_x.posts if p["created_at"] > datetime.now(UTC) - timedelta(hours=1)]
    (post,) = new
    assert post["text"].startswith(f'"{paintings[5].title}"')
    refusals = [entry for entry in fake_x.log if entry == ("POST", "/2/tweets", 403)]
    assert refusals  # the seeded choice met refused texts first
    assert result["posts"]["x"]["id"] == post["id"]
