"""A fake Mastodon instance: a real HTTP server on 127.0.0.1.

Built from Mastodon's own code and documentation, and refusing what Mastodon
refuses. What it follows, and where:

- mastodon/mastodon, the 4.x series (the instance reports 4.3.2 by default;
  the client is Mastodon.py 2.3.3): ``app/services/post_status_service.rb``: an ``Idempotency-Key`` is kept for
  3,600 s after the status is created, per account
  (``redis.setex("idempotency:status:#{account.id}:#{key}", 3_600, status.id)``);
  a repeat within that hour answers the same status, and one whose status was
  deleted answers 404 (``Status.find``) until the key expires.
  ``sensitive`` is the account's default (``setting_default_sensitive``)
  when the request leaves it out, and is forced on by a ``spoiler_text``.
- ``app/validators/status_length_validator.rb``: ``[spoiler_text,
  countable_text(text)].join`` counted in grapheme clusters, where every URL
  the extractor finds (``extract_urls_with_indices(str,
  extract_url_without_protocol: false)``) counts ``'x' * 23`` and every
  mention (``Account::MENTION_RE``) counts ``@username`` (its domain dropped).
  :func:`mastodon_count` is an independent port of that, for this fake only.
- ``app/controllers/api/base_controller.rb`` (``require_user!``) and
  Doorkeeper: 401 ``The access token is invalid``; 403 ``This action is
  outside the authorized scopes``; 403 ``Your login is missing a confirmed
  e-mail address`` / ``... is currently pending approval`` / ``... is
  currently disabled``.
- ``app/controllers/concerns/api/error_handling.rb``: 422
  ``Validation failed: ...``, 404 ``Record not found``.
- ``app/controllers/api/v1/media_controller.rb`` and ``v2/media_controller.rb``:
  ``POST /api/v1/media`` (processed before answering: 200) and
  ``POST /api/v2/media`` (200, or 202 with ``url: null`` while processing);
  422 ``File type of uploaded media could not be verified``; ``GET
  /api/v1/media/:id`` is 206 while processing and 404 once attached.
- ``config/initializers/rack_attack.rb`` and
  ``app/controllers/concerns/rate_limit_headers.rb``: ``X-RateLimit-Limit``,
  ``-Remaining`` and ``-Reset`` (ISO 8601, microseconds) on every API answer;
  429 ``{"error": "Too many requests"}``; statuses are limited to 300 per 3
  hours per account, media to 30 per 30 minutes.
- mastodon/documentation (commit 2903485d, 2026-07-02):
  ``content/en/methods/statuses.md`` (Idempotency-Key "stored for up to 1
  hour", ``sensitive``, ``spoiler_text``), ``media.md``, ``instance.md``
  (``configuration.statuses.characters_reserved_per_url``,
  ``media_attachments.description_limit``), ``accounts.md``
  (``verify_credentials``: ``profile`` or ``read:accounts``;
  ``/api/v1/accounts/:id/statuses``: public, or ``read:statuses`` when a token
  is sent).

The fake's clock is ``time.time() + offset``: :meth:`advance` moves it, so a
test can outlive an idempotency key without waiting. Failures can be
injected: an HTTP error, a connection dropped before the request is handled,
a *lost response* (the status is made, the answer never arrives) or the whole
server down (connection refused). Every status made is kept in
:attr:`statuses`, so a test can assert exactly-once.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex
from local_server import LocalServer

DEFAULT_TOKEN = "fake-mastodon-token-5f1c9e0a"
DEFAULT_SCOPES = frozenset({"write:media", "write:statuses", "profile", "read:statuses"})
MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "video/mp4"]
IDEMPOTENCY_TTL = 3_600  # seconds, post_status_service.rb
STATUS_LIMIT = (300, 3 * 3600)  # rack_attack: throttle('throttle_authenticated_api')... per account
MEDIA_LIMIT = (30, 30 * 60)
API_LIMIT = (300, 5 * 60)  # per token, on every API answer

# -- an independent port of StatusLengthValidator ----------------------------------
# twitter-text's URL extractor, protocol required: the character before the URL
# may not be a letter/digit/@/$/#; the path may not end in punctuation.
_URL_RE = regex.compile(
    r"(?<![\p{L}\p{N}@＠$#＃\u202A-\u202E])"
    r"https?://"
    r"(?:[\p{L}\p{N}_-]+\.)+(?:\p{L}{2,}|xn--[a-z0-9-]+)"  # domain with a TLD
    r"(?::\d+)?"
    r"(?:/(?:[\p{L}\p{N}!*';:=+,.$/%#\[\]\-–_~&|@]*"
    r"(?:\([\p{L}\p{N}!*';:=+,.$/%#\[\]\-–_~&|@]*\))?)*"
    r"(?<=[\p{L}\p{N}=_#/+\-)]))?"
    r"(?:\?[\p{L}\p{N}!?*'();:&=+$/%#\[\]\-_.,~|@]*(?<=[\p{L}\p{N}\-_&=#/]))?",
    regex.IGNORECASE,
)
# Account::MENTION_RE: (?<![=/[:word:]])@((username)(?:@[[:word:]]+([.-]+[[:word:]]+)*)?)
_MENTION_RE = regex.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?)", regex.IGNORECASE
)


def mastodon_count(text: str, spoiler_text: str = "", url_length: int = 23) -> int:
    """Mastodon's count of a status: spoiler text plus text, links 23, mentions without domain."""
    spans: list[tuple[int, int, str]] = []
    for match in _URL_RE.finditer(text):
        spans.append((match.start(), match.end(), "x" * url_length))
    for match in _MENTION_RE.finditer(text):
        start, end = match.start(), match.end()
        if any(s < end and start < e for s, e, _ in spans):  # remove_overlapping_entities
            continue
        spans.append((start, end, "@" + match.group(2)))
    spans.sort()
    out, pos = [], 0
    for start, end, replacement in spans:
        out.append(text[pos:start] + replacement)
        pos = end
    out.append(text[pos:])
    return len(regex.findall(r"\X", spoiler_text + "".join(out)))


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
    scopes: frozenset[str] = DEFAULT_SCOPES
    login: str = "functional"  # or "unconfirmed", "pending", "disabled" (require_user!)
    default_sensitive: bool = False  # the account's "always mark media as sensitive"
    max_characters: int = 500
    characters_reserved_per_url: int = 23
    description_limit: int = 1500
    image_size_limit: int = 16 * 1024 * 1024
    advertise_limit: bool = True  # False: an instance that leaves image_size_limit out
    version: str = "4.3.2"
    v2_instance: bool = True  # False: an instance older than 4.0 (404 on /api/v2/instance)
    supported_mime_types: list[str] = field(default_factory=lambda: list(MIME_TYPES))
    processing_polls: int = 0  # GET /api/v1/media/:id answers 206 this many times first
    offset: float = 0.0  # the fake's clock is time.time() + offset

    statuses: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (id, expiry)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self._seq = 0
        self._polls: dict[str, int] = {}
        self._hits: dict[str, list[float]] = {}

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- test helpers -------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (idempotency keys and rate-limit windows follow)."""
        with self.lock:
            self.offset += seconds

    def fail(self, method: str, path: str, action: str, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, action, times))

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p.startswith(path))

    def delete(self, status_id: str) -> None:
        """Delete a status, as its author would (its media go with it)."""
        with self.lock:
            status = next(s for s in self.statuses if s["id"] == status_id)
            status["deleted"] = True
            for media in status["media_attachments"]:
                self.media.pop(media["id"], None)

    @property
    def visible(self) -> list[dict[str, Any]]:
        """Statuses not deleted."""
        return [s for s in self.statuses if not s.get("deleted")]

    def _fault(self, method: str, path: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    return fault.action
        return None

    def _new_id(self) -> str:
        with self.lock:
            return self._next_id()

    def _next_id(self) -> str:
        """A Snowflake id, as Mastodon makes them: milliseconds << 16 | sequence (lock held)."""
        self._seq = (self._seq + 1) & 0xFFFF
        return str((int(self.now() * 1000) << 16) | self._seq)

    def _throttle(self, name: str, limit: tuple[int, int]) -> tuple[bool, dict[str, str]]:
        """Count one request in ``name``'s fixed window; the rate-limit headers for it."""
        count, period = limit
        now = self.now()
        start = now - (now % period)
        hits = [t for t in self._hits.get(name, []) if t >= start]
        allowed = len(hits) < count
        if allowed:
            hits.append(now)
        self._hits[name] = hits
        reset = datetime.fromtimestamp(start + period, UTC).isoformat(timespec="microseconds")
        return allowed, {
            "X-RateLimit-Limit": str(count),
            "X-RateLimit-Remaining": str(max(0, count - len(hits))),
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"),
        }

    # -- documents ----------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        return {
            "urls": {"streaming": f"ws://127.0.0.1:{self.port}"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": self.characters_reserved_per_url,
            },
            "media_attachments": {
                "supported_mime_types": self.supported_mime_types,
                "description_limit": self.description_limit,
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
        config = self.configuration()
        config["statuses"].pop("characters_reserved_per_url")  # v1 has no such field
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
            "configuration": config,
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

    def account(self) -> dict[str, Any]:
        return {
            "id": "109000000000000001",
            "username": "sovietart",
            "acct": "sovietart",
            "display_name": "Soviet Art Bot",
            "url": f"{self.url}/@sovietart",
            "bot": True,
        }


_LOGIN_ERRORS = {
    "unconfirmed": "Your login is missing a confirmed e-mail address",
    "pending": "Your login is currently pending approval",
    "disabled": "Your login is currently disabled",
}
_SCOPE_ERROR = "This action is outside the authorized scopes"


def _truthy(value: Any) -> bool | None:
    """Rails' boolean casting of a form or JSON value; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() not in ("0", "f", "false", "off", "no")


def _handler_for(fake: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeMastodon/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
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

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            with fake.lock:
                fake.requests.append((method, path))
            body = self._body() if method == "POST" else b""
            action = fake._fault(method, path)
            if action == "drop":
                self.close_connection = True
                return
            headers: dict[str, str] = {}
            if path.startswith("/api/") and self.headers.get("Authorization"):
                with fake.lock:
                    _, headers = fake._throttle("api", API_LIMIT)
            if action == "429":
                headers["X-RateLimit-Remaining"] = "0"
                self._send(429, {"error": "Too many requests"}, headers)
                return
            if action is not None and action != "lost":
                self._send(int(action), {"error": f"injected {action}"}, headers)
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            answer = self._route(method, path.rstrip("/"), query, body)
            if action == "lost":  # done, but the answer never arrives
                self.close_connection = True
                return
            status, doc, extra = answer
            self._send(status, doc, {**headers, **extra})

        # -- authorization (Doorkeeper, then require_user!) -----------------

        def _deny(self, *scopes: str, user: bool = True) -> tuple[int, Any, dict] | None:
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                return (
                    401,
                    {"error": "The access token is invalid"},
                    {
                        "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                        'error_description="The access token is invalid"'
                    },
                )
            if fake.login == "disabled":  # a suspended account's token is refused everywhere
                return 403, {"error": _LOGIN_ERRORS["disabled"]}, {}
            if not fake.scopes & set(scopes):
                return 403, {"error": _SCOPE_ERROR}, {}
            if user and fake.login in _LOGIN_ERRORS:
                return 403, {"error": _LOGIN_ERRORS[fake.login]}, {}
            return None

        def _route(
            self, method: str, path: str, query: dict[str, str], body: bytes
        ) -> tuple[int, Any, dict[str, str]]:
            if method == "GET" and path == "/api/v2/instance" and fake.v2_instance:
                return 200, fake.instance_v2(), {}
            if method == "GET" and path == "/api/v1/instance":
                return 200, fake.instance_v1(), {}
            if method == "POST" and path in ("/api/v1/media", "/api/v2/media"):
                return self._deny("write", "write:media") or self._upload(body, path)
            if method == "GET" and path.startswith("/api/v1/media/"):
                return self._deny("write", "write:media") or self._media(path.rsplit("/", 1)[1])
            if method == "POST" and path == "/api/v1/statuses":
                return self._deny("write", "write:statuses") or self._status(body)
            if method == "GET" and path == "/api/v1/accounts/verify_credentials":
                return self._deny("profile", "read", "read:accounts") or (200, fake.account(), {})
            match = re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path)
            if method == "GET" and match:
                if self.headers.get("Authorization"):  # authorize_if_got_token!
                    denied = self._deny("read", "read:statuses", user=False)
                    if denied:
                        return denied
                return self._account_statuses(match.group(1), query)
            return 404, {"error": "Record not found"}, {}

        # -- media ----------------------------------------------------------

        def _upload(self, body: bytes, path: str) -> tuple[int, Any, dict[str, str]]:
            with fake.lock:
                allowed, headers = fake._throttle("media", MEDIA_LIMIT)
            if not allowed:
                return 429, {"error": "Too many requests"}, headers
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/form-data"):
                return 422, {"error": "Validation failed: File can't be blank"}, headers
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
                return 422, {"error": "Validation failed: File can't be blank"}, headers
            data, mime, filename = file
            if mime not in fake.supported_mime_types or not _looks_like(data, mime):
                return 422, {"error": "File type of uploaded media could not be verified"}, headers
            if len(data) > fake.image_size_limit:
                return (
                    422,
                    {
                        "error": "Validation failed: File file size must be less than "
                        f"{fake.image_size_limit} Bytes"
                    },
                    headers,
                )
            description = fields.get("description")
            if description and len(description) > fake.description_limit:
                return (
                    422,
                    {
                        "error": "Validation failed: Description is too long (maximum is "
                        f"{fake.description_limit} characters)"
                    },
                    headers,
                )
            media_id = fake._new_id()
            ready = path == "/api/v1/media" or fake.processing_polls == 0  # v1 waits
            with fake.lock:
                fake.media[media_id] = {"bytes": data, "mime_type": mime, "filename": filename,
                                        "description": description, "ready": ready,
                                        "status_id": None, "endpoint": path}  # fmt: skip
                fake.uploads.append({"id": media_id, "description": description, "endpoint": path})
                fake._polls[media_id] = 0 if ready else fake.processing_polls
                doc = fake._media_doc(media_id)
            return (200 if doc["url"] else 202), doc, headers

        def _media(self, media_id: str) -> tuple[int, Any, dict[str, str]]:
            with fake.lock:  # current_account.media_attachments.where(status_id: nil).find
                item = fake.media.get(media_id)
                if item is None or item["status_id"] is not None:
                    return 404, {"error": "Record not found"}, {}
                if fake._polls.get(media_id, 0) > 0:
                    fake._polls[media_id] -= 1
                    return 206, fake._media_doc(media_id), {}
                item["ready"] = True
                return 200, fake._media_doc(media_id), {}

        # -- statuses -------------------------------------------------------

        def _params(self, body: bytes) -> dict[str, Any]:
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params = json.loads(body or b"{}")
                params["media_ids"] = [str(m) for m in params.get("media_ids") or []]
                return params
            form = parse_qs(body.decode(), keep_blank_values=True)
            params = {k: v[-1] for k, v in form.items() if not k.endswith("[]")}
            params["media_ids"] = form.get("media_ids[]", [])
            return params

        def _status(self, body: bytes) -> tuple[int, Any, dict[str, str]]:
            params = self._params(body)
            text = params.get("status") or ""
            spoiler = params.get("spoiler_text") or ""
            media_ids = params["media_ids"]
            key = self.headers.get("Idempotency-Key")
            with fake.lock:
                if key:
                    known = fake.idempotency.get(key)
                    if known and known[1] > fake.now():  # the same status, or 404 if deleted
                        earlier = next(s for s in fake.statuses if s["id"] == known[0])
                        if earlier.get("deleted"):
                            return 404, {"error": "Record not found"}, {}
                        return 200, _public(earlier), {}
                allowed, headers = fake._throttle("statuses", STATUS_LIMIT)
                if not allowed:
                    return 429, {"error": "Too many requests"}, headers
                if not text.strip() and not media_ids:
                    return 422, {"error": "Validation failed: Text can't be blank"}, headers
                length = mastodon_count(text, spoiler, fake.characters_reserved_per_url)
                if length > fake.max_characters:
                    return (
                        422,
                        {
                            "error": "Validation failed: Text character limit of "
                            f"{fake.max_characters} exceeded"
                        },
                        headers,
                    )
                if len(media_ids) > 4:
                    return 422, {"error": "You have attached too many files"}, headers
                attachments = []
                for media_id in media_ids:
                    item = fake.media.get(media_id)
                    if item is None or item["status_id"] is not None:
                        continue  # MediaAttachment.where(status_id: nil): silently left out
                    if not item["ready"]:
                        return 422, {"error": "Cannot attach files that have not finished "
                                     "processing. Try again in a moment!"}, headers  # fmt: skip
                    attachments.append(fake._media_doc(media_id))
                status_id = fake._next_id()
                for media in attachments:
                    fake.media[media["id"]]["status_id"] = status_id
                asked = _truthy(params.get("sensitive"))
                sensitive = bool(fake.default_sensitive if asked is None else asked) or bool(
                    spoiler
                )
                status = {
                    "id": status_id,
                    "created_at": datetime.fromtimestamp(fake.now(), UTC)
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                    "in_reply_to_id": None,
                    "in_reply_to_account_id": None,
                    "sensitive": sensitive,
                    "spoiler_text": spoiler,
                    "visibility": params.get("visibility") or "public",
                    "language": params.get("language") or "en",
                    "uri": f"{fake.url}/users/sovietart/statuses/{status_id}",
                    "url": f"{fake.url}/@sovietart/{status_id}",
                    "replies_count": 0,
                    "reblogs_count": 0,
                    "favourites_count": 0,
                    "content": "<p>" + _html(text).replace("\n", "<br />") + "</p>",
                    "text": text,
                    "reblog": None,
                    "account": fake.account(),
                    "media_attachments": attachments,
                    "mentions": [],
                    "tags": [],
                    "emojis": [],
                    "card": None,
                    "poll": None,
                    "idempotency_key": key,
                    "sent_sensitive": params.get("sensitive"),
                }
                fake.statuses.append(status)
                if key:
                    fake.idempotency[key] = (status_id, fake.now() + IDEMPOTENCY_TTL)
            return 200, _public(status), headers

        def _account_statuses(
            self, account_id: str, query: dict[str, str]
        ) -> tuple[int, Any, dict[str, str]]:
            if account_id != fake.account()["id"]:
                return 404, {"error": "Record not found"}, {}
            limit = min(int(query.get("limit") or 20), 40)
            max_id = int(query["max_id"]) if query.get("max_id") else None
            with fake.lock:
                found = [s for s in reversed(fake.statuses) if not s.get("deleted")
                         and (max_id is None or int(s["id"]) < max_id)]  # fmt: skip
            return 200, [_public(s) for s in found[:limit]], {}

    return Handler


def _public(status: dict[str, Any]) -> dict[str, Any]:
    """The status as the API shows it (``text`` is only in a delete's answer)."""
    return {k: v for k, v in status.items()
            if k not in ("text", "idempotency_key", "sent_sensitive", "deleted")}  # fmt: skip


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


def _looks_like(data: bytes, mime: str) -> bool:
    """Mastodon identifies the file itself; bytes that are not the type claimed fail."""
    magic = _MAGIC.get(mime)
    if mime == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return magic is None or data.startswith(magic)
