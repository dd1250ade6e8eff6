"""A fake WikiArt on 127.0.0.1, for the tests and the ingest benchmark.

It serves the listing endpoint (``/en/paintings-by-style/<style>?json=2&page=N``)
from painting objects it is given, and images generated on first request
(cached). Like WikiArt it enforces its limits, with a sliding window per kind
counted when a request *arrives*: a request over the limit is answered 429
and counted in :attr:`FakeWikiArt.violations`, which the tests assert stays
at zero. It can add latency, inject bursts of 429/503 or dropped connections,
and serve hostile content (see :func:`png_bomb`, :func:`noise_image` and the
``FakeImage`` behaviours).

Run it standalone (the benchmark does, in its own process)::

    python tests/fake_wikiart.py --fixtures ../shared/fixtures/wikiart/socialist-realism \\
        --latency 0.05

It prints its origin on the first line of stdout, serves ``GET /_stats``
(JSON counters, not rate-limited) and ``POST /_warm`` (generate every image
now, so generation time is not mistaken for download time).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import struct
import sys
import threading
import time
import urllib.request
import zlib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local_server import LocalServer

LISTING_PATH = re.compile(r"/en/paintings-by-style/([^/?]+)")


# --------------------------------------------------------------------------
# Image makers


def make_picture(width: int, height: int, *, seed: str = "", fmt: str = "JPEG") -> bytes:
    """A simple picture (a field and a few blocks) of exactly ``width`` x ``height``."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), tuple(rng.randrange(120, 230) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = min(width, x0 + rng.randrange(width // 3 + 1))
        y1 = min(height, y0 + rng.randrange(height // 3 + 1))
        draw.rectangle((x0, y0, x1, y1), fill=(rng.randrange(150, 220), 30, 30))
    out = io.BytesIO()
    img.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def noise_image(width: int, height: int, *, seed: int = 0, fmt: str = "JPEG") -> bytes:
    """Random pixels: big when compressed, to push an image over the byte limit."""
    from PIL import Image

    rng = random.Random(seed)
    img = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    img.save(out, fmt, **({"quality": 97} if fmt == "JPEG" else {}))
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------
# The server


@dataclass
class FakeImage:
    """What the fake answers for one image path.

    ``behaviour``: ``ok`` (serve the body), ``chunked`` (stream ``chunked_size``
    bytes without a Content-Length), ``huge-length`` (claim a giant
    Content-Length), ``trickle`` (headers, then one byte at a time, without
    end, until the client hangs up), ``status`` (answer ``status`` every
    time), ``redirect`` (302 to ``location``). With a ``gate``, the request is counted on arrival
    but not answered until the gate is set (at most a minute): a download
    that is certainly still in flight when a test acts.
    """

    body: bytes | None = None
    make: Callable[[], bytes] | None = None
    content_type: str = "image/jpeg"
    behaviour: str = "ok"
    status: int = 200
    location: str = ""
    chunked_size: int = 0
    gate: threading.Event | None = None

    def data(self) -> bytes:
        if self.body is None:
            self.body = self.make() if self.make else b""
        return self.body


@dataclass
class Window:
    """Requests that arrived in the last ``period`` seconds."""

    limit: int
    period: float
    arrivals: deque[float] = field(default_factory=deque)

    def arrive(self, now: float) -> bool:
        """Record an arrival; False if it breaks the limit."""
        while self.arrivals and now - self.arrivals[0] >= self.period:
            self.arrivals.popleft()
        self.arrivals.append(now)
        return len(self.arrivals) <= self.limit


class _Server(ThreadingHTTPServer):
    block_on_close = False
    fake: FakeWikiArt | None = None

    def process_request(self, request: Any, client_address: Any) -> None:
        # Counted in the accepting thread, in the order connections are accepted.
        if self.fake is not None:
            self.fake._connection(+1)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        if self.fake is not None:
            self.fake._connection(-1)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (killed, or done reading): not the fake's problem
        super().handle_error(request, client_address)


class FakeWikiArt(LocalServer):
    """The fake server. ``with FakeWikiArt(...) as fake:`` starts and stops it."""

    server_class = _Server

    def __init__(
        self,
        *,
        style: str = "socialist-realism",
        page_size: int = 60,
        latency: float = 0.0,
        jitter: float = 0.0,
        listing_limit: tuple[int, float] = (10, 2.5),
        image_limit: tuple[int, float] = (20, 1.0),
        retry_after: str | None = "0",
        report_total: bool = True,
    ) -> None:
        super().__init__()
        self.style = style
        self.page_size = page_size
        self.latency = latency
        self.jitter = jitter  # extra latency, uniform in [0, jitter]: answers overtake
        self.trickle_pages: set[int] = set()
        self.page_redirects: dict[
            int, str
        ] = {}  # page number -> Location of a 302  # listing pages answered one byte at a time
        self.stopping = threading.Event()  # ends trickles when the fake stops
        self._rng = random.Random(0)
        self._connections = 0  # accepted and not yet closed
        self._connections_changed = threading.Condition()
        self.retry_after = retry_after
        self.report_total = report_total
        self.paintings: list[dict[str, Any]] = []
        self.raw_pages: dict[int, bytes] = {}  # page number -> body served as it is
        self.page_status: dict[int, int] = {}  # page number -> status answered every time
        self.images: dict[str, FakeImage] = {}
        self.windows = {"listing": Window(*listing_limit), "image": Window(*image_limit)}
        self.violations: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # by kind
        self.paths: Counter[str] = Counter()  # by path
        self.injected: Counter[str] = Counter()
        self.arrivals: dict[str, list[float]] = {"listing": [], "image": []}
        self.in_flight: Counter[str] = Counter()  # by kind: arrived, not yet answered
        self.peak_in_flight: Counter[str] = Counter()
        self._inject: dict[str, deque[int | str]] = {}
        self._lock = threading.Lock()

    # -- content -------------------------------------------------------------

    def add_painting(
        self,
        pid: str,
        title: str = "Untitled",
        artist: str = "Unknown Artist",
        year: str = "1930",
        *,
        width: int = 120,
        height: int = 90,
        fmt: str = "JPEG",
        image: FakeImage | None = None,
        image_url: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a listing entry and its image; ``image_url`` overrides the served path."""
        ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
        path = f"/uploads1/images/artist/{pid}.{ext}"
        if image_url is None:
            self.images[path] = image or FakeImage(
                make=lambda: make_picture(width, height, seed=pid, fmt=fmt),
                content_type=f"image/{ext.replace('jpg', 'jpeg')}",
            )
        entry = {
            "id": pid,
            "year": year,
            "images": None,
            "paintingUrl": f"/en/artist/{pid}",
            "height": height,
            "image": image_url if image_url is not None else path,
            "artistName": artist,
            "map": "0123**67*",
            "width": width,
            "artistUrl": "/en/artist",
            "title": title,
            "albums": None,
            "flags": 2,
            **fields,
        }
        self.paintings.append(entry)
        return entry

    def add_raw(self, entry: Any) -> None:
        """Add any listing object as it is (for malformed entries)."""
        self.paintings.append(entry)

    def image_path(self, entry: dict[str, Any]) -> str:
        return str(entry["image"])

    def set_image(self, path: str, image: FakeImage) -> None:
        self.images[path] = image

    @classmethod
    def from_fixtures(cls, directory: Path, **kwargs: Any) -> FakeWikiArt:
        """The real listing in ``directory`` (page-N.json), with generated images."""
        pages = sorted(directory.glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1]))
        first = json.loads(pages[0].read_text())
        fake = cls(page_size=first.get("PageSize") or 60, style=directory.name, **kwargs)
        for page in pages:
            for raw in json.loads(page.read_text())["Paintings"]:
                parts = urlsplit(raw["image"])
                host = (parts.hostname or "").split(".")[0]
                path = f"/{host}{parts.path}"
                fmt = "PNG" if path.lower().endswith(".png") else "JPEG"
                w, h, pid = raw["width"], raw["height"], raw["id"]
                fake.images[path] = FakeImage(
                    make=lambda w=w, h=h, pid=pid, fmt=fmt: make_picture(w, h, seed=pid, fmt=fmt),
                    content_type="image/png" if fmt == "PNG" else "image/jpeg",
                )
                fake.paintings.append({**raw, "image": path})
        return fake

    def inject(self, target: str, *answers: int | str) -> None:
        """Answer the next requests of ``target`` ("listing", "image" or a path)
        with these statuses, or ``"drop"`` to close the connection unanswered."""
        with self._lock:
            self._inject.setdefault(target, deque()).extend(answers)

    def warm(self) -> None:
        for image in self.images.values():
            image.data()

    # -- lifecycle -----------------------------------------------------------

    @property
    def origin(self) -> str:
        return self.url

    def handler_class(self) -> type[_Handler]:
        return type("Handler", (_Handler,), {"fake": self})

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def start(self, port: int | None = None) -> FakeWikiArt:
        self.stopping.clear()
        super().start(port)
        assert isinstance(self._server, _Server)
        self._server.fake = self
        return self

    def _connection(self, change: int) -> None:
        with self._connections_changed:
            self._connections += change
            self._connections_changed.notify_all()

    def drain(self, timeout: float = 120.0) -> None:
        """Return once every connection made so far has been answered and closed.

        For a client that was killed: every request it had sent is then
        counted. A connection of our own is accepted after every connection
        already waiting (the accept queue is first in, first out), so once it
        is answered every earlier one has been accepted and counted; then the
        count only has to reach zero.
        """
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=timeout) as answer:  # noqa: S310
            answer.read()
        with self._connections_changed:
            if not self._connections_changed.wait_for(lambda: self._connections == 0, timeout):
                raise TimeoutError(f"{self._connections} connection(s) still open")

    def wait_for_windows(self) -> None:
        """Until every request that arrived so far is outside its limit's window."""
        with self._lock:
            ends = [
                times[-1] + self.windows[kind].period
                for kind, times in self.arrivals.items()
                if times
            ]
        pause = threading.Event()
        while ends and time.monotonic() < max(ends):
            pause.wait(max(ends) - time.monotonic())  # WikiArt's window, not a sync point

    def delay(self) -> float:
        with self._lock:
            return self.latency + (self._rng.uniform(0, self.jitter) if self.jitter else 0.0)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "violations": dict(self.violations),
                "injected": dict(self.injected),
                "paths": len(self.paths),
            }

    # -- answering -----------------------------------------------------------

    def _admit(self, kind: str, path: str) -> tuple[bool, int | str | None]:
        now = time.monotonic()
        with self._lock:
            self.requests[kind] += 1
            self.paths[path] += 1
            self.arrivals[kind].append(now)
            within = self.windows[kind].arrive(now)
            if not within:
                self.violations[kind] += 1
            self.in_flight[kind] += 1
            self.peak_in_flight[kind] = max(self.peak_in_flight[kind], self.in_flight[kind])
            injected = None
            for target in (path, kind):
                queue = self._inject.get(target)
                if queue:
                    injected = queue.popleft()
                    self.injected[str(injected)] += 1
                    break
        return within, injected

    def _answered(self, kind: str) -> None:
        with self._lock:
            self.in_flight[kind] -= 1

    def listing(self, style: str, page: int) -> dict[str, Any] | None:
        if style != self.style:
            return None
        start = (page - 1) * self.page_size
        items = self.paintings[start : start + self.page_size] if page >= 1 else []
        origin = self.origin
        served = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("image"), str):
                if item["image"].startswith("/"):
                    item = {**item, "image": origin + item["image"]}
            served.append(item)
        return {
            "ArtistsHtml": None,
            "CanLoadMoreArtists": False,
            "Paintings": served,
            "Artists": None,
            "AllArtistsCount": 0,
            "PaintingsHtml": None,
            "PaintingsHtmlBeta": None,
            "AllPaintingsCount": len(self.paintings) if self.report_total else None,
            "PageSize": self.page_size,
            "TimeLog": None,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWikiArt
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int) -> None:
        headers = {}
        if self.fake.retry_after is not None:
            headers["Retry_After"] = self.fake.retry_after
        self._send(status, b'{"error": "slow down"}', "application/json", **headers)

    def _trickle(self, content_type: str) -> None:
        """200 with a plausible length, then one byte every 20 ms until the client gives up."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(1_000_000):
                self.wfile.write(b"\0")
                self.wfile.flush()
                if self.fake.stopping.wait(0.02):  # the fake's own pace, not a sync point
                    return
        except OSError:
            pass  # the client hung up: its deadline worked

    def do_POST(self) -> None:  # noqa: N802
        if self.path == "/_warm":
            self.fake.warm()
            self._send(200, b"{}", "application/json")
        else:
            self._send(404, b"", "text/plain")

    def do_GET(self) -> None:  # noqa: N802
        fake = self.fake
        parts = urlsplit(self.path)
        if parts.path == "/_stats":
            self._send(200, json.dumps(fake.stats()).encode(), "application/json")
            return
        match = LISTING_PATH.fullmatch(parts.path)
        kind = "listing" if match else "image"
        path = unquote(parts.path)
        within, injected = fake._admit(kind, path)
        try:
            self._answer(match, path, within, injected)
        finally:
            fake._answered(kind)

    def _answer(
        self, match: re.Match[str] | None, path: str, within: bool,
        injected: int | str | None,
    ) -> None:  # fmt: skip
        fake = self.fake
        parts = urlsplit(self.path)
        delay = fake.delay()
        if delay:
            time.sleep(delay)
        if not within:
            self._refuse(429)
            return
        if injected == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if isinstance(injected, int):
            self._refuse(injected)
            return
        if match:
            query = parse_qs(parts.query)
            try:
                page = int(query.get("page", ["1"])[0])
            except ValueError:
                page = 0
            doc = fake.listing(match.group(1), page) if query.get("json") == ["2"] else None
            if page in fake.trickle_pages:
                self._trickle("application/json")
            elif page in fake.page_redirects:
                self._send(302, b"", "text/plain", Location=fake.page_redirects[page])
            elif page in fake.page_status:
                self._refuse(fake.page_status[page])
            elif page in fake.raw_pages:
                self._send(200, fake.raw_pages[page], "application/json")
            elif doc is None:
                self._send(404, b"<html>not found</html>", "text/html")
            else:
                self._send(200, json.dumps(doc).encode(), "application/json; charset=utf-8")
            return
        image = fake.images.get(path)
        if image is not None and image.gate is not None:
            image.gate.wait(60)
        if image is None:
            self._send(404, b"<html>not found</html>", "text/html")
        elif image.behaviour == "status":
            self._refuse(image.status)
        elif image.behaviour == "redirect":
            self._send(302, b"", "text/plain", Location=image.location)
        elif image.behaviour == "trickle":
            self._trickle(image.content_type)
        elif image.behaviour == "huge-length":
            self.send_response(200)
            self.send_header("Content-Type", image.content_type)
            self.send_header("Content-Length", str(10**10))
            self.end_headers()
            self.wfile.write(b"\xff\xd8\xff\xe0" + b"\0" * 1024)
            self.close_connection = True
        elif image.behaviour == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", image.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"\xff\xd8\xff\xe0" + b"\0" * (256 * 1024 - 4)
            sent = 0
            try:
                while sent < image.chunked_size:
                    self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                    sent += len(block)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client hung up once it had seen enough: that is the point
            self.close_connection = True
        else:
            self._send(200, image.data(), image.content_type)


def most_in_any_window(times: list[float], period: float) -> int:
    """The largest number of ``times`` inside any half-open window of ``period``."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= period:
            start += 1
        best = max(best, end - start + 1)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, required=True, help="a page-N.json directory")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeWikiArt.from_fixtures(args.fixtures, latency=args.latency, jitter=args.jitter).start(
        args.port
    )
    print(fake.origin, flush=True)
    try:
        sys.stdin.read()  # serve until stdin closes
    except KeyboardInterrupt:
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
