"""A fake X API v2 on 127.0.0.1 over real HTTPS, as strict as X where it matters.

* TLS with a certificate from a throwaway CA made by ``trustme``; clients
  trust it through ``REQUESTS_CA_BUNDLE`` (see :attr:`FakeX.env`), so
  subprocesses do too.
* Every request must carry a valid OAuth 1.0a HMAC-SHA1 signature, checked
  by oauthlib's own server side (``SignatureOnlyEndpoint``): a wrong secret,
  a reused nonce or a stale timestamp gets X's 401. As on X, a
  form-urlencoded body is part of the signature and a multipart or JSON body
  is not.
* Every request is checked against X's own API description (version 2.167,
  transcribed in :mod:`x_api_spec`): an undeclared query parameter, a form
  field or JSON member X does not declare, a missing required one, or a value
  outside its schema gets X's 400 invalid-request problem, before anything
  happens. So a request X would refuse fails our tests, not our users.
* ``POST /2/media/upload`` (multipart ``media`` + ``media_category``),
  ``POST /2/media/metadata`` (alt text), ``POST /2/tweets`` (text weighted
  as X counts it, at most 280; media ids must be known; a text the account
  already posted gets X's real 403 duplicate body), ``GET /2/users/me`` and
  ``GET /2/users/:id/tweets`` (newest first, ``start_time``, ``end_time``,
  ``max_results``, ``pagination_token``/``next_token``, ``post.fields``),
  answering with v2 bodies; post texts come back the way X returns them
  (HTML entities, a t.co link for the image).
* X's undocumented behaviour, as variants a test chooses: how long the
  duplicate check remembers a text (``duplicate_window``, seconds; None for
  ever), whether a re-send with another media id escapes it
  (``duplicate_by_media``), how far the timeline lags behind a new post
  (``timeline_lag``, seconds), and how many latest posts the check compares
  (``duplicate_horizon``). Time is the fake's ``clock`` (``time.time`` unless a
  test passes its own), so a test moves it instead of sleeping.
* Faults on demand (:meth:`FakeX.inject`): a status before anything happens
  (429 with ``x-rate-limit-reset``, 503, ...), or a *lost answer*: the request
  takes effect, then the connection is dropped, a 500 comes back, or the
  answer is cut off (``truncate``: fewer bytes than its Content-Length;
  ``chunked``: a chunked body that stops mid-chunk; ``gzip``: a body that
  claims gzip and is not).
* Every post is recorded (:attr:`FakeX.posts`), so a test can assert that a
  slot produced exactly one.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import html
import itertools
import json
import secrets
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme
import x_api_spec
from local_server import LocalServer
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA1

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MEDIA_LIFETIME = 86400

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
STATUS_TITLES = {
    400: "Invalid Request",
    403: "Forbidden",
    404: "Not Found Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


invalid_request = x_api_spec.invalid_request


def problem(status: int, detail: str | None = None) -> dict[str, Any]:
    title = STATUS_TITLES.get(status, "Error")
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


# -- X's weighted length, counted independently of soviet_art_bot.caption -----


def weighted_length(text: str) -> int:
    """twitter-text v3, by another implementation than ours: twitter-text-parser.

    It passes twitter-text's conformance data too, so the fake refuses what X
    refuses without trusting the code under test. (Its emoji list is Emoji 12,
    a little newer than the reference's, which only matters for sequences no
    test caption holds.)
    """
    from twitter_text import parse_tweet

    return parse_tweet(text).weightedLength


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


@dataclass
class Fault:
    """What to do to the next ``times`` requests matching ``method`` and ``path``."""

    method: str
    path: str
    status: int | None = None  # answer this instead of doing anything
    lose: str | None = None  # "drop", "500", "truncate", "chunked", "gzip": do it, lose the answer
    times: int = 1
    reset_in: float | None = None  # 429: x-rate-limit-reset this many seconds ahead
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


class _Validator(RequestValidator):
    """oauthlib's server side, told what this fake X accepts."""

    def __init__(self, fake: FakeX) -> None:
        super().__init__()
        self.fake = fake

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (SIGNATURE_HMAC_SHA1,)

    @property
    def timestamp_lifetime(self) -> int:
        return 300  # X refuses a timestamp more than 5 minutes off

    @property
    def dummy_client(self) -> str:
        return "dummyclient"

    @property
    def dummy_access_token(self) -> str:
        return "dummytoken"

    def check_client_key(self, client_key: str) -> bool:
        return client_key.isascii() and client_key.isalnum() and 8 <= len(client_key) <= 64

    def check_nonce(self, nonce: str) -> bool:
        return nonce.isascii() and nonce.isalnum() and 8 <= len(nonce) <= 64

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return secrets.compare_digest(client_key, self.fake.api_key)

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.fake.api_secret if client_key == self.fake.api_key else "dummysecret"

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        if token == self.fake.access_token:
            return self.fake.access_token_secret
        return "dummytokensecret"

    def validate_timestamp_and_nonce(
        self, client_key, timestamp, nonce, request, request_token=None, access_token=None
    ) -> bool:
        key = (client_key, timestamp, nonce, request.resource_owner_key)
        with self.fake.lock:
            if key in self.fake.nonces:
                return False
            self.fake.nonces.add(key)
            return True


class _Handler(BaseHTTPRequestHandler):
    fake: FakeX
    protocol_version = "HTTP/1.1"
    server_version = "fake-x"
    timeout = 30  # idle keep-alive connections end by themselves
    disable_nagle_algorithm = True  # headers and body go out at once, as from X

    def setup(self) -> None:
        super().setup()
        try:
            self.request.do_handshake()
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.fake.handle(self)

    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET


class FakeX(LocalServer):
    """See the module docstring. Use as a context manager, or start()/stop()."""

    scheme = "https"

    def __init__(
        self,
        directory: Path,
        *,
        duplicate_horizon: int | None = None,
        duplicate_window: float | None = None,
        duplicate_by_media: bool = False,
        timeline_lag: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.duplicate_horizon = duplicate_horizon  # compare with this many latest posts
        self.duplicate_window = duplicate_window  # ... made at most this many seconds ago
        self.duplicate_by_media = duplicate_by_media  # ... with the same media ids
        self.timeline_lag = timeline_lag  # a post shows on the timeline this much later
        self.clock = clock
        self.api_key = "fk" + secrets.token_hex(10)
        self.api_secret = "fs" + secrets.token_hex(20)
        self.user_id = "1860000000000000001"
        self.access_token = f"{self.user_id}-{secrets.token_hex(12)}"
        self.access_token_secret = "ft" + secrets.token_hex(20)
        self.lock = threading.Lock()
        self.nonces: set[tuple[Any, ...]] = set()
        self.posts: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str, int]] = []  # (method, path, status); -1 = dropped
        self.requests: list[tuple[str, str, list[tuple[str, str]]]] = []  # method, path, query
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._ca = trustme.CA()
        self.ca_path = self.directory / "fake-x-ca.pem"

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- lifecycle ------------------------------------------------------------

    def handler_class(self) -> type[_Handler]:
        return type("Handler", (_Handler,), {"fake": self})

    def wrap_socket(self, sock: socket.socket) -> socket.socket:
        """TLS for 127.0.0.1, from a CA written to :attr:`ca_path` for clients to trust."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ca.issue_cert("127.0.0.1").configure_cert(context)
        # the handshake happens in the handler's thread (_Handler.setup), not in accept()
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "X_API_KEY": self.api_key,
            "X_API_SECRET": self.api_secret,
            "X_ACCESS_TOKEN": self.access_token,
            "X_ACCESS_TOKEN_SECRET": self.access_token_secret,
        }

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client of this fake (the credentials, its URL, its CA)."""
        return {
            **self.credentials,
            "X_API_BASE_URL": self.url,
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
        }

    # -- test controls --------------------------------------------------------

    def inject(self, method: str, path: str, **kwargs: Any) -> Fault:
        fault = Fault(method.upper(), path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def forget_media(self) -> None:
        """As if every uploaded media id had expired."""
        with self.lock:
            self.media.clear()

    def seed_post(self, text: str, *, age: timedelta = timedelta(days=60)) -> dict[str, Any]:
        """A post the account made ``age`` ago (X will refuse to repeat its text)."""
        with self.lock:
            post = self._make_post(text, [])
            post["created_at"] -= age
            self.posts.sort(key=lambda p: p["created_at"])
            return post

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and p == path)

    # -- the server side ------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.path == path and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _verify(self, handler: _Handler, body: bytes) -> bool:
        headers = {k: v for k, v in handler.headers.items()}
        content_type = headers.get("Content-Type", "")
        text = body.decode("utf-8") if "application/x-www-form-urlencoded" in content_type else ""
        endpoint = SignatureOnlyEndpoint(_Validator(self))
        valid, _ = endpoint.validate_request(
            f"{self.url}{handler.path}", handler.command, text, headers
        )
        return valid

    def _respond(
        self, handler: _Handler, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        reset = str(int(self.clock()) + 900)
        base = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": reset,
        }
        for name, value in {**base, **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        method, path = handler.command, parts.path
        if not self._verify(handler, body):
            self._record(method, path, 401)
            return self._respond(handler, 401, UNAUTHORIZED)
        fault = self._take_fault(method, path)
        if fault is not None and fault.status is not None:
            headers = dict(fault.headers)
            if fault.status == 429:
                reset = self.clock() + (fault.reset_in if fault.reset_in is not None else 1)
                headers.setdefault("x-rate-limit-remaining", "0")
                headers.setdefault("x-rate-limit-reset", str(int(reset + 0.999)))
            self._record(method, path, fault.status)
            return self._respond(
                handler, fault.status, fault.body or problem(fault.status), headers
            )
        try:
            status, payload = self._answer(method, path, parts.query, handler, body)
        except Exception as exc:  # a bug in the fake: say so loudly
            status, payload = 500, problem(500, f"fake X failed: {exc!r}")
        if fault is not None and fault.lose == "drop":
            self._record(method, path, -1)
            handler.close_connection = True
            return None  # the request took effect; its answer never comes
        if fault is not None and fault.lose == "500":
            self._record(method, path, 500)
            return self._respond(handler, 500, problem(500))
        if fault is not None and fault.lose in ("truncate", "chunked", "gzip"):
            self._record(method, path, -1)
            return self._cut_off(handler, fault.lose, status, payload)
        self._record(method, path, status)
        return self._respond(handler, status, payload)

    def _cut_off(self, handler: _Handler, how: str, status: int, payload: Any) -> None:
        """The status line and headers of the real answer, then a body the client cannot read."""
        data = json.dumps(payload).encode()
        handler.close_connection = True
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        if how == "truncate":
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
        elif how == "chunked":
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            handler.wfile.write(b"%x\r\n" % len(data) + data[: len(data) // 2])
        else:
            handler.send_header("Content-Encoding", "gzip")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)  # not gzip at all
        handler.wfile.flush()

    def _record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.log.append((method, path, status))

    def _answer(
        self, method: str, path: str, raw_query: str, handler: _Handler, body: bytes
    ) -> tuple[int, Any]:
        """Check the request against X's description, then carry it out."""
        query = parse_qsl(raw_query, keep_blank_values=True)
        with self.lock:
            self.requests.append((method, path, query))
        found = x_api_spec.match(method, path)
        if found is None:
            return 404, problem(404, f"no route for {method} {path}")
        endpoint, path_values = found
        content_type = handler.headers.get("Content-Type", "")
        parsed = self._parse_body(content_type, body) if endpoint.bodies else None
        invalid = x_api_spec.check_request(endpoint, path_values, query, content_type, parsed)
        if invalid is not None:
            return 400, invalid
        return self._route(method, path, dict(query), parsed)

    @staticmethod
    def _parse_body(content_type: str, body: bytes) -> dict[str, Any] | None:
        """A JSON object, or multipart fields (str for text, bytes for files); None if neither."""
        if content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
            )
            if not message.is_multipart():
                return None
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                data = part.get_payload(decode=True) or b""
                is_file = part.get_param("filename", header="content-disposition") is not None
                fields[name] = data if is_file else data.decode("utf-8", "replace")
            return fields
        if content_type.split(";")[0].strip() == "application/json":
            try:
                doc = json.loads(body)
            except ValueError:
                return None
            return doc if isinstance(doc, dict) else None
        return None

    def _route(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        if method == "POST" and path == "/2/media/upload":
            return self._upload(body or {})
        if method == "POST" and path == "/2/media/metadata":
            return self._metadata(body or {})
        if method == "POST" and path == "/2/tweets":
            return self._tweet(body or {})
        if method == "GET" and path == "/2/users/me":
            return 200, {
                "data": {"id": self.user_id, "name": "Soviet Art", "username": "sovietart"}
            }
        if method == "GET" and path == f"/2/users/{self.user_id}/tweets":
            return self._timeline(query)
        return 404, problem(404, f"no route for {method} {path}")

    def _upload(self, fields: dict[str, Any]) -> tuple[int, Any]:
        if fields.get("media_category") != "tweet_image":  # the bot posts images only
            return 400, invalid_request(
                "media_category", fields.get("media_category"), "media_category must be tweet_image"
            )
        data = fields.get("media")
        data = data if isinstance(data, bytes) else b""  # base64 JSON uploads: not for images
        mime = _sniff(data)
        if not data or mime is None:
            return 400, invalid_request(
                "media", None, "media is not a JPEG, PNG, GIF or WebP image"
            )
        if len(data) > MAX_IMAGE_BYTES:
            return 400, invalid_request("media", None, "media is larger than 5 MB")
        with self.lock:
            media_id = str(1870000000000000000 + next(self._ids))
            self.media[media_id] = {
                "id": media_id,
                "mime": mime,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "alt_text": None,
                "expires": self.clock() + MEDIA_LIFETIME,
            }
        return 200, {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(data),
                "expires_after_secs": MEDIA_LIFETIME,
                "image": {"image_type": mime},
            }
        }

    def _metadata(self, doc: dict[str, Any]) -> tuple[int, Any]:
        media_id = str(doc.get("id", ""))
        alt = ((doc.get("metadata") or {}).get("alt_text") or {}).get("text")
        with self.lock:
            media = self.media.get(media_id)
            if media is None or media["expires"] < self.clock():
                return 400, invalid_request("id", media_id, "The media id was not found.")
            if not isinstance(alt, str) or not 0 < len(alt) <= 1000:
                return 400, invalid_request(
                    "metadata.alt_text.text", alt, "alt text must be 1 to 1000 characters"
                )
            media["alt_text"] = alt
        return 200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}

    def _is_duplicate(self, text: str, media_ids: list[str]) -> bool:
        """X's duplicate check, as the chosen variant remembers texts."""
        recent = (
            self.posts if self.duplicate_horizon is None else self.posts[-self.duplicate_horizon :]
        )
        now = self.now()
        for post in recent:
            if _norm(post["text"]) != _norm(text):
                continue
            if self.duplicate_window is not None and (
                now - post["created_at"] > timedelta(seconds=self.duplicate_window)
            ):
                continue  # forgotten
            if self.duplicate_by_media and [m["id"] for m in post["media"]] != media_ids:
                continue  # another image: not a duplicate to this check
            return True
        return False

    def _tweet(self, doc: dict[str, Any]) -> tuple[int, Any]:
        text = doc.get("text", "")
        media_ids = [str(m) for m in (doc.get("media") or {}).get("media_ids") or []]
        if not (text.strip() or media_ids):
            return 400, invalid_request("text", text, "a post needs text or media")
        if weighted_length(text) > 280:
            return 400, invalid_request("text", text, TOO_LONG)
        with self.lock:
            media = []
            for media_id in media_ids:
                item = self.media.get(media_id)
                if item is None or item["expires"] < self.clock():
                    return 400, invalid_request(
                        "media.media_ids", media_id, "Your media IDs are invalid."
                    )
                media.append(dict(item))
            if text.strip() and self._is_duplicate(text, media_ids):
                return 403, DUPLICATE
            post = self._make_post(text, media)
        return 201, {
            "data": {
                "id": post["id"],
                "text": post["returned_text"],
                "edit_history_post_ids": [post["id"]],
            }
        }

    def _make_post(self, text: str, media: list[dict[str, Any]]) -> dict[str, Any]:
        post_id = str(1880000000000000000 + next(self._ids))
        returned = html.escape(text, quote=False)
        if media:
            returned += " https://t.co/" + secrets.token_urlsafe(8).replace("-", "a").replace(
                "_", "b"
            )
        post = {
            "id": post_id,
            "text": text,
            "returned_text": returned,
            "media": media,
            "created_at": self.now(),
        }
        self.posts.append(post)
        return post

    def _timeline(self, query: dict[str, str]) -> tuple[int, Any]:
        """Newest first, from what the timeline shows by now (``timeline_lag`` behind)."""
        limit = int(query.get("max_results", "10"))
        since = _time(query.get("start_time"))
        until = _time(query.get("end_time"))
        offset = _offset(query.get("pagination_token"))
        if offset is None:
            return 400, invalid_request(
                "pagination_token", query.get("pagination_token"), "Invalid pagination token"
            )
        fields = set(query.get("post.fields", "").split(","))
        shown_by = self.now() - timedelta(seconds=self.timeline_lag)
        with self.lock:
            posts = [
                p
                for p in reversed(self.posts)
                if p["created_at"] <= shown_by
                and (since is None or p["created_at"] >= since)
                and (until is None or p["created_at"] < until)
            ]
        page = posts[offset : offset + limit]
        data = []
        for post in page:
            item = {
                "id": post["id"],
                "text": post["returned_text"],
                "edit_history_post_ids": [post["id"]],
            }
            if "created_at" in fields:
                item["created_at"] = post["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
            data.append(item)
        if not data:
            return 200, {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {
            "result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]
        }  # fmt: skip
        if offset + limit < len(posts):
            meta["next_token"] = _token(offset + limit)
        return 200, {"data": data, "meta": meta}


def _time(value: str | None) -> datetime | None:
    """A time the description already validated (RFC 3339)."""
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _token(offset: int) -> str:
    return base64.b32hexencode(f"page:{offset}".encode()).decode().rstrip("=").lower()


def _offset(token: str | None) -> int | None:
    if token is None:
        return 0
    try:
        text = base64.b32hexdecode(token.upper() + "=" * (-len(token) % 8)).decode()
    except ValueError:
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "page" and number.isdigit() else None
