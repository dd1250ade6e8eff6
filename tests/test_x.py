"""The X platform: weighted length, error mapping, and posting over real HTTPS.

Unit tests script X's answers at the session seam (``XPlatform(session=...)``);
the rest talk to :mod:`fake_x`, a local HTTPS X that checks every OAuth 1.0a
signature, through twython's own session.
"""

from __future__ import annotations

import io
import json
import logging
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_x import FakeX, weighted_length
from requests.structures import CaseInsensitiveDict

from soviet_art_bot.caption import alt_text, x_length
from soviet_art_bot.catalog import Painting
from soviet_art_bot.config import Secrets, Settings
from soviet_art_bot.errors import (
    AuthError,
    ConfigError,
    DuplicateContent,
    PlatformError,
    RateLimited,
)
from soviet_art_bot.log import Logger
from soviet_art_bot.platforms import create as create_platform
from soviet_art_bot.platforms.base import PostRequest
from soviet_art_bot.platforms.x import CREDENTIALS, LOOKUP_PAGE, XCredentials, XPlatform
from soviet_art_bot.sample import sample_paintings

SECRETS = {
    "X_API_KEY": "unit-api-key-0001",
    "X_API_SECRET": "unit-api-secret-0002",
    "X_ACCESS_TOKEN": "42-unit-access-token-0003",
    "X_ACCESS_TOKEN_SECRET": "unit-access-secret-0004",
}
DUPLICATE_BODY = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


# -- X's weighted length (twitter-text v3 conformance cases) ------------------


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("test.com", 23),  # a link without a scheme is still a link
        ("t.co", 23),
        ("foo.co.jp", 23),
        ("foo.ru", 23),  # so is a bare ccTLD domain (twitter-text 3.1.0's parseTweet)
        ("example.com/path/to/resource?search=foo&lang=en", 23),
        ("Test https://test.com test https://test.com test.com test", 86),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299),
        ("see https://x.com/a.", 4 + 23 + 1),  # the full stop is not part of the link
        ("(see https://en.wikipedia.org/wiki/Foo_(bar))", 1 + 4 + 23 + 1),
        ("randomurl" * 7 + "s.com", 68),  # a 64-character label is no domain
        ("mail@example.com", 16),
        ("http://localhost/x", 18),
        ("\u00c1B", 2),  # NFC: one character
        ("A\u0301B", 2),
        ("A\ufb2c", 4),  # NFC decomposes this one into three, each weight 1
        ("H\U0001f431\u263a\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 7),
        ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
        ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),  # skin tone, ZWJ: one emoji each
        ("\U0001f1fa\U0001f1e6", 2),  # a flag
        ("1\ufe0f\u20e3", 2),  # keycap
        ("A\ufe0f", 3),  # not an emoji: 1 + 2
        ("\u041b\u0435\u043d\u0438\u043d", 5),  # Cyrillic is in a weight-1 range
        ("\u6545\u4eba\u897f\u8f9e" * 40, 320),  # CJK weighs 2
        ("the" + "\u6545" * 160, 323),
        ("\u2000\u200a\u200b \u2010\u2015 \u2032\u2037", 9),  # weight-1 punctuation ranges
        ("\u2026", 2),  # the ellipsis is outside them
        ("Yard.Board", 10),  # "board" is no top-level domain: plain text
    ],
)
def test_x_length_follows_x_counting_rules(text: str, weight: int) -> None:
    assert x_length(text) == weight


def test_x_length_counts_dotted_words_as_x_does() -> None:
    """A dotted word is a link exactly when its last part is a top-level domain."""
    assert x_length("Dnieprostroi.Hydroelectricstation") == 33
    assert x_length("St.Petersburg") == 13
    assert x_length("Magnitogorsk.ru") == 23
    assert x_length("Magnitogorsk.ru.") == 24


# -- helpers ----------------------------------------------------------------


def painting(title: str = "Winter in Kursk", year: str = "1916") -> Painting:
    return Painting(id="p1", image="images/p1.jpg", title=title, artist="Aleksandr Deyneka", year=year,
                    source_url="https://www.wikiart.org/en/aleksandr-deyneka/winter-in-kursk-1916")  # fmt: skip


@pytest.fixture
def image(tmp_path: Path) -> Path:
    ((_, data),) = sample_paintings(1, scale=0.1)
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    return path


def make_request(image: Path, text: str | None = None, *, seconds: float = 600.0,
                 p: Painting | None = None) -> PostRequest:  # fmt: skip
    p = p or painting()
    return PostRequest(
        slot="2026-11-26T12:00:00Z", painting=p,
        text=text if text is not None else f'"{p.title}"\n{p.artist}, {p.year}',
        alt_text=alt_text(p), image_path=image, mime_type="image/jpeg",
        deadline=time.monotonic() + seconds,
    )  # fmt: skip


def response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.reason = {200: "OK", 201: "Created", 401: "Unauthorized", 403: "Forbidden"}.get(status, "")
    r._content = json.dumps(body).encode() if body is not None else b"<html>oops</html>"
    r.headers = CaseInsensitiveDict(headers or {})
    return r


class ScriptedSession:
    """X's answers in order, per (method, path); records every request."""

    def __init__(self, script: dict[tuple[str, str], list[Any]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        path = "/" + url.split("/", 3)[3].split("?")[0]
        self.calls.append((method, path, kwargs))
        answers = self.script.get((method, path))
        assert answers, f"unexpected {method} {path}"
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        fresh = requests.Response()  # each answer is read (and closed) once
        fresh.status_code, fresh.reason = answer.status_code, answer.reason
        fresh.headers = CaseInsensitiveDict(answer.headers)
        fresh.raw = io.BytesIO(answer._content)
        return fresh

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.calls if (m, p) == (method, path))


UPLOAD_OK = response(
    200, {"data": {"id": "111", "media_key": "3_111", "expires_after_secs": 86400}}
)
META_OK = response(200, {"data": {"id": "111"}})
TWEET_OK = response(201, {"data": {"id": "999", "text": "t"}})
ME = response(200, {"data": {"id": "42", "username": "sovietart"}})


def scripted(**overrides: list[Any]) -> ScriptedSession:
    script = {
        ("POST", "/2/media/upload"): [UPLOAD_OK],
        ("POST", "/2/media/metadata"): [META_OK],
        ("POST", "/2/tweets"): [TWEET_OK],
        ("GET", "/2/users/me"): [ME],
    }
    for key, answers in overrides.items():
        method, _, path = key.partition("_")
        script[(method.upper(), "/2/" + path.replace("__", "/"))] = answers
    return ScriptedSession(script)


class Clock:
    """time.time and time.sleep that only pretend, so waits cost nothing."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def platform(
    session: ScriptedSession, clock: Clock | None = None, stream: io.StringIO | None = None
) -> XPlatform:
    clock = clock or Clock()
    return XPlatform(XCredentials(*(SECRETS[n] for n in CREDENTIALS)), base_url="https://x.test",
                     session=session, logger=Logger(stream or io.StringIO()),
                     sleep=clock.sleep, clock=clock.time)  # fmt: skip


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for value in SECRETS.values():
            assert value not in text


# -- error mapping, at the session seam -------------------------------------


def test_a_post_uploads_describes_and_posts_with_v2_bodies(image: Path) -> None:
    session = scripted()
    result = platform(session).publish(make_request(image), pending=None)
    assert (result.id, result.url) == ("999", "https://x.com/i/web/status/999")
    (_, _, upload), (_, _, meta), (_, _, tweet) = session.calls
    assert upload["files"]["media"][0] == "p1.jpg" and upload["files"]["media"][2] == "image/jpeg"
    assert upload["data"]["media_category"] == "tweet_image"
    assert meta["json"] == {"id": "111", "metadata": {"alt_text": {"text": alt_text(painting())}}}
    assert tweet["json"] == {"text": make_request(image).text, "media": {"media_ids": ["111"]}}


def test_401_names_the_four_credentials_and_never_their_values(image: Path) -> None:
    stream = io.StringIO()
    body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    x = platform(scripted(post_media__upload=[response(401, body)]), stream=stream)
    with pytest.raises(AuthError) as caught:
        x.publish(make_request(image), pending=None)
    message = str(caught.value)
    assert all(name in message for name in CREDENTIALS)
    assert "401 Unauthorized" in message
    assert not caught.value.retryable and not caught.value.outcome_unknown
    assert_no_secret(message, repr(caught.value), stream.getvalue(), repr(x), repr(x._credentials))


def test_403_without_write_permission_says_how_to_fix_it(image: Path) -> None:
    body = {"title": "Forbidden", "status": 403, "type": "https://api.twitter.com/2/problems/oauth1-permissions",
            "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint."}  # fmt: skip
    with pytest.raises(AuthError, match="Read and Write"):
        platform(scripted(post_tweets=[response(403, body)])).publish(
            make_request(image), pending=None
        )


def test_duplicate_without_pending_is_duplicate_content_and_looks_nothing_up(image: Path) -> None:
    session = scripted(post_tweets=[response(403, DUPLICATE_BODY)])
    with pytest.raises(DuplicateContent) as caught:
        platform(session).publish(make_request(image), pending=None)
    assert "duplicate content" in str(caught.value) and not caught.value.outcome_unknown
    assert session.count("GET", "/2/users/me") == 0


def test_429_waits_until_the_reset_when_it_fits(image: Path) -> None:
    clock = Clock()
    limited = response(429, {"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"},
                       {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.now) + 30)})  # fmt: skip
    session = scripted(post_tweets=[limited, TWEET_OK])
    result = platform(session, clock).publish(make_request(image), pending=None)
    assert result.id == "999"
    assert clock.sleeps == [31.0]  # until the reset, plus its rounding
    assert session.count("POST", "/2/tweets") == 2


def test_429_past_the_invocation_s_end_is_rate_limited(image: Path) -> None:
    clock = Clock()
    limited = response(429, {"title": "Too Many Requests", "status": 429},
                       {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.now) + 900)})  # fmt: skip
    with pytest.raises(RateLimited) as caught:
        platform(scripted(post_tweets=[limited]), clock).publish(
            make_request(image, seconds=120), pending=None
        )
    assert caught.value.retryable and not caught.value.outcome_unknown
    assert "resets at" in str(caught.value)
    assert clock.sleeps == []


def test_429_24_hour_limit_uses_its_own_reset(image: Path) -> None:
    clock = Clock()
    limited = response(429, {"title": "Too Many Requests", "status": 429}, {
        "x-rate-limit-remaining": "50", "x-rate-limit-reset": str(int(clock.now) + 5),
        "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(int(clock.now) + 40000)})  # fmt: skip
    with pytest.raises(RateLimited):
        platform(scripted(post_tweets=[limited]), clock).publish(make_request(image), pending=None)
    assert clock.sleeps == []


def test_5xx_and_connection_errors_are_retried_with_backoff(image: Path) -> None:
    clock = Clock()
    session = scripted(post_media__upload=[response(503, {"title": "Service Unavailable", "status": 503}),
                                           requests.ConnectionError("reset"), UPLOAD_OK])  # fmt: skip
    assert platform(session, clock).publish(make_request(image), pending=None).id == "999"
    (first, second) = clock.sleeps  # backoff 0.5 s, doubling, with jitter
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0
    assert session.count("POST", "/2/media/upload") == 3


def test_retries_are_bounded(image: Path) -> None:
    clock = Clock()
    session = scripted(post_media__upload=[response(503)])
    with pytest.raises(PlatformError) as caught:
        platform(session, clock).publish(make_request(image), pending=None)
    assert caught.value.retryable and not caught.value.outcome_unknown
    assert session.count("POST", "/2/media/upload") == 4
    assert [round(s / b, 1) >= 0.5 and s <= b for s, b in zip(clock.sleeps, [0.5, 1.0, 2.0], strict=True)] == [True] * 3  # fmt: skip


EMPTY = response(200, {"meta": {"result_count": 0}})


def test_a_lost_answer_is_looked_up_before_anything_is_sent_again(image: Path) -> None:
    """Nothing on the timeline, twice (at once, then after the lag margin): then re-send."""
    clock = Clock()
    session = scripted(post_tweets=[requests.ReadTimeout("read timed out"), TWEET_OK],
                       get_users__42__tweets=[EMPTY])  # fmt: skip
    assert platform(session, clock).publish(make_request(image), pending=None).id == "999"
    assert [(m, p) for m, p, _ in session.calls][3:] == [
        ("GET", "/2/users/me"), ("GET", "/2/users/42/tweets"), ("GET", "/2/users/42/tweets"),
        ("POST", "/2/tweets")]  # fmt: skip
    assert 30.0 in clock.sleeps  # the lag margin, waited on the injected clock


@pytest.mark.parametrize("lost", [
    requests.ReadTimeout("read timed out"),
    requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(43 bytes read)"),
    requests.exceptions.ContentDecodingError("content-encoding: gzip, but failed to decode it"),
    requests.exceptions.SSLError("EOF occurred in violation of protocol"),
    requests.exceptions.RequestException("anything else requests may raise"),
    response(500, {"title": "Internal Server Error", "status": 500}),
    response(201, {"data": {}}),  # created, but no id to record
])  # fmt: skip
def test_every_lost_answer_is_looked_up_and_bounded(image: Path, lost: Any) -> None:
    session = scripted(post_tweets=[lost], get_users__42__tweets=[EMPTY])
    with pytest.raises(PlatformError) as caught:
        platform(session).publish(make_request(image), pending=None)
    # each re-send came after a conclusive lookup: X has no post, so the outcome is known
    assert caught.value.retryable and not caught.value.outcome_unknown
    assert session.count("POST", "/2/tweets") == 4
    assert session.count("GET", "/2/users/42/tweets") == 8


def _refused() -> requests.ConnectionError:
    """The error requests itself raises for a port on 127.0.0.1 nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        requests.post(f"http://127.0.0.1:{port}/2/tweets", timeout=5)
    except requests.ConnectionError as exc:
        return exc
    raise AssertionError(f"something listens on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    "unsent", [requests.exceptions.ConnectTimeout("connect timed out"), _refused()]
)
def test_a_post_that_never_left_is_retried_and_not_outcome_unknown(
    image: Path, unsent: Exception
) -> None:
    clock = Clock()
    session = scripted(post_tweets=[unsent, TWEET_OK])
    assert platform(session, clock).publish(make_request(image), pending=None).id == "999"
    assert len(clock.sleeps) == 1 and session.count("GET", "/2/users/me") == 0  # no lookup
    session = scripted(post_tweets=[unsent])
    with pytest.raises(PlatformError) as caught:
        platform(session, Clock()).publish(make_request(image), pending=None)
    assert caught.value.retryable and not caught.value.outcome_unknown  # nothing reached X
    assert session.count("POST", "/2/tweets") == 4


def test_a_500_after_the_post_was_made_finds_it_without_sending_again(image: Path) -> None:
    request = make_request(image)
    now = datetime.now(UTC)
    timeline = response(200, {"data": [
        {"id": "777", "text": request.text.replace("&", "&amp;") + " https://t.co/abc",
         "created_at": now.isoformat(), "edit_history_post_ids": ["777"]},
    ], "meta": {"result_count": 1}})  # fmt: skip
    session = scripted(post_tweets=[response(500, {"title": "Internal Server Error", "status": 500})],
                       get_users__42__tweets=[timeline])  # fmt: skip
    clock = Clock()
    clock.now = now.timestamp()
    result = platform(session, clock).publish(request, pending=None)
    assert result.id == "777" and session.count("POST", "/2/tweets") == 1
    params = next(kw["params"] for m, p, kw in session.calls if p == "/2/users/42/tweets")
    assert params["start_time"] <= now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert params["post.fields"] == "created_at" and "tweet.fields" not in params


def test_a_lost_answer_that_cannot_be_settled_keeps_the_slot_pending(image: Path) -> None:
    """The timeline lags and the invocation cannot wait out the margin: no re-send."""
    session = scripted(post_tweets=[requests.ReadTimeout("read timed out")],
                       get_users__42__tweets=[EMPTY])  # fmt: skip
    with pytest.raises(PlatformError) as caught:
        platform(session).publish(make_request(image, seconds=35), pending=None)
    assert not isinstance(caught.value, DuplicateContent)
    assert caught.value.outcome_unknown and caught.value.retryable
    message = str(caught.value)
    assert "slot 2026-11-26T12:00:00Z" in message and "posts since" in message
    assert "Read permission" in message
    assert session.count("POST", "/2/tweets") == 1


def test_a_timeline_with_too_many_posts_is_not_conclusive(image: Path) -> None:
    page = response(200, {"data": [{"id": str(n), "text": f"other {n}"} for n in range(100)],
                          "meta": {"result_count": 100, "next_token": "b2"}})  # fmt: skip
    session = scripted(post_tweets=[requests.ReadTimeout("t")], get_users__42__tweets=[page])
    with pytest.raises(PlatformError, match="more than 500 posts") as caught:
        platform(session).publish(make_request(image), pending=None)
    assert caught.value.outcome_unknown and session.count("POST", "/2/tweets") == 1


def test_pending_with_nothing_posted_looks_then_posts(image: Path) -> None:
    session = scripted(get_users__42__tweets=[EMPTY])
    pending = {"text": make_request(image).text, "painting_id": "p1", "attempt": 1,
               "started_at": "2026-11-26T12:00:03Z"}  # fmt: skip
    assert platform(session).publish(make_request(image), pending=pending).id == "999"
    assert session.count("GET", "/2/users/42/tweets") == 2  # at once, then after the margin
    assert session.calls[0][1] == "/2/users/me"  # looked before uploading anything


def test_pending_and_an_older_post_with_the_text_is_duplicate_content(image: Path) -> None:
    session = scripted(post_tweets=[response(403, DUPLICATE_BODY)], get_users__42__tweets=[EMPTY])
    pending = {"text": make_request(image).text, "started_at": "2026-11-26T12:00:03Z"}
    with pytest.raises(DuplicateContent) as caught:
        platform(session).publish(make_request(image), pending=pending)
    assert not caught.value.outcome_unknown
    assert session.count("GET", "/2/users/42/tweets") == 3  # twice before sending, once after


def test_pending_whose_lookup_fails_stays_outcome_unknown(image: Path) -> None:
    body = {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}
    session = scripted(get_users__me=[response(401, body)])
    with pytest.raises(PlatformError) as caught:
        platform(session).publish(
            make_request(image), pending={"text": "t", "started_at": "2026-11-26T12:00:00Z"}
        )
    assert caught.value.outcome_unknown and "lookup failed" in str(caught.value)
    assert session.count("POST", "/2/media/upload") == 0


def test_pending_settled_then_refused_is_a_definite_error(image: Path) -> None:
    body = {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}
    session = scripted(post_media__upload=[response(401, body)], get_users__42__tweets=[EMPTY])
    with pytest.raises(AuthError) as caught:
        platform(session).publish(
            make_request(image), pending={"text": "t", "started_at": "2026-11-26T12:00:00Z"}
        )
    assert not caught.value.outcome_unknown  # the lookup proved no post exists


def test_a_forgotten_media_id_is_uploaded_again(image: Path) -> None:
    invalid = response(400, {"errors": [{"parameters": {"media.media_ids": ["111"]},
                                         "message": "Your media IDs are invalid."}],
                             "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                             "type": "https://api.twitter.com/2/problems/invalid-request"})  # fmt: skip
    session = scripted(post_tweets=[invalid, TWEET_OK])
    assert platform(session).publish(make_request(image), pending=None).id == "999"
    assert session.count("POST", "/2/media/upload") == 2
    assert session.count("POST", "/2/media/metadata") == 2


def test_402_says_to_buy_credits(image: Path) -> None:
    body = {"title": "Payment Required", "detail": "credits depleted",
            "type": "https://api.x.com/2/problems/credits-depleted"}  # fmt: skip
    with pytest.raises(PlatformError, match="buy API credits") as caught:
        platform(scripted(post_tweets=[response(402, body)])).publish(
            make_request(image), pending=None
        )
    assert not caught.value.retryable


def test_credentials_are_checked_before_any_request() -> None:
    settings = Settings(store="/tmp/unused", platforms=("x",))  # noqa: S108
    env = {"X_API_KEY": "k" * 20, "X_ACCESS_TOKEN": "t" * 20}
    session = ScriptedSession({})
    with pytest.raises(ConfigError) as caught:
        create_platform("x", settings, Secrets(env=env), logger=Logger(io.StringIO()))
    message = str(caught.value)
    assert message.startswith("X_API_SECRET, X_ACCESS_TOKEN_SECRET are not set (environment")
    assert "k" * 20 not in message and "t" * 20 not in message
    assert session.calls == []
    with pytest.raises(ConfigError, match="SSM parameters under /bot/"):
        XCredentials.from_secrets(Secrets(ssm_path="/bot", ssm_client=EmptySSM()))


class EmptySSM:
    def get_paginator(self, name: str) -> Any:
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [{"Parameters": []}]


def test_text_for_fits_280_weighted_characters() -> None:
    x = platform(scripted())
    assert x.text_for(painting()) == '"Winter in Kursk"\nAleksandr Deyneka, 1916'
    long = x.text_for(
        painting(title="\u041f\u0435\u0441\u043d\u044f \u0442\u0440\u0443\u0434\u0430 " * 40)
    )
    assert x_length(long) <= 280 and long.endswith('\u2026"\nAleksandr Deyneka, 1916')
    cjk = x.text_for(painting(title="\u6545\u4eba\u897f\u8f9e" * 50))
    assert x_length(cjk) <= 280 and weighted_length(cjk) <= 280
    linked = x.text_for(painting(), link=painting().source_url)
    assert linked.endswith("\n" + painting().source_url)
    assert x_length(linked) == x_length('"Winter in Kursk"\nAleksandr Deyneka, 1916\n') + 23


# -- against the fake X, over HTTPS, through twython's session --------------


class SkipClock:
    """Real time plus whatever was slept: the fake X and the platform share it, so
    a wait (backoff, a 429's reset, the lag margin) moves time without sleeping."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += max(seconds, 0.0)


@pytest.fixture
def clock() -> SkipClock:
    return SkipClock()


@pytest.fixture
def fake_x(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SkipClock):
    with FakeX(tmp_path / "fake-x", clock=clock.time) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
        yield fake


@pytest.fixture
def make_x(fake_x: FakeX, clock: SkipClock):
    made: list[XPlatform] = []

    def make(**overrides: str) -> XPlatform:
        creds = {**fake_x.credentials, **overrides}
        x = XPlatform(XCredentials(*(creds[n] for n in CREDENTIALS)), base_url=fake_x.url,
                      logger=Logger(io.StringIO()), sleep=clock.sleep, clock=clock.time)  # fmt: skip
        made.append(x)
        return x

    yield make
    for x in made:
        x.close()


def test_posts_the_image_with_its_alt_text(fake_x: FakeX, make_x, image: Path) -> None:
    request = make_request(image)
    result = make_x().publish(request, pending=None)
    (post,) = fake_x.posts
    assert result.id == post["id"] and result.url == f"https://x.com/i/web/status/{post['id']}"
    assert post["text"] == request.text
    (media,) = post["media"]
    assert media["alt_text"] == request.alt_text
    assert media["size"] == image.stat().st_size and media["mime"] == "image/jpeg"


def test_wrong_secret_is_refused_by_the_signature_check(fake_x: FakeX, make_x, image: Path) -> None:
    x = make_x(X_ACCESS_TOKEN_SECRET="not-the-secret-at-all")
    with pytest.raises(AuthError) as caught:
        x.publish(make_request(image), pending=None)
    assert "X_ACCESS_TOKEN_SECRET" in str(caught.value) and "not-the-secret-at-all" not in str(
        caught.value
    )
    assert fake_x.posts == [] and fake_x.log == [("POST", "/2/media/upload", 401)]


def test_the_fake_refuses_replays_stale_timestamps_and_tampered_forms(
    fake_x: FakeX, make_x
) -> None:
    from requests_oauthlib import OAuth1

    session = make_x().session  # twython's
    ca = str(fake_x.ca_path)
    signed = session.prepare_request(requests.Request("GET", f"{fake_x.url}/2/users/me"))
    assert session.send(signed, verify=ca).status_code == 200
    assert session.send(signed, verify=ca).status_code == 401  # the same nonce again
    c = fake_x.credentials
    stale = OAuth1(c["X_API_KEY"], c["X_API_SECRET"], c["X_ACCESS_TOKEN"], c["X_ACCESS_TOKEN_SECRET"],
                   timestamp=str(int(time.time()) - 3600))  # fmt: skip
    assert requests.get(f"{fake_x.url}/2/users/me", auth=stale).status_code == 401
    form = session.prepare_request(
        requests.Request("POST", f"{fake_x.url}/2/users/me", data={"a": "1"})
    )
    form.body = "a=2"  # a form body is part of the signature
    assert session.send(form, verify=ca).status_code == 401


def test_over_long_text_is_refused_by_x(fake_x: FakeX, make_x, image: Path) -> None:
    with pytest.raises(PlatformError, match="too long") as caught:
        make_x().publish(make_request(image, "\u6545" * 141), pending=None)
    assert not caught.value.retryable and fake_x.posts == []


@pytest.mark.parametrize("how", ["drop", "500", "truncate", "chunked", "gzip"])
def test_a_lost_answer_ends_with_exactly_one_post(
    fake_x: FakeX, make_x, image: Path, how: str
) -> None:
    fake_x.inject("POST", "/2/tweets", lose=how)
    result = make_x().publish(make_request(image), pending=None)
    (post,) = fake_x.posts
    assert result.id == post["id"]
    assert fake_x.count("POST", "/2/tweets") == 1  # found on the timeline: never sent again
    # a body that claims gzip and is plain JSON is read as it is: no lookup needed then
    assert fake_x.count("GET", "/2/users/me") == (0 if how == "gzip" else 1)


def test_a_pending_post_is_found_on_the_next_delivery(
    fake_x: FakeX, make_x, image: Path, clock: SkipClock
) -> None:
    fake_x.timeline_lag = 20.0  # the post shows on the timeline 20 s after it is made
    request = make_request(image, seconds=35)  # too little time to wait out the margin
    started = datetime.fromtimestamp(clock.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_x.inject("POST", "/2/tweets", lose="drop")
    with pytest.raises(PlatformError) as caught:
        make_x().publish(request, pending=None)
    assert caught.value.outcome_unknown
    (post,) = fake_x.posts  # the first attempt made it, and nothing was sent again
    clock.sleep(60)  # Lambda's retry comes a minute later
    pending = {"text": request.text, "painting_id": "p1", "attempt": 1, "started_at": started}
    result = make_x().publish(make_request(image), pending=pending)  # a new container
    assert result.id == post["id"] and len(fake_x.posts) == 1
    assert fake_x.count("POST", "/2/media/upload") == 1  # found before uploading again


def test_a_pending_post_is_found_a_day_later_despite_newer_posts(
    fake_x: FakeX, make_x, image: Path
) -> None:
    """A slot re-run by hand the next day: later posts must not hide ours."""
    request = make_request(image)
    ours = fake_x.seed_post(request.text, age=timedelta(days=1))
    for n in range(LOOKUP_PAGE + 2):
        fake_x.seed_post(f"a later post {n}", age=timedelta(hours=20 - n))
    started = (ours["created_at"] - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pending = {"text": request.text, "painting_id": "p1", "attempt": 1, "started_at": started}
    result = make_x().publish(request, pending=pending)
    assert result.id == ours["id"] and len(fake_x.posts) == LOOKUP_PAGE + 3


def test_pending_whose_text_x_had_long_ago_is_duplicate_content(
    fake_x: FakeX, make_x, image: Path
) -> None:
    request = make_request(image)
    fake_x.seed_post(request.text, age=timedelta(days=40))
    pending = {"text": request.text, "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    with pytest.raises(DuplicateContent):
        make_x().publish(request, pending=pending)
    assert len(fake_x.posts) == 1


def test_a_503_burst_and_a_429_still_post_once(fake_x: FakeX, make_x, image: Path) -> None:
    fake_x.inject("POST", "/2/media/upload", status=503, times=2)
    fake_x.inject("POST", "/2/tweets", status=503, times=2)
    fake_x.inject("POST", "/2/media/metadata", status=429, reset_in=0)
    result = make_x().publish(make_request(image), pending=None)
    (post,) = fake_x.posts
    assert result.id == post["id"] and post["media"][0]["alt_text"]
    assert fake_x.count("POST", "/2/tweets") == 3  # each 503 looked up, then sent again


def test_x_forgetting_the_media_id_still_posts_with_alt_text(
    fake_x: FakeX, make_x, image: Path
) -> None:
    invalid = {"errors": [{"parameters": {"media.media_ids": ["1"]}, "message": "Your media IDs are invalid."}],
               "title": "Invalid Request", "detail": "One or more parameters to your request was invalid."}  # fmt: skip
    fake_x.inject("POST", "/2/tweets", status=400, body=invalid)
    make_x().publish(make_request(image), pending=None)
    (post,) = fake_x.posts
    assert post["media"][0]["alt_text"] == alt_text(painting())
    assert fake_x.count("POST", "/2/media/upload") == 2


def test_weighted_length_of_the_fake_agrees_with_caption() -> None:
    samples = ['"Winter in Kursk"\nAleksandr Deyneka, 1916', "\u6545" * 50, "\U0001f468\u200d\U0001f469 ok",
               unicodedata.normalize("NFD", "\u00c9tude"), "see https://www.wikiart.org/en/x now"]  # fmt: skip
    assert [weighted_length(s) for s in samples] == [x_length(s) for s in samples]


def test_no_credential_reaches_python_logging_even_at_debug(
    fake_x: FakeX, make_x, image: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as a Lambda with AWS_LAMBDA_LOG_LEVEL=DEBUG would
    fake_x.inject("POST", "/2/tweets", lose="drop")  # the retry and lookup paths log too
    make_x().publish(make_request(image), pending=None)
    assert caplog.records  # urllib3 did log at DEBUG
    for value in fake_x.credentials.values():
        assert value not in caplog.text
