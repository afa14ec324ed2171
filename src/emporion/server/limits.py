"""What a client may cost the HTTP server: body size per route, a body deadline, a header deadline.

`RequestLimits` (pure ASGI, around the whole app) refuses a body whose `Content-Length` is above its
route's limit before reading it (413), stops reading a chunked one as soon as it passes the limit
(413), gives up on a body not received within `body_timeout` (408), and lets a route's `authenticate`
check refuse an unsafe request before its body is read at all. Its refusals, and any answer given
before the whole body came, close the connection: the rest of the body is not taken in.
`BoundedH11Protocol` is uvicorn's HTTP/1.1 protocol with a deadline for a request's headers, which
uvicorn lacks, and a lingering close so that clients read those early answers; uvicorn's
`limit_concurrency` caps the connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import h11
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from emporion.logs import get_logger

log = get_logger("emporion.server")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOSE = (b"connection", b"close")
LINGER_SECONDS = 2.0  # how long the rest of a refused body is read and dropped before closing
LINGER_BYTES = 4 * 1024 * 1024  # and how much of it at most

Authenticate = Callable[[Scope], Awaitable[Response | None]]
"""A check of who calls, from the request's headers only: a refusal to answer, or None to go on."""


class BodyTooLarge(HTTPException):
    """The request body passed its route's limit (413)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodyTimeout(HTTPException):
    """The request body did not arrive within the body deadline (408)."""

    def __init__(self) -> None:
        super().__init__(408, "request body not received in time")


@dataclass(frozen=True)
class BodyRule:
    """How requests whose path starts with `prefix` may send a body.

    `max_bytes` None leaves the size to the route (the webhook ingress bounds its own, to answer its
    refusals in its own terms); `authenticate` makes unsafe methods pass the app's `Authenticate`
    check before their body is read.
    """

    prefix: str
    max_bytes: int | None
    authenticate: bool = False


class BodyGuard:
    """The `receive` of one request, counting the body against its limit and its deadline."""

    def __init__(self, receive: Receive, max_bytes: int | None, timeout: float) -> None:
        self._receive = receive
        self.max_bytes = max_bytes
        self.deadline = anyio.current_time() + timeout
        self.received = 0
        self.complete = False

    async def receive(self) -> Message:
        """The next message; BodyTooLarge past the limit, BodyTimeout past the deadline."""
        if self.complete:  # after the body only a disconnect comes: no deadline on waiting for it
            return await self._receive()
        with anyio.move_on_after(max(0.0, self.deadline - anyio.current_time())):
            message = await self._receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                self.complete = not message.get("more_body", False)
                if self.max_bytes is not None and self.received > self.max_bytes:
                    raise BodyTooLarge
            return message
        raise BodyTimeout


class RequestLimits:
    """ASGI middleware bounding every request body by its route's rule (the first prefix that matches)."""

    def __init__(
        self,
        app: ASGIApp,
        rules: Sequence[BodyRule],
        body_timeout: float,
        authenticate: Authenticate | None = None,
    ) -> None:
        self.app = app
        self.rules = sorted(rules, key=lambda rule: len(rule.prefix), reverse=True)
        self.body_timeout = body_timeout
        self.authenticate = authenticate

    def rule_for(self, path: str) -> BodyRule:
        """The rule of the longest prefix of `path` (no body at all where none matches)."""
        return next((rule for rule in self.rules if path.startswith(rule.prefix)), BodyRule("", 0))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule_for(scope["path"])
        if rule.authenticate and self.authenticate and scope["method"] not in SAFE_METHODS:
            refusal = await self.authenticate(scope)
            if refusal is not None:
                await refusal(scope, receive, closing(send))
                return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if rule.max_bytes is not None and declared.isdigit() and int(declared) > rule.max_bytes:
            await refuse(scope, receive, send, BodyTooLarge())
            return
        guard = BodyGuard(receive, rule.max_bytes, self.body_timeout)
        has_body = declared not in ("", "0") or "transfer-encoding" in headers
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            started = True  # answered before the whole body came: the server would read the rest, unlimited
            await (closing(send) if has_body and not guard.complete else send)(message)

        try:
            await self.app(scope, guard.receive, guarded_send)
        except (BodyTooLarge, BodyTimeout) as error:
            if started:
                raise
            await refuse(scope, receive, send, error)
        except ClientDisconnect:  # nobody is left to answer: one line, no traceback
            log.warning("request aborted", path=scope["path"][:100], received=guard.received)


async def refuse(scope: Scope, receive: Receive, send: Send, error: HTTPException) -> None:
    """Answer a refused body (JSON, like the console's errors) and close the connection."""
    log.warning("request refused", path=scope["path"][:100], status=error.status_code)
    response = JSONResponse({"detail": error.detail}, status_code=error.status_code)
    await response(scope, receive, closing(send))


def closing(send: Send) -> Send:
    """`send`, with `Connection: close` on the response: the rest of the request is not read."""

    async def send_and_close(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
            message = {**message, "headers": [*headers, CLOSE]}
        await send(message)

    return send_and_close


class LingeringTransport:
    """A connection's transport whose `close` first lets the client read an early answer.

    Closing a socket with unread request bytes makes the kernel reset the connection, and the client
    may lose the answer it was sent (a 413, say). Like nginx's lingering close, the sending side is
    shut (the client sees the answer end) and what still comes is read and dropped for a short while.
    """

    def __init__(self, transport: asyncio.Transport, protocol: BoundedH11Protocol) -> None:
        self.transport = transport
        self.protocol = protocol
        self.lingering = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)

    def is_closing(self) -> bool:
        """Closed as far as the HTTP protocol is concerned."""
        return self.lingering or self.transport.is_closing()

    def close(self) -> None:
        """Close now, or linger first when the client is still sending a body."""
        unread = self.protocol.conn.their_state is h11.SEND_BODY
        if self.lingering or not unread or self.transport.is_closing() or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.lingering = True
        self.transport.write_eof()
        self.transport.resume_reading()
        self.protocol.loop.call_later(LINGER_SECONDS, self.transport.close)


class BoundedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for request headers and a lingering close.

    The header deadline starts when the connection opens or the next request's first byte arrives,
    and is not moved by later bytes: a client sending a header a byte at a time is closed like an
    idle one.
    """

    header_timeout = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    _lingering: LingeringTransport | None = None
    _dropped = 0

    def connection_made(self, transport: Any) -> None:
        """A new connection: its first request's headers are due within the deadline."""
        self._lingering = LingeringTransport(transport, self)
        super().connection_made(self._lingering)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Bytes in: the header deadline runs while a request's headers are incomplete."""
        if self._lingering is not None and self._lingering.lingering:
            self._dropped += len(data)  # the rest of a refused body: dropped, a bounded amount
            if self._dropped > LINGER_BYTES:
                self._lingering.transport.close()
            return
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection ended: nothing left to time."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(header_timeout: float) -> type[BoundedH11Protocol]:
    """The protocol class for uvicorn's `http` setting with this header deadline (seconds)."""
    return type("BoundedH11", (BoundedH11Protocol,), {"header_timeout": header_timeout})
