"""WikiArt's listing and image hosts, as the ingest talks to them.

Every request goes through one chokepoint, :meth:`WikiArtClient.fetch`. It
owns the pacing (:class:`ArrivalWindow` per limit, shared by every thread),
the retries (:func:`soviet_art_bot.net.retry`: exponential backoff with
jitter, honouring ``Retry-After``, a bounded number of attempts), the
deadlines (each attempt, redirects included, has a *total* deadline that
covers connecting and the whole body and holds while bytes trickle in: see
:mod:`soviet_art_bot.net`), the redirect policy (followed by hand, each hop
checked against the allow-list and paced like any other request) and the
size cap on bodies. Nothing else in the package opens a connection to
WikiArt, so the limits hold however many threads download.

**Time bound.** One request, all attempts and waits included, takes at most
``RetryPolicy.bound(deadline)`` seconds: with the defaults, 4 attempts of at
most 120 s each plus 3 waits of at most 120 s (a longer ``Retry-After`` gives
up at once), so 840 s. :attr:`WikiArtClient.request_bound` states it for a
client's own settings.

**Limits at arrival.** WikiArt's published limits (10 listing requests per
2.5 s, 20 image requests per second) are fixed here and not configurable: a
user cannot make the bot break them. WikiArt counts a request when it
*arrives*, some unknown time after we send it (thread scheduling,
connecting, a loaded machine) but certainly before its answer reaches us. So
a request holds its place in the window from just before it is sent until
one full period after its answer's headers came back (or it failed): from
the earliest to the latest moment it can have arrived, plus the period.
Whatever the skew, no ``limit + 1`` requests can then arrive within one
period (see :class:`ArrivalWindow`). The price is one round trip per turn
of the window, not a guessed margin.

The listing JSON is validated here: the envelope (:func:`parse_envelope`) and
each painting object (:func:`parse_painting`), which turns WikiArt's fields
into plain text (markup tags dropped, HTML entities decoded exactly once: see
:func:`plain_text`) and refuses unusable objects with a reason the ingest
reports. The listing is read for at most ``MAX_PAGES`` pages, so a server
whose pages never end cannot keep an ingest running forever.
"""

from __future__ import annotations

import html
import math
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests

from . import __version__, net, safejson
from .errors import ArtBotError, IngestError
from .net import RetryPolicy

__all__ = ["RetryPolicy"]  # re-exported: the client's retry setting

DEFAULT_ORIGIN = "https://www.wikiart.org"
DEFAULT_STYLE = "socialist-realism"

# WikiArt's limits: a hard guarantee, deliberately not parameters.
LISTING_LIMIT, LISTING_PERIOD = 10, 2.5
IMAGE_LIMIT, IMAGE_PERIOD = 20, 1.0
# One attempt (connect, send, headers, whole body, redirects) ends within this.
EXCHANGE_DEADLINE = 120.0
CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 30.0  # per socket operation, within the above
DEFAULT_RETRY = RetryPolicy(attempts=4, base=1.0, cap=30.0, max_retry_after=120.0)

MAX_LISTING_BYTES = 8 * 1024 * 1024
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_REDIRECTS = 3
# The most listing pages one ingest reads. WikiArt's largest styles fill a few
# hundred pages of 60; a listing still going after this many is not WikiArt's.
MAX_PAGES = 2000
USER_AGENT = f"soviet-art-bot/{__version__} (+https://github.com/soviet-art-bot)"
# The museums ask for a User-Agent that names a way to reach the operator.
MUSEUM_USER_AGENT = (
    f"soviet-art-bot/{__version__} (https://github.com/soviet-art-bot; contact via issues)"
)

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

    def __init__(
        self,
        url: str,
        attempts: int,
        last: str,
        status: int | None = None,
        *,
        kind: str = "",
        who: str = "WikiArt",
    ) -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        self.kind = kind
        what = f"{kind} {url}" if kind else url
        super().__init__(
            f"gave up on {what} after {attempts} attempt(s) (last: {last}); {who} may be "
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


class ArrivalWindow:
    """At most ``limit`` requests *arriving* in any ``period`` seconds, across threads.

    :meth:`acquire` takes a place just before a request is sent (no later
    than it can arrive); :meth:`release` is called when its answer's headers
    are in, or it failed (no earlier than it arrived), and the place is kept
    for one more ``period`` from then. A request may start only while fewer
    than ``limit`` places are held.

    Why that holds at the server: if ``limit + 1`` requests arrived within
    one period ``[t, t + period)``, take the one sent last, ``r``. Every other
    one ``q`` was sent before ``r`` and released no earlier than it arrived
    (``>= t``), so it holds its place until at least ``t + period``, later
    than ``r`` was sent (``r`` arrived before ``t + period``). So ``r`` found
    ``limit`` places held and could not have been sent.
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
        self._held: list[Place] = []
        self._cond = threading.Condition()

    def acquire(self) -> Place:
        """Wait for a free place, take it and return it (hand it to :meth:`release`)."""
        while True:
            with self._cond:
                now = self._clock()
                self._held = [p for p in self._held if p.until > now]
                if len(self._held) < self.limit:
                    place = Place(taken=now)
                    self._held.append(place)
                    return place
                soonest = min(p.until for p in self._held)
                if math.isinf(soonest):
                    # Every place is in flight: wait for an answer (release notifies).
                    self._cond.wait(1.0)
                    continue
            # Sleeping to the soonest end is exact: a later release ends later still.
            self._sleep(max(soonest - now, 0.0005))

    def release(self, place: Place) -> None:
        """The request's answer is in, or it failed: hold its place one more period."""
        with self._cond:
            if math.isinf(place.until):
                place.until = self._clock() + self.period
                self._cond.notify_all()


@dataclass
class Place:
    """One request's place in an :class:`ArrivalWindow`: when taken, until when held."""

    taken: float
    until: float = math.inf


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


def normalise_origin(
    origin: str, *, option: str = "--wikiart-url", example: str = DEFAULT_ORIGIN
) -> str:
    """``scheme://host[:port]`` without a trailing slash; refuses anything else."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IngestError(f"{option} {origin!r} is not an http(s) origin; use e.g. {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise IngestError(
            f"{option} {origin!r} must be an origin only (scheme://host[:port]), "
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


WIKIART_IMAGE_HOSTS = ("*.wikiart.org",)


def _host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    return any(
        host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
        for pattern in patterns
    )


def image_url_problem(
    url: str, origin: str, hosts: tuple[str, ...] = WIKIART_IMAGE_HOSTS
) -> str | None:
    """Why ``url`` may not be fetched as an image, or None if it may.

    Allowed: https on the default port at one of ``hosts`` (``*.example.org``
    matches any subdomain), as the source documents its image hosts, or the
    configured origin. Every source checks its image URLs here.
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
    if parts.scheme == "https" and _host_allowed(host, hosts) and port in (None, 443):
        return None
    return f"image host {host or '?'} is not {' or '.join(hosts)} or {origin}"


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
    license: str = ""  # as the source states it, e.g. "CC0-1.0"; empty when unstated
    credit: str = ""  # the caption the source asks for; empty when it asks none


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
    try:  # the limits of stored JSON hold for a server's answer too (depth, digits, ...)
        doc = safejson.loads(
            data,
            name="the answer",
            fix="check --wikiart-url points at WikiArt (or a mirror of it)",
        )
    except ArtBotError as exc:
        raise ListingError(url, str(exc)) from None
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


def _size(exc: net.BodyTooLarge) -> str:
    if exc.declared:
        return f"is {exc.size} bytes, over the {exc.cap}-byte cap"
    return f"is over the {exc.cap}-byte cap"


@dataclass(frozen=True)
class Fetched:
    """A response body read in full, within the size cap."""

    url: str
    status: int
    content_type: str
    body: bytes


class WikiArtClient:
    """Talks to WikiArt within its limits; safe to share between threads.

    This is also the one request chokepoint every source shares: another
    source (:mod:`soviet_art_bot.sources`) is a small subclass that states
    its own ``LIMITS``, ``USER_AGENT``, origin option and image hosts
    (:meth:`image_problem`), and inherits the pacing, retries, deadlines,
    size caps and redirect rules unchanged.

    ``session`` is built lazily when not given (and closed by :meth:`close`);
    a given session gets the deadline watchdog mounted on it (see
    :func:`soviet_art_bot.net.mount`). Tests point ``origin`` at a local fake
    and may pass a faster :class:`RetryPolicy` or a shorter ``deadline``, but
    the rate limits are fixed.
    """

    # Fixed per source, deliberately not constructor arguments: a user cannot
    # make the bot break a source's published limits.
    LIMITS: dict[str, tuple[int, float]] = {
        "listing": (LISTING_LIMIT, LISTING_PERIOD),
        "image": (IMAGE_LIMIT, IMAGE_PERIOD),
    }
    USER_AGENT = USER_AGENT
    ORIGIN_OPTION = "--wikiart-url"
    IMAGE_HOSTS = WIKIART_IMAGE_HOSTS
    NAME = "WikiArt"
    DEFAULT = DEFAULT_ORIGIN

    def __init__(
        self,
        origin: str | None = None,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        deadline: float = EXCHANGE_DEADLINE,
        max_image_bytes: int = MAX_IMAGE_BYTES,
        max_listing_bytes: int = MAX_LISTING_BYTES,
        pool_size: int = 16,
        max_pages: int = MAX_PAGES,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.origin = normalise_origin(
            origin or self.DEFAULT, option=self.ORIGIN_OPTION, example=self.DEFAULT
        )
        self.retry = retry or DEFAULT_RETRY
        self.timeout = timeout
        self.deadline = deadline
        self.max_image_bytes = max_image_bytes
        self.max_listing_bytes = max_listing_bytes
        self.max_pages = max_pages
        self.stats = RequestStats()
        self._pool_size = pool_size
        self._session = net.mount(session, pool_maxsize=pool_size) if session else None
        self._own_session = session is None
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._clock = clock
        # Kinds that name the same (limit, period) share one window: a source
        # whose limit covers every request (AIC: 60 a minute) lists it twice.
        shared: dict[tuple[int, float], ArrivalWindow] = {}
        self._windows = {
            kind: shared.setdefault(
                limit, ArrivalWindow(limit[0], limit[1], clock=clock, sleep=sleep)
            )
            for kind, limit in self.LIMITS.items()
        }
        self._session_lock = threading.Lock()

    @property
    def request_bound(self) -> float:
        """The longest one :meth:`fetch` can take, in seconds (attempts, waits, redirects)."""
        return self.retry.bound(self.deadline)

    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                session = net.mount(
                    requests.Session(), pool_connections=16, pool_maxsize=self._pool_size
                )
                session.headers["User-Agent"] = self.USER_AGENT
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
        retryable answer (429, 5xx, a dropped, timed-out or too slow
        exchange) or the server asked to wait too long; for a body over
        ``max_bytes`` or a redirect off the allow-list, :class:`ListingError`
        (listing) or :class:`ImageRefused` (image). Any other answer
        (including 4xx) is returned for the caller to judge. Takes at most
        :attr:`request_bound` seconds.
        """
        window = self._windows[kind]
        overall = net.Deadline(self.request_bound, clock=self._clock)
        try:
            return net.retry(
                lambda deadline: self._attempt(kind, window, url, max_bytes, deadline),
                policy=self.retry,
                deadline=overall,
                per_attempt=self.deadline,
                sleep=self._sleep,
                rng=self._rng,
                on_retry=lambda *_: self.stats.count("retries"),
            )
        except net.GaveUp as exc:
            last = exc.last.reason
            if exc.last.retry_after is not None:
                last += f", Retry-After {exc.last.retry_after:.0f} s"
            raise RetriesExhausted(
                url, exc.attempts, last, exc.last.status, kind=kind, who=self.NAME
            ) from None

    def _refused(self, kind: str, url: str, problem: str) -> IngestError:
        """A non-retryable refusal, named for what was asked: a listing page or an image."""
        if kind == "listing":
            return ListingError(url, problem)
        return ImageRefused(url, problem)

    def _attempt(
        self, kind: str, window: ArrivalWindow, url: str, max_bytes: int, deadline: net.Deadline
    ) -> Fetched:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            resp = self._exchange(kind, window, current, url, max_bytes, deadline)
            if resp.status_code in (301, 302, 303, 307, 308):
                target = urljoin(current, resp.headers.get("Location", ""))
                problem = self._redirect_problem(kind, target)
                if problem:
                    raise self._refused(kind, url, f"redirected to {target}: {problem}")
                current = target
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                if resp.status_code == 429:
                    self.stats.count("throttled")
                raise net.TryAgain(
                    f"HTTP {resp.status_code}",
                    status=resp.status_code,
                    retry_after=net.retry_after(resp.headers.get("Retry-After")),
                )
            return Fetched(
                current, resp.status_code, resp.headers.get("Content-Type", ""), resp.content
            )
        raise self._refused(kind, url, f"more than {MAX_REDIRECTS} redirects")

    def _exchange(
        self,
        kind: str,
        window: ArrivalWindow,
        current: str,
        url: str,
        max_bytes: int,
        deadline: net.Deadline,
    ) -> requests.Response:
        """One paced request and its whole body, within ``deadline``."""
        place = window.acquire()
        self.stats.count(kind)
        try:
            return net.request(
                self.session,
                "GET",
                current,
                deadline=deadline,
                max_bytes=max_bytes,
                connect_timeout=self.timeout[0],
                read_timeout=self.timeout[1],
                allow_redirects=False,
                on_headers=lambda _resp: window.release(place),
            )
        except net.BodyTooLarge as exc:
            raise self._refused(kind, url, f"body {_size(exc)}") from None
        except net.DeadlineExceeded:
            raise net.TryAgain(f"no complete answer within {self.deadline:g} s") from None
        except requests.Timeout:
            raise net.TryAgain("timed out") from None
        except requests.ConnectionError as exc:
            raise net.TryAgain(f"connection failed ({type(exc).__name__})") from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise net.TryAgain("connection dropped mid-body") from None
        finally:
            window.release(place)  # no-op if the headers already released it

    def image_problem(self, url: str) -> str | None:
        """Why ``url`` may not be fetched as an image (this source's hosts), or None."""
        return image_url_problem(url, self.origin, self.IMAGE_HOSTS)

    def _redirect_problem(self, kind: str, target: str) -> str | None:
        if kind == "image":
            return self.image_problem(target)
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc.lower()}" != self.origin:
            return f"listing redirects leave {self.origin}"
        return None

    # -- listing and images -------------------------------------------------

    def page_url(self, style: str, number: int) -> str:
        return f"{self.origin}/en/paintings-by-style/{style}?json=2&page={number}"

    def page(self, style: str, number: int) -> ListingPage:
        """One listing page, its envelope validated."""
        url = self.page_url(check_style(style), number)
        got = self.fetch("listing", url, max_bytes=self.max_listing_bytes)
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
        problem = self.image_problem(url)
        if problem:
            raise ImageRefused(url, problem)
        got = self.fetch("image", url, max_bytes=self.max_image_bytes)
        if got.status != 200:
            raise ImageRefused(url, f"HTTP {got.status}", status=got.status)
        return got
