"""The lifecycle every fake server in tests/ shares, so each fake is only its API.

A :class:`LocalServer` listens on 127.0.0.1 only (never any other address),
answers each connection in a daemon thread and serves from a daemon thread, so
a test that forgets to stop it cannot hang the run. ``down()`` and ``up()``
stop and restart it on the same port, which is how a test makes a server
refuse connections for a while and then come back.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

HOST = "127.0.0.1"


class LocalServer:
    """Subclasses give :meth:`handler_class`; a TLS one also overrides :meth:`wrap_socket`.

    A dataclass subclass must call ``super().__init__()`` from ``__post_init__``.
    """

    scheme = "http"
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer

    def __init__(self) -> None:
        self.port = 0  # the first start() takes a free port; later ones reuse it
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler, bound to this fake (a closure or a subclass attribute)."""
        raise NotImplementedError

    def wrap_socket(self, sock: socket.socket) -> socket.socket:
        """The listening socket as clients will meet it (here: plain HTTP)."""
        return sock

    @property
    def url(self) -> str:
        assert self.port, "start() the fake first"
        return f"{self.scheme}://{HOST}:{self.port}"

    def start(self, port: int | None = None) -> Self:
        server = self.server_class(
            (HOST, self.port if port is None else port), self.handler_class()
        )
        try:
            server.socket = self.wrap_socket(server.socket)
        except BaseException:
            server.server_close()
            raise
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def down(self) -> None:
        """Stop listening: every request now fails with 'connection refused'."""
        self.stop()

    def up(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
