"""A fake Art Institute of Chicago API on 127.0.0.1, built from AIC's own documentation.

Shapes, from the repository art-institute-of-chicago/data-aggregator:

* ``docs/ENDPOINTS.md``, "GET /artworks/search", example request
  ``/api/v1/artworks/search?q=monet``: the envelope ``preference``,
  ``pagination`` (``total``, ``limit``, ``offset``, ``total_pages``,
  ``current_page``), ``data`` (objects with ``_score``, ``id``, ``api_model``,
  ``api_link``, ``is_boosted``, ``title``, ``thumbnail``, ``timestamp``),
  ``info`` (``license_text``, ``license_links``, ``version``) and ``config``
  (``iiif_url`` ``https://www.artic.edu/iiif/2``, ``website_url``). The
  licence text below is the documented one, verbatim.
* ``docs/README.md``: ``fields`` limits each object to the fields named (here
  ``id,title,artist_title,date_display,image_id,is_public_domain``, all
  documented artwork fields; empty ones are ``null``, never ``""`` or
  missing); ``query[term][is_public_domain]=true`` filters to public domain;
  ``limit`` cannot exceed 100 and no search reaches past 10,000 records;
  anonymous users are throttled to 60 requests a minute.
* The IIIF image URL ``{iiif_url}/{image_id}/full/843,/0/default.jpg``, as in
  the same file's ``/artworks/{id}/manifest.json`` example.

Like the real service it refuses what it documents refusing: ``limit`` over
100 or a page past 10,000 records is refused (a 403 with an empty JSON object:
AIC documents only that it is an error, not its status or body), and a request over 60
in any 60 s is answered 429 and counted in :attr:`FakeAic.violations`.
Anything not documented is not here.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_wikiart import Window, make_picture
from local_server import LocalServer

LICENSE_TEXT = (
    "The `description` field in this response is licensed under a Creative Commons "
    "Attribution 4.0 Generic License (CC-By) and the Terms and Conditions of artic.edu. All "
    "other data in this response is licensed under a Creative Commons Zero (CC0) 1.0 "
    "designation and the Terms and Conditions of artic.edu."
)


@dataclass
class FakeAic(LocalServer):
    """Artworks to search, images generated per ``image_id``; limits enforced."""

    artworks: list[dict[str, Any]] = field(default_factory=list)
    limit_per_minute: int = 60
    period: float = 60.0
    iiif_url: str | None = None  # default: this server's /iiif/2
    violations: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    injected: list[int] = field(default_factory=list)
    missing_images: set[str] = field(default_factory=set)
    user_agents: set[str] = field(default_factory=set)
    pictures: dict[str, bytes] = field(default_factory=dict)  # image_id -> bytes served
    honour_filter: bool = True  # False: a mirror that ignores the public-domain filter

    def __post_init__(self) -> None:
        super().__init__()
        self._window = Window(self.limit_per_minute, self.period)
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return self.url

    def add(self, aid: int, title: str | None, artist: str | None, *, date: str | None = "1937",
            image_id: str | None = "", public: bool = True) -> dict[str, Any]:  # fmt: skip
        """One artwork, in the documented field set (``null`` where empty)."""
        art = {
            "id": aid,
            "api_model": "artworks",
            "api_link": f"https://api.artic.edu/api/v1/artworks/{aid}",
            "is_boosted": False,
            "title": title,
            "artist_title": artist,
            "date_display": date,
            "image_id": f"2d484387-2509-5e8e-2c43-{aid:012d}" if image_id == "" else image_id,
            "is_public_domain": public,
            "timestamp": "2025-01-28T23:26:08-06:00",
        }
        self.artworks.append(art)
        return art

    def search(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        limit = int(query.get("limit", ["10"])[0])
        page = int(query.get("page", ["1"])[0])
        if limit > 100 or limit * page > 10_000:
            return 403, {}  # documented as an error; its status and body are not
        found = self.artworks
        if self.honour_filter and query.get("query[term][is_public_domain]") == ["true"]:
            found = [a for a in found if a["is_public_domain"] is True]
        wanted = query.get("fields", [""])[0].split(",")
        total = len(found)
        chunk = found[(page - 1) * limit : page * limit]
        data = [{"_score": 1.0, **{k: a.get(k) for k in wanted if k}} for a in chunk]
        return 200, {
            "preference": None,
            "pagination": {
                "total": total,
                "limit": limit,
                "offset": (page - 1) * limit,
                "total_pages": -(-total // limit) if limit else 0,
                "current_page": page,
            },
            "data": data,
            "info": {
                "license_text": LICENSE_TEXT,
                "license_links": [
                    "https://creativecommons.org/publicdomain/zero/1.0/",
                    "https://www.artic.edu/terms",
                ],
                "version": "1.13",
            },
            "config": {
                "iiif_url": self.iiif_url or f"{self.url}/iiif/2",
                "website_url": "http://www.artic.edu",
            },
        }

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                with fake._lock:
                    fake.user_agents.add(self.headers.get("User-Agent", ""))
                    if not fake._window.arrive(time.monotonic()):
                        fake.violations += 1
                        over = True
                    else:
                        over = False
                    injected = fake.injected.pop(0) if fake.injected else None
                kind = "search" if parts.path == "/api/v1/artworks/search" else "image"
                fake.requests[kind] += 1
                if over:
                    # AIC documents the throttle, not its answer's body: none here.
                    self._send(429, b"", "text/plain", **{"Retry-After": "1"})
                    return
                if injected is not None:
                    self._send(injected, b"{}", "application/json", **{"Retry-After": "0"})
                    return
                if kind == "search":
                    status, doc = fake.search(parse_qs(parts.query))
                    self._send(status, json.dumps(doc).encode(), "application/json")
                    return
                segments = parts.path.split("/")
                # /iiif/2/{image_id}/full/843,/0/default.jpg
                if (
                    len(segments) == 8
                    and segments[1:3] == ["iiif", "2"]
                    and segments[4:] == ["full", "843,", "0", "default.jpg"]
                    and segments[3] not in fake.missing_images
                    and any(a["image_id"] == segments[3] for a in fake.artworks)
                ):
                    body = fake.pictures.get(segments[3]) or make_picture(
                        843, 1000, seed=segments[3]
                    )
                    self._send(200, body, "image/jpeg")
                    return
                self._send(404, b"", "text/plain")

        return Handler
