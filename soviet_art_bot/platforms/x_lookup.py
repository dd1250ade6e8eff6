"""Finding the post a lost answer may have made, on the account's own timeline.

See :mod:`.x` ("Exactly one post per slot"): the lookup reads every post
since the first attempt (``GET /2/users/:id/tweets``, only parameters X's
description declares) and is *conclusive* only when every page was read and
the read began at least the lag margin after the lost attempt ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..errors import PlatformError
from ..log import Logger
from .base import PostRequest, PostResult
from .x_answers import NAME, error_for, iso, parse_time, same_text

POST_URL = "https://x.com/i/web/status/{id}"
CLOCK_SKEW = timedelta(minutes=5)  # between this host's clock and X's
LOOKUP_PAGE = 100  # X's largest max_results: one page holds days of this bot's posts
LOOKUP_PAGES = 5  # pages read before the lookup gives up as inconclusive


class Sender(Protocol):
    """How the lookup reaches X: one retried, harmless request, and the time left."""

    def send(
        self, method: str, path: str, request: PostRequest, *, step: str, **kwargs: Any
    ) -> Any: ...

    def time_left(self, request: PostRequest) -> float: ...


class Timeline:
    """The account's timeline, read to settle whether a lost post exists."""

    def __init__(
        self,
        sender: Sender,
        *,
        logger: Logger,
        lag_margin: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._sender = sender
        self.logger = logger
        self.lag_margin = lag_margin
        self._clock = clock
        self._sleep = sleep
        self._user_id: str | None = None

    def since_first_attempt(self, pending: dict[str, Any]) -> datetime:
        """When the pending attempt started (minus clock skew); a day ago if unknown."""
        for key in ("started_at", "at", "time"):
            when = parse_time(pending.get(key))
            if when is not None:
                return when - CLOCK_SKEW
        return datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=1)

    def since_now(self) -> datetime:
        """For an attempt about to be sent: now, minus clock skew."""
        return datetime.fromtimestamp(self._clock(), UTC) - CLOCK_SKEW

    def me(self, request: PostRequest) -> str:
        if self._user_id is None:
            step = "GET /2/users/me"
            response = self._sender.send("GET", "/2/users/me", request, step=step)
            if response.status_code >= 400:
                raise error_for(response, step)
            try:
                self._user_id = str(response.json()["data"]["id"])
            except (ValueError, KeyError, TypeError):
                raise PlatformError(NAME, f"{step}: no data.id in X's answer") from None
        return self._user_id

    def look(self, request: PostRequest, since: datetime) -> tuple[PostResult | None, bool]:
        """Our post on the account's timeline since ``since``, and whether every page was read.

        Every post since then is read, newest first, up to
        ``LOOKUP_PAGES`` pages; the match is the post with our text (X's
        entities and t.co links aside).
        """
        user_id = self.me(request)
        step = f"GET /2/users/{user_id}/tweets"
        params: dict[str, Any] = {  # only what X's description declares for this path
            "max_results": LOOKUP_PAGE,
            "start_time": iso(since),
            "exclude": "replies,retweets",
            "post.fields": "created_at",
        }
        for _ in range(LOOKUP_PAGES):
            response = self._sender.send(
                "GET", f"/2/users/{user_id}/tweets", request, step=step, params=params
            )
            if response.status_code >= 400:
                raise error_for(response, step)
            try:
                answer = response.json()
                posts = answer.get("data") or []
                next_token = (answer.get("meta") or {}).get("next_token")
            except (ValueError, AttributeError):
                raise PlatformError(NAME, f"{step}: X's answer is not JSON") from None
            for post in posts:
                if isinstance(post, dict) and same_text(str(post.get("text", "")), request.text):
                    post_id = str(post["id"])
                    self.logger.info(
                        "x_post_found",
                        post_id=post_id,
                        created_at=post.get("created_at"),
                        outcome="resolved",
                    )
                    return PostResult(id=post_id, url=POST_URL.format(id=post_id)), True
            if not next_token:
                return None, True
            params = {**params, "pagination_token": str(next_token)}
        return None, False

    def settle(
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
                found, complete = self.look(request, since)
            except PlatformError as exc:
                raise self.unsettled(request, since, reason, f"the lookup failed: {exc}") from None
            if found is not None:
                return found
            if not complete:
                raise self.unsettled(
                    request,
                    since,
                    reason,
                    f"more than {LOOKUP_PAGES * LOOKUP_PAGE} posts since "
                    "then, and the lookup stops there",
                )
            if looked_at >= settle_at:
                self.logger.info("x_post_absent", since=iso(since), outcome="sending")
                return None
            wait = settle_at - self._clock()
            if wait > self._sender.time_left(request):
                raise self.unsettled(
                    request,
                    since,
                    reason,
                    f"X may show a post up to {self.lag_margin:.0f} s after it "
                    "is made, and this invocation has no time left to wait",
                )
            self._sleep(max(wait, 0.0))

    def unsettled(
        self, request: PostRequest, since: datetime, reason: str, why: str
    ) -> PlatformError:
        """The slot stays pending: the post may exist and nothing here could tell."""
        start = iso(since + CLOCK_SKEW)
        return PlatformError(
            NAME,
            f"slot {request.slot}: the answer to POST /2/tweets was lost ({reason}) and X's "
            f"timeline cannot yet show whether that post exists: {why}. The slot stays "
            "pending; its next delivery looks again before posting anything. If it stays "
            f"pending, look at the account's posts since {start} on x.com (a post of this "
            "painting there is the slot's post) and check that the app may read them "
            "(GET /2/users/:id/tweets needs Read permission and credits for Posts: Read)",
            retryable=True,
            outcome_unknown=True,
        )
