"""The Bluesky platform against a fake PDS (a real XRPC server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_bluesky import APP_PASSWORD, FakeBluesky, blob_cid, graphemes

from soviet_art_bot.caption import alt_text
from soviet_art_bot.catalog import Painting
from soviet_art_bot.config import Secrets, Settings
from soviet_art_bot.errors import (
    AuthError,
    ConfigError,
    MediaTooLarge,
    PlatformError,
    RateLimited,
    RefusedPainting,
)
from soviet_art_bot.log import Logger, register_secret
from soviet_art_bot.platforms import bluesky
from soviet_art_bot.platforms import create as create_platform
from soviet_art_bot.platforms.base import PostRequest
from soviet_art_bot.sample import make_image, sample_paintings

SLOT = "2026-11-26T12:00:00Z"
_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _cold_container():
    """Each test starts as a cold container: no cached login."""
    bluesky.forget_sessions()
    yield
    bluesky.forget_sessions()


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        yield server


@pytest.fixture
def painting_image(tmp_path: Path) -> tuple[Painting, Path]:
    painting, data = sample_paintings(1, scale=0.2)[0]
    path = tmp_path / "0.img"
    path.write_bytes(data)
    return painting, path


def make(fake: FakeBluesky, *, password: str | None = None, log: io.StringIO | None = None):
    """The platform, built explicitly (as an httpx client is) with what it talks through."""
    register_secret(password or fake.password)
    platform = bluesky.Bluesky(fake.handle, password or fake.password, fake.url,
                               logger=Logger(log or io.StringIO()), sleep=SLEEPS.append)  # fmt: skip
    return platform


SLEEPS: list[float] = []


def request_for(platform, painting: Painting, image: Path, slot: str = SLOT, **kw) -> PostRequest:
    return PostRequest(slot=slot, painting=painting, text=kw.pop("text", None) or platform.text_for(painting),
                       alt_text=alt_text(painting), image_path=image,
                       mime_type=kw.pop("mime_type", "image/jpeg"), **kw)  # fmt: skip


def rkey_of(result) -> str:
    return result.id.rsplit("/", 1)[1]


def test_posts_the_image_with_alt_text_and_aspect_ratio(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    result = platform.publish(request_for(platform, painting, image), pending=None)

    ((rkey, record),) = fake.posts.items()
    assert record["text"] == f'"{painting.title}"\n{painting.artist}, {painting.year}'
    datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    (embedded,) = record["embed"]["images"]
    assert embedded["alt"] == alt_text(painting)
    assert embedded["aspectRatio"]["width"] == painting.width
    assert embedded["aspectRatio"]["height"] == painting.height
    data = image.read_bytes()
    assert embedded["image"]["ref"]["$link"] == blob_cid(data)
    assert embedded["image"]["size"] == len(data) and embedded["image"]["mimeType"] == "image/jpeg"
    assert result.id == f"at://{fake.did}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/{fake.handle}/post/{rkey}"


@pytest.mark.parametrize("fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                      ("GIF", "image/gif"), ("WEBP", "image/webp")])  # fmt: skip
def test_aspect_ratio_is_read_from_the_image_when_the_catalog_has_no_size(
    fake, tmp_path, fmt, mime
):
    painting, _ = sample_paintings(1)[0]
    painting = replace(painting, width=None, height=None)
    image = tmp_path / "0.img"
    image.write_bytes(make_image(413, 517, seed="x", fmt=fmt))
    platform = make(fake)
    platform.publish(request_for(platform, painting, image, mime_type=mime), pending=None)
    (record,) = fake.posts.values()
    ratio = record["embed"]["images"][0]["aspectRatio"]
    assert (ratio["width"], ratio["height"]) == (413, 517)


def test_the_text_stays_within_300_graphemes(fake, painting_image):
    painting, image = painting_image
    long = replace(
        painting, title="Портрет ударницы 👩🏽‍🏭 с семьёй " * 20, artist="Aleksandr Deyneka"
    )
    platform = make(fake)
    text = platform.text_for(long)
    assert graphemes(text) <= 300 < graphemes(f'"{long.title}"\n{long.artist}, {long.year}')
    assert text.endswith(f"\n{long.artist}, {long.year}")
    platform.publish(request_for(platform, long, image, text=text), pending=None)
    assert list(fake.posts.values())[0]["text"] == text  # the PDS's own check agreed


def test_a_link_becomes_a_link_facet(fake, painting_image):
    painting, image = painting_image
    painting = replace(painting, title="Зима в Курске")  # multi-byte text before the link
    link = "https://www.wikiart.org/en/aleksandr-deyneka/winter-in-kursk-1916"
    platform = make(fake)
    text = platform.text_for(painting, link=link)
    platform.publish(request_for(platform, painting, image, text=text), pending=None)
    (record,) = fake.posts.values()
    (facet,) = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == link
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": link}]


def test_one_login_serves_every_post_of_a_warm_container(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    for hour in ("00", "06", "12", "18"):
        platform.publish(
            request_for(platform, painting, image, slot=f"2026-11-26T{hour}:00:00Z"), pending=None
        )
    again = make(fake)  # a platform built again in the same container
    again.publish(request_for(again, painting, image, slot="2026-11-27T00:00:00Z"), pending=None)
    assert len(fake.posts) == 5
    assert fake.sessions_created == 1
    bluesky.forget_sessions()  # a cold start logs in again
    cold = make(fake)
    cold.publish(request_for(cold, painting, image, slot="2026-11-27T06:00:00Z"), pending=None)
    assert fake.sessions_created == 2


def test_expiring_tokens_are_refreshed_not_replaced_by_new_logins(painting_image):
    painting, image = painting_image
    with FakeBluesky(access_ttl=60) as fake:  # within the SDK's 15-minute refresh margin
        platform = make(fake)
        for hour in ("00", "06", "12"):
            platform.publish(
                request_for(platform, painting, image, slot=f"2026-11-26T{hour}:00:00Z"),
                pending=None,
            )
        assert fake.sessions_created == 1
        assert fake.sessions_refreshed >= 3
        assert len(fake.posts) == 3


def test_a_revoked_session_logs_in_again_once(fake, painting_image):
    painting, image = painting_image
    log = io.StringIO()
    platform = make(fake, log=log)
    platform.publish(request_for(platform, painting, image), pending=None)
    fake.revoke_sessions()  # access and refresh tokens are no longer valid
    platform.publish(
        request_for(platform, painting, image, slot="2026-11-26T18:00:00Z"), pending=None
    )
    assert fake.sessions_created == 2 and len(fake.posts) == 2
    assert any(json.loads(x).get("outcome") == "expired" for x in log.getvalue().splitlines())


def test_an_image_over_2mb_is_refused_before_anything_is_sent(fake, painting_image, tmp_path):
    painting, _ = painting_image
    big = tmp_path / "big.img"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 1_999_998)  # 2,000,001 bytes
    platform = make(fake)
    with pytest.raises(MediaTooLarge) as info:  # the bot sets the painting aside for Bluesky
        platform.publish(request_for(platform, painting, big), pending=None)
    assert isinstance(info.value, RefusedPainting)
    assert "2,000,001 bytes" in str(info.value) and "2,000,000" in str(info.value)
    assert not info.value.retryable and not info.value.outcome_unknown
    assert fake.requests == []  # not even a login


def test_a_pending_slot_with_an_over_2mb_image_looks_for_its_post_first(
    fake, painting_image, tmp_path
):
    painting, image = painting_image
    platform = make(fake)
    made = platform.publish(request_for(platform, painting, image), pending=None)
    big = tmp_path / "big.img"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 1_999_998)
    pending = {"status": "pending", "text": "t", "started_at": SLOT}
    assert platform.publish(request_for(platform, painting, big), pending=pending) == made
    other = "2026-11-26T18:00:00Z"  # no post for this slot: the refusal is definite
    with pytest.raises(MediaTooLarge) as info:
        platform.publish(request_for(platform, painting, big, slot=other), pending=pending)
    assert not info.value.outcome_unknown and fake.count("com.atproto.repo.uploadBlob") == 1


@pytest.mark.parametrize("limit", ["upload_limit", "blob_limit"])
def test_an_image_the_pds_itself_refuses_as_too_large_is_media_too_large(painting_image, limit):
    painting, image = painting_image
    size = image.stat().st_size
    with FakeBluesky(**{limit: size - 1}) as fake:  # a PDS stricter than bsky.social
        platform = make(fake)
        with pytest.raises(MediaTooLarge) as info:
            platform.publish(request_for(platform, painting, image), pending=None)
        assert not info.value.retryable and not info.value.outcome_unknown
        assert fake.posts == {}
    said = str(info.value)
    if limit == "upload_limit":  # 413 from the upload: our size is named
        assert f"{size:,} bytes" in said and "413" in said
    else:  # createRecord: 400 InvalidRequest "... blob too big ...", naming both sizes
        assert f"blob too big (maximum {size - 1}, got {size})" in said and "400" in said


def test_a_duplicate_delivery_finds_the_slots_post(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    first = platform.publish(request_for(platform, painting, image), pending=None)
    second = platform.publish(
        request_for(platform, painting, image), pending=None
    )  # no pending mark
    assert first == second and len(fake.posts) == 1


def test_the_pds_refusing_a_taken_key_with_400_is_handled_too(painting_image):
    painting, image = painting_image
    with FakeBluesky(duplicate_status=400) as fake:
        platform = make(fake)
        first = platform.publish(request_for(platform, painting, image), pending=None)
        assert platform.publish(request_for(platform, painting, image), pending=None) == first
        assert len(fake.posts) == 1


def test_a_lost_answer_is_resolved_in_the_same_attempt(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "com.atproto.repo.createRecord", "lost")
    result = platform.publish(request_for(platform, painting, image), pending=None)
    (rkey,) = fake.posts
    assert rkey_of(result) == rkey


def test_a_lost_answer_that_cannot_be_checked_is_resolved_by_the_retry(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.fail("POST", "com.atproto.repo.createRecord", "lost")
    fake.fail("GET", "com.atproto.repo.getRecord", "503")
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=None)
    assert info.value.outcome_unknown and info.value.retryable
    uploads = fake.count("com.atproto.repo.uploadBlob")

    pending = {"status": "pending", "painting_id": painting.id, "text": request.text}
    result = platform.publish(request, pending=pending)
    assert len(fake.posts) == 1 and rkey_of(result) in fake.posts
    assert fake.count("com.atproto.repo.uploadBlob") == uploads  # found, not posted again


def test_a_pending_retry_posts_when_the_first_attempt_made_nothing(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.fail("POST", "com.atproto.repo.createRecord", "drop")  # connection cut, nothing made
    fake.fail("GET", "com.atproto.repo.getRecord", "503")
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=None)
    assert info.value.outcome_unknown  # from the client's side it cannot know
    assert fake.posts == {}
    result = platform.publish(request, pending={"painting_id": painting.id, "text": request.text})
    assert list(fake.posts) == [rkey_of(result)]


def test_server_errors_and_an_unreachable_pds_are_retryable(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "com.atproto.repo.uploadBlob", "502")
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown
    fake.down()
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown
    assert fake.url in str(info.value)
    fake.up()
    platform.publish(request_for(platform, painting, image), pending=None)
    assert len(fake.posts) == 1 and fake.sessions_created == 1


def test_a_wrong_app_password_names_the_settings_and_never_the_value(fake, painting_image):
    painting, image = painting_image
    wrong = "wxyz-wxyz-wxyz-wxyz"
    log = io.StringIO()
    platform = make(fake, password=wrong, log=log)
    with pytest.raises(AuthError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    message = str(info.value)
    assert (
        "BLUESKY_APP_PASSWORD" in message and "BLUESKY_HANDLE" in message and fake.handle in message
    )
    for secret in (wrong, APP_PASSWORD):
        assert (
            secret not in message and secret not in log.getvalue() and secret not in repr(platform)
        )
    assert fake.posts == {} and bluesky._sessions == {}


def test_login_rate_limit_is_reported(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "com.atproto.server.createSession", "429")
    with pytest.raises(RateLimited, match="createSession"):
        platform.publish(request_for(platform, painting, image), pending=None)


def test_a_missing_app_password_fails_at_start_before_any_request(fake):
    settings = Settings(store="/tmp/store", platforms=("bluesky",), bluesky_handle=fake.handle,  # noqa: S108
                        bluesky_pds_url=fake.url)  # fmt: skip
    with pytest.raises(ConfigError, match="BLUESKY_APP_PASSWORD"):
        create_platform("bluesky", settings, Secrets(env={}), logger=Logger(io.StringIO()))
    with pytest.raises(ConfigError, match="BLUESKY_HANDLE"):
        create_platform("bluesky", replace(settings, bluesky_handle=None),
                        Secrets(env={"BLUESKY_APP_PASSWORD": "a" * 19}), logger=Logger())  # fmt: skip
    assert fake.requests == []


def _tid_micros(key: str) -> int:
    value = 0
    for char in key:
        value = value * 32 + _ALPHABET.index(char)
    return value >> 10


def test_record_keys_are_valid_tids_fixed_by_the_slot():
    key = bluesky.record_key(SLOT)
    assert key == bluesky.record_key(SLOT)
    assert len(key) == 13 and key[0] in "234567abcdefghij" and set(key) <= set(_ALPHABET)
    assert _tid_micros(key) == int(datetime(2026, 11, 26, 12, tzinfo=UTC).timestamp() * 1_000_000)
    slots = [f"2026-11-{d:02d}T{h:02d}:00:00Z" for d in range(1, 31) for h in (0, 6, 12, 18)]
    keys = [bluesky.record_key(s) for s in slots]
    assert len(set(keys)) == len(keys) and keys == sorted(keys)  # distinct, in slot order
    odd = bluesky.record_key("not a timestamp")
    assert odd == bluesky.record_key("not a timestamp") and odd[0] in "234567abcdefghij"


def test_a_failed_attempt_to_resolve_a_pending_post_keeps_it_unresolved(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    platform.session()
    fake.down()
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending={"painting_id": painting.id, "text": request.text})
    assert info.value.outcome_unknown and info.value.retryable
    fake.up()
    result = platform.publish(request, pending={"painting_id": painting.id, "text": request.text})
    assert list(fake.posts) == [rkey_of(result)]


def test_the_post_url_uses_the_handle_the_pds_reports(painting_image):
    painting, image = painting_image
    with FakeBluesky() as fake:
        settings = Settings(store="/tmp/store", platforms=("bluesky",), bluesky_handle=fake.did,  # noqa: S108
                            bluesky_pds_url=fake.url)  # fmt: skip
        platform = create_platform("bluesky", settings, Secrets(env={"BLUESKY_APP_PASSWORD": fake.password}),
                                   logger=Logger(io.StringIO()))  # fmt: skip
        result = platform.publish(request_for(platform, painting, image), pending=None)
        assert result.url == f"https://bsky.app/profile/{fake.handle}/post/{rkey_of(result)}"


@pytest.mark.parametrize("oversize", ["413", "reset"])
def test_an_upload_over_the_pds_cap_is_too_large_however_the_pds_cuts_it(painting_image, oversize):
    painting, image = painting_image
    size = image.stat().st_size
    with FakeBluesky(upload_limit=size - 1, oversize=oversize) as fake:
        platform = make(fake)
        with pytest.raises(MediaTooLarge) as info:  # the painting is set aside, not retried
            platform.publish(request_for(platform, painting, image), pending=None)
        assert not info.value.retryable and not info.value.outcome_unknown
        assert f"{size:,}" in str(info.value) and fake.posts == {}
        uploads = fake.count("com.atproto.repo.uploadBlob")
        assert uploads == (1 if oversize == "413" else 2)  # a cut is confirmed once


def test_one_cut_upload_is_the_network_and_is_tried_again(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "com.atproto.repo.uploadBlob", "drop")  # closed before any answer
    result = platform.publish(request_for(platform, painting, image), pending=None)
    assert list(fake.posts) == [rkey_of(result)]
    assert fake.count("com.atproto.repo.uploadBlob") == 2


def test_the_login_limit_names_itself_and_leaves_the_slot_for_later(fake, painting_image):
    painting, image = painting_image
    for _ in range(30):  # 30 logins in 5 minutes: every cold start of a crash loop
        bluesky.forget_sessions()
        make(fake).session()
    bluesky.forget_sessions()
    platform = make(fake)
    with pytest.raises(RateLimited) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    said = str(info.value)
    assert "createSession: 30 per 5 minutes" in said and "until" in said and "30;w=300" in said
    assert info.value.retryable and not info.value.outcome_unknown and fake.posts == {}
    fake.advance(301)  # a later delivery, after the window
    platform.publish(request_for(platform, painting, image), pending=None)
    assert len(fake.posts) == 1


def test_labels_become_the_records_self_labels(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    platform.publish(request_for(platform, painting, image, labels=("nudity",)), pending=None)
    platform.publish(request_for(platform, painting, image, slot="2026-11-26T18:00:00Z"),
                     pending=None)  # fmt: skip
    labelled, plain = (fake.posts[k] for k in sorted(fake.posts))
    assert labelled["labels"]["$type"] == "com.atproto.label.defs#selfLabels"
    assert [v["val"] for v in labelled["labels"]["values"]] == ["nudity"]
    assert "labels" not in plain  # nothing marked unless the bot means it


def test_an_unverifiable_token_logs_in_again(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    platform.session()
    fake.revoke_sessions()  # the PDS now answers 400 InvalidToken
    platform.publish(request_for(platform, painting, image), pending=None)
    assert fake.sessions_created == 2 and len(fake.posts) == 1
