"""moto's S3 (and SSM, IAM, ...) server on 127.0.0.1, with S3's atomic conditional writes.

Real S3 checks ``If-Match`` / ``If-None-Match`` and writes in one atomic
step: of two conditional PUTs against the same ETag exactly one wins, the
other gets 412. moto's server checks the condition and then writes without a
lock, so on a busy machine both can win, and a test of our compare-and-swap
fails for the fake's sake. :class:`AtomicMotoServer` serves moto's own
application behind one lock for every write request (``PUT``, ``POST``,
``DELETE``), held until the answer is complete, so a condition is still true
when its write lands, as on S3. Reads are not serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

WRITES = frozenset({"PUT", "POST", "DELETE"})


class AtomicWrites:
    """WSGI middleware: every write is checked and applied under one lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("REQUEST_METHOD") not in WRITES:
            return list(self.app(environ, start_response))
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]  # the whole answer, inside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class AtomicMotoServer:
    """Like moto's ``ThreadedMotoServer``, with :class:`AtomicWrites` in front."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = AtomicWrites(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AtomicMotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
