"""The Mastodon platform against a fake instance (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
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
from soviet_art_bot.ledger import format_time
from soviet_art_bot.log import Logger, register_secret
from soviet_art_bot.platforms import create as create_platform
from soviet_art_bot.platforms.base import PostRequest
from soviet_art_bot.platforms.mastodon import (
    InstanceLimits,
    Mastodon,
    idempotency_key,
    mastodon_length,
)
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
    """The platform, built as an httpx client is: with its clock and sleep passed in."""
    register_secret(token or fake.token)
    sleeps: list[float] = []
    platform = Mastodon(
        fake.url,
        token or fake.token,
        logger=Logger(log or io.StringIO()),
        sleep=sleeps.append,
        clock=fake.now,  # the bot's clock and the instance's agree
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
    assert status["idempotency_key"] == idempotency_key(SLOT, painting.id)
    assert status["sent_sensitive"] is None and status["spoiler_text"] == ""
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


@pytest.mark.parametrize("answer", ["500", "502", "503", "504", "507", "520", "522", "524", "418"])
def test_every_answer_that_may_follow_a_created_status_keeps_it_pending(
    fake, painting_image, answer
):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    fake.fail("POST", "/api/v1/statuses", answer)
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=None)
    assert info.value.retryable and info.value.outcome_unknown  # never "failed"
    assert not isinstance(info.value, RefusedPainting) and info.value.status == int(answer)
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    platform.publish(request, pending=pending)  # the key replays or, here, posts once
    assert len(fake.statuses) == 1


def test_a_server_error_before_the_status_is_known_to_have_made_nothing(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "/api/v2/media", "503")
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown and info.value.status == 503
    assert fake.statuses == []


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
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    fake.down()  # the retry cannot learn whether the lost status exists
    with pytest.raises(PlatformError) as info:
        platform.publish(request, pending=pending)
    assert info.value.outcome_unknown and info.value.retryable
    # a new error built with that meaning; the one it wraps was never changed
    assert isinstance(info.value.__cause__, PlatformError)
    assert not info.value.__cause__.outcome_unknown


def started(fake: FakeMastodon) -> str:
    """A pending attempt's ``started_at``, as the bot writes it, on the fake's clock."""
    return format_time(datetime.fromtimestamp(fake.now(), UTC))


def test_past_the_idempotency_hour_the_lost_post_is_looked_up_not_made_again(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    fake.fail("POST", "/api/v1/statuses", "lost")
    with pytest.raises(PlatformError):
        platform.publish(request, pending=None)
    (made,) = fake.statuses
    fake.advance(3600 + 60)  # the operator re-invokes the slot an hour later: key forgotten
    result = platform.publish(request, pending=pending)
    assert result.id == made["id"] and result.url == made["url"]
    assert len(fake.statuses) == 1 and fake.count("POST", "/api/v1/statuses") == 1
    assert fake.count("GET", "/api/v1/accounts/verify_credentials") == 1
    fake.advance(5 * 3600)  # and however late it comes
    assert platform.publish(request, pending=pending) == result
    assert len(fake.statuses) == 1


def test_a_blind_repeat_past_the_hour_would_have_posted_twice(fake, painting_image):
    """The fake forgets keys as Mastodon does: the look-up above is what saves the slot."""
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    platform.publish(request, pending=None)
    platform.publish(request, pending=None)  # within the hour: the same status
    assert len(fake.statuses) == 1
    fake.advance(3601)
    platform.publish(request, pending=None)  # no pending mark: a new post, as Mastodon does
    assert len(fake.statuses) == 2


def test_past_the_hour_a_slot_with_no_post_is_posted_once(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    older = replace(painting, id="older", title="An older painting")
    platform.publish(
        request_for(platform, older, image, slot="2026-11-26T06:00:00Z"), pending=None
    )  # fmt: skip  an older post of the account
    request = request_for(platform, painting, image)
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    fake.fail("POST", "/api/v1/statuses", "drop")  # the request never reached Mastodon
    with pytest.raises(PlatformError):
        platform.publish(request, pending=None)
    fake.advance(2 * 3600)
    result = platform.publish(request, pending=pending)
    assert len(fake.statuses) == 2 and fake.statuses[-1]["id"] == result.id


def test_past_the_hour_without_read_scopes_the_slot_stays_pending_and_is_named(painting_image):
    painting, image = painting_image
    with FakeMastodon(scopes=frozenset({"write:media", "write:statuses"})) as fake:
        platform = make(fake)
        request = request_for(platform, painting, image)
        pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
        fake.fail("POST", "/api/v1/statuses", "lost")
        with pytest.raises(PlatformError):
            platform.publish(request, pending=None)
        fake.advance(3600 + 60)
        with pytest.raises(PlatformError) as info:
            platform.publish(request, pending=pending)
        said = str(info.value)
        assert info.value.outcome_unknown and info.value.retryable
        assert SLOT in said and "read:statuses" in said and "MASTODON_ACCESS_TOKEN" in said
        assert "outside the authorized scopes" in said
        assert len(fake.statuses) == 1 and fake.count("POST", "/api/v1/statuses") == 1
        assert fake.count("POST", "/api/v2/media") == 1  # nothing uploaded again either


def test_within_the_hour_the_key_replays_without_a_look_up(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    fake.fail("POST", "/api/v1/statuses", "lost")
    with pytest.raises(PlatformError):
        platform.publish(request, pending=pending)
    fake.advance(50 * 60)
    assert platform.publish(request, pending=pending).id == fake.statuses[0]["id"]
    assert len(fake.statuses) == 1
    assert fake.count("GET", "/api/v1/accounts/") == 0  # the fast path


def test_a_deleted_original_is_never_posted_again(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    request = request_for(platform, painting, image)
    pending = {"painting_id": painting.id, "text": request.text, "started_at": started(fake)}
    fake.fail("POST", "/api/v1/statuses", "lost")
    with pytest.raises(PlatformError):
        platform.publish(request, pending=pending)
    fake.delete(fake.statuses[0]["id"])  # the operator took it down
    fake.advance(10 * 60)
    with pytest.raises(RefusedPainting) as info:  # the bot sets this painting aside there
        platform.publish(request, pending=pending)
    assert "deleted" in str(info.value) and SLOT in str(info.value)
    assert fake.visible == []
    other = replace(painting, id="another-painting", title="Another")
    result = platform.publish(request_for(platform, other, image), pending=None)
    assert [s["id"] for s in fake.visible] == [result.id]  # the slot gets another painting


def test_a_422_that_will_never_pass_sets_the_painting_aside(fake, painting_image, tmp_path):
    painting, image = painting_image
    platform = make(fake)
    too_long = "x" * 501
    with pytest.raises(RefusedPainting, match="character limit of 500"):
        platform.publish(request_for(platform, painting, image, text=too_long), pending=None)
    fake_jpeg = tmp_path / "not-a-jpeg.img"
    fake_jpeg.write_bytes(b"<html>not an image</html>")
    with pytest.raises(RefusedPainting, match="could not be verified") as info:
        platform.publish(request_for(platform, painting, fake_jpeg), pending=None)
    assert info.value.status == 422 and not info.value.retryable
    assert fake.statuses == []


@pytest.mark.parametrize(
    "fake_args,expected,unexpected",
    [
        ({"scopes": frozenset({"write:media"})}, "write:statuses scopes", "sign in"),
        ({"login": "unconfirmed"}, "missing a confirmed e-mail address", "scopes"),
        ({"login": "disabled"}, "currently disabled", "scopes"),
        ({"login": "pending"}, "pending approval", "scopes"),
    ],
)
def test_each_403_says_what_to_fix(painting_image, fake_args, expected, unexpected):
    painting, image = painting_image
    with FakeMastodon(**fake_args) as fake:
        platform = make(fake)
        with pytest.raises(AuthError) as info:
            platform.publish(request_for(platform, painting, image), pending=None)
        assert info.value.status == 403 and expected in str(info.value)
        assert unexpected not in str(info.value).split(")", 1)[1]
        assert fake.statuses == []


def test_a_429_names_when_the_limit_resets(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    fake.fail("POST", "/api/v1/statuses", "429")
    with pytest.raises(RateLimited, match=r"until \d\d:\d\d:\d\d UTC") as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown


def test_sensitive_is_sent_only_when_the_bot_means_it(painting_image):
    painting, image = painting_image
    with FakeMastodon(default_sensitive=True) as fake:  # "always mark media as sensitive"
        platform = make(fake)
        platform.publish(request_for(platform, painting, image), pending=None)
        (status,) = fake.statuses
        assert status["sent_sensitive"] is None and status["sensitive"] is True
    with FakeMastodon() as fake:
        platform = make(fake)
        request = request_for(platform, painting, image, labels=("nudity",))
        platform.publish(request, pending=None)
        (status,) = fake.statuses
        assert status["sensitive"] is True and status["spoiler_text"] == "Sensitive: nudity"


def test_a_labelled_paintings_warning_counts_in_the_budget(painting_image):
    painting, image = painting_image
    labelled = replace(
        painting, title="Bathers by the river " * 30, extra={**painting.extra, "labels": ["nudity"]}
    )  # as screening sets them
    with FakeMastodon(max_characters=120) as fake:
        platform = make(fake)
        text = platform.text_for(labelled)
        assert mastodon_count(text, "Sensitive: nudity") <= 120
        request = request_for(platform, labelled, image, text=text, labels=("nudity",))
        platform.publish(request, pending=None)
        assert len(fake.statuses) == 1  # Mastodon's own count, spoiler included, agreed


def test_the_instances_link_length_and_alt_text_limit_are_used(painting_image):
    painting, image = painting_image
    link = "https://www.wikiart.org/en/aleksandr-deyneka/winter-in-kursk-1916"
    long = replace(painting, title="The Defence of Petrograd " * 10)
    with FakeMastodon(max_characters=120, characters_reserved_per_url=40,
                      description_limit=30) as fake:  # fmt: skip
        platform = make(fake)
        text = platform.text_for(long, link=link)
        assert mastodon_count(text, url_length=40) <= 120 < mastodon_count(text, url_length=60)
        result = platform.publish(request_for(platform, long, image, text=text), pending=None)
        (upload,) = fake.uploads
        assert len(upload["description"]) <= 30 and upload["description"].endswith("\u2026")
        assert fake.statuses[0]["id"] == result.id


def test_one_instance_request_per_cold_start(fake, painting_image):
    painting, image = painting_image
    platform = make(fake)
    for hour in ("00", "06"):
        platform.publish(request_for(platform, painting, image, slot=f"2026-11-27T{hour}:00:00Z"),
                         pending=None)  # fmt: skip
    assert fake.count("GET", "/api/v2/instance") == 1
    assert fake.count("GET", "/api/v1/instance") == 0
    assert [u["endpoint"] for u in fake.uploads] == ["/api/v2/media"] * 2


def test_an_instance_older_than_4_uses_v1_instance_and_media(painting_image):
    painting, image = painting_image
    with FakeMastodon(version="3.0.1", v2_instance=False) as fake:
        platform = make(fake)
        result = platform.publish(request_for(platform, painting, image), pending=None)
        assert fake.count("GET", "/api/v1/instance") == 1
        assert [u["endpoint"] for u in fake.uploads] == ["/api/v1/media"]
        assert fake.statuses[0]["id"] == result.id


def test_the_fake_counts_as_mastodons_validator():
    """Its own port of StatusLengthValidator: links stop before trailing punctuation."""
    assert mastodon_count("https://example.com/a.") == 24  # 23 + "."
    assert mastodon_count("(see https://example.com/a_(b))") == len("(see ") + 23 + 1
    assert mastodon_count("hi @someone@mastodon.social") == len("hi @someone")
    assert mastodon_count("email@example.com") == len("email@example.com")
    assert mastodon_count("text", "spoiler") == 11  # spoiler text is in the budget
    assert mastodon_count("ftp://example.com") == len("ftp://example.com")
    assert mastodon_count("e\u0301" * 10) == 10


def test_the_fake_sends_mastodons_rate_limit_headers(fake):
    """X-RateLimit-* on every authenticated answer, Reset as ISO 8601 (rate_limit_headers.rb)."""
    import requests

    with requests.Session() as session:
        auth = {"Authorization": f"Bearer {fake.token}"}
        answer = session.get(f"{fake.url}/api/v1/accounts/verify_credentials", headers=auth)
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] == "300"
        assert int(answer.headers["X-RateLimit-Remaining"]) == 299
        reset = datetime.fromisoformat(answer.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert 0 < reset.timestamp() - fake.now() <= 300
        refused = session.get(f"{fake.url}/api/v1/accounts/verify_credentials",
                              headers={"Authorization": "Bearer wrong"})  # fmt: skip
        assert refused.status_code == 401
        assert refused.json() == {"error": "The access token is invalid"}
