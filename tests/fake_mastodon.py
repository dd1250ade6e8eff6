"""A fake Mastodon instance: a real HTTP server on 127.0.0.1.

It serves what the bot uses (instance info, media upload and processing,
statuses) with Mastodon's own rules where they matter: the bearer token is
checked, the text is counted as Mastodon counts it (grapheme clusters, every
URL 23), images over ``image_size_limit`` are refused, media still being
processed cannot be attached, and an ``Idempotency-Key`` seen before answers
with the status it made instead of making another. Failures can be injected:
an HTTP error, a connection dropped before the request is handled, a *lost
response* (the status is made, the answer never arrives) or the whole server
down (connection refused). Every status made is kept in :attr:`statuses`, so
a test can assert exactly-once.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex
from local_server import LocalServer

DEFAULT_TOKEN = "fake-mastodon-token-5f1c9e0a"
MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "video/mp4"]
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def mastodon_count(text: str) -> int:
    """Mastodon's count, written independently of the bot's (graphemes, URL = 23)."""
    return len(regex.findall(r"\X", _URL.sub("x" * 23, text)))


@dataclass
class Fault:
    """One injected failure, used up by the first request it matches."""

    method: str
    path: str  # prefix of the request path
    action: str  # an HTTP status ("500"), "drop" (no answer, nothing done) or "lost"
    times: int = 1


@dataclass
class FakeMastodon(LocalServer):
    token: str = DEFAULT_TOKEN
    max_characters: int = 500
    image_size_limit: int = 16 * 1024 * 1024
    advertise_limit: bool = True  # False: an instance that leaves image_size_limit out
    version: str = "4.3.2"
    supported_mime_types: list[str] = field(default_factory=lambda: list(MIME_TYPES))
    processing_polls: int = 0  # GET /api/v1/media/:id answers 206 this many times first

    statuses: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self._ids = itertools.count(110_000_000_000_000_000)
        self._polls: dict[str, int] = {}

    # -- lifecycle ----------------------------------------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- test helpers -------------------------------------------------------

    def fail(self, method: str, path: str, action: str, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, action, times))

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p.startswith(path))

    def _fault(self, method: str, path: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    return fault.action
        return None

    def _new_id(self) -> str:
        with self.lock:
            return str(next(self._ids))

    # -- documents ----------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        return {
            "urls": {"streaming": f"ws://127.0.0.1:{self.port}"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": self.supported_mime_types,
                "description_limit": 1500,
                **({"image_size_limit": self.image_size_limit} if self.advertise_limit else {}),
                "image_matrix_limit": 33_177_600,
                "video_size_limit": 103_809_024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8_294_400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746,
            },
            "translation": {"enabled": False},
        }

    def instance_v2(self) -> dict[str, Any]:
        return {
            "domain": f"127.0.0.1:{self.port}",
            "title": "Fake Mastodon",
            "version": self.version,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A fake instance for tests",
            "usage": {"users": {"active_month": 1}},
            "thumbnail": {"url": f"{self.url}/thumb.png"},
            "languages": ["en"],
            "configuration": self.configuration(),
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": "admin@example.invalid", "account": None},
            "rules": [],
            "api_versions": {"mastodon": 2},
        }

    def instance_v1(self) -> dict[str, Any]:
        return {
            "uri": f"127.0.0.1:{self.port}",
            "title": "Fake Mastodon",
            "short_description": "A fake instance for tests",
            "description": "",
            "email": "admin@example.invalid",
            "version": self.version,
            "urls": {"streaming_api": f"ws://127.0.0.1:{self.port}"},
            "stats": {"user_count": 1, "status_count": len(self.statuses), "domain_count": 0},
            "thumbnail": None,
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": self.configuration(),
            "contact_account": None,
            "rules": [],
        }

    def _media_doc(self, media_id: str) -> dict[str, Any]:
        item = self.media[media_id]
        ready = item["ready"]
        return {
            "id": media_id,
            "type": "image",
            "url": f"{self.url}/system/media/{media_id}" if ready else None,
            "preview_url": f"{self.url}/system/media/{media_id}/small",
            "remote_url": None,
            "text_url": None,
            "meta": {},
            "description": item["description"],
            "blurhash": None,
        }

    def _account(self) -> dict[str, Any]:
        return {
            "id": "1",
            "username": "sovietart",
            "acct": "sovietart",
            "display_name": "Soviet Art Bot",
            "url": f"{self.url}/@sovietart",
            "bot": True,
        }


def _handler_for(fake: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeMastodon/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"error": message})

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._error(401, "The access token is invalid")
                return False
            return True

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            path = urlsplit(self.path).path
            with fake.lock:
                fake.requests.append((method, path))
            body = self._body() if method == "POST" else b""
            action = fake._fault(method, path)
            if action == "drop":
                self.close_connection = True
                return
            if action is not None and action != "lost":
                self._error(int(action), f"injected {action}")
                return
            answer = self._route(method, path, body)
            if action == "lost":  # done, but the answer never arrives
                self.close_connection = True
                return
            if answer is not None:
                self._send(*answer)

        def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any] | None:
            path = path.rstrip("/")
            if method == "GET" and path == "/api/v2/instance":
                return 200, fake.instance_v2()
            if method == "GET" and path == "/api/v1/instance":
                return 200, fake.instance_v1()
            if not self._authorized():
                return None
            if method == "POST" and path == "/api/v2/media":
                return self._upload(body)
            if method == "GET" and path.startswith("/api/v1/media/"):
                return self._media(path.rsplit("/", 1)[1])
            if method == "POST" and path == "/api/v1/statuses":
                return self._status(body)
            return 404, {"error": "Record not found"}

        def _upload(self, body: bytes) -> tuple[int, Any]:
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/form-data"):
                return 422, {"error": "Validation failed: File can't be blank"}
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body
            )
            fields: dict[str, str] = {}
            file: tuple[bytes, str, str] | None = None
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                if name == "file":
                    file = (payload, part.get_content_type(), part.get_filename() or "")
                elif name:
                    fields[str(name)] = payload.decode()
            if file is None:
                return 422, {"error": "Validation failed: File can't be blank"}
            data, mime, filename = file
            if mime not in fake.supported_mime_types:
                return 422, {"error": f"Validation failed: File content type {mime} is invalid"}
            if len(data) > fake.image_size_limit:
                return 422, {
                    "error": "Validation failed: File file size must be less than "
                    f"{fake.image_size_limit} Bytes"
                }
            media_id = fake._new_id()
            with fake.lock:
                fake.media[media_id] = {
                    "bytes": data,
                    "mime_type": mime,
                    "filename": filename,
                    "description": fields.get("description"),
                    "ready": fake.processing_polls == 0,
                    "status_id": None,
                }
                fake.uploads.append({"id": media_id, "description": fields.get("description")})
                fake._polls[media_id] = fake.processing_polls
                doc = fake._media_doc(media_id)
            return (200 if doc["url"] else 202), doc

        def _media(self, media_id: str) -> tuple[int, Any]:
            with fake.lock:
                if media_id not in fake.media:
                    return 404, {"error": "Record not found"}
                if fake._polls.get(media_id, 0) > 0:
                    fake._polls[media_id] -= 1
                    return 206, fake._media_doc(media_id)
                fake.media[media_id]["ready"] = True
                return 200, fake._media_doc(media_id)

        def _status(self, body: bytes) -> tuple[int, Any]:
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("application/json"):
                params = json.loads(body or b"{}")
                text = params.get("status") or ""
                media_ids = [str(m) for m in params.get("media_ids") or []]
                visibility = params.get("visibility", "public")
            else:
                form = parse_qs(body.decode(), keep_blank_values=True)
                text = (form.get("status") or [""])[0]
                media_ids = form.get("media_ids[]", [])
                visibility = (form.get("visibility") or ["public"])[0]
            key = self.headers.get("Idempotency-Key")
            with fake.lock:
                if key and key in fake.idempotency:  # Mastodon answers with the earlier status
                    earlier = fake.idempotency[key]
                    return 200, next(s for s in fake.statuses if s["id"] == earlier)
                if not text.strip() and not media_ids:
                    return 422, {"error": "Validation failed: Text can't be blank"}
                if mastodon_count(text) > fake.max_characters:
                    return 422, {
                        "error": "Validation failed: Text character limit of "
                        f"{fake.max_characters} exceeded"
                    }
                attachments = []
                for media_id in media_ids:
                    item = fake.media.get(media_id)
                    if item is None or item["status_id"] is not None:
                        return 422, {"error": "Validation failed: media not found"}
                    if not item["ready"]:
                        return 422, {
                            "error": "Cannot attach files that have not finished processing. "
                            "Try again in a moment!"
                        }
                    attachments.append(fake._media_doc(media_id))
                status_id = str(next(fake._ids))
                for media_id in media_ids:
                    fake.media[media_id]["status_id"] = status_id
                status = {
                    "id": status_id,
                    "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "in_reply_to_id": None,
                    "in_reply_to_account_id": None,
                    "sensitive": False,
                    "spoiler_text": "",
                    "visibility": visibility,
                    "language": "en",
                    "uri": f"{fake.url}/users/sovietart/statuses/{status_id}",
                    "url": f"{fake.url}/@sovietart/{status_id}",
                    "replies_count": 0,
                    "reblogs_count": 0,
                    "favourites_count": 0,
                    "content": "<p>" + text.replace("\n", "<br />") + "</p>",
                    "text": text,
                    "reblog": None,
                    "account": fake._account(),
                    "media_attachments": attachments,
                    "mentions": [],
                    "tags": [],
                    "emojis": [],
                    "card": None,
                    "poll": None,
                    "idempotency_key": key,
                }
                fake.statuses.append(status)
                if key:
                    fake.idempotency[key] = status_id
            return 200, status

    return Handler
