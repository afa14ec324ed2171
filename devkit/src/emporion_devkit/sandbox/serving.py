"""A sandbox's ASGI app served by uvicorn in a background thread, on a socket bound first.

Binding before serving lets a sandbox learn its port (0: a free one) and put its own URL into the app
before the first request; `run` returns only once the server answers, or raises naming the sandbox.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

START_SECONDS = 10.0


class ThreadedServer:
    """One sandbox's server: `bind`, then `run(app)`; `stop` ends it, `wait` blocks until it ends."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def bind(self, host: str, port: int) -> int:
        """Bind `host:port` (0: a free port) and return the port bound."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._socket = sock
        return int(sock.getsockname()[1])

    def run(self, app: Any, **options: Any) -> None:
        """Serve `app` on the bound socket (uvicorn `options` on top of quiet defaults) until stopped."""
        assert self._socket is not None, "bind before run"
        settings: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off", **options}
        self._server = uvicorn.Server(uvicorn.Config(app, **settings))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving (waits up to ten seconds for the thread)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None

    def wait(self) -> None:
        """Block until the server thread ends (a command line waits here until interrupted)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)
