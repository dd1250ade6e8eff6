"""One slot, every platform, through the Lambda handler, against local fakes.

The collection sits in moto's S3 (on 127.0.0.1); the secrets sit in moto's
SSM as SecureStrings, read the way the deployed Lambda reads them; X, Mastodon
and Bluesky are the fakes in tests/ (real servers on 127.0.0.1). The handler
runs in this process, so later invocations find the container warm, as
Lambda's would be; one test also runs a cold container in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from fake_bluesky import FakeBluesky
from fake_mastodon import FakeMastodon
from fake_x import FakeX
from lambda_driver import Context

from soviet_art_bot.errors import PostIncomplete
from soviet_art_bot.handler import lambda_handler
from soviet_art_bot.platforms import bluesky
from soviet_art_bot.sample import sample_paintings, write_sample

REPO = Path(__file__).resolve().parent.parent
SLOT = "2026-11-26T12:00:00Z"
PLATFORMS = ("x", "mastodon", "bluesky")


def event(slot: str = SLOT) -> dict:
    return {"version": "0", "id": "e2e", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": slot, "region": "us-east-1", "resources": [], "detail": {}}  # fmt: skip


class Deployment:
    def __init__(self, env: dict[str, str], x: FakeX, mastodon: FakeMastodon, bsky: FakeBluesky):
        self.env, self.x, self.mastodon, self.bsky = env, x, mastodon, bsky
        self.secrets = [*x.credentials.values(), mastodon.token, bsky.password]

    def invoke(self, slot: str = SLOT) -> dict:
        return lambda_handler(event(slot), Context(timeout=60))

    def counts(self) -> dict[str, int]:
        return {"x": len(self.x.posts), "mastodon": len(self.mastodon.statuses),
                "bluesky": len(self.bsky.posts)}  # fmt: skip

    def requests(self) -> int:
        return len(self.x.log) + len(self.mastodon.requests) + len(self.bsky.requests)


@pytest.fixture
def deployment(sample_s3, tmp_path, monkeypatch):
    bluesky.forget_sessions()
    with FakeX(tmp_path / "fake-x") as x, FakeMastodon() as mastodon, FakeBluesky() as bsky:
        ssm_path = "/soviet-art-bot-e2e"
        ssm = boto3.client("ssm")
        secrets = {**x.credentials, "MASTODON_ACCESS_TOKEN": mastodon.token,
                   "BLUESKY_APP_PASSWORD": bsky.password}  # fmt: skip
        for name, value in secrets.items():
            ssm.put_parameter(Name=f"{ssm_path}/{name}", Value=value, Type="SecureString",
                              Overwrite=True)  # fmt: skip
        env = {
            "ART_BOT_STORE": sample_s3.url,
            "ART_BOT_PLATFORMS": ",".join(PLATFORMS),
            "ART_BOT_SSM_PATH": ssm_path,
            "X_API_BASE_URL": x.url,
            "REQUESTS_CA_BUNDLE": str(x.ca_path),
            "MASTODON_API_BASE_URL": mastodon.url,
            "BLUESKY_HANDLE": bsky.handle,
            "BLUESKY_PDS_URL": bsky.url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Deployment(env, x, mastodon, bsky)
    bluesky.forget_sessions()


def assert_no_secret_in(text: str, deployment: Deployment) -> None:
    for secret in deployment.secrets:
        assert secret not in text


def test_one_slot_posts_the_same_painting_everywhere(deployment, capfd):
    result = deployment.invoke()

    assert result["status"] == "posted" and result["slot"] == SLOT
    assert set(result["posts"]) == set(PLATFORMS)
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}
    title, artist = result["painting"]["title"], result["painting"]["artist"]

    (tweet,) = deployment.x.posts
    (status,) = deployment.mastodon.statuses
    ((rkey, record),) = deployment.bsky.posts.items()
    assert result["posts"]["x"]["id"] == tweet["id"]
    assert result["posts"]["mastodon"] == {"id": status["id"], "url": status["url"]}
    assert result["posts"]["bluesky"] == {
        "id": f"at://{deployment.bsky.did}/app.bsky.feed.post/{rkey}",
        "url": f"https://bsky.app/profile/{deployment.bsky.handle}/post/{rkey}",
    }
    for text in (status["text"], record["text"]):
        assert text.startswith(f'"{title}') and artist in text
    alts = [status["media_attachments"][0]["description"], record["embed"]["images"][0]["alt"]]
    assert all(title in alt and artist in alt for alt in alts)
    assert record["embed"]["images"][0]["aspectRatio"]["width"] > 0
    out, err = capfd.readouterr()
    assert_no_secret_in(out + err, deployment)
    assert_no_secret_in(json.dumps(result), deployment)


def test_one_platform_down_leaves_the_others_posted_and_the_retry_posts_only_it(deployment, capfd):
    deployment.mastodon.down()
    with pytest.raises(PostIncomplete) as info:
        deployment.invoke()
    assert "mastodon" in str(info.value) and "x" not in info.value.failures
    assert deployment.counts() == {"x": 1, "mastodon": 0, "bluesky": 1}
    bsky_requests = len(deployment.bsky.requests)
    x_requests = len(deployment.x.log)

    deployment.mastodon.up()
    result = deployment.invoke()  # Lambda's retry of the failed invocation
    assert result["status"] == "posted"
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}
    assert len(deployment.bsky.requests) == bsky_requests  # nothing asked of the others
    assert len(deployment.x.log) == x_requests
    assert set(result["posts"]) == set(PLATFORMS)
    assert result["posts"]["mastodon"]["id"] == deployment.mastodon.statuses[0]["id"]
    _, err = capfd.readouterr()
    assert_no_secret_in(err, deployment)


def test_a_duplicate_delivery_posts_nothing_more(deployment):
    first = deployment.invoke()
    before = deployment.requests()
    again = deployment.invoke()  # EventBridge delivers at least once
    assert again["status"] == "already-posted"
    assert again["posts"] == first["posts"] and again["painting"] == first["painting"]
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}
    assert deployment.requests() == before  # the slot's record answered; no platform was asked

    env = {**os.environ, **deployment.env}
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "lambda_driver.py"), "--times", SLOT],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    (line,) = [json.loads(x) for x in proc.stdout.splitlines()]  # a cold container, too
    assert line["ok"] and line["result"]["status"] == "already-posted", line
    assert line["result"]["posts"] == first["posts"]
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}


def test_lost_answers_are_resolved_without_a_second_post(deployment):
    deployment.mastodon.fail("POST", "/api/v1/statuses", "lost")
    deployment.bsky.fail("POST", "com.atproto.repo.createRecord", "lost")
    deployment.bsky.fail("GET", "com.atproto.repo.getRecord", "503")  # nor can it check at once
    with pytest.raises(PostIncomplete) as info:
        deployment.invoke()
    assert set(info.value.failures) == {"mastodon", "bluesky"}
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}  # they did post

    result = deployment.invoke()
    assert result["status"] == "posted" and set(result["posts"]) == set(PLATFORMS)
    assert deployment.counts() == {"x": 1, "mastodon": 1, "bluesky": 1}
    assert result["posts"]["mastodon"]["id"] == deployment.mastodon.statuses[0]["id"]
    (rkey,) = deployment.bsky.posts
    assert result["posts"]["bluesky"]["id"].endswith(f"/{rkey}")


def test_the_bluesky_login_is_reused_by_warm_invocations(deployment):
    slots = ["2026-11-26T00:00:00Z", "2026-11-26T06:00:00Z", "2026-11-26T12:00:00Z"]
    results = [deployment.invoke(slot) for slot in slots]
    assert [r["status"] for r in results] == ["posted"] * 3
    assert deployment.counts() == {"x": 3, "mastodon": 3, "bluesky": 3}
    assert deployment.bsky.sessions_created == 1
    # one instance request per cold start: the limits, and nothing more
    assert deployment.mastodon.count("GET", "/api/v2/instance") == 1
    assert deployment.mastodon.count("GET", "/api/v1/instance") == 0


def test_an_image_over_the_instances_limit_is_set_aside_there_and_another_posted(
    deployment, sample_s3, monkeypatch
):
    items = sample_paintings(6, scale=0.2)
    write_sample(sample_s3, 6, scale=0.2)  # six paintings; the smallest alone fits Mastodon
    small, small_data = min(items, key=lambda item: len(item[1]))
    assert sorted(len(d) for _, d in items)[1] > len(small_data)
    deployment.mastodon.image_size_limit = len(small_data)
    monkeypatch.setenv("ART_BOT_PLATFORMS", "mastodon,bluesky")
    monkeypatch.setenv("ART_BOT_NO_REPEAT_DAYS", "0")  # any painting may be the slot's
    for hour in range(0, 72, 6):  # until a slot's own painting is one Mastodon refuses
        slot = f"2026-11-{26 + hour // 24}T{hour % 24:02d}:00:00Z"
        result = deployment.invoke(slot)
        assert result["status"] == "posted" and set(result["posts"]) == {"mastodon", "bluesky"}
        if result["painting"]["id"] != small.id:
            break
    else:
        pytest.fail("twelve slots in a row chose the one small painting")
    # Bluesky has the slot's painting; Mastodon, the one it can take, instead of failing.
    assert "painting_id" not in result["posts"]["bluesky"]
    assert result["posts"]["mastodon"]["painting_id"] == small.id
    status = deployment.mastodon.statuses[-1]
    assert status["id"] == result["posts"]["mastodon"]["id"]
    assert status["text"].startswith(f'"{small.title}')
    assert small.title in status["media_attachments"][0]["description"]
    assert deployment.mastodon.count("POST", "/api/v2/media") == len(deployment.mastodon.statuses)
    record = deployment.bsky.posts[result["posts"]["bluesky"]["id"].rsplit("/", 1)[1]]
    assert record["text"].startswith(f'"{result["painting"]["title"]}')


_LAZY = """
import json, sys
from soviet_art_bot.handler import get_bot
from soviet_art_bot.config import Settings
bot = get_bot(Settings.resolve())
print(json.dumps({"platforms": sorted(bot.platforms),
                  "loaded": sorted(m for m in ("mastodon", "atproto", "atproto_client", "httpx")
                                   if m in sys.modules)}))
"""


@pytest.mark.parametrize("platforms", ["x", "x,mastodon,bluesky"])
def test_enabling_a_platform_does_not_import_its_library_until_it_posts(deployment, platforms):
    env = {**os.environ, **deployment.env, "ART_BOT_PLATFORMS": platforms}
    proc = subprocess.run([sys.executable, "-c", _LAZY], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["platforms"] == sorted(platforms.split(","))
    assert report["loaded"] == []  # credentials checked, nothing imported or asked yet
    assert deployment.requests() == 0
