"""Helpers for the sandbox tests: the published example bodies and a real webhook receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYLOADS = Path("/work/shared/payloads/woocommerce")


def payload(name: str) -> dict[str, Any]:
    """One of WooCommerce's published example bodies."""
    return json.loads((PAYLOADS / name).read_text())


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what is POSTed to it and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def deliveries(self) -> list[tuple[dict[str, str], bytes]]:
        """Requests other than activation pings."""
        return [(h, b) for h, b in self.requests if "x-wc-webhook-topic" in h]

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()
