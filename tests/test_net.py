"""soviet_art_bot.net against real sockets on 127.0.0.1.

The servers here are raw TCP (or TLS) scripts, so each test can misbehave
exactly as a hostile or broken server would. Nothing waits on the wall clock
to synchronise: a trickling server paces itself, but the test ends on the
client's deadline, and where the number of reads matters the clock is
injected.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator

import pytest
import requests

from soviet_art_bot import net

HOST = "127.0.0.1"


class RawServer:
    """Accepts connections and hands each socket to ``script`` in its own thread."""

    def __init__(
        self, script: Callable[[socket.socket], None], *, tls: ssl.SSLContext | None = None
    ):
        self.script = script
        self.tls = tls
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.script(conn)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@contextlib.contextmanager
def serving(script: Callable[[socket.socket], None], **kw: object) -> Iterator[RawServer]:
    server = RawServer(script, **kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(4096)
        if not got:
            break
        data += got
    return data


def trickle(conn: socket.socket, head: bytes, *, pace: threading.Event) -> None:
    """Send ``head`` then one byte at a time until the client hangs up."""
    read_request(conn)
    conn.sendall(head)
    while True:
        conn.sendall(b"x")
        pace.wait(0.02)  # pacing of the fake, not synchronisation: the test ends on a deadline


@pytest.fixture(scope="module")
def tls_ca():  # type: ignore[no-untyped-def]
    import trustme

    return trustme.CA()


@pytest.fixture(scope="module")
def tls_server_context(tls_ca) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert(HOST).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def tls_client_bundle(tls_ca, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return str(path)


def session() -> requests.Session:
    return net.mount(requests.Session())


class StepClock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


# --------------------------------------------------------------------------
# Deadline


def test_deadline_counts_down_and_clamps_timeouts() -> None:
    now = [100.0]
    deadline = net.Deadline(10, clock=lambda: now[0])
    assert deadline.remaining() == 10
    assert deadline.clamp(30) == 10 and deadline.clamp(3) == 3
    now[0] = 108.0
    assert deadline.remaining() == 2 and not deadline.expired
    child = deadline.child(5)
    assert child.remaining() == 2  # never outlives its parent
    now[0] = 110.0
    assert deadline.expired and deadline.remaining() == 0
    with pytest.raises(net.DeadlineExceeded) as caught:
        deadline.clamp(1)
    assert caught.value.sent is False
    assert net.may_have_arrived(caught.value) is False


# --------------------------------------------------------------------------
# Bodies: total deadline, byte cap


def test_a_trickled_body_cannot_outlast_the_deadline() -> None:
    pace = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
    with serving(lambda c: trickle(c, head, pace=pace)) as server:
        resp = requests.get(f"http://{HOST}:{server.port}/", stream=True, timeout=30)
        clock = StepClock(1.0)
        deadline = net.Deadline(5, clock=clock)
        with pytest.raises(net.DeadlineExceeded) as caught:
            net.read_body(resp, deadline, 10**9)
        resp.close()
        pace.set()
    assert caught.value.sent is True
    # One clock reading per read: the deadline is checked between every small read,
    # so the bytes read are a handful, not a 64 KiB chunk's worth.
    assert clock.now <= 7


def test_headers_trickled_one_byte_at_a_time_end_at_the_deadline() -> None:
    """Per-read timeouts alone never end this: each byte arrives well within 30 s."""
    pace = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nX-Slow: "
    with serving(lambda c: trickle(c, head, pace=pace)) as server:
        with pytest.raises(net.DeadlineExceeded) as caught:
            net.request(
                session(),
                "GET",
                f"http://{HOST}:{server.port}/",
                deadline=net.Deadline(0.3),
                max_bytes=1000,
                read_timeout=30,
            )
        pace.set()
    assert caught.value.sent is True
    assert net.may_have_arrived(caught.value) is True


def test_a_close_delimited_body_cut_by_the_deadline_is_not_taken_as_complete() -> None:
    pace = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    with serving(lambda c: trickle(c, head, pace=pace)) as server:
        with pytest.raises(net.DeadlineExceeded):
            net.request(
                session(),
                "GET",
                f"http://{HOST}:{server.port}/",
                deadline=net.Deadline(0.3),
                max_bytes=10**9,
                read_timeout=30,
            )
        pace.set()


def answer(body: bytes, *, headers: bytes = b"", chunked: bool = False) -> Callable:
    def script(conn: socket.socket) -> None:
        while read_request(conn):
            if chunked:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + headers + b"\r\n"
                )
                for i in range(0, len(body), 1000):
                    part = body[i : i + 1000]
                    conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                conn.sendall(b"0\r\n\r\n")
            else:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                    % (len(body), headers, body)
                )

    return script


def test_the_byte_cap_counts_bytes_read_not_the_declared_length() -> None:
    body = b"a" * 60_000
    with serving(answer(body, chunked=True)) as server:
        with pytest.raises(net.BodyTooLarge) as caught:
            net.request(
                session(),
                "GET",
                f"http://{HOST}:{server.port}/",
                deadline=net.Deadline(30),
                max_bytes=50_000,
            )
    assert caught.value.declared is False and caught.value.size > 50_000
    assert caught.value.size <= 50_000 + net.READ_SIZE  # stopped reading at the cap


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"
    pace = threading.Event()
    with serving(lambda c: trickle(c, head, pace=pace)) as server:
        with pytest.raises(net.BodyTooLarge) as caught:
            net.request(
                session(),
                "GET",
                f"http://{HOST}:{server.port}/",
                deadline=net.Deadline(30),
                max_bytes=1000,
            )
        pace.set()
    assert caught.value.declared is True and caught.value.size == 99999999999


def test_a_complete_answer_is_loaded_and_the_connection_reused() -> None:
    doc = {"Paintings": [{"id": "a"}] * 500}
    body = json.dumps(doc).encode()
    with serving(answer(body, headers=b"Content-Type: application/json\r\n")) as server:
        s = session()
        url = f"http://{HOST}:{server.port}/"
        for _ in range(3):
            resp = net.request(s, "GET", url, deadline=net.Deadline(30), max_bytes=10**6)
            assert resp.status_code == 200 and resp.json() == doc
        assert server.connections == 1  # keep-alive: the body was read to its end


# --------------------------------------------------------------------------
# may_have_arrived, by what really happens on the wire


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def failure(url: str, *, verify: object = True, timeout: tuple[float, float] = (5, 5)) -> Exception:
    with pytest.raises(requests.RequestException) as caught:
        s = session()
        resp = s.get(url, timeout=timeout, verify=verify, stream=True)
        net.read_body(resp, net.Deadline(30), 10**9)
    return caught.value


def test_connection_refused_never_arrived() -> None:
    assert net.may_have_arrived(failure(f"http://{HOST}:{free_port()}/")) is False


def test_dns_failure_never_arrived() -> None:
    assert net.may_have_arrived(failure("http://no-such-host.invalid/")) is False


def test_connect_timeout_never_arrived() -> None:
    # A listener with a full accept queue drops further SYNs: connect() cannot finish.
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        exc = None
        for _ in range(8):  # fill the queue, however the kernel rounds the backlog
            filler = socket.socket()
            filler.settimeout(0.2)
            try:
                filler.connect((HOST, port))
            except OSError:
                filler.close()
                exc = failure(f"http://{HOST}:{port}/", timeout=(0.2, 5))
                break
            fillers.append(filler)
        assert exc is not None, "the accept queue never filled"
        assert isinstance(exc, requests.ConnectTimeout)
        assert net.may_have_arrived(exc) is False
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_tls_handshake_failure_never_arrived() -> None:
    def not_tls(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    with serving(not_tls) as server:
        exc = failure(f"https://{HOST}:{server.port}/")
    assert isinstance(exc, requests.exceptions.SSLError)
    assert net.may_have_arrived(exc) is False


def test_untrusted_certificate_never_arrived(tls_server_context: ssl.SSLContext) -> None:
    with serving(answer(b"ok"), tls=tls_server_context) as server:
        exc = failure(f"https://{HOST}:{server.port}/", verify=True)
    assert net.may_have_arrived(exc) is False


def test_read_timeout_may_have_arrived() -> None:
    hold = threading.Event()

    def silent(conn: socket.socket) -> None:
        read_request(conn)
        hold.wait(60)

    with serving(silent) as server:
        exc = failure(f"http://{HOST}:{server.port}/", timeout=(5, 0.2))
        hold.set()
    assert isinstance(exc, requests.ReadTimeout)
    assert net.may_have_arrived(exc) is True


def test_reset_after_the_request_may_have_arrived() -> None:
    def reset(conn: socket.socket) -> None:
        read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with serving(reset) as server:
        exc = failure(f"http://{HOST}:{server.port}/")
    assert net.may_have_arrived(exc) is True


def test_reset_mid_body_may_have_arrived() -> None:
    def cut(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with serving(cut) as server:
        exc = failure(f"http://{HOST}:{server.port}/")
    assert net.may_have_arrived(exc) is True


def test_broken_chunked_body_may_have_arrived() -> None:
    def bad_chunks(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n")

    with serving(bad_chunks) as server:
        exc = failure(f"http://{HOST}:{server.port}/")
    assert isinstance(exc, requests.exceptions.ChunkedEncodingError)
    assert net.may_have_arrived(exc) is True


def test_garbage_instead_of_a_status_line_may_have_arrived() -> None:
    def garbage(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"\x00\x01 not http at all\r\n\r\n")

    with serving(garbage) as server:
        exc = failure(f"http://{HOST}:{server.port}/")
    assert net.may_have_arrived(exc) is True


def test_tls_error_after_the_handshake_may_have_arrived(
    tls_server_context: ssl.SSLContext, tls_client_bundle: str
) -> None:
    def break_tls(conn: socket.socket) -> None:
        read_request(conn)
        raw = socket.socket(fileno=conn.detach())  # write bytes outside the TLS record layer
        raw.sendall(b"\x17\x03\x03\x00\x10" + b"\xff" * 16)
        raw.close()

    with serving(break_tls, tls=tls_server_context) as server:
        exc = failure(f"https://{HOST}:{server.port}/", verify=tls_client_bundle)
    assert net.may_have_arrived(exc) is True


def test_unknown_exceptions_are_assumed_to_have_arrived() -> None:
    assert net.may_have_arrived(RuntimeError("connection refused")) is True  # text is not read


# --------------------------------------------------------------------------
# Retries


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retry_backs_off_honours_retry_after_and_stops_after_the_attempts() -> None:
    t = FakeTime()
    policy = net.RetryPolicy(attempts=4, base=1, cap=8, max_retry_after=60)
    calls: list[float] = []

    def attempt(per_try: net.Deadline) -> str:
        calls.append(per_try.remaining())
        raise net.TryAgain("HTTP 429", status=429, retry_after=5 if len(calls) == 2 else None)

    with pytest.raises(net.GaveUp) as caught:
        net.retry(
            attempt,
            policy=policy,
            deadline=net.Deadline(1000, clock=t.clock),
            per_attempt=10,
            sleep=t.sleep,
            rng=random.Random(1),
        )
    assert caught.value.attempts == 4 and len(calls) == 4
    assert caught.value.last.status == 429
    assert calls == [10, 10, 10, 10]  # each attempt gets its own deadline
    assert 0.5 <= t.sleeps[0] <= 1 and t.sleeps[1] >= 5 and 2 <= t.sleeps[2] <= 4
    assert t.now <= policy.bound(10)


def test_retry_never_sleeps_past_the_deadline() -> None:
    t = FakeTime()

    def attempt(per_try: net.Deadline) -> str:
        t.now += per_try.remaining()  # the attempt uses all its time
        raise net.TryAgain("timed out")

    deadline = net.Deadline(25, clock=t.clock)
    with pytest.raises(net.GaveUp) as caught:
        net.retry(
            attempt,
            policy=net.RetryPolicy(attempts=10, base=4, cap=30),
            deadline=deadline,
            per_attempt=10,
            sleep=t.sleep,
            rng=random.Random(2),
        )
    assert "no time left" in caught.value.why
    assert t.now <= 25


def test_retry_gives_up_on_a_retry_after_longer_than_the_policy_allows() -> None:
    t = FakeTime()

    def attempt(per_try: net.Deadline) -> str:
        raise net.TryAgain("HTTP 503", retry_after=3600)

    with pytest.raises(net.GaveUp):
        net.retry(
            attempt,
            policy=net.RetryPolicy(max_retry_after=60),
            deadline=net.Deadline(10_000, clock=t.clock),
            per_attempt=10,
            sleep=t.sleep,
        )
    assert t.sleeps == []


def test_retry_returns_the_first_success_and_lets_other_errors_through() -> None:
    t = FakeTime()
    answers = iter([net.TryAgain("HTTP 500"), "done"])

    def attempt(per_try: net.Deadline) -> str:
        got = next(answers)
        if isinstance(got, Exception):
            raise got
        return got

    kw = dict(deadline=net.Deadline(100, clock=t.clock), per_attempt=10, sleep=t.sleep)
    assert net.retry(attempt, policy=net.RetryPolicy(), **kw) == "done"

    def broken(per_try: net.Deadline) -> str:
        raise ValueError("not retryable")

    with pytest.raises(ValueError):
        net.retry(broken, policy=net.RetryPolicy(), **kw)


def test_retry_policy_states_its_bound() -> None:
    policy = net.RetryPolicy(attempts=3, base=1, cap=30, max_retry_after=20)
    assert policy.bound(10) == 3 * 10 + 20 + 20


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
    assert net.retry_after("7") == 7
    assert net.retry_after("Thu, 03 Dec 2026 12:00:30 GMT", now=lambda: now) == 30
    assert net.retry_after("Thu, 03 Dec 2026 11:00:00 GMT", now=lambda: now) == 0
    assert net.retry_after("soon") is None and net.retry_after(None) is None
    assert net.retry_after("-5") is None
