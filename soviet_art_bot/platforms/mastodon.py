"""Mastodon, through Mastodon.py.

The instance decides the limits, so they are read from it (``GET
/api/v2/instance``, once per warm container): the character limit the text is
fitted to, the largest image it accepts and the image types it takes.

An image the instance will never take (over its ``image_size_limit``, or of
a type it does not list) is refused before uploading with
:class:`~soviet_art_bot.errors.MediaTooLarge` or
:class:`~soviet_art_bot.errors.RefusedPainting`, as is an upload the instance
or its proxy refuses as too large: the bot sets that painting aside for
Mastodon and posts another there.

Exactly once per slot: the status is posted with the slot as its
``Idempotency-Key``. Mastodon remembers a key for an hour after the status
was created and answers a repeat with the same status instead of making a
second one, so a retry after a lost answer (Lambda retries within minutes)
finds the post the first attempt made. A media upload is not idempotent, but
an unattached upload is harmless: the instance deletes it after a day.

Mastodon.py is imported only when a post is made (never by merely enabling
the platform), so a deployment without Mastodon never loads it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..caption import grapheme_length, post_text
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
from ..log import Logger
from ..media import EXTENSIONS
from .base import Platform, PostRequest, PostResult, pending_stays_unknown

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # every link counts as 23 characters, however long
REQUEST_TIMEOUT = 30.0
MEDIA_WAIT_MARGIN = 10.0  # stop waiting for media processing this long before the deadline
USER_AGENT = "soviet-art-bot (Mastodon.py)"

# Mastodon matches URLs with twitter-text's extractor; a scheme plus non-space
# run is the same for the links this bot writes (WikiArt pages).
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w", re.UNICODE)
_TOO_LARGE = re.compile(r"size must be less than|too large", re.IGNORECASE)


def mastodon_length(text: str) -> int:
    """Length as Mastodon's StatusLengthValidator counts it.

    Mastodon 4.x counts grapheme clusters after replacing every URL with 23
    characters and every ``@user@domain`` with ``@user``. (Counting code
    points would also be safe, being never less, but wastes room on titles
    with combining accents.)
    """
    text = _URL.sub("x" * URL_LENGTH, text)
    text = _MENTION.sub(r"@\1", text)
    return grapheme_length(text)


@dataclass(frozen=True)
class InstanceLimits:
    """What the instance accepts, from ``/api/v2/instance``."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    image_size_limit: int | None = None
    supported_mime_types: tuple[str, ...] = ()
    version: str = ""

    @classmethod
    def from_instance(cls, info: Any) -> InstanceLimits:
        """Read the limits, keeping the defaults for anything the instance leaves out."""
        config = _get(info, "configuration") or {}
        statuses = _get(config, "statuses") or {}
        media = _get(config, "media_attachments") or {}
        max_characters = _positive_int(_get(statuses, "max_characters")) or DEFAULT_MAX_CHARACTERS
        mime_types = _get(media, "supported_mime_types") or ()
        return cls(
            max_characters=max_characters,
            image_size_limit=_positive_int(_get(media, "image_size_limit")),
            supported_mime_types=tuple(str(m) for m in mime_types),
            version=str(_get(info, "version") or ""),
        )


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
    """Posts a status with one image to one Mastodon account."""

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
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(logger=logger)
        self.api_base_url = api_base_url.rstrip("/")
        self._access_token = access_token
        self._session = session
        self._client = client
        self._sleep = sleep
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
                version_check_mode="none",
                user_agent=USER_AGENT,
            )
        return self._client

    def limits(self) -> InstanceLimits:
        """The instance's limits, asked once and kept for the warm container's life."""
        if self._limits is None:
            with self.logger.timed("mastodon_instance") as extra:
                info = self._call("read the instance's limits", self.client.instance_v2)
                limits = InstanceLimits.from_instance(info)
                # Mastodon.py picks its media endpoint by the instance's version;
                # learn it now, so that publishing makes only the requests it needs.
                self._call("read the instance's version", self.client.retrieve_mastodon_version)
                extra.update(
                    max_characters=limits.max_characters,
                    image_size_limit=limits.image_size_limit,
                    version=limits.version,
                )
            self._limits = limits
        return self._limits

    # -- the platform interface ---------------------------------------------

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        return post_text(
            painting, limit=self.limits().max_characters, length=mastodon_length, link=link
        )

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        with pending_stays_unknown(pending):
            return self._publish(request, pending)

    def _publish(self, request: PostRequest, pending: dict[str, Any] | None) -> PostResult:
        limits = self.limits()
        self._check_image(request, limits)
        self._fit_timeout(request)
        media = self._upload(request)
        media = self._wait_for_media(request, media)
        with self.logger.timed("mastodon_status", slot=request.slot,
                               resolving=bool(pending)) as extra:  # fmt: skip
            status = self._call(
                "post the status",
                lambda: self.client.status_post(
                    request.text,
                    media_ids=[_get(media, "id")],
                    visibility="public",
                    idempotency_key=request.slot,
                ),
                creating=True,
            )
            status_id = str(_get(status, "id"))
            extra["post_id"] = status_id
        url = _get(status, "url") or _get(status, "uri")
        return PostResult(id=status_id, url=str(url) if url else None)

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

    def _upload(self, request: PostRequest) -> Any:
        file_name = f"{request.painting.id}{EXTENSIONS.get(request.mime_type, '')}"
        with self.logger.timed("mastodon_media", painting_id=request.painting.id) as extra:
            size = os.path.getsize(request.image_path)
            with open(request.image_path, "rb") as fh:
                media = self._call(
                    f"upload the image ({size:,} bytes)",
                    lambda: self.client.media_post(
                        fh,
                        mime_type=request.mime_type,
                        description=request.alt_text,
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
        self, action: str, call: Callable[[], Any], *, creating: bool = False, upload: bool = False
    ) -> Any:
        """Run one Mastodon.py call, turning its errors into the bot's."""
        from mastodon import errors as merr

        try:
            return call()
        except merr.MastodonRatelimitError:
            raise RateLimited(
                self.name,
                f"{self.api_base_url} is rate limiting this account; could not {action}",
                status=429,
                retryable=True,
            ) from None
        except merr.MastodonUnauthorizedError as exc:
            raise AuthError(
                self.name,
                f"{self.api_base_url} rejected {MASTODON_ACCESS_TOKEN} (401 {_detail(exc)}) "
                f"when trying to {action}; create a new access token with the write:media and "
                f"write:statuses scopes and store it as {MASTODON_ACCESS_TOKEN}",
                status=401,
            ) from None
        except merr.MastodonServerError as exc:
            status = _status(exc)
            raise PlatformError(
                self.name,
                f"{self.api_base_url} failed ({status} {_detail(exc)}) when trying to {action}; "
                "a retry will try again",
                status=status,
                retryable=True,
                # A 502/504 from the proxy may hide a status the instance created.
                outcome_unknown=creating and status not in (500, 503),
            ) from None
        except merr.MastodonNotFoundError as exc:
            raise PlatformError(
                self.name,
                f"{self.api_base_url} answered 404 ({_detail(exc)}) when trying to {action}; "
                f"check that {ENV_MASTODON_API_BASE_URL} is the instance's address",
                status=404,
            ) from None
        except merr.MastodonAPIError as exc:
            status = _status(exc)
            if upload and (status == 413 or _TOO_LARGE.search(_detail(exc))):
                raise MediaTooLarge(
                    self.name,
                    f"{self.api_base_url} refused the image as too large ({status} "
                    f"{_detail(exc)}) when trying to {action}; setting it aside for Mastodon",
                    status=status,
                ) from None
            if status == 403:
                raise AuthError(
                    self.name,
                    f"{self.api_base_url} refused to let this account {action} "
                    f"(403 {_detail(exc)}); give {MASTODON_ACCESS_TOKEN} the write:media and "
                    "write:statuses scopes",
                    status=403,
                ) from None
            raise PlatformError(
                self.name,
                f"{self.api_base_url} refused to {action} ({status or 'error'} {_detail(exc)})",
                status=status,
                retryable=status in (408, 409),
            ) from None
        except merr.MastodonNetworkError as exc:
            sent = _request_may_have_arrived(exc)
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


def _request_may_have_arrived(exc: BaseException) -> bool:
    """False only when the connection was never made (nothing can have been created)."""
    cause = exc.__context__
    try:
        import requests
    except ImportError:  # pragma: no cover - Mastodon.py depends on requests
        return True
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(cause, requests.exceptions.ConnectionError):
        text = str(cause)
        return not any(
            marker in text
            for marker in ("NewConnectionError", "Connection refused", "Name or service not known",
                           "nodename nor servname", "Failed to resolve")
        )  # fmt: skip
    return True


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


def create(
    settings: Settings,
    secrets: Secrets,
    *,
    logger: Logger,
    mastodon_session: Any = None,
    mastodon_client: Any = None,
    mastodon_sleep: Callable[[float], None] | None = None,
    **_: Any,
) -> Mastodon:
    """Check the settings and the token are there; no request is made yet."""
    if not settings.mastodon_api_base_url:
        raise ConfigError(
            f"{ENV_MASTODON_API_BASE_URL} is not set; the mastodon platform needs the "
            "instance's URL, e.g. https://mastodon.social"
        )
    token = secrets.get(MASTODON_ACCESS_TOKEN)
    return Mastodon(
        settings.mastodon_api_base_url,
        token,
        logger=logger,
        session=mastodon_session,
        client=mastodon_client,
        sleep=mastodon_sleep or time.sleep,
    )
