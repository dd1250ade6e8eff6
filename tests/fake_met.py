"""A fake Met Collection API on 127.0.0.1, built from the Met's own documentation.

Shapes, from https://metmuseum.github.io/ ("The Metropolitan Museum of Art
Collection API"):

* ``GET /public/collection/v1/search?q=...&hasImages=true``: ``{"total": n,
  "objectIDs": [...]}`` (the documented search response; ``hasImages``
  limits it to objects with images).
* ``GET /public/collection/v1/objects/{objectID}``: the documented object
  record; the fields served are those of the documentation's example
  (objectID 45734, "Quail and Millet"): ``objectID``, ``isHighlight``,
  ``accessionNumber``, ``accessionYear``, ``isPublicDomain``,
  ``primaryImage``, ``primaryImageSmall``, ``additionalImages``,
  ``constituents``, ``department``, ``objectName``, ``title``, ``culture``,
  ``artistDisplayName``, ``artistDisplayBio``, ``objectDate``,
  ``objectBeginDate``, ``objectEndDate``, ``medium``, ``creditLine``,
  ``objectURL``; empty text is ``""`` as in that example. Images live on
  ``images.metmuseum.org/CRDImages/...`` there; here under this server's
  ``/CRDImages/`` (the ingest is pointed at this origin with ``--source-url``).
* The documentation asks clients to keep to 80 requests a second: a request
  over 80 in any second is answered 429 and counted in
  :attr:`FakeMet.violations` (the Met does not document its answer; the
  status is the conventional one, the body empty). An unknown object is a 404
  with an empty body.
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


@dataclass
class FakeMet(LocalServer):
    objects: dict[int, dict[str, Any]] = field(default_factory=dict)
    listed_only: list[int] = field(default_factory=list)  # in the search, no record
    violations: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    injected: list[int] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
        self._window = Window(80, 1.0)
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return self.url

    def add(self, oid: int, title: str, artist: str, *, date: str = "1937",
            public: bool = True, image: bool = True, seed: str = "") -> dict[str, Any]:  # fmt: skip
        path = f"/CRDImages/ep/original/DT{oid}.jpg"
        if image and public:
            self.images[path] = make_picture(200, 150, seed=seed or str(oid))
        primary = f"{self.url}{path}" if image and public else ""
        record = {
            "objectID": oid,
            "isHighlight": False,
            "accessionNumber": f"36.100.{oid}",
            "accessionYear": "1936",
            "isPublicDomain": public,
            "primaryImage": primary,
            "primaryImageSmall": primary.replace("/original/", "/web-large/"),
            "additionalImages": [],
            "constituents": [{"constituentID": oid, "role": "Artist", "name": artist}],
            "department": "European Paintings",
            "objectName": "Painting",
            "title": title,
            "culture": "",
            "artistDisplayName": artist,
            "artistDisplayBio": "",
            "objectDate": date,
            "objectBeginDate": 1937,
            "objectEndDate": 1937,
            "medium": "Oil on canvas",
            "creditLine": "Gift, 1936",
            "objectURL": f"https://www.metmuseum.org/art/collection/search/{oid}",
        }
        self.objects[oid] = record
        return record

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                with fake._lock:
                    over = not fake._window.arrive(time.monotonic())
                    fake.violations += int(over)
                    injected = fake.injected.pop(0) if fake.injected else None
                path = parts.path
                kind = (
                    "search" if path.endswith("/search")
                    else "object" if "/objects/" in path else "image"
                )  # fmt: skip
                fake.requests[kind] += 1
                if over:
                    self._send(429, b"", "text/plain")
                    return
                if injected is not None:
                    self._send(injected, b"", "text/plain")
                    return
                if path == "/public/collection/v1/search":
                    query = parse_qs(parts.query)
                    ids = [
                        oid for oid, rec in fake.objects.items()
                        if query.get("hasImages") != ["true"] or rec["primaryImage"]
                    ] + fake.listed_only  # fmt: skip
                    doc = {"total": len(ids), "objectIDs": ids or None}
                    self._send(200, json.dumps(doc).encode(), "application/json")
                    return
                if path.startswith("/public/collection/v1/objects/"):
                    tail = path.rsplit("/", 1)[1]
                    record = fake.objects.get(int(tail)) if tail.isdigit() else None
                    if record is None:
                        self._send(404, b"", "text/plain")
                        return
                    self._send(200, json.dumps(record).encode(), "application/json")
                    return
                if path in fake.images:
                    self._send(200, fake.images[path], "image/jpeg")
                    return
                self._send(404, b"", "text/plain")

        return Handler
