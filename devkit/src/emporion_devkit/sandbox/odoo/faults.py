"""Faults on demand, for tests of retries and of exactly-once writes: the next N requests on a route fail.

Kinds: `serialization` (Odoo's concurrent-update error: JSON-RPC error / JSON-2 500), `http503` (a proxy's
HTML page), `http429` (with Retry-After), `html200` (a maintenance page with status 200), `lost` (the call
is carried out but its answer is lost: a 502 after the work is done, the unknown outcome of a write).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KINDS = ("serialization", "http503", "http429", "html200", "lost")
SERIALIZATION = "could not serialize access due to concurrent update"


@dataclass
class Fault:
    """A pending fault: its kind, the path prefix it applies to, how many requests it still hits."""

    kind: str
    route: str
    count: int


class Faults:
    """The pending faults of one sandbox (thread-safe: tests set them while the server runs)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[Fault] = []

    def add(self, kind: str, count: int = 1, route: str = "/") -> None:
        """Make the next `count` requests whose path starts with `route` fail with `kind`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        with self.lock:
            self.pending.append(Fault(kind, route, count))

    def clear(self) -> None:
        """Forget every pending fault."""
        with self.lock:
            self.pending.clear()

    def take(self, path: str) -> str | None:
        """The kind of fault the request on `path` meets, if any (counting it down)."""
        with self.lock:
            for fault in self.pending:
                if path.startswith(fault.route):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.pending.remove(fault)
                    return fault.kind
        return None


def with_faults(app: ASGIApp, faults: Faults, jsonrpc_error_code: int) -> ASGIApp:
    """The app with the pending faults applied to the requests they match."""

    async def faulty(scope: Scope, receive: Receive, send: Send) -> None:
        kind = faults.take(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await app(scope, receive, send)
            return
        if kind == "lost":

            async def swallow(message: Message) -> None:
                return None

            await app(scope, receive, swallow)
            await _answer(send, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif kind == "http503":
            await _answer(
                send, 503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html"
            )
        elif kind == "http429":
            await _answer(send, 429, b"Too Many Requests", "text/plain", [(b"retry-after", b"1")])
        elif kind == "html200":
            await _answer(
                send, 200, b"<!DOCTYPE html><html><body>Odoo is under maintenance</body></html>", "text/html"
            )
        else:
            await _serialization(scope, receive, send, jsonrpc_error_code)

    return faulty


async def _serialization(scope: Scope, receive: Receive, send: Send, code: int) -> None:
    """Odoo's answer when PostgreSQL refused a concurrent update (after its own retries gave up)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    data = {
        "name": "psycopg2.errors.SerializationFailure",
        "message": SERIALIZATION,
        "arguments": [SERIALIZATION],
        "context": {},
        "debug": f"psycopg2.errors.SerializationFailure: {SERIALIZATION}\n",
    }
    if scope.get("path", "").startswith("/json/2/"):
        await _answer(send, 500, orjson.dumps(data), "application/json")
        return
    try:
        request_id = orjson.loads(body).get("id")
    except (orjson.JSONDecodeError, AttributeError):
        request_id = None
    error = {"code": code, "message": "Odoo Server Error", "data": data}
    await _answer(
        send, 200, orjson.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}), "application/json"
    )


async def _answer(
    send: Send, status: int, body: bytes, media: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a whole answer."""
    head = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
