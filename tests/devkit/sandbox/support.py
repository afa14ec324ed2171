"""Helpers for the sandbox tests: published example bodies, a webhook receiver, real-shop recordings."""

from __future__ import annotations

import json
import re
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


RECORDED = Path(__file__).resolve().parents[2] / "data" / "woocommerce-10.0.2"
API_PATH = "/wp-json/wc/v3"


def recording(name: str) -> dict[str, Any]:
    """One file of exchanges recorded from a real WooCommerce 10.0.2 shop."""
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


class Replay:
    """Sends recorded requests to the sandbox, translating the recorded ids into the sandbox's ids."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.ids: dict[int, int] = {}  # recorded id -> sandbox id

    def path(self, recorded: str) -> str:
        """A recorded request path below the API root with its ids translated."""
        short = recorded.removeprefix(API_PATH)
        return re.sub(r"/(\d+)(?=/|$)", lambda m: f"/{self.ids.get(int(m[1]), int(m[1]))}", short)

    def body(self, value: Any, key: str | None = None) -> Any:
        """A recorded request body with the ids it names translated (`id` keys, delete lists)."""
        if isinstance(value, dict):
            return {
                k: self.ids.get(v, v) if k == "id" and isinstance(v, int) else self.body(v, k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            if key == "delete":
                return [self.ids.get(v, v) if isinstance(v, int) else self.body(v) for v in value]
            return [self.body(item, key) for item in value]
        return value

    def learn(self, recorded: Any, answered: Any) -> None:
        """Pair the ids of records the recording and the sandbox created (item by item)."""
        if isinstance(recorded, dict) and isinstance(answered, dict):
            old, new = recorded.get("id"), answered.get("id")
            ok = "error" not in recorded and "error" not in answered
            if ok and isinstance(old, int) and isinstance(new, int) and old and new:
                self.ids.setdefault(old, new)
            for section in ("create", "update", "delete"):
                if isinstance(recorded.get(section), list) and isinstance(answered.get(section), list):
                    for one, other in zip(untrimmed(recorded[section]), answered[section], strict=False):
                        self.learn(one, other)
        elif isinstance(recorded, list) and isinstance(answered, list):
            for one, other in zip(untrimmed(recorded), answered, strict=False):
                self.learn(one, other)

    def send(self, exchange: dict[str, Any]) -> Any:
        """Send one recorded request; the sandbox's httpx response."""
        request = exchange["request"]
        body = request.get("body")
        answer = self.client.request(
            request["method"],
            self.path(request["path"]),
            params=request.get("query") or None,
            json=self.body(body) if body is not None else None,
        )
        self.learn(exchange["response"]["body"], answer.json())
        return answer


def untrimmed(items: list[Any]) -> list[Any]:
    """A recorded list with each `{"_trimmed": "items a..b ..."}` marker widened to None per left-out item."""
    out: list[Any] = []
    for item in items:
        marker = item.get("_trimmed") if isinstance(item, dict) and len(item) == 1 else None
        found = re.match(r"items (\d+)\.\.(\d+)", marker) if isinstance(marker, str) else None
        if found:
            out += [None] * (int(found[2]) - int(found[1]) + 1)
        else:
            out.append(item)
    return out
