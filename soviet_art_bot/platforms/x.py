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

Exactly one post per slot, even when an answer is lost
-------------------------------------------------------
The bot records the text as *pending* before calling :meth:`XPlatform.publish`.
If the answer to ``POST /2/tweets`` is lost (a timeout, a dropped connection,
an answer cut off or unreadable, a 5xx that may have come after the post was
made: any failure except a connection that was never opened), the post may or
may not exist. Re-sending the *identical* text settles it without ever making a
second post, because X refuses a text the account already has:

* ``201``: the earlier attempt had not posted; this is the one post.
* ``403`` duplicate content: the post exists. It is found on the account's
  timeline (``GET /2/users/me``, then ``GET /2/users/:id/tweets``) as the
  newest post with the same text made since the pending attempt started,
  and its id is returned.
* a duplicate with no such post on the timeline means the text belongs to an
  *older* post (X refuses to repeat it), or that the timeline lags: when
  resolving a ``pending`` attempt, :class:`DuplicateContent` (the bot decides
  after how many deliveries to believe it, set the painting aside for X and
  choose another); right after this call's own lost answer, outcome unknown,
  so the slot stays pending and a later delivery looks again.

This is done within one call after a lost answer (bounded retries), and on
the next delivery when the bot passes ``pending``. Whenever the post may
exist and the call cannot settle it, the error says ``outcome_unknown`` so
the bot keeps the record pending instead of posting afresh.

The lookup costs a little (X charges reads per user and per post returned),
and only happens after a lost answer.
"""

from __future__ import annotations

import html
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

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
    PlatformError,
    RateLimited,
)
from ..log import Logger
from ..media import EXTENSIONS
from .base import Platform, PostRequest, PostResult

TEXT_LIMIT = 280
CREDENTIALS = (X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET)
POST_URL = "https://x.com/i/web/status/{id}"

MAX_ATTEMPTS = 4  # per request, for 5xx and connection errors
BACKOFF = 0.5  # seconds before the 2nd attempt; doubles, capped at MAX_BACKOFF
MAX_BACKOFF = 8.0
RATE_LIMIT_MARGIN = 20.0  # seconds kept for posting and recording after a 429 wait
MAX_RATE_LIMIT_WAITS = 3
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
CLOCK_SKEW = timedelta(minutes=5)  # between this host's clock and X's
LOOKUP_TRIES = 3  # the timeline may lag the duplicate check by a moment
LOOKUP_PAGE = 5  # X's smallest max_results: the post sought is among the newest
LOOKUP_WINDOW = timedelta(hours=1)  # a lost post is made within this of its first attempt

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


class _Ambiguous(Exception):
    """POST /2/tweets got no usable answer: the post may exist."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotSent(_Ambiguous):
    """POST /2/tweets never left this host (no connection was made): no post exists."""


def _never_sent(exc: Exception) -> bool:
    """True only when requests could not even open the connection.

    Anything else (a read timeout, a reset, an answer cut short or that will
    not decode, a TLS error) may have come after X read the request and made
    the post.
    """
    import requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if type(exc) is requests.exceptions.ConnectionError:  # not its SSLError or ProxyError
        inner = exc.args[0] if exc.args else None
        return isinstance(inner, MaxRetryError) and isinstance(inner.reason, NewConnectionError)
    return False


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
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XPlatform(Platform):
    """Posts a painting to X with its alt text; see the module docstring."""

    name = "x"

    def __init__(
        self,
        credentials: XCredentials,
        *,
        base_url: str = "https://api.x.com",
        session: Any = None,
        logger: Logger | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(logger=logger)
        self._credentials = credentials
        self.base_url = base_url.rstrip("/")
        self._session = session
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._user_id: str | None = None
        self._maybe_posted = False  # set per publish(): True once the post may exist

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
            self._session = client
        return self._session

    def close(self) -> None:
        if self._session is not None and hasattr(self._session, "close"):
            self._session.close()

    # -- the Platform interface ----------------------------------------------

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        return post_text(painting, limit=TEXT_LIMIT, length=x_length, link=link)

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        self._maybe_posted = pending is not None
        try:
            media_id = self._prepare_media(request)
            return self._create_post(request, media_id, pending=pending)
        except DuplicateContent:
            raise  # always a definite answer: X has no post of ours with this text
        except PlatformError as exc:
            if self._maybe_posted:  # keep the slot pending: the next delivery resolves it
                exc.outcome_unknown = True
                exc.retryable = True
            raise

    # -- requests --------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _timeout(self, request: PostRequest) -> tuple[float, float]:
        left = max(request.remaining() - 1.0, 1.0)
        return (min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))

    def _pause(self, request: PostRequest, attempt: int) -> bool:
        """Sleep before another attempt; False when the invocation has no time left."""
        delay = min(self.backoff * (2 ** (attempt - 1)), MAX_BACKOFF)
        if request.remaining() - delay < RATE_LIMIT_MARGIN / 2:
            return False
        self._sleep(delay)
        return True

    def _rate_limit_wait(self, response: Any, request: PostRequest, waits: int, step: str) -> None:
        """Wait out a 429 when the reset comes in time; otherwise raise RateLimited."""
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
        if reset_at is None and headers.get("retry-after", "").isdigit():
            reset_at = self._clock() + float(headers["retry-after"])
        capped = "usage-capped" in str(problem.get("type", "")) or "UsageCap" in str(
            problem.get("title", "")
        )
        when = (
            datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            if reset_at
            else None
        )
        if not capped and reset_at is not None and waits < MAX_RATE_LIMIT_WAITS:
            wait = max(reset_at - self._clock(), 0.0) + 1.0  # the reset is in whole seconds
            if wait <= request.remaining() - RATE_LIMIT_MARGIN:
                self.logger.warning(
                    "x_rate_limited", request=step, wait_s=round(wait, 1), reset=when,
                    outcome="waiting",
                )  # fmt: skip
                self._sleep(wait)
                return
        raise RateLimited(
            self.name,
            f"{step}: X rate limit ({_describe(response, problem)})"
            + (f"; it resets at {when}" if when else "")
            + (
                "; the app's usage cap is reached: raise it in the X Developer Console"
                if capped
                else "; a later delivery of the slot posts it"
            ),
            status=429,
            retryable=True,
        )

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

    def _send(
        self, method: str, path: str, request: PostRequest, *, step: str, **kwargs: Any
    ) -> Any:
        """One request with bounded retries for 429, 5xx and connection errors.

        For everything but ``POST /2/tweets`` (which :meth:`_create_post`
        handles itself), repeating a request is harmless.
        """
        import requests

        attempt = 0
        waits = 0
        while True:
            attempt += 1
            reason: str
            try:
                response = self.session.request(
                    method, self._url(path), timeout=self._timeout(request), **kwargs
                )
            except requests.RequestException as exc:
                reason = f"{type(exc).__name__} talking to {self.base_url}"
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429:
                    self._rate_limit_wait(response, request, waits, step)
                    waits += 1
                    attempt -= 1
                    continue
                if status < 500:
                    return response  # the caller maps it
                reason = _describe(response, _problem(response))
            self.logger.warning(
                "x_retry", request=step, attempt=attempt, reason=reason, outcome="retrying"
            )
            if attempt >= self.max_attempts or not self._pause(request, attempt):
                raise PlatformError(
                    self.name,
                    f"{step}: X did not answer after {attempt} attempts ({reason}); "
                    "a later delivery retries",
                    retryable=True,
                )

    # -- the three steps ------------------------------------------------------

    def _upload(self, request: PostRequest) -> str:
        step = "POST /2/media/upload"
        with open(request.image_path, "rb") as fh:
            data = fh.read()
        filename = f"{request.painting.id}{EXTENSIONS.get(request.mime_type, '')}"
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
        self, request: PostRequest, media_id: str, *, pending: dict[str, Any] | None
    ) -> PostResult:
        step = "POST /2/tweets"
        since = self._pending_since(pending) if pending is not None else None
        attempt = 0
        waits = 0
        reuploaded = False
        while True:
            attempt += 1
            body = {"text": request.text, "media": {"media_ids": [media_id]}}
            sent_at = datetime.fromtimestamp(self._clock(), UTC)
            try:
                response = self._post_once(request, body)
            except _NotSent as unsent:
                self.logger.warning(
                    "x_retry", request=step, attempt=attempt, reason=unsent.reason,
                    outcome="retrying",
                )  # fmt: skip
                if attempt >= self.max_attempts or not self._pause(request, attempt):
                    raise PlatformError(
                        self.name,
                        f"{step}: could not connect after {attempt} attempts ({unsent.reason}); "
                        "a later delivery retries",
                        retryable=True,
                    ) from None
                continue
            except _Ambiguous as lost:
                if since is None:
                    since = sent_at - CLOCK_SKEW
                self._maybe_posted = True
                self.logger.warning(
                    "x_answer_lost", request=step, attempt=attempt, reason=lost.reason,
                    outcome="resolving",
                )  # fmt: skip
                if attempt >= self.max_attempts or not self._pause(request, attempt):
                    raise PlatformError(
                        self.name,
                        f"{step}: the answer was lost {attempt} times ({lost.reason}); the post "
                        "may exist, and the next delivery of this slot finds it instead of "
                        "posting again",
                        retryable=True,
                        outcome_unknown=True,
                    ) from None
                continue
            status = response.status_code
            if status in (200, 201):
                try:
                    post_id = str(response.json()["data"]["id"])
                except (ValueError, KeyError, TypeError):
                    raise PlatformError(
                        self.name,
                        f"{step}: X answered {status} without data.id; the post may exist",
                        retryable=True,
                        outcome_unknown=True,
                    ) from None
                return PostResult(id=post_id, url=POST_URL.format(id=post_id))
            problem = _problem(response)
            if status == 429:
                self._rate_limit_wait(response, request, waits, step)
                waits += 1
                attempt -= 1
                continue
            if _is_duplicate(status, problem):
                if since is not None and pending is None:
                    # Our attempt of a moment ago may be that post, not yet on
                    # the timeline: never conclude "older post" in this call.
                    try:
                        return self._find_post(request, since)
                    except DuplicateContent as exc:
                        raise PlatformError(
                            self.name,
                            f"{exc}; but this call's own attempt may be that post, not yet "
                            "on the timeline: the next delivery of this slot looks again",
                            status=exc.status,
                            retryable=True,
                            outcome_unknown=True,
                        ) from None
                if since is not None:  # our own earlier attempt may be that post
                    return self._find_post(request, since)
                raise DuplicateContent(
                    self.name,
                    f"{step}: X refuses to repeat an earlier post's text "
                    f"({_describe(response, problem)}); choosing another painting for X",
                    status=status,
                )
            said = _describe(response, problem)
            if not reuploaded and _is_unknown_media(status, problem, said):
                self.logger.warning("x_media_forgotten", reason=said, outcome="uploading again")
                reuploaded = True
                media_id = self._prepare_media(request)
                attempt -= 1
                continue
            raise self._error(response, step)

    def _post_once(self, request: PostRequest, body: dict[str, Any]) -> Any:
        """Send POST /2/tweets once; raise _Ambiguous when the post may exist.

        Every requests failure is ambiguous (X may have made the post before
        the answer broke) except a connection that was never opened
        (:class:`_NotSent`).
        """
        import requests

        try:
            response = self.session.request(
                "POST", self._url("/2/tweets"), json=body, timeout=self._timeout(request)
            )
        except requests.RequestException as exc:
            reason = f"{type(exc).__name__} talking to {self.base_url}"
            raise (_NotSent if _never_sent(exc) else _Ambiguous)(reason) from None
        if response.status_code >= 500:
            raise _Ambiguous(_describe(response, _problem(response)))
        return response

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

    def _find_post(self, request: PostRequest, since: datetime) -> PostResult:
        """X says the text exists: return our post made since ``since``, if it is ours."""
        user_id = self._me(request)
        step = f"GET /2/users/{user_id}/tweets"
        params = {
            "max_results": LOOKUP_PAGE,
            "start_time": _iso(since),
            "exclude": "replies,retweets",
            "post.fields": "created_at",
        }
        # A slot resolved long after its attempt (a manual re-run the next day)
        # must not have its post pushed out of the page by later ones.
        until = since + LOOKUP_WINDOW
        if until < datetime.now(UTC) - timedelta(seconds=30):
            params["end_time"] = _iso(until)
        for attempt in range(1, LOOKUP_TRIES + 1):
            response = self._send(
                "GET", f"/2/users/{user_id}/tweets", request, step=step, params=params
            )
            if response.status_code >= 400:
                raise self._error(response, step)
            try:
                posts = response.json().get("data") or []
            except (ValueError, AttributeError):
                posts = []
            for post in posts:  # newest first
                if isinstance(post, dict) and _same_text(str(post.get("text", "")), request.text):
                    post_id = str(post["id"])
                    self.logger.info(
                        "x_post_found", post_id=post_id, created_at=post.get("created_at"),
                        outcome="resolved",
                    )  # fmt: skip
                    return PostResult(id=post_id, url=POST_URL.format(id=post_id))
            if attempt < LOOKUP_TRIES and not self._pause(request, attempt):
                raise PlatformError(
                    self.name,
                    f"{step}: X says the post exists but it is not on the timeline yet and "
                    "this invocation has no time left to look again; the next delivery does",
                    retryable=True,
                    outcome_unknown=True,
                )
        raise DuplicateContent(
            self.name,
            f"POST /2/tweets: X refuses the text as a duplicate and no post of ours with it "
            f"was made since {_iso(since + CLOCK_SKEW)}: an older post has it; choosing "
            "another painting for X",
            status=403,
        )


def create(
    settings: Settings, secrets: Secrets, *, logger: Logger, x_session: Any = None, **_: Any
) -> XPlatform:
    """The X platform; all four credentials are checked here, before any request.

    ``x_session`` replaces twython's session (the bot hands the same keyword
    arguments to every platform, hence the prefix).
    """
    credentials = XCredentials.from_secrets(secrets)
    return XPlatform(
        credentials, base_url=settings.x_api_base_url, session=x_session, logger=logger
    )
