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

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
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
    ConfigError,
    DuplicateContent,
    PlatformError,
    RateLimited,
)
from ..log import Logger
from ..media import EXTENSIONS
from . import x_answers as answers
from .base import Platform, PostRequest, PostResult
from .x_lookup import LOOKUP_PAGE, POST_URL, Timeline

__all__ = ["CREDENTIALS", "LAG_MARGIN", "LOOKUP_PAGE", "XCredentials", "XPlatform", "create"]

TEXT_LIMIT = 280
CREDENTIALS = (X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET)

# Requests that are harmless to repeat, and POST /2/tweets once X's timeline
# shows it made no post: 4 attempts, backoff 0.5 s doubling to 8 s (with jitter).
RETRY = net.RetryPolicy(attempts=4, base=0.5, cap=8.0, max_retry_after=900.0)
RATE_LIMIT_MARGIN = 20.0  # seconds kept for posting and recording after a 429 wait
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_ANSWER = 1_000_000  # bytes of an answer: X's are a few kilobytes
LAG_MARGIN = 30.0  # seconds X's timeline is given to show a post after its request ended


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
                f"({where}); the x platform needs {answers.CREDENTIALS_TEXT} of an X app with "
                "Read and Write permission; see the README"
            )
        return cls(*(values[name] for name in CREDENTIALS))

    def __repr__(self) -> str:
        return "XCredentials(***)"

    __str__ = __repr__


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
        self.timeline = Timeline(self, logger=self.logger, lag_margin=lag_margin,
                                 clock=clock, sleep=sleep)  # fmt: skip

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
            since = self.timeline.since_first_attempt(pending)
            found = self.timeline.settle(request, since, self._clock() + self.lag_margin,
                                 "an earlier delivery's answer was lost")  # fmt: skip
            if found is not None:
                return found
        media_id = self._prepare_media(request)
        return self._create_post(request, media_id, since=since)

    # -- requests --------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def time_left(self, request: PostRequest) -> float:
        """Seconds this invocation can still spend waiting (the lookup's margin)."""
        return self._deadline(request).remaining()

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
        limit = answers.rate_limit(response, self._clock())
        if not limit.capped and limit.reset_at is not None:
            wait = max(limit.reset_at - self._clock(), 0.0) + 1.0  # the reset is in whole seconds
            if wait <= request.remaining() - RATE_LIMIT_MARGIN:
                self.logger.warning("x_rate_limited", request=step, wait_s=round(wait, 1),
                                    reset=limit.when, outcome="waiting")  # fmt: skip
                return _Waiting(limit.message(step), status=429, retry_after=wait)
        raise RateLimited(self.name, limit.message(step), status=429, retryable=True)

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

    def send(self, method: str, path: str, request: PostRequest, *, step: str,
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
                raise net.TryAgain(answers.describe(response, answers.problem(response)),
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
        response = self.send(
            "POST", "/2/media/upload", request, step=step,
            files={"media": (filename, data, request.mime_type)},
            data={"media_category": "tweet_image"},
        )  # fmt: skip
        if response.status_code >= 400:
            raise answers.error_for(response, step)
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
            response = self.send("POST", "/2/media/metadata", request, step=step, json=body)
            if response.status_code < 400:
                return media_id
            said = answers.describe(response, answers.problem(response))
            if tries == 1 and answers.is_unknown_media(
                response.status_code, answers.problem(response), said
            ):
                self.logger.warning("x_media_forgotten", reason=said, outcome="uploading again")
                continue
            raise answers.error_for(response, step)
        raise AssertionError("unreachable")  # pragma: no cover

    def _create_post(
        self, request: PostRequest, media_id: str, *, since: datetime | None
    ) -> PostResult:
        """POST /2/tweets until X has the post, never a second one.

        After a lost answer the timeline is read first (:meth:`.Timeline.settle`); the
        text is sent again only when that lookup shows conclusively that X
        made no post. ``since`` is set once a post may exist.
        """
        step = "POST /2/tweets"
        media = [media_id]
        reuploaded = False

        def attempt(deadline: net.Deadline) -> PostResult:
            nonlocal since, reuploaded
            sent_at = self.timeline.since_now()
            try:
                return self._post_once(request, media[0], deadline, since=since)
            except _Lost as lost:
                if since is None:
                    since = sent_at
                self.logger.warning("x_answer_lost", request=step, reason=lost.reason,
                                    outcome="looking")  # fmt: skip
                found = self.timeline.settle(request, since, self._clock() + self.lag_margin,
                                             lost.reason)  # fmt: skip
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
        problem = answers.problem(response)
        if status in (200, 201):
            try:
                post_id = str(response.json()["data"]["id"])
            except (ValueError, KeyError, TypeError):
                raise _Lost(f"X answered {status} without data.id") from None
            return PostResult(id=post_id, url=POST_URL.format(id=post_id))
        if status == 429:  # refused before anything happened
            raise self._rate_limit(response, request, step)
        if status >= 500:  # may come after the post was made
            raise _Lost(answers.describe(response, problem))
        if answers.is_duplicate(status, problem):
            if since is not None:  # settled before this re-send; one more look costs little
                found, _ = self.timeline.look(request, since)
                if found is not None:
                    return found
            raise DuplicateContent(
                self.name,
                f"{step}: X refuses to repeat an earlier post's text "
                f"({answers.describe(response, problem)}); choosing another painting for X",
                status=status,
            )
        said = answers.describe(response, problem)
        if answers.is_unknown_media(status, problem, said):
            raise _UnknownMedia(said, answers.error_for(response, step))
        raise answers.error_for(response, step)


def create(settings: Settings, secrets: Secrets, *, logger: Logger, **_: Any) -> XPlatform:
    """The real X platform (twython's session); all four credentials are checked here."""
    credentials = XCredentials.from_secrets(secrets)
    return XPlatform(credentials, base_url=settings.x_api_base_url, logger=logger)
