"""Screening end to end: a labelled painting through the Lambda handler to every platform.

The collection sits in moto's S3; X, Mastodon and Bluesky are the local fakes
(real servers on 127.0.0.1, refusing what the real ones refuse). Two paintings:
``L`` is labelled ``nudity`` (by the operator's command), ``S`` is not and was
posted the day before, so the slot's own choice is ``L`` and each policy of
``ART_BOT_SENSITIVE`` shows what each platform then receives.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3
import pytest
from fake_bluesky import FakeBluesky
from fake_mastodon import FakeMastodon
from fake_x import FakeX
from lambda_driver import Context

from soviet_art_bot.cli import main
from soviet_art_bot.handler import lambda_handler
from soviet_art_bot.ledger import update_ledger
from soviet_art_bot.platforms import bluesky
from soviet_art_bot.sample import write_sample

SLOT = "2026-11-26T12:00:00Z"
PLATFORMS = ("x", "mastodon", "bluesky", "outbox")


@pytest.fixture
def two_paintings(s3_store):
    labelled, safe = write_sample(s3_store, 2, scale=0.2)
    at = datetime.fromisoformat(SLOT) - timedelta(days=1)
    update_ledger(s3_store, lambda ledger: ledger.record_post(safe.id, at))
    assert main(["label", labelled.id, "--set", "nudity", "--store", s3_store.url]) == 0
    return s3_store, labelled, safe


@pytest.fixture
def fakes(two_paintings, tmp_path, monkeypatch):
    store, labelled, safe = two_paintings
    bluesky.forget_sessions()
    with FakeX(tmp_path / "fake-x") as x, FakeMastodon() as mastodon, FakeBluesky() as bsky:
        ssm = boto3.client("ssm")
        secrets = {**x.credentials, "MASTODON_ACCESS_TOKEN": mastodon.token,
                   "BLUESKY_APP_PASSWORD": bsky.password}  # fmt: skip
        for name, value in secrets.items():
            ssm.put_parameter(Name=f"/screening-e2e/{name}", Value=value, Type="SecureString",
                              Overwrite=True)  # fmt: skip
        env = {
            "ART_BOT_STORE": store.url,
            "ART_BOT_PLATFORMS": ",".join(PLATFORMS),
            "ART_BOT_SSM_PATH": "/screening-e2e",
            "ART_BOT_OUTBOX_DIR": str(tmp_path / "outbox"),
            "X_API_BASE_URL": x.url,
            "REQUESTS_CA_BUNDLE": str(x.ca_path),
            "MASTODON_API_BASE_URL": mastodon.url,
            "BLUESKY_HANDLE": bsky.handle,
            "BLUESKY_PDS_URL": bsky.url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield {"x": x, "mastodon": mastodon, "bluesky": bsky, "outbox": tmp_path / "outbox",
               "labelled": labelled, "safe": safe}  # fmt: skip
    bluesky.forget_sessions()


def invoke() -> dict:
    event = {"version": "0", "id": "e2e", "detail-type": "Scheduled Event",
             "source": "aws.events", "time": SLOT, "region": "us-east-1", "resources": [],
             "detail": {}}  # fmt: skip
    return lambda_handler(event, Context(timeout=60))


def received(fakes) -> dict[str, tuple[str, dict]]:
    """Per platform: the title it posted and its marking, as the fakes recorded them."""
    (tweet,) = fakes["x"].posts
    (status,) = fakes["mastodon"].statuses
    (record,) = fakes["bluesky"].posts.values()
    (outbox,) = [json.loads(p.read_text()) for p in fakes["outbox"].glob("*.json")]
    labels = record.get("labels")
    return {
        "x": (tweet["text"], {}),
        "mastodon": (status["text"], {"sensitive": status["sensitive"],
                                      "spoiler_text": status["spoiler_text"]}),
        "bluesky": (record["text"], {"labels": labels}),
        "outbox": (outbox["text"], {"labels": outbox["labels"]}),
    }  # fmt: skip


def title_in(text: str, painting) -> bool:
    return text.startswith(f'"{painting.title}"')


def test_warn_marks_it_where_it_can_and_x_gets_another_painting(fakes):
    result = invoke()  # ART_BOT_SENSITIVE unset: warn
    assert result["status"] == "posted"
    L, S = fakes["labelled"], fakes["safe"]
    assert result["painting"]["id"] == L.id
    got = received(fakes)
    assert title_in(got["mastodon"][0], L) and got["mastodon"][1] == {
        "sensitive": True,
        "spoiler_text": "Sensitive: nudity",
    }
    assert title_in(got["bluesky"][0], L)
    labels = got["bluesky"][1]["labels"]
    assert labels["$type"] == "com.atproto.label.defs#selfLabels"
    assert [v["val"] for v in labels["values"]] == ["nudity"]
    assert title_in(got["outbox"][0], L) and got["outbox"][1] == {"labels": ["nudity"]}
    # X has no way to mark a post: it gets the unlabelled painting instead
    assert title_in(got["x"][0], S)
    assert result["posts"]["x"]["painting_id"] == S.id


def test_skip_never_posts_a_labelled_painting(fakes, monkeypatch):
    monkeypatch.setenv("ART_BOT_SENSITIVE", "skip")
    result = invoke()
    S = fakes["safe"]
    assert result["painting"]["id"] == S.id  # the only unlabelled one, though posted yesterday
    got = received(fakes)
    assert all(title_in(text, S) for text, _ in got.values())
    assert got["mastodon"][1] == {"sensitive": False, "spoiler_text": ""}
    assert got["bluesky"][1] == {"labels": None} and got["outbox"][1] == {"labels": []}


def test_ignore_posts_it_unmarked_everywhere(fakes, monkeypatch):
    monkeypatch.setenv("ART_BOT_SENSITIVE", "ignore")
    result = invoke()
    L = fakes["labelled"]
    assert result["painting"]["id"] == L.id and "painting_id" not in result["posts"]["x"]
    got = received(fakes)
    assert all(title_in(text, L) for text, _ in got.values())
    assert got["mastodon"][1] == {"sensitive": False, "spoiler_text": ""}
    assert got["bluesky"][1] == {"labels": None} and got["outbox"][1] == {"labels": []}


def test_a_bad_policy_is_one_error_line(fakes, monkeypatch, capsys):
    monkeypatch.setenv("ART_BOT_SENSITIVE", "blur")
    assert main(["post"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ART_BOT_SENSITIVE='blur' is not a policy")
    assert not fakes["x"].posts and not fakes["mastodon"].statuses


@pytest.mark.parametrize("policy", ["warn", "skip", "ignore"])
def test_preview_shows_what_each_platform_would_receive(two_paintings, monkeypatch, capsys,
                                                        policy):  # fmt: skip
    store, L, S = two_paintings
    monkeypatch.setenv("ART_BOT_SENSITIVE", policy)
    monkeypatch.setenv("MASTODON_API_BASE_URL", "https://mastodon.example")
    monkeypatch.setenv("BLUESKY_HANDLE", "art.example")
    before = {info.key: info.etag for info in store.list()}
    args = ["preview", "--json", "--store", store.url, "--slot", SLOT,
            "--platforms", "x,mastodon,bluesky"]  # fmt: skip
    assert main(args) == 0
    posts = json.loads(capsys.readouterr().out)["posts"]
    titled = {name: post["text"].split("\n")[0] for name, post in posts.items()}
    labels = {name: post["labels"] for name, post in posts.items()}
    if policy == "warn":
        assert labels == {"x": [], "mastodon": ["nudity"], "bluesky": ["nudity"]}
        assert titled["x"] == f'"{S.title}"' and titled["bluesky"] == f'"{L.title}"'
    else:
        assert labels == {"x": [], "mastodon": [], "bluesky": []}
        shown = S if policy == "skip" else L
        assert set(titled.values()) == {f'"{shown.title}"'}
    assert {info.key: info.etag for info in store.list()} == before  # wrote nothing
