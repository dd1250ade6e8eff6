"""X (Twitter): twython's OAuth 1.0a session on the v2 API.

twython is the project's X library, but its ``upload_media`` and
``update_status`` call v1.1 endpoints X has retired, and it reads v1.1 error
fields. What still works is its signing: ``Twython(...).client`` is a
``requests.Session`` whose ``auth`` is requests-oauthlib's ``OAuth1``, which
signs any request correctly (the query string, and a form-urlencoded body;
a multipart or JSON body is not part of an OAuth 1.0a signature). So this
module sends full v2 URLs through that session and reads the v2 problem
bodies (``detail``, ``title``, ``status``, ``errors[].message``) itself:

1. ``POST /2/media/upload``   multipart ``media`` + ``media_category=tweet_image``
2. ``POST /2/media/metadata`` ``{"id", "metadata": {"alt_text": {"text"}}}``
3. ``POST /2/tweets``         ``{"text", "media": {"media_ids": [id]}}``

Exactly one post per slot, without trusting X's duplicate check
--------------------------------------------------------------
X does not document how long it refuses a repeated text, nor whether a
re-send with another media id counts as a repeat, so a re-send after a lost
answer could be a second post. Instead, after an answer to ``POST /2/tweets``
is lost (a timeout, a dropped connection, an answer cut off or unreadable, a
5xx: anything :func:`~soviet_art_bot.net.may_have_arrived` cannot rule out),
the bot **looks first**: it reads the account's timeline
(``GET /2/users/me``, then ``GET /2/users/:id/tweets`` with
``start_time`` = the first attempt's time less 5 minutes of clock skew,
every page) for a post with the same text (X's HTML entities and t.co links
aside).

* Found: that is the slot's post; its id is returned.
* Not found, and the lookup is **conclusive**: every page since the first
  attempt was read (no ``next_token`` left within 5 pages of 100), and the
  read began at least :data:`LAG_MARGIN` seconds after the lost attempt ended
  (X's timeline is given that long to show a new post; the first look comes
  at once, the second after the margin). Then X made no post, and the text is
  sent again (with the same media id while X knows it).
* Not settled (the invocation has no time left to wait out the margin, the
  lookup failed, or too many posts since): the error says
  ``outcome_unknown``, names the slot and what to check, and the slot stays
  pending. The next delivery passes ``pending``, and :meth:`XPlatform.publish`
  looks first again (the margin then runs from that moment, since the last
  attempt's end is not recorded) before uploading anything.

A 403 duplicate answer is therefore never read as "our post exists": to a
first attempt it means an older post has the text (:class:`DuplicateContent`,
the bot chooses another painting); to a re-send made after a conclusive
lookup, the same, after one more look.

The lookup costs a little (X charges reads per user and per post returned),
and only happens after a lost answer.
"""

from __future__ import annotations

import html
import logging
import random
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import net
from ..caption import post_text, x_length
from ..catalog import Painting
from ..config import (
    X_ACCESS_TOKEN,
    X_ACCESS_TOKEN_SECRET,
    X_API_KEY,
    X_API_SECRET,
    Secrets,
    Settings,
)
from ..errors import (
    AuthError,
    ConfigError,
    DuplicateContent,
    EventError,
    PlatformError,
    RateLimited,
)
from ..log import Logger
from ..media import EXTENSIONS
from ..times import parse_time
from .base import Platform, PostRequest, PostResult

TEXT_LIMIT = 280
CREDENTIALS = (X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET)
POST_URL = "https://x.com/i/web/status/{id}"

# Requests that are harmless to repeat, and POST /2/tweets once X's timeline
# shows it made no post: 4 attempts, backoff 0.5 s doubling to 8 s (with jitter).
RETRY = net.RetryPolicy(attempts=4, base=0.5, cap=8.0, max_retry_after=900.0)
RATE_LIMIT_MARGIN = 20.0  # seconds kept for posting and recording after a 429 wait
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_ANSWER = 1_000_000  # bytes of an answer: X's are a few kilobytes
CLOCK_SKEW = timedelta(minutes=5)  # between this host's clock and X's
LAG_MARGIN = 30.0  # seconds X's timeline is given to show a post after its request ended
LOOKUP_PAGE = 100  # X's largest max_results: one page holds days of this bot's posts
LOOKUP_PAGES = 5  # pages read before the lookup gives up as inconclusive

_CREDENTIALS_TEXT = "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET"
_DUPLICATE = re.compile(r"duplicate", re.IGNORECASE)
_MEDIA_ID = re.compile(r"media[ _]?ids?\b|media\.media_ids", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)

# requests-oauthlib and oauthlib log the signed headers and the signature base
# string (consumer key, access token) at DEBUG; whatever level the root logger
# is set to, those lines are never written.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)


class XCredentials:
    """The four OAuth 1.0a values; ``repr`` and ``str`` never show them."""

    __slots__ = ("api_key", "api_secret", "access_token", "access_token_secret")

    def __init__(
        self, api_key: str, api_secret: str, access_token: str, access_token_secret: str
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret

    @classmethod
    def from_secrets(cls, secrets: Secrets) -> XCredentials:
        """Read all four, naming every missing one in a single ConfigError."""
        values: dict[str, str] = {}
        missing: list[str] = []
        for name in CREDENTIALS:
            try:
                values[name] = secrets.get(name)
            except ConfigError:
                missing.append(name)
        if missing:
            where = (
                f"SSM parameters under {secrets.ssm_path}/"
                if secrets.ssm_path
                else "environment variables"
            )
            raise ConfigError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set "
                f"({where}); the x platform needs {_CREDENTIALS_TEXT} of an X app with "
                "Read and Write permission; see the README"
            )
        return cls(*(values[name] for name in CREDENTIALS))

    def __repr__(self) -> str:
        return "XCredentials(***)"

    __str__ = __repr__


def _problem(response: Any) -> dict[str, Any]:
    """The v2 problem fields of an error answer (empty when the body is not JSON)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _describe(response: Any, problem: dict[str, Any]) -> str:
    """``403 Forbidden: You are not allowed ...`` from X's own words, kept short."""
    parts = [str(problem.get("title") or getattr(response, "reason", "") or "").strip()]
    detail = str(problem.get("detail") or "").strip()
    if detail and detail not in parts:
        parts.append(detail)
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("detail") or "").strip()
            if message and message not in parts:
                parts.append(message)
    text = ": ".join(p for p in parts if p) or "no details"
    return f"{response.status_code} {text}"[:400]


def _is_duplicate(status: int, problem: dict[str, Any]) -> bool:
    words = f"{problem.get('detail', '')} {problem.get('title', '')}"
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            words += f" {error.get('message', '')}"
    return status == 403 and bool(_DUPLICATE.search(words))


def _is_unknown_media(status: int, problem: dict[str, Any], text: str) -> bool:
    """X no longer knows our media id (expired, or lost on its side): upload again."""
    if status not in (400, 404):
        return False
    for error in problem.get("errors") or []:
        if isinstance(error, dict) and any(
            _MEDIA_ID.search(k) for k in error.get("parameters") or {}
        ):
            return True
    return bool(_MEDIA_ID.search(text))


def _same_text(theirs: str, ours: str) -> bool:
    """X answers with HTML entities and t.co links (for the image, and any link)."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFC", html.unescape(text))
        return " ".join(_URL.sub(" ", text).split())

    return norm(theirs) == norm(ours)


def _parse_time(value: Any) -> datetime | None:
    try:
        return parse_time(value, what="a stored time", bounded=False)
    except EventError:
        return None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Lost(Exception):
    """POST /2/tweets got no usable answer, and the request may have reached X."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _UnknownMedia(Exception):
    """X no longer knows the media id (expired, or lost on its side): upload again."""

    def __init__(self, reason: str, error: PlatformError) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class _Waiting(net.TryAgain):
    """A 429 whose reset comes in time: wait for it, then try again."""


class XPlatform(Platform):
    """Posts a painting to X with its alt text; see the module docstring.

    Built with what it talks through, as an httpx client is: a test passes a
    ``requests``-like ``session`` (the real one is twython's signing session),
    a ``sleep``, a ``clock`` (``time.time``-like: the lookup's times and the
    lag margin) and an ``rng`` for the backoff's jitter.
    """

    name = "x"

    def __init__(
        self,
        credentials: XCredentials,
        *,
        base_url: str = "https://api.x.com",
        session: Any = None,
        logger: Logger | None = None,
        policy: net.RetryPolicy = RETRY,
        lag_margin: float = LAG_MARGIN,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(logger=logger)
        self._credentials = credentials
        self.base_url = base_url.rstrip("/")
        self._session = session
        self.policy = policy
        self.lag_margin = lag_margin
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._user_id: str | None = None

    def __repr__(self) -> str:
        return f"XPlatform(base_url={self.base_url!r})"

    @property
    def session(self) -> Any:
        """twython's OAuth 1.0a session, built on first use (cold starts pay only if posting)."""
        if self._session is None:
            from twython import Twython

            creds = self._credentials
            client = Twython(
                creds.api_key, creds.api_secret, creds.access_token, creds.access_token_secret
            ).client  # the signing session; the Twython object itself is not kept
            self._session = net.mount(client)
        return self._session

    def close(self) -> None:
        if self._session is not None and hasattr(self._session, "close"):
            self._session.close()

    # -- the Platform interface ----------------------------------------------

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        return post_text(painting, limit=TEXT_LIMIT, length=x_length, link=link)

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        since: datetime | None = None
        if pending is not None:
            # Look first: the earlier delivery's post may exist. Its last attempt
            # may have ended a moment ago, so the margin runs from now.
            since = self._pending_since(pending)
            found = self._settle(request, since, self._clock() + self.lag_margin,
                                 "an earlier delivery's answer was lost")  # fmt: skip
            if found is not None:
                return found
        media_id = self._prepare_media(request)
        return self._create_post(request, media_id, since=since)

    # -- requests --------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _deadline(self, request: PostRequest) -> net.Deadline:
        """The invocation's time, less what posting and recording need after a wait."""
        return net.Deadline(request.remaining() - RATE_LIMIT_MARGIN / 2)

    def _exchange(self, method: str, path: str, deadline: net.Deadline, **kwargs: Any) -> Any:
        """One request, connect to last byte within ``deadline``, its answer capped."""
        return net.request(
            self.session, method, self._url(path), deadline=deadline, max_bytes=MAX_ANSWER,
            connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, **kwargs,
        )  # fmt: skip

    def _rate_limit(self, response: Any, request: PostRequest, step: str) -> _Waiting:
        """A 429 to wait out (its reset comes in time), or RateLimited raised."""
        problem = _problem(response)
        headers = response.headers
        resets = []
        for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
            if headers.get(f"{prefix}-remaining") == "0" and headers.get(f"{prefix}-reset"):
                resets.append(headers[f"{prefix}-reset"])
        if not resets and headers.get("x-rate-limit-reset"):
            resets.append(headers["x-rate-limit-reset"])
        reset_at: float | None = None
        for value in resets:
            try:
                reset_at = max(reset_at or 0.0, float(value))
            except ValueError:
                continue
        after = net.retry_after(headers.get("retry-after"))
        if reset_at is None and after is not None:
            reset_at = self._clock() + after
        capped = "usage-capped" in str(problem.get("type", "")) or "UsageCap" in str(
            problem.get("title", "")
        )
        when = (
            datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            if reset_at
            else None
        )
        message = (
            f"{step}: X rate limit ({_describe(response, problem)})"
            + (f"; it resets at {when}" if when else "")
            + (
                "; the app's usage cap is reached: raise it in the X Developer Console"
                if capped
                else "; a later delivery of the slot posts it"
            )
        )
        if not capped and reset_at is not None:
            wait = max(reset_at - self._clock(), 0.0) + 1.0  # the reset is in whole seconds
            if wait <= request.remaining() - RATE_LIMIT_MARGIN:
                self.logger.warning("x_rate_limited", request=step, wait_s=round(wait, 1),
                                    reset=when, outcome="waiting")  # fmt: skip
                return _Waiting(message, status=429, retry_after=wait)
        raise RateLimited(self.name, message, status=429, retryable=True)

    def _error(self, response: Any, step: str) -> PlatformError:
        """The error an operator can act on, from X's status and v2 problem body."""
        status = response.status_code
        problem = _problem(response)
        said = _describe(response, problem)
        if status == 401:
            return AuthError(
                self.name,
                f"{step}: X rejected the credentials ({said}); check {_CREDENTIALS_TEXT} "
                "(all four come from the same app in the X Developer Console)",
                status=status,
            )
        if status == 403 and "oauth1-permissions" in str(problem.get("type", "")):
            return AuthError(
                self.name,
                f"{step}: X says the app may not post ({said}); give the app Read and Write "
                "permission, then regenerate X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
                status=status,
            )
        if status == 402:
            return PlatformError(
                self.name,
                f"{step}: X refused for payment ({said}); buy API credits in the "
                "X Developer Console",
                status=status,
            )
        if status >= 500:
            return PlatformError(
                self.name, f"{step}: X failed ({said}); a later delivery retries", status=status,
                retryable=True,
            )  # fmt: skip
        return PlatformError(self.name, f"{step}: X refused the request ({said})", status=status)

    def _retry(
        self, attempt: Callable[[net.Deadline], Any], request: PostRequest, step: str
    ) -> Any:
        """``attempt`` through the one retry helper; a final failure as the bot's error."""

        def on_retry(n: int, exc: net.TryAgain, wait: float) -> None:
            self.logger.warning("x_retry", request=step, attempt=n + 1, reason=exc.reason,
                                wait_s=round(wait, 2), outcome="retrying")  # fmt: skip

        try:
            return net.retry(
                attempt, policy=self.policy, deadline=self._deadline(request),
                per_attempt=CONNECT_TIMEOUT + READ_TIMEOUT, sleep=self._sleep, rng=self._rng,
                on_retry=on_retry,
            )  # fmt: skip
        except net.GaveUp as exc:
            if isinstance(exc.last, _Waiting):
                raise RateLimited(self.name, exc.last.reason, status=429, retryable=True) from None
            raise PlatformError(
                self.name,
                f"{step}: X did not answer after {exc.attempts} attempts ({exc.last.reason}); "
                "a later delivery retries",
                status=exc.last.status,
                retryable=True,
            ) from None

    def _send(self, method: str, path: str, request: PostRequest, *, step: str,
              **kwargs: Any) -> Any:  # fmt: skip
        """A request that is harmless to repeat, retried on 429, 5xx and failed exchanges.

        Returns X's answer (a 4xx is the caller's to map).
        """
        import requests

        def attempt(deadline: net.Deadline) -> Any:
            try:
                response = self._exchange(method, path, deadline, **kwargs)
            except (requests.RequestException, net.NetError) as exc:
                raise net.TryAgain(f"{type(exc).__name__} talking to {self.base_url}") from None
            if response.status_code == 429:
                raise self._rate_limit(response, request, step)
            if response.status_code >= 500:
                raise net.TryAgain(_describe(response, _problem(response)),
                                   status=response.status_code)  # fmt: skip
            return response

        return self._retry(attempt, request, step)

    # -- the three steps ------------------------------------------------------

    def _upload(self, request: PostRequest) -> str:
        step = "POST /2/media/upload"
        with open(request.image_path, "rb") as fh:
            data = fh.read()
        filename = f"{request.painting.id}{EXTENSIONS.get(request.mime_type, '')}"
        # X's description declares media, media_category and additional_owners, nothing else
        response = self._send(
            "POST", "/2/media/upload", request, step=step,
            files={"media": (filename, data, request.mime_type)},
            data={"media_category": "tweet_image"},
        )  # fmt: skip
        if response.status_code >= 400:
            raise self._error(response, step)
        try:
            media_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            raise PlatformError(
                self.name, f"{step}: X's answer has no data.id", retryable=True
            ) from None
        return media_id

    def _prepare_media(self, request: PostRequest) -> str:
        """Upload the image and give it its alt text; a fresh upload if X forgets the id."""
        step = "POST /2/media/metadata"
        for tries in (1, 2):
            media_id = self._upload(request)
            body = {"id": media_id, "metadata": {"alt_text": {"text": request.alt_text}}}
            response = self._send("POST", "/2/media/metadata", request, step=step, json=body)
            if response.status_code < 400:
                return media_id
            said = _describe(response, _problem(response))
            if tries == 1 and _is_unknown_media(response.status_code, _problem(response), said):
                self.logger.warning("x_media_forgotten", reason=said, outcome="uploading again")
                continue
            raise self._error(response, step)
        raise AssertionError("unreachable")  # pragma: no cover

    def _create_post(
        self, request: PostRequest, media_id: str, *, since: datetime | None
    ) -> PostResult:
        """POST /2/tweets until X has the post, never a second one.

        After a lost answer the timeline is read first (:meth:`_settle`); the
        text is sent again only when that lookup shows conclusively that X
        made no post. ``since`` is set once a post may exist.
        """
        step = "POST /2/tweets"
        media = [media_id]
        reuploaded = False

        def attempt(deadline: net.Deadline) -> PostResult:
            nonlocal since, reuploaded
            sent_at = datetime.fromtimestamp(self._clock(), UTC)
            try:
                return self._post_once(request, media[0], deadline, since=since)
            except _Lost as lost:
                if since is None:
                    since = sent_at - CLOCK_SKEW
                self.logger.warning("x_answer_lost", request=step, reason=lost.reason,
                                    outcome="looking")  # fmt: skip
                found = self._settle(request, since, self._clock() + self.lag_margin, lost.reason)
                if found is not None:
                    return found
                raise net.TryAgain(f"{lost.reason}; X's timeline shows no post") from None
            except _UnknownMedia as unknown:
                if reuploaded:
                    raise unknown.error from None
                self.logger.warning("x_media_forgotten", reason=unknown.reason,
                                    outcome="uploading again")  # fmt: skip
                reuploaded = True
                media[0] = self._prepare_media(request)
                raise net.TryAgain(unknown.reason, retry_after=0.0) from None

        return self._retry(attempt, request, step)

    def _post_once(
        self, request: PostRequest, media_id: str, deadline: net.Deadline, *,
        since: datetime | None,
    ) -> PostResult:  # fmt: skip
        """One POST /2/tweets: the post, or why not (``_Lost``: it may exist)."""
        import requests

        step = "POST /2/tweets"
        body = {"text": request.text, "media": {"media_ids": [media_id]}}
        try:
            response = self._exchange("POST", "/2/tweets", deadline, json=body)
        except (requests.RequestException, net.NetError) as exc:
            reason = f"{type(exc).__name__} talking to {self.base_url}"
            if net.may_have_arrived(exc):
                raise _Lost(reason) from None
            raise net.TryAgain(f"{reason} (nothing was sent)") from None
        status = response.status_code
        problem = _problem(response)
        if status in (200, 201):
            try:
                post_id = str(response.json()["data"]["id"])
            except (ValueError, KeyError, TypeError):
                raise _Lost(f"X answered {status} without data.id") from None
            return PostResult(id=post_id, url=POST_URL.format(id=post_id))
        if status == 429:  # refused before anything happened
            raise self._rate_limit(response, request, step)
        if status >= 500:  # may come after the post was made
            raise _Lost(_describe(response, problem))
        if _is_duplicate(status, problem):
            if since is not None:  # settled before this re-send; one more look costs little
                found, _ = self._look(request, since)
                if found is not None:
                    return found
            raise DuplicateContent(
                self.name,
                f"{step}: X refuses to repeat an earlier post's text "
                f"({_describe(response, problem)}); choosing another painting for X",
                status=status,
            )
        said = _describe(response, problem)
        if _is_unknown_media(status, problem, said):
            raise _UnknownMedia(said, self._error(response, step))
        raise self._error(response, step)

    # -- finding a post whose answer was lost ---------------------------------

    def _pending_since(self, pending: dict[str, Any]) -> datetime:
        """When the pending attempt started (minus clock skew); a day ago if unknown."""
        for key in ("started_at", "at", "time"):
            when = _parse_time(pending.get(key))
            if when is not None:
                return when - CLOCK_SKEW
        return datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=1)

    def _me(self, request: PostRequest) -> str:
        if self._user_id is None:
            step = "GET /2/users/me"
            response = self._send("GET", "/2/users/me", request, step=step)
            if response.status_code >= 400:
                raise self._error(response, step)
            try:
                self._user_id = str(response.json()["data"]["id"])
            except (ValueError, KeyError, TypeError):
                raise PlatformError(self.name, f"{step}: no data.id in X's answer") from None
        return self._user_id

    def _look(self, request: PostRequest, since: datetime) -> tuple[PostResult | None, bool]:
        """Our post on the account's timeline since ``since``, and whether every page was read.

        Every post since then is read, newest first, up to
        ``LOOKUP_PAGES`` pages; the match is the post with our text (X's
        entities and t.co links aside).
        """
        user_id = self._me(request)
        step = f"GET /2/users/{user_id}/tweets"
        params: dict[str, Any] = {  # only what X's description declares for this path
            "max_results": LOOKUP_PAGE,
            "start_time": _iso(since),
            "exclude": "replies,retweets",
            "post.fields": "created_at",
        }
        for _ in range(LOOKUP_PAGES):
            response = self._send("GET", f"/2/users/{user_id}/tweets", request, step=step,
                                  params=params)  # fmt: skip
            if response.status_code >= 400:
                raise self._error(response, step)
            try:
                answer = response.json()
                posts = answer.get("data") or []
                next_token = (answer.get("meta") or {}).get("next_token")
            except (ValueError, AttributeError):
                raise PlatformError(self.name, f"{step}: X's answer is not JSON") from None
            for post in posts:
                if isinstance(post, dict) and _same_text(str(post.get("text", "")), request.text):
                    post_id = str(post["id"])
                    self.logger.info("x_post_found", post_id=post_id,
                                     created_at=post.get("created_at"), outcome="resolved")  # fmt: skip
                    return PostResult(id=post_id, url=POST_URL.format(id=post_id)), True
            if not next_token:
                return None, True
            params = {**params, "pagination_token": str(next_token)}
        return None, False

    def _settle(
        self, request: PostRequest, since: datetime, settle_at: float, reason: str
    ) -> PostResult | None:
        """Did an attempt since ``since`` make the post? Its result, None if conclusively not.

        Conclusive means: every post since ``since`` was read, and the read
        began after ``settle_at`` (the attempt's end plus the lag margin X's
        timeline is given to show a new post). A first look comes at once
        (the post is usually there); when it finds nothing, a second comes at
        ``settle_at``. When that cannot be had, raise an error that keeps the
        slot pending.
        """
        while True:
            looked_at = self._clock()
            try:
                found, complete = self._look(request, since)
            except PlatformError as exc:
                raise self._unsettled(request, since, reason, f"the lookup failed: {exc}") from None
            if found is not None:
                return found
            if not complete:
                raise self._unsettled(request, since, reason,
                                      f"more than {LOOKUP_PAGES * LOOKUP_PAGE} posts since "
                                      "then, and the lookup stops there")  # fmt: skip
            if looked_at >= settle_at:
                self.logger.info("x_post_absent", since=_iso(since), outcome="sending")
                return None
            wait = settle_at - self._clock()
            if wait > self._deadline(request).remaining():
                raise self._unsettled(request, since, reason,
                                      f"X may show a post up to {self.lag_margin:.0f} s after it "
                                      "is made, and this invocation has no time left to wait")  # fmt: skip
            self._sleep(max(wait, 0.0))

    def _unsettled(
        self, request: PostRequest, since: datetime, reason: str, why: str
    ) -> PlatformError:
        """The slot stays pending: the post may exist and nothing here could tell."""
        start = _iso(since + CLOCK_SKEW)
        return PlatformError(
            self.name,
            f"slot {request.slot}: the answer to POST /2/tweets was lost ({reason}) and X's "
            f"timeline cannot yet show whether that post exists: {why}. The slot stays "
            "pending; its next delivery looks again before posting anything. If it stays "
            f"pending, look at the account's posts since {start} on x.com (a post of this "
            "painting there is the slot's post) and check that the app may read them "
            "(GET /2/users/:id/tweets needs Read permission and credits for Posts: Read)",
            retryable=True,
            outcome_unknown=True,
        )


def create(settings: Settings, secrets: Secrets, *, logger: Logger, **_: Any) -> XPlatform:
    """The real X platform (twython's session); all four credentials are checked here."""
    credentials = XCredentials.from_secrets(secrets)
    return XPlatform(credentials, base_url=settings.x_api_base_url, logger=logger)
