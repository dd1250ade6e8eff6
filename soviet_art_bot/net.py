"""Network plumbing every HTTP client of the bot shares: deadlines, bounded bodies, retries.

Why one module: a deadline that only bounds *each socket operation* does not
bound an exchange. A server that answers 200 and then sends one byte per
second satisfies every per-read timeout forever. So an exchange here has a
**total** :class:`Deadline` (connect, send, headers and the whole body), and
it is enforced twice:

* :func:`read_body` reads the body in small ``read1`` calls (at most one
  ``recv`` each) and shrinks the socket's timeout to the time remaining
  before every read, so a trickle cannot extend it; the byte cap counts the
  bytes actually read, never a declared ``Content-Length``.
* :func:`request`, on a session whose adapters come from :func:`mount`, also
  arms a watchdog that shuts the exchange's socket down when the deadline
  passes. That covers what per-read timeouts cannot: headers or a chunk-size
  line trickled one byte at a time inside a single ``readline``.

:func:`retry` is the one retry loop (exponential backoff with jitter,
``Retry-After`` honoured, a bounded number of attempts, never sleeping past the
overall deadline); :meth:`RetryPolicy.bound` states the worst case in seconds.
:func:`may_have_arrived` is the one answer to "could the server have acted on
this request?", by exception type (never by message text), for requests and
urllib3.

The API, in the order a client uses it::

    session = net.mount(requests.Session())
    deadline = net.Deadline(120)                   # the whole job
    def attempt(per_try: net.Deadline) -> requests.Response:
        resp = net.request(session, "GET", url, deadline=per_try, max_bytes=cap)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise net.TryAgain(f"HTTP {resp.status_code}", status=resp.status_code,
                               retry_after=net.retry_after(resp.headers.get("Retry-After")))
        return resp
    resp = net.retry(attempt, policy=net.RetryPolicy(), deadline=deadline, per_attempt=30)

Heavy imports (requests, urllib3) are done lazily, so importing this module
costs nothing on the Lambda's cold start.
"""

from __future__ import annotations

import email.utils
import heapq
import io
import itertools
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import requests

T = TypeVar("T")

# Bytes asked for per read of a body: small, so the deadline is checked often.
READ_SIZE = 16 * 1024


# --------------------------------------------------------------------------
# Errors


class NetError(Exception):
    """Base of this module's errors (clients translate them into the bot's error tree)."""


class DeadlineExceeded(NetError, TimeoutError):
    """The exchange's total deadline passed; ``sent`` says whether the request may have arrived."""

    def __init__(self, what: str, *, sent: bool) -> None:
        self.sent = sent
        super().__init__(what)


class BodyTooLarge(NetError):
    """The body is over ``cap`` bytes (``size``: declared or read so far)."""

    def __init__(self, size: int, cap: int, *, declared: bool) -> None:
        self.size = size
        self.cap = cap
        self.declared = declared
        what = f"declares {size} bytes" if declared else f"is over {cap} bytes"
        super().__init__(f"body {what}, over the {cap}-byte cap")


class TryAgain(NetError):
    """Raised by an attempt to ask :func:`retry` for another one.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it gave
    one; ``status`` the HTTP status that caused it, if any.
    """

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(reason)


class GaveUp(NetError):
    """:func:`retry` stopped: attempts used up, the deadline too close, or Retry-After too long.

    ``last`` is the final :class:`TryAgain`; ``attempts`` how many were made.
    """

    def __init__(self, attempts: int, last: TryAgain, why: str) -> None:
        self.attempts = attempts
        self.last = last
        self.why = why
        super().__init__(f"{why} after {attempts} attempt(s) (last: {last.reason})")


# --------------------------------------------------------------------------
# Deadline


class Deadline:
    """A point in monotonic time by which something must be finished.

    ``clock`` is injectable so tests can move time without sleeping. A child
    deadline (:meth:`child`) is never later than its parent, so a per-attempt
    deadline can never outlive the whole job's.
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.at = clock() + max(0.0, seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - self.clock())

    @property
    def expired(self) -> bool:
        return self.clock() >= self.at

    def clamp(self, timeout: float) -> float:
        """``timeout`` shortened to the time left; raises :class:`DeadlineExceeded` if none is."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded("the deadline passed before the request was sent", sent=False)
        return min(timeout, left)

    def child(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, or this one if that comes first."""
        sub = Deadline(seconds, clock=self.clock)
        sub.at = min(sub.at, self.at)
        return sub

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f})"


# --------------------------------------------------------------------------
# Watchdog: shuts an exchange's sockets down when its deadline passes


class _Watch:
    """The sockets of one exchange, and whether the watchdog fired on them."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.sockets: list[socket.socket] = []
        self.fired = False
        self.done = False
        self.lock = threading.Lock()

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self.lock:
            if self.fired:
                _kill(sock)
            else:
                self.sockets.append(sock)

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.fired = True
            for sock in self.sockets:
                _kill(sock)


def _kill(sock: socket.socket) -> None:
    """Wake any thread blocked on ``sock``: shut the raw socket down (TLS state untouched)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected


class _Watchdog:
    """One daemon thread for every watched exchange (a heap of deadlines)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline.at, next(self._count), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="net-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(5.0)
                    continue
                watch = self._heap[0][2]
                left = watch.deadline.remaining()
                if left > 0:
                    # Bounded wait: an injected test clock may not follow real time.
                    self._cond.wait(min(left, 1.0))
                    continue
                heapq.heappop(self._heap)
            watch.fire()


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextmanager
def _watching(deadline: Deadline) -> Iterator[_Watch]:
    watch = _Watch(deadline)
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    _WATCHDOG.arm(watch)
    try:
        yield watch
    finally:
        with watch.lock:
            watch.done = True
        _current.watch = previous


def _register(sock: socket.socket | None) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.add(sock)


def mount(session: requests.Session, **adapter_kwargs: Any) -> requests.Session:
    """Mount watched adapters on ``session`` for http and https; returns it.

    With them, :func:`request` can shut a stalled exchange down at its
    deadline even while the server trickles headers. ``adapter_kwargs`` go to
    :class:`requests.adapters.HTTPAdapter` (``pool_maxsize``, ``max_retries``).
    """
    adapter = _adapter_class()(**adapter_kwargs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_ADAPTER: type | None = None


def _adapter_class() -> type:
    """Built on first use so that importing this module does not import requests."""
    global _ADAPTER
    if _ADAPTER is not None:
        return _ADAPTER
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Watched:
        """Registers the connection's socket with the current exchange's watch."""

        sock: Any

        def connect(self) -> None:
            super().connect()  # type: ignore[misc]
            _register(self.sock)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _register(self.sock)  # a reused keep-alive connection
            super().request(*args, **kwargs)  # type: ignore[misc]

    class WatchedHTTPConnection(_Watched, HTTPConnection):
        pass

    class WatchedHTTPSConnection(_Watched, HTTPSConnection):
        pass

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": WatchedHTTPPool,
                "https": WatchedHTTPSPool,
            }

    _ADAPTER = WatchedAdapter
    return _ADAPTER


# --------------------------------------------------------------------------
# One exchange


def _socket_of(raw: Any) -> socket.socket | None:
    """The socket under a urllib3 response, if it still has one."""
    conn = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _read(reader: Callable[[int], bytes]) -> bytes:
    """One read, urllib3's errors turned into requests' (as ``iter_content`` does)."""
    import requests
    from urllib3 import exceptions as u3

    try:
        return reader(READ_SIZE)
    except u3.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except u3.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except u3.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except u3.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc


def read_body(response: requests.Response, deadline: Deadline, max_bytes: int) -> bytes:
    """The whole body of a ``stream=True`` response, within ``deadline`` and ``max_bytes``.

    Reads at most :data:`READ_SIZE` bytes per call with ``read1`` (one
    ``recv``), the socket timeout shrunk to the time left before each, so a
    server sending one byte per second cannot outlast the deadline. Raises
    :class:`BodyTooLarge` (declared or counted), :class:`DeadlineExceeded`, or
    the library's own exceptions for a dropped connection.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(int(declared), max_bytes, declared=True)
    raw = response.raw
    sock = _socket_of(raw)
    reader = getattr(raw, "read1", None) or raw.read
    body = io.BytesIO()  # getvalue() hands its buffer over: no second copy of a large body
    while True:
        left = deadline.remaining()
        if left <= 0:
            raise DeadlineExceeded(f"body still arriving after {body.tell()} bytes", sent=True)
        if sock is not None:
            try:
                sock.settimeout(left)
            except OSError:
                sock = None
        chunk = _read(reader)
        if not chunk:
            break
        body.write(chunk)
        if body.tell() > max_bytes:
            raise BodyTooLarge(body.tell(), max_bytes, declared=False)
    return body.getvalue()


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    on_headers: Callable[[requests.Response], None] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One exchange, connect to last body byte, within ``deadline``; the body is loaded.

    Returns the response with ``content`` already read (at most
    ``max_bytes``), so ``.json()``/``.text`` work and the connection is back
    in the pool. ``connect_timeout``/``read_timeout`` are per-operation
    ceilings, each clamped to the time left. Raises :class:`DeadlineExceeded`
    (``sent`` False only if it expired before the request was sent),
    :class:`BodyTooLarge`, or the exceptions of requests (classify them with
    :func:`may_have_arrived`). ``on_headers(response)`` is called as soon
    as the status and headers are in, before the body is read (a pacer can
    note that the request has certainly arrived). Other keyword arguments go
    to ``session.request`` (``stream`` is always on).
    """
    kwargs.pop("stream", None)
    connect = deadline.clamp(connect_timeout)
    read = deadline.clamp(read_timeout)
    with _watching(deadline) as watch:
        try:
            response = session.request(method, url, timeout=(connect, read), stream=True, **kwargs)
            try:
                if on_headers is not None:
                    on_headers(response)
                body = read_body(response, deadline, max_bytes)
            except BaseException:
                response.close()
                raise
        except DeadlineExceeded:
            raise
        except Exception as exc:
            if watch.fired or deadline.expired:
                raise DeadlineExceeded(
                    f"no complete answer within the deadline ({type(exc).__name__})",
                    sent=may_have_arrived(exc),
                ) from exc
            raise
        if watch.fired:  # the shutdown looked like a clean end of a close-delimited body
            response.close()
            raise DeadlineExceeded("body cut short by the deadline", sent=True)
    response._content = body  # noqa: SLF001 - requests' documented way to preload
    response._content_consumed = True  # noqa: SLF001
    response.close()
    return response


# --------------------------------------------------------------------------
# Retries


def retry_after(value: str | None, *, now: Callable[[], datetime] | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed exchange is tried again.

    Backoff before retry ``n`` (0-based) is uniform in ``[half, all]`` of
    ``min(cap, base * 2**n)``, raised to the server's ``Retry-After`` when it
    gives one; a ``Retry-After`` over ``max_retry_after`` gives up instead.
    """

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("a retry policy needs attempts >= 1 and non-negative waits")

    def backoff(self, retry: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * (2**retry))
        return ceiling * (0.5 + rng.random() / 2)

    def bound(self, per_attempt: float) -> float:
        """The longest :func:`retry` can take, in seconds, given each attempt's deadline.

        ``attempts * per_attempt`` plus the longest possible wait before each
        retry (the larger of the backoff ceiling and ``max_retry_after``). The
        overall :class:`Deadline` passed to :func:`retry` caps this further.
        """
        waits = sum(
            max(min(self.cap, self.base * (2**n)), self.max_retry_after)
            for n in range(self.attempts - 1)
        )
        return self.attempts * per_attempt + waits


def retry(
    attempt: Callable[[Deadline], T],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    per_attempt: float,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, TryAgain, float], None] | None = None,
) -> T:
    """Call ``attempt`` until it returns, at most ``policy.attempts`` times.

    Each call gets its own deadline, ``per_attempt`` seconds but never past
    ``deadline``. An attempt asks for another by raising :class:`TryAgain`;
    any other exception propagates at once. Raises :class:`GaveUp` when the
    attempts are used up, when the next wait would end past ``deadline``, or
    when ``Retry-After`` exceeds ``policy.max_retry_after``. ``on_retry(n,
    exc, wait)`` is told before each wait (for counters and logs).
    """
    rng = rng or random.Random()
    for n in range(policy.attempts):
        try:
            return attempt(deadline.child(per_attempt))
        except TryAgain as exc:
            made = n + 1
            if made >= policy.attempts:
                raise GaveUp(made, exc, "attempts used up") from exc
            if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
                raise GaveUp(
                    made, exc, f"the server asked to wait {exc.retry_after:.0f} s"
                ) from exc
            wait = policy.backoff(n, rng)
            if exc.retry_after is not None:
                wait = max(wait, exc.retry_after)
            if wait >= deadline.remaining():
                raise GaveUp(made, exc, "no time left for another attempt") from exc
            if on_retry is not None:
                on_retry(n, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------
# Could this request have arrived?


def _links(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it explicitly wraps (cause, urllib3 reason, first arg)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        for nxt in (
            cur.__cause__,
            getattr(cur, "reason", None),
            cur.args[0] if cur.args else None,
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _raised_in_handshake(exc: BaseException) -> bool:
    """True if ``exc`` was raised inside ``ssl.SSLSocket.do_handshake``: before any byte of HTTP."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "do_handshake" and code.co_filename.endswith("ssl.py"):
            return True
        tb = tb.tb_next
    return False


def may_have_arrived(exc: BaseException) -> bool:
    """Could the server have received (and acted on) the request that raised ``exc``?

    False only when it provably never left this host: DNS failure, connection
    refused, connect timeout (urllib3's ``NewConnectionError`` and
    ``ConnectTimeoutError``, requests' ``ConnectTimeout``, httpx's
    ``ConnectError`` and ``ConnectTimeout``), a TLS handshake
    that failed (raised inside ``do_handshake``), a URL requests refused to
    send, or a :class:`DeadlineExceeded` that expired before sending.
    Everything else (read timeouts, resets, chunked or protocol errors, and
    any exception this function does not know) is True: the safe answer
    when a retry could post twice.
    """
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    never_sent = (
        ConnectTimeoutError,  # NewConnectionError (refused, DNS) is a subclass
        NewConnectionError,
        requests.exceptions.ConnectTimeout,
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
        requests.exceptions.InvalidHeader,
    )
    never_sent += _httpx_never_sent()
    for link in _links(exc):
        if isinstance(link, DeadlineExceeded):
            return link.sent
        if isinstance(link, never_sent) or _raised_in_handshake(link):
            return False
    return True


def _httpx_never_sent() -> tuple[type[BaseException], ...]:
    """httpx's connect failures (the atproto SDK's transport), if httpx is loaded at all."""
    import sys

    httpx = sys.modules.get("httpx")  # never imported here: only a loaded client can raise them
    return (httpx.ConnectError, httpx.ConnectTimeout) if httpx is not None else ()
