"""The Bluesky platform against the real PDS, ``@atproto/pds`` 0.5.35 on 127.0.0.1.

Opt-in: ``make test-real`` installs Node 22 and the PDS under ``.real/`` and
runs this file (its name keeps it out of ``make test``). Each case posts
through :class:`~soviet_art_bot.platforms.bluesky.Bluesky` exactly as the
Lambda does, then reads the repository back through the PDS's own API.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_pds import RealPDS

from soviet_art_bot.caption import alt_text
from soviet_art_bot.catalog import Painting
from soviet_art_bot.errors import AuthError, MediaTooLarge, PlatformError, RateLimited
from soviet_art_bot.log import Logger
from soviet_art_bot.platforms import bluesky
from soviet_art_bot.platforms.base import PostRequest
from soviet_art_bot.sample import make_image, sample_paintings

SLOT = "2026-11-26T12:00:00Z"


@pytest.fixture(scope="module")
def pds() -> Iterator[RealPDS]:
    with RealPDS() as server:
        yield server


@pytest.fixture(scope="module")
def strict_pds() -> Iterator[RealPDS]:
    """A PDS with a small upload cap and its rate limits on."""
    with RealPDS(blob_upload_limit=100_000, rate_limits=True) as server:
        yield server


@pytest.fixture(autouse=True)
def _cold_container() -> Iterator[None]:
    bluesky.forget_sessions()
    yield
    bluesky.forget_sessions()


@pytest.fixture
def painting_image(tmp_path: Path) -> tuple[Painting, Path]:
    painting, data = sample_paintings(1, scale=0.2)[0]
    path = tmp_path / "0.img"
    path.write_bytes(data)
    return painting, path


def make(pds: RealPDS, *, password: str | None = None, **kw) -> bluesky.Bluesky:
    return bluesky.Bluesky(pds.handle, password or pds.app_password, pds.url,
                           logger=Logger(io.StringIO()), **kw)  # fmt: skip


def request_for(platform, painting: Painting, image: Path, slot: str = SLOT, **kw) -> PostRequest:
    return PostRequest(slot=slot, painting=painting, text=platform.text_for(painting),
                       alt_text=alt_text(painting), image_path=image, mime_type="image/jpeg",
                       **kw)  # fmt: skip


def rkey_of(result) -> str:
    return result.id.rsplit("/", 1)[1]


def test_posts_text_alt_text_aspect_ratio_and_the_exact_image(pds, painting_image):
    painting, image = painting_image
    platform = make(pds)
    result = platform.publish(request_for(platform, painting, image), pending=None)
    assert result.id == f"at://{pds.did}/app.bsky.feed.post/{rkey_of(result)}"
    assert result.url == f"https://bsky.app/profile/{pds.handle}/post/{rkey_of(result)}"
    record = pds.record(rkey_of(result))
    assert record["text"] == f'"{painting.title}"\n{painting.artist}, {painting.year}'
    (embedded,) = record["embed"]["images"]
    assert embedded["alt"] == alt_text(painting)
    ratio = embedded["aspectRatio"]
    assert (ratio["width"], ratio["height"]) == (painting.width, painting.height)
    assert embedded["image"]["size"] == image.stat().st_size
    assert pds.blob(embedded["image"]["ref"]["$link"]) == image.read_bytes()


def test_exactly_once_per_slot(pds, painting_image):
    painting, image = painting_image
    platform = make(pds)
    slot = "2026-11-27T00:00:00Z"
    request = request_for(platform, painting, image, slot=slot)
    first = platform.publish(request, pending=None)
    again = platform.publish(request, pending=None)  # a duplicate delivery: the key is taken
    resolved = platform.publish(request, pending={"painting_id": painting.id, "text": request.text})
    assert first == again == resolved
    assert [r["uri"] for r in pds.posts()].count(first.id) == 1
    bluesky.forget_sessions()  # a cold container resolves it too
    assert make(pds).publish(request, pending=None) == first
    assert sum(1 for r in pds.posts() if r["uri"].endswith(rkey_of(first))) == 1


def test_self_labels_are_stored(pds, painting_image):
    painting, image = painting_image
    platform = make(pds)
    request = request_for(platform, painting, image, slot="2026-11-27T06:00:00Z",
                          labels=("nudity",))  # fmt: skip
    record = pds.record(rkey_of(platform.publish(request, pending=None)))
    assert record["labels"]["$type"] == "com.atproto.label.defs#selfLabels"
    assert [v["val"] for v in record["labels"]["values"]] == ["nudity"]


def test_a_wrong_app_password_is_an_auth_error(pds, painting_image):
    painting, image = painting_image
    platform = make(pds, password="wxyz-wxyz-wxyz-wxyz")
    with pytest.raises(AuthError, match="BLUESKY_APP_PASSWORD"):
        platform.publish(request_for(platform, painting, image), pending=None)


def test_a_blob_too_big_for_the_record_is_media_too_large(pds, tmp_path):
    painting, _ = sample_paintings(1)[0]
    big = tmp_path / "big.img"
    big.write_bytes(make_image(64, 64, seed="big") + b"\0" * 2_000_000)  # a JPEG over 2 MB
    platform = make(pds, blob_limit=10_000_000)  # skip the bot's own check: ask the PDS
    request = request_for(platform, painting, big, slot="2026-11-28T00:00:00Z")
    with pytest.raises(MediaTooLarge, match="blob too big") as info:
        platform.publish(request, pending=None)
    assert not info.value.retryable and not info.value.outcome_unknown
    assert pds.record(bluesky.record_key(request.slot)) is None


def test_an_upload_over_the_pds_cap_is_media_too_large(strict_pds, tmp_path):
    painting, _ = sample_paintings(1)[0]
    image = tmp_path / "large.img"
    image.write_bytes(make_image(64, 64, seed="large") + b"\0" * 400_000)
    platform = make(strict_pds)
    with pytest.raises(MediaTooLarge) as info:  # 413, or the connection cut twice
        platform.publish(request_for(platform, painting, image), pending=None)
    assert not info.value.retryable and not info.value.outcome_unknown
    assert strict_pds.posts() == []


def test_the_login_limit_is_rate_limited_and_named(strict_pds, painting_image):
    painting, image = painting_image
    made = 0
    with pytest.raises(RateLimited) as info:
        for made in range(40):  # noqa: B007 - counted below
            bluesky.forget_sessions()  # every cold start logs in
            make(strict_pds).session()
    assert 1 <= made <= 30
    said = str(info.value)
    assert "createSession" in said and "until" in said and "30;w=300" in said
    assert info.value.retryable and not info.value.outcome_unknown


def test_an_unreachable_pds_is_retryable_and_posts_nothing(painting_image):
    painting, image = painting_image
    with RealPDS() as gone:
        url = gone.url
        handle, password = gone.handle, gone.app_password
    platform = bluesky.Bluesky(handle, password, url, logger=Logger(io.StringIO()))
    with pytest.raises(PlatformError) as info:
        platform.publish(request_for(platform, painting, image), pending=None)
    assert info.value.retryable and not info.value.outcome_unknown
