"""The Mastodon platform against a fake instance (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from fake_mastodon import FakeMastodon, mastodon_count

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
from soviet_art_bot.platforms import create as create_platform
from soviet_art_bot.platforms.base import PostRequest
from soviet_art_bot.platforms.mastodon import InstanceLimits, Mastodon, mastodon_length
from soviet_art_bot.sample import sample_paintings

SLOT = "2026-11-26T12:00:00Z"


@pytest.fixture
def fake():
    with FakeMastodon() as server:
        yield server


@pytest.fixture
def painting_image(tmp_path: Path) -> tuple[Painting, Path]:
    painting, data = sample_paintings(1, scale=0.2)[0]
    path = tmp_path / "0.img"  # the bot's download has no meaningful extension
    path.write_bytes(data)
    return painting, path


def make(fake: FakeMastodon, *, token: str | None = None, log: io.StringIO | None = None):
    settings = Settings(store="/tmp/store", platforms=("mastodon",), mastodon_api_base_url=fake.url)  # noqa: S108
    secrets = Secrets(env={"MASTODON_ACCESS_TOKEN": token or fake.token}, on_secret=register_secret)
    sleeps: list[float] = []
    platform = create_platform(
        "mastodon",
        settings,
        secrets,
        logger=Logger(log or io.StringIO()),
        mastodon_sleep=sleeps.append,
    )
    platform.sleeps = sleeps
    return platform


def request_for(
    platform: Mastodon, painting: Painting, image: Path, slot: str = SLOT, **kw
) -> PostRequest:
    return PostRequest(slot=slot, painting=painting, text=kw.pop("text", None) or platform.text_for(painting),
                       alt_text=alt_text(painting), image_path=image, mime_type="image/jpeg", **kw)  # fmt: skip


def test_posts_one_status_with_the_image_and_its_alt_text(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    result = platform.publish(request_for(platform, painting, image), pending=None)

    (status,) = fake.statuses
    assert status["text"] == f'"{painting.title}"\n{painting.artist}, {painting.year}'
    assert status["visibility"] == "public"
    assert status["idempotency_key"] == SLOT
    (media,) = status["media_attachments"]
    assert media["description"] == alt_text(painting)
    assert painting.title in media["description"] and painting.artist in media["description"]
    (upload,) = fake.media.values()
    assert upload["bytes"] == image.read_bytes()
    assert upload["mime_type"] == "image/jpeg" and upload["filename"].endswith(".jpg")
    assert result.id == status["id"]
    assert result.url == status["url"]


def test_text_is_fitted_to_the_instances_own_limit(painting_image, tmp_path):
    painting, image = painting_image
    long = replace(painting, title="The Defence of Petrograd and of the Workers' Quarters " * 3)
    with FakeMastodon(max_characters=80) as fake:
        platform = make(fake)
        text = platform.text_for(long)
        assert mastodon_count(text) <= 80
        assert text.endswith(f"\n{long.artist}, {long.year}")  # the credit is never cut
        assert "\u2026" in text
        platform.publish(request_for(platform, long, image, text=text), pending=None)
        assert fake.statuses[0]["text"] == text  # and the instance accepted it
    with FakeMastodon(max_characters=5000) as big:
        assert make(big).text_for(long).startswith(f'"{long.title}"')  # nothing cut at all


def test_a_link_counts_23_characters_however_long(painting_image):
    painting, image = painting_image
    link = "https://www.wikiart.org/en/aleksandr-deyneka/" + "winter-in-kursk-" * 6 + "1916"
    assert len(link) > 100
    with FakeMastodon(max_characters=75) as fake:
        platform = make(fake)
        text = platform.text_for(painting, link=link)
        assert text.endswith(link)  # len(text) > 75, but Mastodon counts the URL as 23
        assert len(text) > 75 and mastodon_count(text) <= 75
        platform.publish(request_for(platform, painting, image, text=text), pending=None)
        assert len(fake.statuses) == 1


def test_counting_matches_mastodon():
    assert mastodon_length("https://example.com/" + "a" * 200) == 23
    assert mastodon_length("e\u0301" * 10) == 10  # combining accents: graphemes, not code points
    assert mastodon_length("hi @someone@mastodon.social") == len("hi @someone")
    assert InstanceLimits.from_instance({}).max_characters == 500
    limits = InstanceLimits.from_instance(
        {"version": "4.3.2", "configuration": {"statuses": {"max_characters": 1000},
                                                "media_attachments": {"image_size_limit": 8}}}
    )  # fmt: skip
    assert (limits.max_characters, limits.image_size_limit, limits.version) == (1000, 8, "4.3.2")


def test_the_instance_is_asked_for_its_limits_once_per_warm_container(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    platform.publish(request_for(platform, painting, image), pending=None)
    asked = fake.count("GET", "/api/v2/instance") + fake.count("GET", "/api/v1/instance")
    assert asked >= 1
    for hour in ("18", "00"):
        platform.publish(
            request_for(platform, painting, image, slot=f"2026-11-27T{hour}:00:00Z"), pending=None
        )
    assert fake.count("GET", "/api/v2/instance") + fake.count("GET", "/api/v1/instance") == asked
    assert len(fake.statuses) == 3


def test_an_image_over_the_instances_limit_is_refused_before_uploading(painting_image):
    painting, image = painting_image
    size = image.stat().st_size
    with FakeMastodon(image_size_limit=size - 1) as fake:
        platform = make(fake)
        with pytest.raises(MediaTooLarge) as info:  # the bot sets the painting aside for Mastodon
            platform.publish(request_for(platform, painting, image), pending=None)
        assert f"{size:,} bytes" in str(info.value) and f"{size - 1:,} bytes" in str(info.value)
        assert not info.value.retryable and not info.value.outcome_unknown
        assert fake.count("POST", "/api/v2/media") == 0 and fake.statuses == []
        pending = {"status": "pending", "text": "t", "started_at": SLOT}
        with pytest.raises(MediaTooLarge) as info:  # a resolving attempt: as definite
            platform.publish(request_for(platform, painting, image), pending=pending)
        assert not info.value.outcome_unknown


def test_an_image_type_the_instance_does_not_take_is_a_refused_painting(painting_image):
    painting, image = painting_image
    with FakeMastodon(supported_mime_types=["image/png"]) as fake:
        platform = make(fake)
        with pytest.raises(RefusedPainting, match="image/jpeg") as info:
            platform.publish(request_for(platform, painting, image), pending=None)
        assert not info.value.retryable and fake.count("POST", "/api/v2/media") == 0


def test_an_upload_the_instance_refuses_as_too_large_is_media_too_large(painting_image):
    painting, image = painting_image
    size = image.stat().st_size
    # An instance that does not advertise its limit, then refuses the file itself.
    with FakeMastodon(image_size_limit=size - 1, advertise_limit=False) as fake:
        platform = make(fake)
        with pytest.raises(MediaTooLarge) as info:
            platform.publish(request_for(platform, painting, image), pending=None)
        said = str(info.value)
        assert f"{size:,} bytes" in said and f"less than {size - 1} Bytes" in said
        assert not info.value.retryable and fake.statuses == []
    with FakeMastodon() as fake:  # a proxy in front of it with a smaller body limit
        fake.fail("POST", "/api/v2/media", "413")
        platform = make(fake)
        with pytest.raises(MediaTooLarge, match="413") as info:
            platform.publish(request_for(platform, painting, image), pending=None)
        assert f"{size:,} bytes" in str(info.value) and fake.statuses == []


def test_waits_while_the_instance_processes_the_image(painting_image):
    painting, image = painting_image
    with FakeMastodon(processing_polls=3) as fake:
        platform = make(fake)
        result = platform.publish(request_for(platform, painting, image), pending=None)
        assert fake.count("GET", "/api/v1/media/") == 4  # three "still processing", then ready
        assert len(platform.sleeps) == 4 and all(0 < s <= 4 for s in platform.sleeps)
        assert fake.statuses[0]["id"] == result.id


def test_a_lost_answer_is_resolved_by_the_idempotency_key(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.fail("POST", "/api/v1/statuses", "lost")
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=None)
    assert info.value.outcome_unknown and info.value.retryable
    assert len(fake.statuses) == 1  # the instance did post it

    pending = {"status": "pending", "painting_id": painting.id, "text": request.text}
    result = platform.publish(request, pending=pending)
    assert len(fake.statuses) == 1  # the retry found it instead of posting again
    assert result.id == fake.statuses[0]["id"]
    assert result.url == fake.statuses[0]["url"]


def test_a_server_error_leaves_nothing_posted_and_can_be_retried(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.fail("POST", "/api/v1/statuses", "503")
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=None)
    assert info.value.retryable and not info.value.outcome_unknown and info.value.status == 503
    assert fake.statuses == []
    platform.publish(request, pending=None)
    assert len(fake.statuses) == 1


def test_a_gateway_timeout_on_the_status_may_hide_a_post(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "/api/v1/statuses", "504")
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and info.value.outcome_unknown


def test_an_instance_that_is_down(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    platform.text_for(painting)  # limits known, then the instance goes away
    fake.down()
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown
    assert "could not reach" in str(info.value) and fake.url in str(info.value)
    fresh = make(fake)
    with pytest.raises(PlatformError) as info:  # text_for cannot learn the limit either
        fresh.text_for(painting)
    assert info.value.retryable
    fake.up()
    platform.publish(request_for(platform, painting, image), pending=None)
    assert len(fake.statuses) == 1


def test_rate_limiting_is_reported_not_slept_through(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "/api/v1/statuses", "429")
    with pytest.raises(RateLimited) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and platform.sleeps == []


def test_a_rejected_token_names_the_setting_and_never_its_value(fake, painting_image):
    painting, image = painting_image
    bad = "not-the-right-token-83hf7"
    log = io.StringIO()
    platform = make(fake, token=bad, log=log)
    platform.text_for(painting)  # instance info needs no token
    with pytest.raises(AuthError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    message = str(info.value)
    assert "MASTODON_ACCESS_TOKEN" in message and "write:media" in message
    assert bad not in message and bad not in repr(platform) and bad not in log.getvalue()
    assert info.value.status == 401 and not info.value.retryable
    assert fake.statuses == []


def test_a_missing_token_fails_at_start_before_any_request(fake):
    settings = Settings(store="/tmp/store", platforms=("mastodon",), mastodon_api_base_url=fake.url)  # noqa: S108
    with pytest.raises(ConfigError, match="MASTODON_ACCESS_TOKEN"):
        create_platform("mastodon", settings, Secrets(env={}), logger=Logger(io.StringIO()))
    with pytest.raises(ConfigError, match="MASTODON_API_BASE_URL"):
        create_platform("mastodon", replace(settings, mastodon_api_base_url=None),
                        Secrets(env={"MASTODON_ACCESS_TOKEN": "x" * 20}), logger=Logger())  # fmt: skip
    assert fake.requests == []


def test_logs_are_json_lines_with_the_steps(fake, painting_image):
    painting, image = painting_image
    log = io.StringIO()
    platform = make(fake, log=log)
    platform.publish(request_for(platform, painting, image), pending=None)
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    steps = [line["step"] for line in lines]
    assert steps == ["mastodon_instance", "mastodon_media", "mastodon_status"]
    assert all(line["platform"] == "mastodon" and line["outcome"] == "ok" for line in lines)
    assert fake.token not in log.getvalue()


def test_a_failed_attempt_to_resolve_a_pending_post_keeps_it_unresolved(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.down()  # the retry cannot learn whether the lost status exists
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending={"painting_id": painting.id, "text": request.text})
    assert info.value.outcome_unknown and info.value.retryable
