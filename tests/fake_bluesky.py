"""A fake Bluesky PDS: a real XRPC server on 127.0.0.1.

It serves what the bot uses and answers as the real ``@atproto/pds`` 0.5.35
does (checked against it by ``make test-real``, tests/real/):

- ``createSession`` checks the app password (401 ``AuthenticationRequired``
  "Invalid identifier or password") and is rate limited as the PDS's
  ``createSession.js`` says: 30 per 5 minutes and 300 per day per account,
  with ``RateLimit-Limit``/``-Remaining``/``-Reset`` (epoch seconds)/``-Policy``
  (``30;w=300``) on every answer and 429 ``RateLimitExceeded`` "Rate Limit
  Exceeded" plus ``Retry-After`` past the limit;
- access and refresh tokens are JWTs with an expiry; ``refreshSession``
  issues new ones and a refresh token may be used again (the PDS allows a
  reused refresh token within its grace period); an expired access token is
  400 ``ExpiredToken`` "Token has expired", one the PDS cannot verify (a
  revoked session, another server's) 400 ``InvalidToken`` "Token could not
  be verified", none at all 401 ``AuthMissing``;
- ``uploadBlob`` refuses a body over the PDS's upload cap
  (``PDS_BLOB_UPLOAD_LIMIT``) with 413 ``PayloadTooLarge`` "request entity
  too large", sent before the body is read; with ``oversize="reset"`` it
  resets the connection instead, as the client often sees it;
- ``createRecord`` checks the post (text within 300 graphemes and 3,000
  bytes, an images embed whose blob was uploaded by this account with the
  size and type it was uploaded with, non-empty alt text, self-labels of
  ``com.atproto.label.defs#selfLabels``); a blob over 2,000,000 bytes is 400
  ``InvalidRequest`` "Invalid app.bsky.feed.post record: blob too big
  (maximum 2000000, got N) at $.record.embed.images[0].image"; a record key
  already taken is 500 ``InternalServerError`` "Internal Server Error";
- ``getRecord`` answers 400 ``RecordNotFound`` for a missing key.

Failures can be injected per endpoint: an HTTP error, a connection dropped
before the request is handled, a *lost response* (the work is done, the
answer never arrives), or the whole server down (connection refused). Every
post made is kept in :attr:`posts`, so a test can assert exactly-once.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex
from local_server import LocalServer

HANDLE = "sovietart.test"
DID = "did:plc:fakesovietartbot00000000"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
BLOB_LIMIT = 2_000_000
TEXT_LIMIT = 300
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(payload: dict[str, Any]) -> str:
    header = {"typ": "at+jwt", "alg": "ES256K"}
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(b"sig")]
    )


def blob_cid(data: bytes) -> str:
    """CIDv1, raw codec, sha2-256, base32: how a PDS names a blob."""
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


@dataclass
class Fault:
    method: str
    nsid: str
    action: str  # an HTTP status ("500"), "drop" (no answer, nothing done) or "lost"
    times: int = 1


SESSION_LIMITS = ((30, 300), (300, 86400))  # createSession: 30 per 5 minutes, 300 per day


@dataclass
class FakeBluesky(LocalServer):
    handle: str = HANDLE
    did: str = DID
    password: str = APP_PASSWORD
    access_ttl: float = 7200.0  # seconds, as bsky.social's access tokens
    refresh_ttl: float = 90 * 86400.0
    duplicate_status: int = 500  # what createRecord answers for a taken key
    upload_limit: int = 5 * 1024 * 1024  # the PDS's own upload cap: 413 above it
    oversize: str = "413"  # or "reset": the connection is reset before the 413 arrives
    blob_limit: int = BLOB_LIMIT  # app.bsky.embed.images: createRecord refuses a larger blob
    offset: float = 0.0  # the fake's clock is time.time() + offset (rate-limit windows)

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # rkey -> record
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # cid -> meta
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    sessions_created: int = 0
    sessions_refreshed: int = 0

    def __post_init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self._access: dict[str, float] = {}  # token -> expiry
        self._refresh: dict[str, float] = {}
        self._logins: list[float] = []  # createSession times, for its rate limits
        self._tids = itertools.count(int(time.time() * 1_000_000))

    # -- lifecycle ----------------------------------------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- test helpers -------------------------------------------------------

    def fail(self, method: str, nsid: str, action: str, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(method, nsid, action, times))

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    def _login_limit(self) -> tuple[bool, dict[str, str]]:
        """Count one createSession against both windows; the headers of the tighter one."""
        now = self.now()
        self._logins = [t for t in self._logins if t > now - SESSION_LIMITS[-1][1]]
        headers: dict[str, str] = {}
        allowed = True
        for count, window in SESSION_LIMITS:
            recent = [t for t in self._logins if t > now - window]
            if len(recent) >= count:
                allowed = False
                reset = recent[0] + window
                headers = {"RateLimit-Limit": str(count), "RateLimit-Remaining": "0",
                           "RateLimit-Reset": str(int(reset)),
                           "RateLimit-Policy": f"{count};w={window}",
                           "Retry-After": str(max(1, int(reset - now)))}  # fmt: skip
                break
        if allowed:
            self._logins.append(now)
            count, window = SESSION_LIMITS[0]
            recent = [t for t in self._logins if t > now - window]
            headers = {"RateLimit-Limit": str(count),
                       "RateLimit-Remaining": str(count - len(recent)),
                       "RateLimit-Reset": str(int(recent[0] + window)),
                       "RateLimit-Policy": f"{count};w={window}"}  # fmt: skip
        return allowed, headers

    def revoke_sessions(self) -> None:
        """Forget every token (as after a password change or a PDS restart)."""
        with self.lock:
            self._access.clear()
            self._refresh.clear()

    def count(self, nsid: str) -> int:
        with self.lock:
            return sum(1 for _, n in self.requests if n == nsid)

    def _fault(self, method: str, nsid: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.nsid == nsid and fault.times > 0:
                    fault.times -= 1
                    return fault.action
        return None

    def _tokens(self) -> dict[str, Any]:
        now = time.time()
        access = _jwt({"scope": "com.atproto.appPass", "sub": self.did, "aud": "did:web:fake",
                       "iat": int(now), "exp": int(now + self.access_ttl),
                       "jti": uuid.uuid4().hex})  # fmt: skip
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.did, "aud": "did:web:fake",
                        "iat": int(now), "exp": int(now + self.refresh_ttl),
                        "jti": uuid.uuid4().hex})  # fmt: skip
        self._access[access] = now + self.access_ttl
        self._refresh[refresh] = now + self.refresh_ttl
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle,
                "did": self.did, "active": True}  # fmt: skip

    def post_url(self, rkey: str) -> str:
        return f"at://{self.did}/app.bsky.feed.post/{rkey}"


def _handler_for(fake: FakeBluesky) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakePDS/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _bearer(self) -> str:
            auth = self.headers.get("Authorization", "")
            return auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""

        def _check_access(self) -> tuple[int, Any] | None:
            token = self._bearer()
            if not token:
                return 401, {"error": "AuthMissing", "message": "Authentication Required"}
            with fake.lock:
                expiry = fake._access.get(token)
            if expiry is None:
                return 400, {"error": "InvalidToken", "message": "Token could not be verified"}
            if expiry < time.time():
                return 400, {"error": "ExpiredToken", "message": "Token has expired"}
            return None

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            nsid = parts.path.removeprefix("/xrpc/")
            with fake.lock:
                fake.requests.append((method, nsid))
            length = int(self.headers.get("Content-Length") or 0)
            if nsid == "com.atproto.repo.uploadBlob" and length > fake.upload_limit:
                self._too_large()  # before reading the body, as the PDS does
                return
            body = self.rfile.read(length) if length else b""
            action = fake._fault(method, nsid)
            if action == "drop":
                self.close_connection = True
                return
            if action is not None and action != "lost":
                self._send(int(action), {"error": "InternalServerError",
                                         "message": f"injected {action}"})  # fmt: skip
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            answer = self._route(method, nsid, query, body)
            if action == "lost":
                self.close_connection = True
                return
            self._send(*answer)

        def _too_large(self) -> None:
            """413 without reading the body; or a reset, as a client mid-upload sees it."""
            self.close_connection = True
            if fake.oversize == "reset":
                # Closing with unread data queued makes the kernel send RST.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))  # fmt: skip
                return
            self._send(413, {"error": "PayloadTooLarge", "message": "request entity too large"})
            # Then drain what the client still sends, so that it reads the 413 every time
            # (left unread, the data makes the close a reset: the other mode, on purpose).
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)

        def _route(
            self, method: str, nsid: str, query: dict[str, str], body: bytes
        ) -> tuple[int, Any]:
            if method == "POST" and nsid == "com.atproto.server.createSession":
                return self._create_session(body)
            if method == "POST" and nsid == "com.atproto.server.refreshSession":
                return self._refresh_session()
            if method == "GET" and nsid == "com.atproto.repo.getRecord":
                return self._get_record(query)
            denied = self._check_access()
            if denied:
                return denied
            if method == "POST" and nsid == "com.atproto.repo.uploadBlob":
                return self._upload_blob(body)
            if method == "POST" and nsid == "com.atproto.repo.createRecord":
                return self._create_record(body)
            return 501, {"error": "MethodNotImplemented", "message": f"{nsid} is not served"}

        def _create_session(self, body: bytes) -> tuple[int, Any, dict[str, str]]:
            with fake.lock:  # the limit counts every attempt, a wrong password too
                allowed, headers = fake._login_limit()
            if not allowed:
                return (
                    429,
                    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    headers,
                )
            data = json.loads(body or b"{}")
            if (
                data.get("identifier") not in (fake.handle, fake.did)
                or data.get("password") != fake.password
            ):
                return 401, {"error": "AuthenticationRequired",
                             "message": "Invalid identifier or password"}, headers  # fmt: skip
            with fake.lock:
                fake.sessions_created += 1
                return 200, fake._tokens(), headers

        def _refresh_session(self) -> tuple[int, Any]:
            token = self._bearer()
            with fake.lock:
                expiry = fake._refresh.get(token)  # a refresh token may be used again
                if expiry is None:
                    return 400, {"error": "InvalidToken", "message": "Token could not be verified"}
                if expiry < time.time():
                    return 400, {"error": "ExpiredToken", "message": "Token has expired"}
                fake.sessions_refreshed += 1
                return 200, fake._tokens()

        def _upload_blob(self, body: bytes) -> tuple[int, Any]:
            if not body:
                return 400, {"error": "InvalidRequest", "message": "empty blob"}
            mime = self.headers.get("Content-Type", "application/octet-stream")
            cid = blob_cid(body)
            with fake.lock:
                fake.blobs[cid] = {"size": len(body), "mimeType": mime}
            return 200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                                  "size": len(body)}}  # fmt: skip

        def _invalid(self, message: str) -> tuple[int, Any]:
            return 400, {"error": "InvalidRequest", "message": message}

        def _create_record(self, body: bytes) -> tuple[int, Any]:
            data = json.loads(body or b"{}")
            if data.get("repo") not in (fake.did, fake.handle):
                return self._invalid("repo must be the session's account")
            if data.get("collection") != "app.bsky.feed.post":
                return self._invalid("only app.bsky.feed.post is served here")
            record = data.get("record") or {}
            if record.get("$type") != "app.bsky.feed.post":
                return self._invalid("Invalid app.bsky.feed.post record: $type")
            text = record.get("text")
            if not isinstance(text, str) or graphemes(text) > TEXT_LIMIT:
                return self._invalid(
                    f"Invalid app.bsky.feed.post record: text must not be longer than "
                    f"{TEXT_LIMIT} graphemes"
                )
            if len(text.encode()) > 3000:
                return self._invalid(
                    f"Invalid app.bsky.feed.post record: string too big (maximum 3000, got "
                    f"{len(text.encode())}) at $.record.text"
                )
            labels = record.get("labels")
            if labels is not None and not _self_labels_ok(labels):
                return self._invalid("Invalid app.bsky.feed.post record: labels")
            if not isinstance(record.get("createdAt"), str):
                return self._invalid("Invalid app.bsky.feed.post record: createdAt")
            problem = self._check_embed(record.get("embed"))
            if problem:
                return self._invalid(f"Invalid app.bsky.feed.post record: {problem}")
            with fake.lock:
                rkey = data.get("rkey") or _tid_now(fake)
                if not _TID.fullmatch(rkey):
                    return self._invalid(f"Invalid record key {rkey!r}: must be a TID")
                if rkey in fake.posts:
                    return fake.duplicate_status, {
                        "error": "InternalServerError"
                        if fake.duplicate_status >= 500
                        else "RecordAlreadyExists",
                        "message": "Internal Server Error"
                        if fake.duplicate_status >= 500
                        else "record already exists",
                    }
                fake.posts[rkey] = record
            cid = blob_cid(json.dumps(record, sort_keys=True).encode())
            return 200, {"uri": fake.post_url(rkey), "cid": cid,
                         "commit": {"cid": cid, "rev": rkey},
                         "validationStatus": "valid"}  # fmt: skip

        def _check_embed(self, embed: Any) -> str | None:
            if embed is None:
                return None
            if embed.get("$type") != "app.bsky.embed.images":
                return "embed must be app.bsky.embed.images"
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 4:
                return "embed/images must hold 1 to 4 images"
            for image in images:
                alt = image.get("alt")
                if not isinstance(alt, str) or not alt.strip():
                    return "embed/images/alt must be non-empty text"
                blob = image.get("image") or {}
                ref = (blob.get("ref") or {}).get("$link")
                with fake.lock:
                    meta = fake.blobs.get(ref)
                if blob.get("$type") != "blob" or meta is None:
                    return f"embed/images/image: blob {ref!r} was not uploaded"
                if blob.get("size") != meta["size"] or blob.get("mimeType") != meta["mimeType"]:
                    return "embed/images/image: blob size or mimeType do not match the upload"
                if meta["size"] > fake.blob_limit:
                    return (f"blob too big (maximum {fake.blob_limit}, got {meta['size']}) "
                            f"at $.record.embed.images[{images.index(image)}].image")  # fmt: skip
                if not meta["mimeType"].startswith("image/"):
                    return "embed/images/image: blob is not an image"
                ratio = image.get("aspectRatio")
                if ratio is not None and not (
                    isinstance(ratio.get("width"), int) and ratio["width"] >= 1
                    and isinstance(ratio.get("height"), int) and ratio["height"] >= 1
                ):  # fmt: skip
                    return "embed/images/aspectRatio must have positive width and height"
            return None

        def _get_record(self, query: dict[str, str]) -> tuple[int, Any]:
            if query.get("repo") not in (fake.did, fake.handle):
                return 400, {"error": "InvalidRequest", "message": "Could not find repo"}
            with fake.lock:
                record = fake.posts.get(query.get("rkey", ""))
            if query.get("collection") != "app.bsky.feed.post" or record is None:
                return 400, {"error": "RecordNotFound",
                             "message": f"Could not locate record: {query}"}  # fmt: skip
            cid = blob_cid(json.dumps(record, sort_keys=True).encode())
            return 200, {"uri": fake.post_url(query["rkey"]), "cid": cid, "value": record}

    return Handler


_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
SELF_LABELS = "com.atproto.label.defs#selfLabels"


def _self_labels_ok(labels: Any) -> bool:
    """com.atproto.label.defs#selfLabels: at most 10 values of at most 128 bytes."""
    if not isinstance(labels, dict) or labels.get("$type") != SELF_LABELS:
        return False
    values = labels.get("values")
    return (isinstance(values, list) and len(values) <= 10
            and all(isinstance(v, dict) and isinstance(v.get("val"), str)
                    and 0 < len(v["val"].encode()) <= 128 for v in values))  # fmt: skip


def _tid_now(fake: FakeBluesky) -> str:
    value = next(fake._tids) << 10
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))
