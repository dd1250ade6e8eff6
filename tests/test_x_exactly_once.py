"""Exactly one post per slot on X, whatever X's undocumented duplicate check does.

X documents neither how long it refuses a repeated text nor whether a re-send
with another media id is a repeat, nor how soon a new post shows on the
account's timeline. So every scenario of a lost answer runs against every
combination of the fake's variants:

* the duplicate check remembers a text for ever, or forgets it after 1 s;
* it refuses a repeat whatever the image, or ignores a re-send with another
  media id;
* the timeline shows a post at once, or 20 s later (the platform gives it 30 s).

Time is one injected clock shared by the fake and the platform (real time plus
what was "slept"), so waits cost nothing and nothing depends on the machine's
speed.
"""

from __future__ import annotations

import io
import itertools
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_x import FakeX

from soviet_art_bot.caption import alt_text
from soviet_art_bot.catalog import Painting
from soviet_art_bot.errors import PlatformError
from soviet_art_bot.log import Logger
from soviet_art_bot.platforms.base import PostRequest, PostResult
from soviet_art_bot.platforms.x import CREDENTIALS, LAG_MARGIN, XCredentials, XPlatform
from soviet_art_bot.sample import sample_paintings

SLOT = "2026-11-26T12:00:00Z"
VARIANTS = [
    pytest.param((window, by_media, lag), id=f"window={window}-by_media={by_media}-lag={lag}")
    for window, by_media, lag in itertools.product([None, 1.0], [False, True], [0.0, 20.0])
]


class SkipClock:
    """Real time plus whatever was slept."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def time(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)


@pytest.fixture(params=VARIANTS)
def world(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    window, by_media, lag = request.param
    clock = SkipClock()
    fake = FakeX(tmp_path / "fake-x", duplicate_window=window, duplicate_by_media=by_media,
                 timeline_lag=lag, clock=clock.time)  # fmt: skip
    with fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
        yield World(fake, clock, tmp_path)


class World:
    """The fake X, the shared clock, and the deliveries of one slot."""

    def __init__(self, fake: FakeX, clock: SkipClock, tmp_path: Path) -> None:
        self.fake = fake
        self.clock = clock
        ((_, data),) = sample_paintings(1, scale=0.05)
        self.image = tmp_path / "image.jpg"
        self.image.write_bytes(data)
        self.painting = Painting(id="p1", image="images/p1.jpg", title="Winter in Kursk",
                                 artist="Aleksandr Deyneka", year="1916")  # fmt: skip
        self.text = '"Winter in Kursk"\nAleksandr Deyneka, 1916'
        self.pending: dict[str, object] | None = None

    def request(self, seconds: float) -> PostRequest:
        return PostRequest(slot=SLOT, painting=self.painting, text=self.text,
                           alt_text=alt_text(self.painting), image_path=self.image,
                           mime_type="image/jpeg", deadline=time.monotonic() + seconds)  # fmt: skip

    def deliver(self, seconds: float = 600.0) -> PostResult | PlatformError:
        """One delivery of the slot in a new container, as the bot makes it."""
        c = self.fake.credentials
        x = XPlatform(XCredentials(*(c[n] for n in CREDENTIALS)), base_url=self.fake.url,
                      logger=Logger(io.StringIO()), sleep=self.clock.sleep,
                      clock=self.clock.time)  # fmt: skip
        if self.pending is None:  # the bot records the attempt before it is made
            started = datetime.fromtimestamp(self.clock.time(), UTC)
            self.pending = {"text": self.text, "painting_id": "p1", "attempt": 1,
                            "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
            pending = None
        else:
            pending = self.pending
        try:
            return x.publish(self.request(seconds), pending=pending)
        except PlatformError as exc:
            assert exc.outcome_unknown or exc.retryable, exc
            return exc
        finally:
            x.close()

    def until_posted(self, *, seconds: float = 600.0, deliveries: int = 4) -> PostResult:
        """Deliver until the slot has its post (Lambda retries a minute apart)."""
        for _ in range(deliveries):
            outcome = self.deliver(seconds)
            if isinstance(outcome, PostResult):
                return outcome
            self.clock.sleep(60.0)
            seconds = 600.0  # later deliveries have their full time
        raise AssertionError(f"no post after {deliveries} deliveries: {outcome}")

    def assert_one_post(self, result: PostResult) -> None:
        (post,) = self.fake.posts
        assert result.id == post["id"] and post["text"] == self.text
        assert post["media"][0]["alt_text"] == alt_text(self.painting)


@pytest.mark.parametrize("how", ["drop", "500", "truncate", "chunked"])
def test_an_answer_lost_after_the_post_was_made(world: World, how: str) -> None:
    world.fake.inject("POST", "/2/tweets", lose=how)
    world.assert_one_post(world.until_posted())


def test_every_answer_of_a_delivery_lost(world: World) -> None:
    world.fake.inject("POST", "/2/tweets", lose="drop", times=10)
    world.assert_one_post(world.until_posted())


def test_an_answer_lost_with_no_time_left_to_look(world: World) -> None:
    """The first delivery cannot wait out the margin; a later one settles the slot."""
    world.fake.inject("POST", "/2/tweets", lose="drop")
    world.assert_one_post(world.until_posted(seconds=LAG_MARGIN + 5))


def test_a_5xx_before_anything_was_made(world: World) -> None:
    """X answered 503 and made nothing: a conclusive lookup, then the one post."""
    world.fake.inject("POST", "/2/tweets", status=503, times=2)
    world.assert_one_post(world.until_posted())
    assert world.fake.count("POST", "/2/tweets") == 3


def test_a_pending_attempt_that_never_reached_x(world: World) -> None:
    """The record says pending, but the earlier container died before sending."""
    world.pending = {"text": world.text, "painting_id": "p1", "attempt": 1,
                     "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    world.assert_one_post(world.until_posted())
    assert world.fake.count("POST", "/2/tweets") == 1


def test_a_pending_slot_resolved_long_after_x_forgot_the_text(world: World) -> None:
    """The post exists; by the next delivery the duplicate window may be long past."""
    world.fake.inject("POST", "/2/tweets", lose="drop", times=10)
    first = world.deliver(seconds=LAG_MARGIN + 5)
    world.clock.sleep(3 * 3600)  # an operator re-runs the slot hours later
    world.fake.clear_faults()
    if isinstance(first, PostResult):
        world.assert_one_post(first)
        return
    world.assert_one_post(world.until_posted())
