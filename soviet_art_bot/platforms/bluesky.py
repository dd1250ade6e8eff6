"""Bluesky, through the atproto SDK (its ``atproto_client`` package).

**Sessions.** ``com.atproto.server.createSession`` is rate limited (30 per 5
minutes, 300 per day per account; a 429 names the limit and when it resets,
and leaves the slot for a later delivery), so the bot logs in once per warm container
and keeps the logged-in client: in the platform object, and in a module-level
cache keyed by handle and PDS so that a platform built again in the same
container reuses it too. The SDK refreshes the access token by itself before
it expires (``refreshSession``); if the PDS still answers that the token has
expired (``ExpiredToken``) or cannot be verified (``InvalidToken``, e.g. after
the session was revoked), the bot logs in again once and repeats the request.

**Exactly once per slot.** The post's record key is derived from the slot: a
valid TID whose timestamp is the slot's time. ``createRecord`` with the same
key cannot make a second post (the PDS refuses an existing key), so:

- a retry of a slot whose earlier answer was lost (``pending`` set) first
  asks ``getRecord`` for that key and reports the post if it is there;
- any failed ``createRecord`` is followed by a ``getRecord`` for the key: if
  the record exists, it is this slot's post (made by an earlier attempt whose
  answer was lost, or by this one), and it is reported instead of an error.

**Images.** An image over 2,000,000 bytes is refused before upload with
:class:`~soviet_art_bot.errors.MediaTooLarge`, and so is one the PDS itself
refuses, whichever way it answers: 413 ``PayloadTooLarge`` on the upload
(sent while the body is still being written, so the client often sees a
broken pipe or a reset instead: an upload cut that way twice in a row is
taken as that 413), or 400 ``InvalidRequest`` "... blob too big ..." on the
record. The bot sets that painting aside for Bluesky and posts another. The aspect ratio comes from the catalog's width and height, or from a sniff of
the image header (:func:`soviet_art_bot.media.image_size`: JPEG, PNG, GIF,
WebP) so the Lambda needs no image library.

atproto is imported only when the first post is made, so a deployment
without Bluesky never loads it.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..caption import grapheme_length, post_text
from ..catalog import Painting
from ..config import (
    BLUESKY_APP_PASSWORD,
    ENV_BLUESKY_HANDLE,
    ENV_BLUESKY_PDS_URL,
    Secrets,
    Settings,
)
from ..errors import (
    AuthError,
    ConfigError,
    EventError,
    MediaTooLarge,
    PlatformError,
    RateLimited,
)
from ..log import Logger
from ..media import image_size
from ..net import Deadline, GaveUp, RetryPolicy, TryAgain, may_have_arrived, retry
from ..times import parse_time
from .base import Platform, PostRequest, PostResult, pending_stays_unknown

TEXT_LIMIT = 300  # graphemes
TEXT_BYTES = 3000  # app.bsky.feed.post text maxLength (UTF-8 bytes)
BLOB_LIMIT = 2_000_000  # bytes, app.bsky.embed.images
COLLECTION = "app.bsky.feed.post"
REQUEST_TIMEOUT = 30.0
WEB_URL = "https://bsky.app"

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}
# The PDS's "too big" answers: 400 InvalidRequest "... blob too big (maximum N, got M) ..."
# on the record (older PDSes: BlobTooLarge "This file is too large"), 413 on the upload.
_TOO_BIG = re.compile(r"blob too big|too large", re.IGNORECASE)
# An upload cut while its body is sent is tried once more: cut again, it is the PDS's 413.
UPLOAD_CUT_POLICY = RetryPolicy(attempts=2, base=0.5, cap=1.0, max_retry_after=0.0)


@dataclass
class _Login:
    """A logged-in client, and what the PDS told us about the session."""

    client: Any
    fingerprint: bytes  # of the app password it was made with (never the password)
    did: str | None = None
    handle: str | None = None

    def on_session_change(self, event: Any, session: Any) -> None:
        self.did = session.did
        self.handle = session.handle


# (handle, pds) -> the logged-in client: one login per warm container.
_sessions: dict[tuple[str, str], _Login] = {}
_sessions_lock = threading.Lock()


def forget_sessions() -> None:
    """Drop every cached login (a cold start, as far as Bluesky can tell)."""
    with _sessions_lock:
        dropped = list(_sessions.values())
        _sessions.clear()
    for login in dropped:
        _close(login.client)


def _close(client: Any) -> None:
    """Close a client's connections (the SDK's ``Request`` owns an httpx client)."""
    close = getattr(getattr(client, "request", None), "close", None)
    if callable(close):
        close()


# -- record keys ---------------------------------------------------------------


def tid(microseconds: int, clock_id: int = 0) -> str:
    """A TID (timestamp identifier): 53 bits of microseconds, 10 of clock id, base32-sortable."""
    if not 0 <= microseconds < 2**53 or not 0 <= clock_id < 1024:
        raise ValueError("a TID holds 53 bits of microseconds and a 10-bit clock id")
    value = (microseconds << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def record_key(slot: str) -> str:
    """The record key of ``slot``'s post: the same slot always gets the same key.

    The TID's timestamp is the slot's own time (so keys sort like slots); the
    clock id is taken from a hash of the slot text. A slot that is not a
    timestamp still gets a stable, valid key from the hash alone.
    """
    digest = hashlib.sha256(slot.encode()).digest()
    clock_id = int.from_bytes(digest[:2], "big") & 1023
    try:
        when = parse_time(slot, what="the slot", bounded=False)
        micros = int(when.timestamp() * 1_000_000)
        if not 0 <= micros < 2**53:
            raise ValueError(slot)
    except (ValueError, EventError):
        micros = int.from_bytes(digest[2:9], "big") >> 3  # 53 bits
    key = tid(micros, clock_id)
    assert _TID.fullmatch(key)
    return key


# -- links in the text ----------------------------------------------------------


def link_facets(text: str) -> list[dict[str, Any]]:
    """Facets that make each URL in ``text`` a link (Bluesky does not guess them)."""
    facets = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?)\"'")
        start = len(text[: match.start()].encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


class Bluesky(Platform):
    """Posts one image with its alt text to one Bluesky account."""

    name = "bluesky"

    def __init__(
        self,
        handle: str,
        app_password: str,
        pds_url: str,
        *,
        logger: Logger | None = None,
        client_factory: Callable[[str], Any] | None = None,
        timeout: float = REQUEST_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        blob_limit: int = BLOB_LIMIT,
    ) -> None:
        super().__init__(logger=logger)
        self.handle = handle.strip().lstrip("@")
        self._password = app_password
        self.pds_url = pds_url.rstrip("/")
        self._client_factory = client_factory
        self._timeout = timeout
        self._sleep = sleep
        self.blob_limit = blob_limit  # checked before uploading; the PDS checks again
        self._login_state: _Login | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the password
        return f"Bluesky(handle={self.handle!r}, pds_url={self.pds_url!r})"

    # -- session ------------------------------------------------------------

    @property
    def _key(self) -> tuple[str, str]:
        return (self.handle.lower(), self.pds_url)

    @property
    def _fingerprint(self) -> bytes:
        return hashlib.sha256(self._password.encode()).digest()

    @property
    def _did(self) -> str | None:
        return self._login_state.did if self._login_state else None

    @property
    def _handle(self) -> str:
        """The handle the PDS reports (BLUESKY_HANDLE may be an e-mail or a DID)."""
        return (self._login_state and self._login_state.handle) or self.handle

    def _new_client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory(self.pds_url)
        from atproto_client import Client
        from atproto_client.request import Request

        return Client(base_url=self.pds_url, request=Request(timeout=self._timeout))

    def session(self) -> Any:
        """The logged-in client: this object's, the container's cached one, or a new login."""
        with self._lock:
            if self._login_state is not None:
                return self._login_state.client
            with _sessions_lock:
                cached = _sessions.get(self._key)
            if cached is not None and cached.fingerprint == self._fingerprint:
                self._login_state = cached
                self.logger.info("bluesky_session", outcome="reused")
                return cached.client
            return self._login()

    def _login(self) -> Any:
        client = self._new_client()
        state = _Login(client=client, fingerprint=self._fingerprint)
        client.on_session_change(state.on_session_change)  # learns the DID, follows refreshes
        with self.logger.timed("bluesky_login", handle=self.handle) as extra:
            try:
                self._call(
                    "log in",
                    lambda: client.login(self.handle, self._password, fetch_bsky_profile=False),
                    login=True,
                )
            except BaseException:
                _close(client)
                raise
            extra["outcome"] = "created"
        self._login_state = state
        with _sessions_lock:
            _sessions[self._key] = state
        return client

    def _drop_session(self) -> None:
        state, self._login_state = self._login_state, None
        with _sessions_lock:
            _sessions.pop(self._key, None)
        if state is not None:
            _close(state.client)

    def _with_session(
        self,
        action: str,
        call: Callable[[Any], Any],
        *,
        creating: bool = False,
        upload: bool = False,
    ) -> Any:
        """Run ``call(client)``; if the PDS says the session is dead, log in again once."""
        client = self.session()
        kinds = {"creating": creating, "upload": upload}
        try:
            return self._call(action, lambda: call(client), retry_auth=True, **kinds)
        except _SessionExpired:
            self.logger.warning("bluesky_session", outcome="expired", action=action)
            with self._lock:
                self._drop_session()
            client = self.session()
            return self._call(action, lambda: call(client), **kinds)

    # -- the platform interface ---------------------------------------------

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        return post_text(
            painting,
            limit=TEXT_LIMIT,
            length=grapheme_length,
            max_bytes=TEXT_BYTES,
            link=link,
        )

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        with pending_stays_unknown(pending):
            return self._publish(request, pending)

    def _publish(self, request: PostRequest, pending: dict[str, Any] | None) -> PostResult:
        data = request.image_path.read_bytes()
        if grapheme_length(request.text) > TEXT_LIMIT or len(request.text.encode()) > TEXT_BYTES:
            raise PlatformError(
                self.name,
                f"the text for painting {request.painting.id} is longer than {TEXT_LIMIT} "
                f"graphemes or {TEXT_BYTES:,} bytes; this is a bug in the caption code",
            )
        rkey = record_key(request.slot)
        # No request may outlive the invocation's deadline.
        timeout = max(1.0, min(self._timeout, request.remaining() - 1.0))
        if not pending:
            self._check_size(request, data)  # before any request, not even a login
        self.session()
        if pending:  # this slot's post may exist, whatever the image
            existing = self._find(rkey, timeout)
            if existing is not None:
                self.logger.info("bluesky_post", slot=request.slot, rkey=rkey, outcome="found")
                return existing
            self._check_size(request, data)
        with self.logger.timed("bluesky_blob", painting_id=request.painting.id) as extra:
            upload = self._upload(request, data, timeout)
            extra["bytes"] = len(data)
        record = self._record(request, upload.blob, data)
        with self.logger.timed("bluesky_post", slot=request.slot, rkey=rkey,
                               resolving=bool(pending)) as extra:  # fmt: skip
            try:
                self._with_session(
                    "create the post",
                    lambda c: c.app.bsky.feed.post.create(
                        self._did, record, rkey=rkey, timeout=timeout
                    ),
                    creating=True,
                )
            except PlatformError as exc:
                if isinstance(exc, (AuthError, RateLimited)) and not exc.outcome_unknown:
                    raise
                # The key may be taken by this slot's own post (a lost answer):
                # then that post is the result, not an error.
                try:
                    existing = self._find(rkey, timeout)
                except PlatformError:
                    raise exc from None
                if existing is None:
                    raise
                extra["outcome"] = "found"
                return existing
        return self._result(rkey)

    # -- steps ----------------------------------------------------------------

    def _upload(self, request: PostRequest, data: bytes, timeout: float) -> Any:
        """``uploadBlob``; a body cut off twice while being sent is the PDS's 413.

        A PDS answers an upload over its cap with 413 before reading the
        body, and closes; the client, still writing, often sees a broken pipe
        or a reset instead of the answer. One such cut may be the network, so
        the upload (idempotent: a blob is named by its hash) is tried once
        more; cut the same way again, the image is too large for this PDS.
        """
        action = f"upload the image ({len(data):,} bytes)"

        def attempt(per_try: Deadline) -> Any:
            limit = max(1.0, min(timeout, per_try.remaining()))
            try:
                return self._with_session(
                    action, lambda c: _upload_blob(c, data, request.mime_type, limit), upload=True
                )
            except _UploadCut as cut:
                raise TryAgain(cut.detail) from None

        try:
            return retry(attempt, policy=UPLOAD_CUT_POLICY, deadline=Deadline(request.remaining()),
                         per_attempt=timeout, sleep=self._sleep)  # fmt: skip
        except GaveUp as exc:
            if exc.attempts < UPLOAD_CUT_POLICY.attempts:  # no time left to confirm
                raise PlatformError(
                    self.name,
                    f"{self.pds_url} closed the connection while receiving the image "
                    f"({exc.last.reason}) when trying to {action}; a retry will try again",
                    retryable=True,
                ) from None
            raise MediaTooLarge(
                self.name,
                f"{self.pds_url} closed the connection twice while receiving the "
                f"{len(data):,}-byte image of painting {request.painting.id} "
                f"({exc.last.reason}), as a PDS answers an upload over its size limit (413 "
                "before reading the body); setting it aside for Bluesky",
            ) from None

    def _check_size(self, request: PostRequest, data: bytes) -> None:
        if len(data) > self.blob_limit:
            raise MediaTooLarge(
                self.name,
                f"the image of painting {request.painting.id} is {len(data):,} bytes; Bluesky "
                f"takes at most {self.blob_limit:,}; setting it aside for Bluesky (re-encode it "
                "smaller in the store to post it there)",
            )

    def _record(self, request: PostRequest, blob: Any, data: bytes) -> Any:
        from atproto_client import models

        painting = request.painting
        if painting.width and painting.height:
            size: tuple[int, int] | None = (painting.width, painting.height)
        else:
            size = image_size(data[: 256 * 1024])
        image = models.AppBskyEmbedImages.Image(
            alt=request.alt_text,
            image=blob,
            aspect_ratio=(
                models.AppBskyEmbedDefs.AspectRatio(width=size[0], height=size[1]) if size else None
            ),
        )
        facets = link_facets(request.text)
        labels = None
        if request.labels:  # the record's self-labels: how Bluesky marks a post sensitive
            labels = models.ComAtprotoLabelDefs.SelfLabels(
                values=[models.ComAtprotoLabelDefs.SelfLabel(val=v) for v in request.labels]
            )
        return models.AppBskyFeedPost.Record(
            text=request.text,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            embed=models.AppBskyEmbedImages.Main(images=[image]),
            facets=[models.AppBskyRichtextFacet.Main.model_validate(f) for f in facets] or None,
            labels=labels,
        )

    def _find(self, rkey: str, timeout: float) -> PostResult | None:
        """This slot's post, if the PDS has it."""
        from atproto_client.exceptions import BadRequestError, RequestErrorBase

        def get(client: Any) -> Any:
            try:
                return client.app.bsky.feed.post.get(self._did, rkey, timeout=timeout)
            except (BadRequestError, RequestErrorBase) as exc:
                if _xrpc_error(exc) == "RecordNotFound" or _status(exc) == 404:
                    return None
                raise

        found = self._with_session("look for this slot's post", get)
        return None if found is None else self._result(rkey)

    def _result(self, rkey: str) -> PostResult:
        return PostResult(
            id=f"at://{self._did}/{COLLECTION}/{rkey}",
            url=f"{WEB_URL}/profile/{self._handle}/post/{rkey}",
        )

    def _call(
        self,
        action: str,
        call: Callable[[], Any],
        *,
        creating: bool = False,
        login: bool = False,
        retry_auth: bool = False,
        upload: bool = False,
    ) -> Any:
        """Run one SDK call, turning its errors into the bot's."""
        from atproto_client import exceptions as aexc

        try:
            return call()
        except aexc.RateLimitExceededError as exc:
            what = "logins (createSession: 30 per 5 minutes, 300 per day)" if login else "requests"
            raise RateLimited(
                self.name,
                f"{self.pds_url} is rate limiting this account's {what}{_reset(exc)}; could not "
                f"{action}; the slot is left for a later delivery",
                status=429,
                retryable=True,
            ) from None
        except aexc.InvokeTimeoutError:
            raise PlatformError(
                self.name,
                f"{self.pds_url} did not answer in time when trying to {action}; "
                "a retry will try again",
                retryable=True,
                outcome_unknown=creating,
            ) from None
        except aexc.RequestErrorBase as exc:
            status = _status(exc)
            error = _xrpc_error(exc)
            if login and status in (400, 401):
                raise AuthError(
                    self.name,
                    f"{self.pds_url} refused to log in {ENV_BLUESKY_HANDLE}={self.handle!r} with "
                    f"{BLUESKY_APP_PASSWORD} ({status} {error or ''}); check the handle and "
                    "create a new app password (Settings > Privacy and security > App passwords)",
                    status=status,
                ) from None
            if error in _AUTH_ERRORS or status == 401:
                if retry_auth:
                    raise _SessionExpired from None
                raise AuthError(
                    self.name,
                    f"{self.pds_url} rejected the session of {self.handle} ({status} {error}) "
                    f"even after a new login with {BLUESKY_APP_PASSWORD}; could not {action}",
                    status=status,
                ) from None
            if status is None:  # transport failure: no answer at all
                if upload and may_have_arrived(exc):
                    raise _UploadCut(_transport_detail(exc)) from None
                raise PlatformError(
                    self.name,
                    f"could not reach {self.pds_url} to {action} "
                    f"({_transport_detail(exc)}); a retry will try again",
                    retryable=True,
                    outcome_unknown=creating and may_have_arrived(exc),
                ) from None
            if status >= 500 or status in (408, 409, 502):
                raise PlatformError(
                    self.name,
                    f"{self.pds_url} failed ({status} {_message(exc)}) when trying to {action}; "
                    "a retry will try again",
                    status=status,
                    retryable=True,
                    outcome_unknown=creating,
                ) from None
            if status == 413 or error == "BlobTooLarge" or _TOO_BIG.search(_message(exc)):
                raise MediaTooLarge(
                    self.name,
                    f"{self.pds_url} refused the image as too large ({status} "
                    f"{_message(exc) or 'request entity too large'}) when trying to {action}; "
                    "setting it aside for Bluesky",
                    status=status,
                ) from None
            raise PlatformError(
                self.name,
                f"{self.pds_url} refused to {action} ({status} {_message(exc)})",
                status=status,
            ) from None
        except aexc.LoginRequiredError:
            if retry_auth:
                raise _SessionExpired from None
            raise AuthError(
                self.name, f"no session with {self.pds_url}; could not {action}"
            ) from None
        except aexc.AtProtocolError as exc:  # model validation and the like: a bug, not retryable
            raise PlatformError(
                self.name, f"atproto failed to {action}: {type(exc).__name__}: {exc}"
            ) from None
        except Exception as exc:
            # The SDK passes some transport failures through as httpx's own
            # (a connection closed before the answer: RemoteProtocolError).
            import httpx

            if not isinstance(exc, httpx.TransportError):
                raise
            if upload and may_have_arrived(exc):
                raise _UploadCut(type(exc).__name__) from None
            raise PlatformError(
                self.name,
                f"lost the connection to {self.pds_url} when trying to {action} "
                f"({type(exc).__name__}); a retry will try again",
                retryable=True,
                outcome_unknown=creating and may_have_arrived(exc),
            ) from None


def _upload_blob(client: Any, data: bytes, mime_type: str, timeout: float) -> Any:
    """``com.atproto.repo.uploadBlob`` with the image's own content type.

    (The SDK's ``upload_blob`` hands the bytes to httpx as ``data=``, which
    httpx deprecates, and labels them ``*/*``.)
    """
    from atproto_client import models
    from atproto_client.models.utils import get_response_model

    response = client.invoke_procedure(
        "com.atproto.repo.uploadBlob",
        content=data,
        headers={"Content-Type": mime_type},
        output_encoding="application/json",
        timeout=timeout,
    )
    return get_response_model(response, models.ComAtprotoRepoUploadBlob.Response)


class _SessionExpired(Exception):
    """The PDS no longer accepts the session: log in again and repeat the request."""


class _UploadCut(Exception):
    """The connection broke while an upload's body was being sent (maybe the PDS's 413)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _reset(exc: Any) -> str:
    """' until HH:MM:SS UTC (limit N;w=S)' from the PDS's RateLimit-* headers, if given."""
    response = getattr(exc, "response", None)
    headers = {str(k).lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    try:
        reset = int(headers.get("ratelimit-reset", ""))
    except ValueError:
        return ""
    policy = headers.get("ratelimit-policy")
    until = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
    return f" until {until}" + (f" (policy {policy})" if policy else "")


def _status(exc: Any) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def _xrpc_error(exc: Any) -> str | None:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return getattr(content, "error", None)


def _message(exc: Any) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    error = getattr(content, "error", None)
    message = getattr(content, "message", None)
    if error or message:
        return ": ".join(str(x) for x in (error, message) if x)[:200]
    return ""


def _transport_detail(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def create(settings: Settings, secrets: Secrets, *, logger: Logger, **_: Any) -> Bluesky:
    """Check the settings and the app password are there; no request is made yet."""
    if not settings.bluesky_handle:
        raise ConfigError(
            f"{ENV_BLUESKY_HANDLE} is not set; the bluesky platform needs the account's "
            "handle, e.g. sovietart.bsky.social"
        )
    if not settings.bluesky_pds_url:
        raise ConfigError(f"{ENV_BLUESKY_PDS_URL} is empty; leave it unset for https://bsky.social")
    password = secrets.get(BLUESKY_APP_PASSWORD)
    return Bluesky(
        settings.bluesky_handle,
        password,
        settings.bluesky_pds_url,
        logger=logger,
    )
