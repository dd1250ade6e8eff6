"""Mastodon, through Mastodon.py.

The instance decides the limits, so they are read from it (``GET
/api/v2/instance``, one request per warm container, ``/api/v1/instance``
only on a server older than 4.0): the character limit the text is fitted to,
how much a link counts (``characters_reserved_per_url``), the longest alt
text (``description_limit``), the largest image it accepts and the image
types it takes.

An image the instance will never take (over its ``image_size_limit``, or of
a type it does not list) is refused before uploading with
:class:`~soviet_art_bot.errors.MediaTooLarge` or
:class:`~soviet_art_bot.errors.RefusedPainting`, as is an upload the instance
or its proxy refuses as too large: the bot sets that painting aside for
Mastodon and posts another there.

Exactly once per slot: the status is posted with the slot as its
``Idempotency-Key``. Mastodon remembers a key for one hour after the status
was created (``post_status_service.rb``) and answers a repeat with the same
status instead of making a second one, so a retry after a lost answer within
that hour (Lambda retries within minutes) finds the post the first attempt
made. Past the hour the key is forgotten and a repeat would post again, so
the bot looks the post up instead, on the account's own statuses
(``verify_credentials`` with ``profile`` or ``read:accounts``, then
``/api/v1/accounts/:id/statuses`` with ``read:statuses``), and posts only
when that look-up shows the slot has no post; when it cannot look (a token
without those scopes), the slot stays pending and the error names it. Every
answer that may follow a created status (a lost answer, any 5xx, a gateway's
52x, an unknown status) leaves the slot pending. A media upload is not
idempotent, but an unattached upload is harmless: the instance deletes it
after a day.

Mastodon.py is imported only when a post is made (never by merely enabling
the platform), so a deployment without Mastodon never loads it.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from ..caption import graphemes, mastodon_length, post_text
from ..catalog import Painting
from ..config import ENV_MASTODON_API_BASE_URL, MASTODON_ACCESS_TOKEN, Secrets, Settings
from ..errors import (
    AuthError,
    ConfigError,
    MediaTooLarge,
    PlatformError,
    RateLimited,
    RefusedPainting,
)
from ..ledger import parse_time
from ..log import Logger
from ..media import EXTENSIONS
from ..net import may_have_arrived
from .base import Platform, PostRequest, PostResult, pending_stays_unknown

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # every link counts as 23 characters, however long
DEFAULT_DESCRIPTION_LIMIT = 1500  # alt text, configuration.media_attachments.description_limit
IDEMPOTENCY_WINDOW = 3600.0  # seconds Mastodon keeps an Idempotency-Key after the status
WINDOW_MARGIN = 300.0  # replay a key only while it surely lives (clocks differ)
LOOKUP_MARGIN = 120.0  # look for the lost post from this long before its first attempt
LOOKUP_PAGES = 5  # of 40 statuses: the bot posts 4 a day, so days of margin
LOOKUP_SCOPES = "profile (or read:accounts) and read:statuses"
POST_SCOPES = "write:media and write:statuses"
# Mastodon's answers to a token it accepts but will not let act (api/base_controller.rb)
_SCOPE_REFUSAL = "outside the authorized scopes"
REQUEST_TIMEOUT = 30.0
MEDIA_WAIT_MARGIN = 10.0  # stop waiting for media processing this long before the deadline
USER_AGENT = "soviet-art-bot (Mastodon.py)"

_TOO_LARGE = re.compile(r"size must be less than|too large", re.IGNORECASE)
# 422s that no retry of the same painting can pass (status text, media file)
_NEVER_PASSES = re.compile(
    r"character limit of|could not be verified|content type|file type|is invalid", re.IGNORECASE
)
# Labels the screening sets, as the spoiler text (content warning) names them
SPOILERS = {"nudity": "nudity", "sexual": "sexual content", "graphic-media": "graphic content"}


def idempotency_key(slot: str, painting_id: str) -> str:
    """The slot's ``Idempotency-Key`` for one painting: a retry of it repeats the same key.

    The painting is part of it so that, when the slot's post was deleted
    (Mastodon then answers 404 to the key for the rest of the hour), another
    painting can still be posted for the slot.
    """
    digest = hashlib.sha256(f"{slot}\n{painting_id}".encode()).hexdigest()
    return f"soviet-art-bot-{digest[:40]}"


def spoiler_text(labels: tuple[str, ...] | list[str]) -> str:
    """The content warning a labelled painting is posted behind (empty: none)."""
    names = [SPOILERS.get(label, label) for label in labels]
    return f"Sensitive: {', '.join(names)}" if names else ""


@dataclass(frozen=True)
class InstanceLimits:
    """What the instance accepts, from ``/api/v2/instance``."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    image_size_limit: int | None = None
    supported_mime_types: tuple[str, ...] = ()
    version: str = ""
    url_length: int = URL_LENGTH
    description_limit: int = DEFAULT_DESCRIPTION_LIMIT

    @classmethod
    def from_instance(cls, info: Any) -> InstanceLimits:
        """Read the limits, keeping the defaults for anything the instance leaves out."""
        config = _get(info, "configuration") or {}
        statuses = _get(config, "statuses") or {}
        media = _get(config, "media_attachments") or {}
        max_characters = _positive_int(_get(statuses, "max_characters")) or DEFAULT_MAX_CHARACTERS
        mime_types = _get(media, "supported_mime_types") or ()
        url_length = _positive_int(_get(statuses, "characters_reserved_per_url"))
        description_limit = _positive_int(_get(media, "description_limit"))
        return cls(
            max_characters=max_characters,
            image_size_limit=_positive_int(_get(media, "image_size_limit")),
            supported_mime_types=tuple(str(m) for m in mime_types),
            version=str(_get(info, "version") or ""),
            url_length=min(url_length or URL_LENGTH, max_characters),
            description_limit=description_limit or DEFAULT_DESCRIPTION_LIMIT,
        )

    def version_tuple(self) -> tuple[int, int, int]:
        """The server's version as Mastodon.py compares it (4.0.0 if unreadable)."""
        match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", self.version)
        if not match:
            return (4, 0, 0)
        return (int(match[1]), int(match[2]), int(match[3] or 0))


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class Mastodon(Platform):
    """Posts a status with one image to one Mastodon account.

    Built with what it talks through, as an httpx client is: a test passes a
    ``requests`` session (or a ready Mastodon.py ``client``), a ``sleep`` and a
    ``clock`` (``time.time``-like, for the age of a pending attempt).
    """

    name = "mastodon"

    def __init__(
        self,
        api_base_url: str,
        access_token: str,
        *,
        logger: Logger | None = None,
        session: Any = None,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(logger=logger)
        self.api_base_url = api_base_url.rstrip("/")
        self._access_token = access_token
        self._session = session
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._request_timeout = request_timeout
        self._limits: InstanceLimits | None = None

    def __repr__(self) -> str:  # never show the token
        return f"Mastodon(api_base_url={self.api_base_url!r})"

    # -- the client and the instance ----------------------------------------

    @property
    def client(self) -> Any:
        """The Mastodon.py client, built (and the library imported) on first use."""
        if self._client is None:
            from mastodon import Mastodon as MastodonClient

            self._client = MastodonClient(
                access_token=self._access_token,
                api_base_url=self.api_base_url,
                session=self._session,
                request_timeout=self._request_timeout,
                # Never sleep for minutes inside a Lambda: a 429 becomes RateLimited.
                ratelimit_method="throw",
                # The version comes from the one instance request limits() makes;
                # given here, Mastodon.py asks the instance nothing more.
                mastodon_version="4.0.0",
                version_check_mode="none",
                user_agent=USER_AGENT,
            )
        return self._client

    def limits(self) -> InstanceLimits:
        """The instance's limits: one request, kept for the warm container's life."""
        if self._limits is None:
            with self.logger.timed("mastodon_instance") as extra:
                try:
                    info = self._call("read the instance's limits", self.client.instance_v2)
                except PlatformError as exc:  # a server older than 4.0 has only v1
                    if exc.status != 404:
                        raise
                    info = self._call("read the instance's limits", self.client.instance_v1)
                limits = InstanceLimits.from_instance(info)
                # Mastodon.py picks its media endpoint by the server's version.
                client = self.client
                client.mastodon_major, client.mastodon_minor, client.mastodon_patch = (
                    limits.version_tuple()
                )
                extra.update(
                    max_characters=limits.max_characters,
                    image_size_limit=limits.image_size_limit,
                    version=limits.version,
                )
            self._limits = limits
        return self._limits

    # -- the platform interface ---------------------------------------------

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        limits = self.limits()
        # A labelled painting's content warning counts in the same budget.
        spoiler = spoiler_text(tuple(getattr(painting, "labels", None) or ()))
        return post_text(
            painting,
            limit=limits.max_characters,
            length=partial(mastodon_length, spoiler_text=spoiler, url_length=limits.url_length),
            link=link,
        )

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        with pending_stays_unknown(pending):
            return self._publish(request, pending)

    def _publish(self, request: PostRequest, pending: dict[str, Any] | None) -> PostResult:
        limits = self.limits()
        self._check_image(request, limits)
        self._fit_timeout(request)
        if pending and not self._key_alive(pending):
            found = self._look_up(request, pending)
            if found is not None:
                return found
            # The look-up settled it: nothing was posted. The key is expired at
            # the instance, so posting with it now makes the slot's one post.
        media = self._upload(request, limits)
        media = self._wait_for_media(request, media)
        spoiler = spoiler_text(request.labels)
        with self.logger.timed("mastodon_status", slot=request.slot,
                               resolving=bool(pending)) as extra:  # fmt: skip
            status = self._call(
                "post the status",
                lambda: self.client.status_post(
                    request.text,
                    media_ids=[_get(media, "id")],
                    visibility="public",
                    idempotency_key=idempotency_key(request.slot, request.painting.id),
                    # Only when the bot means it: else the account's own
                    # "always mark media as sensitive" preference decides.
                    sensitive=True if request.labels else None,
                    spoiler_text=spoiler or None,
                ),
                creating=True,
                slot=request.slot,
            )
            status_id = str(_get(status, "id"))
            extra["post_id"] = status_id
        return _result(status)

    # -- exactly once past the idempotency hour --------------------------------

    def _started(self, pending: dict[str, Any]) -> float | None:
        try:
            return parse_time(pending.get("started_at"), what="started_at").timestamp()
        except Exception:  # noqa: BLE001 - a missing or odd time: assume the worst
            return None

    def _key_alive(self, pending: dict[str, Any]) -> bool:
        """Whether Mastodon still remembers the slot's Idempotency-Key.

        The key lives an hour from the status's creation, which is after the
        first attempt started: an attempt younger than the hour (less a margin
        for clocks) is safely replayed.
        """
        started = self._started(pending)
        if started is None:
            return False
        return self._clock() - started < IDEMPOTENCY_WINDOW - WINDOW_MARGIN

    def _look_up(self, request: PostRequest, pending: dict[str, Any]) -> PostResult | None:
        """The slot's post on the account's own statuses; None when surely absent."""
        started = self._started(pending)
        since = (started or 0.0) - LOOKUP_MARGIN
        with self.logger.timed("mastodon_lookup", slot=request.slot) as extra:
            try:
                account = self._call(
                    "read the account's id", self.client.account_verify_credentials
                )
                max_id = None
                for _ in range(LOOKUP_PAGES):
                    page = self._call(
                        "read the account's statuses",
                        partial(
                            self.client.account_statuses,
                            _get(account, "id"),
                            exclude_reblogs=True,
                            exclude_replies=True,
                            limit=40,
                            max_id=max_id,
                        ),  # fmt: skip
                    )
                    for status in page or []:
                        if _created(status) < since:
                            extra["outcome"] = "absent"
                            return None
                        if _matches(status, request):
                            extra["outcome"] = "found"
                            return _result(status)
                    if len(page or []) < 40:
                        extra["outcome"] = "absent"
                        return None
                    max_id = _get(page[-1], "id")
                reason = f"more than {LOOKUP_PAGES * 40} statuses since then"
            except (AuthError, PlatformError) as exc:
                reason = str(exc)
        raise PlatformError(
            self.name,
            f"slot {request.slot}: the post of its attempt at {pending.get('started_at')} may "
            f"exist, and Mastodon forgets the Idempotency-Key after an hour, so the bot will "
            f"not post again blindly; it could not look the post up ({reason}). Give "
            f"{MASTODON_ACCESS_TOKEN} the {LOOKUP_SCOPES} scopes so the bot can, or check the "
            f"account's posts on {self.api_base_url}: the slot stays pending until settled",
            retryable=True,
            outcome_unknown=True,
        )

    # -- steps ----------------------------------------------------------------

    def _check_image(self, request: PostRequest, limits: InstanceLimits) -> None:
        size = os.path.getsize(request.image_path)
        if limits.image_size_limit is not None and size > limits.image_size_limit:
            raise MediaTooLarge(
                self.name,
                f"the image of painting {request.painting.id} is {size:,} bytes but "
                f"{self.api_base_url} accepts images of at most {limits.image_size_limit:,} bytes; "
                "setting it aside for Mastodon (re-encode it smaller in the store to post it "
                "there)",
            )
        if limits.supported_mime_types and request.mime_type not in limits.supported_mime_types:
            raise RefusedPainting(
                self.name,
                f"{self.api_base_url} does not accept {request.mime_type} images (painting "
                f"{request.painting.id}); setting it aside for Mastodon (convert the image in "
                "the store to JPEG or PNG to post it there)",
            )

    def _fit_timeout(self, request: PostRequest) -> None:
        """Never let one request outlive the invocation's deadline."""
        remaining = request.remaining() - 1.0
        self.client.request_timeout = max(1.0, min(self._request_timeout, remaining))

    def _upload(self, request: PostRequest, limits: InstanceLimits) -> Any:
        file_name = f"{request.painting.id}{EXTENSIONS.get(request.mime_type, '')}"
        description = _fit_description(request.alt_text, limits.description_limit)
        with self.logger.timed("mastodon_media", painting_id=request.painting.id) as extra:
            size = os.path.getsize(request.image_path)
            with open(request.image_path, "rb") as fh:
                media = self._call(
                    f"upload the image ({size:,} bytes)",
                    lambda: self.client.media_post(
                        fh,
                        mime_type=request.mime_type,
                        description=description,
                        file_name=file_name,
                    ),
                    upload=True,
                )
            extra["media_id"] = str(_get(media, "id"))
        return media

    def _wait_for_media(self, request: PostRequest, media: Any) -> Any:
        """Wait while the instance processes the upload (it answers 202, url null)."""
        delay = 0.5
        while not _get(media, "url"):
            if request.remaining() - MEDIA_WAIT_MARGIN < delay:
                raise PlatformError(
                    self.name,
                    f"{self.api_base_url} is still processing the image of painting "
                    f"{request.painting.id}; a retry will try again",
                    retryable=True,
                )
            self._sleep(delay)
            delay = min(delay * 2, 4.0)
            media = self._call(
                "check the image's processing", partial(self.client.media, _get(media, "id"))
            )
        return media

    def _call(
        self,
        action: str,
        call: Callable[[], Any],
        *,
        creating: bool = False,
        upload: bool = False,
        slot: str = "",
    ) -> Any:
        """Run one Mastodon.py call, turning its errors into the bot's."""
        from mastodon import errors as merr

        try:
            return call()
        except merr.MastodonRatelimitError:
            raise RateLimited(
                self.name,
                f"{self.api_base_url} is rate limiting this account{self._reset()}; could not "
                f"{action}",
                status=429,
                retryable=True,
            ) from None
        except merr.MastodonUnauthorizedError as exc:
            raise AuthError(
                self.name,
                f"{self.api_base_url} rejected {MASTODON_ACCESS_TOKEN} (401 {_detail(exc)}) "
                f"when trying to {action}; create a new access token with the {POST_SCOPES} "
                f"scopes and store it as {MASTODON_ACCESS_TOKEN}",
                status=401,
            ) from None
        except merr.MastodonNotFoundError as exc:
            if creating:  # only a keyed repeat whose status was deleted answers 404 here
                raise RefusedPainting(
                    self.name,
                    f"slot {slot}: its post of this painting was made and has since been "
                    f"deleted on {self.api_base_url} (404 to its Idempotency-Key); the bot does "
                    "not post it again: setting the painting aside for Mastodon",
                    status=404,
                ) from None
            raise PlatformError(
                self.name,
                f"{self.api_base_url} answered 404 ({_detail(exc)}) when trying to {action}; "
                f"check that {ENV_MASTODON_API_BASE_URL} is the instance's address",
                status=404,
            ) from None
        except merr.MastodonAPIError as exc:  # also MastodonServerError (500-511)
            raise self._refusal(action, exc, creating=creating, upload=upload) from None
        except merr.MastodonNetworkError as exc:
            sent = may_have_arrived(exc.__cause__ or exc.__context__ or exc)
            raise PlatformError(
                self.name,
                f"could not reach {self.api_base_url} to {action} "
                f"({_network_detail(exc)}); a retry will try again",
                retryable=True,
                outcome_unknown=creating and sent,
            ) from None
        except merr.MastodonIOError as exc:  # our own file: not the platform's fault
            raise PlatformError(self.name, f"could not read the image to {action}: {exc}") from None
        except merr.MastodonError as exc:
            raise PlatformError(
                self.name, f"Mastodon.py failed to {action}: {type(exc).__name__}: {exc}"
            ) from None

    def _refusal(
        self, action: str, exc: BaseException, *, creating: bool, upload: bool
    ) -> PlatformError:
        """The bot's error for an HTTP answer other than 401, 404 and 429."""
        status = _status(exc)
        detail = _detail(exc)
        said = f"({status or 'error'} {detail})"
        if status is None or status >= 500 or status not in _KNOWN_REFUSALS:
            # A server error, a proxy's 52x or a status we do not know: after a
            # status request the status may exist all the same.
            return PlatformError(
                self.name,
                f"{self.api_base_url} failed {said} when trying to {action}; a retry will try "
                "again",
                status=status,
                retryable=True,
                outcome_unknown=creating,
            )
        if upload and (status == 413 or _TOO_LARGE.search(detail)):
            return MediaTooLarge(
                self.name,
                f"{self.api_base_url} refused the image as too large {said} when trying to "
                f"{action}; setting it aside for Mastodon",
                status=status,
            )
        if status == 403:
            if _SCOPE_REFUSAL in detail:
                advice = f"give {MASTODON_ACCESS_TOKEN} the {POST_SCOPES} scopes"
            else:  # the account itself: unconfirmed, pending approval, disabled
                advice = (
                    "the account cannot post: sign in on the instance's website to see why "
                    "(confirm its e-mail, wait for approval, or ask the instance's moderators)"
                )
            return AuthError(
                self.name,
                f"{self.api_base_url} refused to let this account {action} {said}; {advice}",
                status=403,
            )
        if status == 422 and _NEVER_PASSES.search(detail):
            return RefusedPainting(
                self.name,
                f"{self.api_base_url} refused to {action} {said}; setting the painting aside "
                "for Mastodon",
                status=422,
            )
        return PlatformError(
            self.name,
            f"{self.api_base_url} refused to {action} {said}",
            status=status,
            retryable=status in (408, 409) or "not finished processing" in detail,
        )

    def _reset(self) -> str:
        """' until HH:MM UTC' from the X-RateLimit-Reset Mastodon.py read, if any."""
        reset = getattr(self._client, "ratelimit_reset", None)
        if not isinstance(reset, (int, float)) or reset <= 0:
            return ""
        return f" until {time.strftime('%H:%M:%S UTC', time.gmtime(reset))}"


# Statuses Mastodon answers with a definite refusal (nothing was created).
_KNOWN_REFUSALS = frozenset({400, 403, 408, 409, 410, 413, 415, 422})


def _result(status: Any) -> PostResult:
    url = _get(status, "url") or _get(status, "uri")
    return PostResult(id=str(_get(status, "id")), url=str(url) if url else None)


def _created(status: Any) -> float:
    value = _get(status, "created_at")
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return parse_time(str(value), what="created_at").timestamp()
    except Exception:  # noqa: BLE001 - unreadable: treat as new, keep looking
        return float("inf")


def _plain(content: str) -> str:
    """A status's HTML ``content`` back to its text (paragraphs, line breaks, links)."""
    text = re.sub(r"</p>\s*<p>", "\n\n", content)
    text = re.sub(r"<br\s*/?>", "\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _matches(status: Any, request: PostRequest) -> bool:
    """Whether ``status`` is this request's post: its alt text or its text."""
    for media in _get(status, "media_attachments") or []:
        if (_get(media, "description") or "") == request.alt_text:
            return True
    return _plain(str(_get(status, "content") or "")) == request.text.strip()


def _fit_description(alt_text: str, limit: int) -> str:
    """Alt text within the instance's ``description_limit`` (characters), whole graphemes."""
    if len(alt_text) <= limit:
        return alt_text
    out, used = [], 0
    for cluster in graphemes(alt_text):
        if used + len(cluster) > limit - 1:
            break
        out.append(cluster)
        used += len(cluster)
    return "".join(out).rstrip() + "\u2026"


def _status(exc: BaseException) -> int | None:
    for arg in exc.args[1:2]:
        if isinstance(arg, int):
            return arg
    return None


def _detail(exc: BaseException) -> str:
    """The instance's own words (``error`` field), else the HTTP reason."""
    args = exc.args
    if len(args) >= 4 and args[3]:
        return str(args[3])[:200]
    if len(args) >= 3 and args[2]:
        return str(args[2])[:200]
    return type(exc).__name__


def _network_detail(exc: BaseException) -> str:
    cause = exc.__context__
    if cause is None:
        return type(exc).__name__
    name = type(cause).__name__
    text = str(cause)
    for marker in ("Connection refused", "RemoteDisconnected", "Read timed out", "timed out"):
        if marker in text:
            return f"{name}: {marker}"
    return name


def create(settings: Settings, secrets: Secrets, *, logger: Logger, **_: Any) -> Mastodon:
    """Check the settings and the token are there; no request is made yet."""
    if not settings.mastodon_api_base_url:
        raise ConfigError(
            f"{ENV_MASTODON_API_BASE_URL} is not set; the mastodon platform needs the "
            "instance's URL, e.g. https://mastodon.social"
        )
    token = secrets.get(MASTODON_ACCESS_TOKEN)
    return Mastodon(settings.mastodon_api_base_url, token, logger=logger)
