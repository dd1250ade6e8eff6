"""WikiArt's listing and image hosts, as the ingest talks to them.

Every request goes through one chokepoint, :meth:`WikiArtClient.fetch`. It
owns the pacing (a sliding window per limit, counted when a request is sent,
shared by every thread), the retries (exponential backoff with jitter,
honouring ``Retry-After``, a bounded number of attempts), the redirect policy
(followed by hand, each hop checked against the allow-list and paced like any
other request) and the size cap on bodies. Nothing else in the package opens
a connection to WikiArt, so the limits hold however many threads download.

WikiArt's published limits (10 listing requests per 2.5 s, 20 image requests
per second) are fixed here and not configurable: a user cannot make the bot
break them. Each window is held a little longer than WikiArt's (``GUARD``)
because WikiArt counts requests when they *arrive*, and two requests sent a
full window apart can arrive a few milliseconds closer together.

The listing JSON is validated here: the envelope (:func:`parse_envelope`) and
each painting object (:func:`parse_painting`), which turns WikiArt's fields
into plain text (markup tags dropped, HTML entities decoded exactly once: see
:func:`plain_text`) and refuses unusable objects with a reason the ingest
reports. The listing is read for at most ``MAX_PAGES`` pages, so a server
whose pages never end cannot keep an ingest running forever.
"""

from __future__ import annotations

import email.utils
import html
import json
import random
import re
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .errors import IngestError

DEFAULT_ORIGIN = "https://www.wikiart.org"
DEFAULT_STYLE = "socialist-realism"

# WikiArt's limits: a hard guarantee, deliberately not parameters.
LISTING_LIMIT, LISTING_PERIOD = 10, 2.5
IMAGE_LIMIT, IMAGE_PERIOD = 20, 1.0
# Extra hold on each window (seconds) so that arrival jitter never pushes two
# requests sent a full window apart into one window at WikiArt's end.
LISTING_GUARD, IMAGE_GUARD = 0.1, 0.04

MAX_LISTING_BYTES = 8 * 1024 * 1024
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_REDIRECTS = 3
# The most listing pages one ingest reads. WikiArt's largest styles fill a few
# hundred pages of 60; a listing still going after this many is not WikiArt's.
MAX_PAGES = 2000
USER_AGENT = f"soviet-art-bot/{__version__} (+https://github.com/soviet-art-bot)"

_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
_STYLE = re.compile(r"[0-9a-z][0-9a-z_-]{0,99}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
# Markup in the raw (still escaped) text: an HTML element's tag, opening or
# closing, or a comment. Only real element names count, so that "1 < 2" or an
# unescaped "<Unknown>" stays text; a tag never spans another '<' or '>'.
_BREAKING = "br|p|div|li|ul|ol|dl|dt|dd|tr|td|th|table|h[1-6]|hr|blockquote|pre|center"
_INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|del|dfn|em|font|i|img|ins|kbd|mark|nobr|q|s|samp|"
    "small|span|strike|strong|sub|sup|tbody|thead|tt|u|var|wbr|script|style|noscript"
)
_TAG = re.compile(
    rf"<!--.*?-->|</?(?:{_BREAKING}|{_INLINE})(?=[\s/>])[^<>]*>", re.DOTALL | re.IGNORECASE
)
# Tags that break a line or a block separate words, so they become a space.
_BREAK = re.compile(rf"</?(?:{_BREAKING})(?=[\s/>])", re.IGNORECASE)


# --------------------------------------------------------------------------
# Errors


class ListingError(IngestError):
    """A listing page could not be used (wrong status, not JSON, wrong shape)."""

    def __init__(self, url: str, problem: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"listing {url}: {problem}")


class RetriesExhausted(IngestError):
    """WikiArt kept refusing or failing a request after every retry."""

    def __init__(self, url: str, attempts: int, last: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(
            f"gave up on {url} after {attempts} attempts (last: {last}); WikiArt may be "
            "down or throttling: re-run later, the ingest resumes where it stopped"
        )


class ImageRefused(IngestError):
    """An image URL or response the ingest will not store (not retried)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"image {url}: {reason}")


class InvalidPainting(IngestError):
    """A listing object that cannot become a catalog entry; ``reason`` says why."""

    def __init__(self, reason: str, label: str = "") -> None:
        self.reason = reason
        self.label = label
        super().__init__(f"listing entry {label or '?'}: {reason}")


# --------------------------------------------------------------------------
# Pacing


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds, across threads.

    An event is recorded when :meth:`acquire` returns, immediately before the
    request is sent, so a slow response never lets a later request jump ahead
    of the count.
    """

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a window needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot, take it, and return the time it was taken."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.period:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return now
                wait = self._sent[0] + self.period - now
            self._sleep(max(wait, 0.001))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again."""

    attempts: int = 6
    base: float = 1.0  # first backoff, doubled each retry
    cap: float = 60.0  # longest single wait
    max_retry_after: float = 300.0  # a longer Retry-After gives up instead

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: between half and all of base * 2**retry."""
        ceiling = min(self.cap, self.base * (2**retry))
        return ceiling * (0.5 + rng.random() / 2)


@dataclass
class RequestStats:
    """What the client sent, for the closing summary and the benchmark."""

    listing: int = 0
    image: int = 0
    retries: int = 0
    throttled: int = 0  # 429 answers received
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, kind: str) -> None:
        with self._lock:
            setattr(self, kind, getattr(self, kind) + 1)


# --------------------------------------------------------------------------
# URLs


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` without a trailing slash; refuses anything else."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IngestError(
            f"--wikiart-url {origin!r} is not an http(s) origin; use e.g. https://www.wikiart.org"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise IngestError(
            f"--wikiart-url {origin!r} must be an origin only (scheme://host[:port]), "
            "without path, query or credentials"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def check_style(style: str) -> str:
    """A WikiArt style slug: lowercase letters, digits and dashes."""
    if not _STYLE.fullmatch(style or ""):
        raise IngestError(
            f"--style {style!r} is not a WikiArt style slug; use the lowercase, dashed name "
            "from the style's URL, e.g. socialist-realism"
        )
    return style


def _has_dot_segment(path: str) -> bool:
    decoded = unquote(unquote(path)).replace("\\", "/")
    return any(part in (".", "..") for part in decoded.split("/"))


def image_url_problem(url: str, origin: str) -> str | None:
    """Why ``url`` may not be fetched as an image, or None if it may.

    Allowed: ``https://*.wikiart.org`` (default port) or the configured origin.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "malformed image URL"
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        return "image URL is not an absolute http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "image URL carries credentials"
    if _has_dot_segment(parts.path):
        return "image URL has '.' or '..' path segments"
    if f"{parts.scheme}://{parts.netloc.lower()}" == origin:
        return None
    if parts.scheme == "https" and host.endswith(".wikiart.org") and port in (None, 443):
        return None
    return f"image host {host or '?'} is not *.wikiart.org or {origin}"


# --------------------------------------------------------------------------
# Listing objects


@dataclass(frozen=True)
class ListedPainting:
    """One usable painting of the listing, in plain text."""

    id: str
    title: str
    artist: str
    year: str
    image_url: str
    source_url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ListingPage:
    """One page of the listing: raw painting objects plus the envelope's counts."""

    number: int
    url: str
    paintings: list[Any]
    total: int | None
    page_size: int | None


def _drop_tag(match: re.Match[str]) -> str:
    return " " if _BREAK.match(match.group()) else ""


def plain_text(value: str) -> str:
    """Drop markup tags, then decode HTML entities exactly once; drop control characters.

    WikiArt's titles and names are HTML-escaped text (``Lenin&#39;s``), so a
    tag that is there *before* decoding (``<b>Bold</b>``, ``<i>``, ``<br>``)
    is markup: it is removed (a line or block break becomes a space, an inline
    tag leaves nothing). An escaped tag (``&lt;b&gt;``) is text its author
    typed: it decodes to a literal ``<b>`` and stays. For the same reason a
    doubly escaped entity (``&amp;#39;``) is decoded once, to ``&#39;``, and
    nothing is ever unescaped twice.
    """
    text = html.unescape(_TAG.sub(_drop_tag, value))
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def parse_painting(raw: Any, origin: str) -> ListedPainting:
    """Validate one listing object; :class:`InvalidPainting` names what is unusable."""
    if not isinstance(raw, dict):
        raise InvalidPainting("not a JSON object")
    pid = raw.get("id")
    label = repr(pid) if isinstance(pid, str) else "(no id)"
    if not isinstance(pid, str) or not pid:
        raise InvalidPainting("no id", label)
    if not _ID.fullmatch(pid):
        raise InvalidPainting("id has characters other than letters, digits, '-' and '_'", label)
    title = raw.get("title")
    if not isinstance(title, str) or not plain_text(title):
        raise InvalidPainting("no title", label)
    artist = raw.get("artistName")
    if not isinstance(artist, str) or not plain_text(artist):
        raise InvalidPainting("no artist name", label)
    image = raw.get("image")
    if not isinstance(image, str) or not image.strip():
        raise InvalidPainting("no image URL", label)
    image = image.strip()
    if image.startswith("/") and not image.startswith("//"):
        image = origin + image
    problem = image_url_problem(image, origin)
    if problem:
        raise InvalidPainting(problem, label)
    year = raw.get("year")
    if isinstance(year, bool) or year is None:
        year_text = ""
    elif isinstance(year, int | float):
        year_text = str(int(year))
    elif isinstance(year, str):
        year_text = plain_text(year)
    else:
        year_text = ""
    page = raw.get("paintingUrl")
    source_url = ""
    if isinstance(page, str) and page.startswith("/") and not page.startswith("//"):
        if not _has_dot_segment(page) and not any(c.isspace() for c in page):
            source_url = origin + page
    return ListedPainting(
        id=pid,
        title=plain_text(title),
        artist=plain_text(artist),
        year=year_text,
        image_url=image,
        source_url=source_url,
        width=_int_or_none(raw.get("width")),
        height=_int_or_none(raw.get("height")),
    )


def parse_envelope(data: bytes, url: str, number: int) -> ListingPage:
    """Validate a listing page's envelope (the paintings are checked one by one later)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ListingError(
            url,
            "the answer is not JSON; check --wikiart-url points at WikiArt (or a mirror of it)",
        ) from None
    if not isinstance(doc, dict):
        raise ListingError(url, "the answer is not a JSON object; WikiArt's format changed?")
    paintings = doc.get("Paintings")
    if paintings is None:
        if "Paintings" not in doc:
            raise ListingError(
                url, "the answer has no 'Paintings' field; WikiArt's listing format changed?"
            )
        paintings = []
    if not isinstance(paintings, list):
        raise ListingError(url, "'Paintings' is not a list; WikiArt's listing format changed?")
    total = doc.get("AllPaintingsCount")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise ListingError(url, f"'AllPaintingsCount' is {total!r}, not a count")
    size = doc.get("PageSize")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ListingError(url, f"'PageSize' is {size!r}, not a count")
    return ListingPage(number, url, paintings, total, size)


# --------------------------------------------------------------------------
# The client


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Retry(Exception):
    def __init__(self, last: str, status: int | None = None, wait: float | None = None) -> None:
        self.last = last
        self.status = status
        self.wait = wait


@dataclass(frozen=True)
class Fetched:
    """A response body read in full, within the size cap."""

    url: str
    status: int
    content_type: str
    body: bytes


class WikiArtClient:
    """Talks to WikiArt within its limits; safe to share between threads.

    ``session`` is built lazily when not given (and closed by :meth:`close`);
    tests point ``origin`` at a local fake and may pass a faster
    :class:`RetryPolicy`, but the rate limits are fixed.
    """

    def __init__(
        self,
        origin: str = DEFAULT_ORIGIN,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        deadline: float = 300.0,
        max_image_bytes: int = MAX_IMAGE_BYTES,
        pool_size: int = 16,
        max_pages: int = MAX_PAGES,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.origin = normalise_origin(origin)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.deadline = deadline
        self.max_image_bytes = max_image_bytes
        self.max_pages = max_pages
        self.stats = RequestStats()
        self._session = session
        self._own_session = session is None
        self._pool_size = pool_size
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        self._windows = {
            "listing": SlidingWindow(LISTING_LIMIT, LISTING_PERIOD + LISTING_GUARD),
            "image": SlidingWindow(IMAGE_LIMIT, IMAGE_PERIOD + IMAGE_GUARD),
        }
        self._session_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                adapter = HTTPAdapter(
                    pool_connections=16, pool_maxsize=self._pool_size, max_retries=0
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                self._session = session
            return self._session

    def close(self) -> None:
        """Close the session if this client built it."""
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> WikiArtClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the chokepoint -----------------------------------------------------

    def fetch(self, kind: str, url: str, *, max_bytes: int) -> Fetched:
        """GET ``url`` as a ``listing`` or ``image`` request: paced, retried, capped.

        Raises :class:`RetriesExhausted` when every attempt failed with a
        retryable answer (429, 5xx, a dropped or timed-out connection),
        :class:`ImageRefused` for a body over ``max_bytes`` or a redirect off
        the allow-list, and returns any other answer (including 4xx) for the
        caller to judge.
        """
        window = self._windows[kind]
        last = "no attempt"
        status: int | None = None
        for attempt in range(self.retry.attempts):
            try:
                return self._attempt(kind, window, url, max_bytes)
            except _Retry as retry:
                last, status = retry.last, retry.status
                if attempt + 1 >= self.retry.attempts:
                    break
                with self._rng_lock:
                    wait = self.retry.backoff(attempt, self._rng)
                if retry.wait is not None:
                    if retry.wait > self.retry.max_retry_after:
                        raise RetriesExhausted(
                            url, attempt + 1, f"{last}, Retry-After {retry.wait:.0f} s", status
                        ) from None
                    wait = max(wait, retry.wait)
                self.stats.count("retries")
                self._sleep(wait)
        raise RetriesExhausted(url, self.retry.attempts, last, status)

    def _attempt(self, kind: str, window: SlidingWindow, url: str, max_bytes: int) -> Fetched:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            window.acquire()
            self.stats.count(kind)
            started = time.monotonic()
            try:
                resp = self.session.get(
                    current, timeout=self.timeout, stream=True, allow_redirects=False
                )
            except requests.Timeout:
                raise _Retry("timed out") from None
            except requests.ConnectionError as exc:
                raise _Retry(f"connection failed ({type(exc).__name__})") from None
            with resp:
                if resp.status_code in (301, 302, 303, 307, 308):
                    location = resp.headers.get("Location", "")
                    target = urljoin(current, location)
                    problem = self._redirect_problem(kind, target)
                    if problem:
                        raise ImageRefused(url, f"redirected to {target}: {problem}")
                    current = target
                    continue
                if resp.status_code == 429 or resp.status_code >= 500:
                    if resp.status_code == 429:
                        self.stats.count("throttled")
                    raise _Retry(
                        f"HTTP {resp.status_code}",
                        resp.status_code,
                        _retry_after(resp.headers.get("Retry-After")),
                    )
                body = self._read(resp, url, max_bytes, started)
                return Fetched(
                    current, resp.status_code, resp.headers.get("Content-Type", ""), body
                )
        raise ImageRefused(url, f"more than {MAX_REDIRECTS} redirects")

    def _redirect_problem(self, kind: str, target: str) -> str | None:
        if kind == "image":
            return image_url_problem(target, self.origin)
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc.lower()}" != self.origin:
            return f"listing redirects leave {self.origin}"
        return None

    def _read(self, resp: requests.Response, url: str, max_bytes: int, started: float) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ImageRefused(url, f"body is {int(declared)} bytes, over the {max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ImageRefused(url, f"body is over the {max_bytes}-byte cap")
                chunks.append(chunk)
                if time.monotonic() - started > self.deadline:
                    raise _Retry(f"download took over {self.deadline:.0f} s")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retry(f"connection dropped mid-body ({type(exc).__name__})") from None
        except requests.Timeout:
            raise _Retry("timed out mid-body") from None
        return b"".join(chunks)

    # -- listing and images -------------------------------------------------

    def page_url(self, style: str, number: int) -> str:
        return f"{self.origin}/en/paintings-by-style/{style}?json=2&page={number}"

    def page(self, style: str, number: int) -> ListingPage:
        """One listing page, its envelope validated."""
        url = self.page_url(check_style(style), number)
        got = self.fetch("listing", url, max_bytes=MAX_LISTING_BYTES)
        if got.status == 404:
            raise ListingError(
                url,
                f"HTTP 404: WikiArt has no style {style!r}; check --style against the "
                "style's URL on WikiArt",
                status=404,
            )
        if got.status != 200:
            raise ListingError(url, f"HTTP {got.status}; expected 200", status=got.status)
        return parse_envelope(got.body, url, number)

    def pages(self, style: str) -> Iterator[ListingPage]:
        """Pages 1, 2, ... until one is empty or ``AllPaintingsCount`` objects were seen.

        Raises :class:`ListingError` rather than read past ``max_pages``: a
        listing that sends new paintings on every page without end (no count,
        or a count it never reaches) would otherwise never stop.
        """
        seen = 0
        number = 1
        previous: list[Any] | None = None
        while True:
            page = self.page(style, number)
            if not page.paintings or page.paintings == previous:
                return  # a server that repeats its last page has no more
            previous = page.paintings
            yield page
            seen += len(page.paintings)
            if page.total is not None and seen >= page.total:
                return
            if number >= self.max_pages:
                raise ListingError(
                    page.url,
                    f"the listing has not ended after {number} pages ({seen} paintings, "
                    f"AllPaintingsCount {page.total if page.total is not None else 'not given'}); "
                    "check --wikiart-url points at WikiArt or a faithful mirror (if a style "
                    "really has more, raise MAX_PAGES in soviet_art_bot/wikiart.py)",
                )
            number += 1

    def image(self, url: str) -> Fetched:
        """An image's bytes (not yet checked: see :mod:`soviet_art_bot.images`)."""
        problem = image_url_problem(url, self.origin)
        if problem:
            raise ImageRefused(url, problem)
        got = self.fetch("image", url, max_bytes=self.max_image_bytes)
        if got.status != 200:
            raise ImageRefused(url, f"HTTP {got.status}", status=got.status)
        return got
