"""The two wire protocols of Odoo over one bounded HTTP client: JSON-RPC (`/jsonrpc`) and JSON-2 (`/json/2`).

Both go through `Wire.post`: a concurrency slot, the connection's circuit breaker, a bounded request and
a bounded (gzip-decoded) response, and transport failures as `Retryable`. A 200 answer counts only
with a JSON body: Odoo 18 answers `/json/2/...` with an HTML page, which is never a result.

Numbers with a fraction come back as `Decimal` (exactly the digits Odoo wrote), never as float;
Decimals sent go out as JSON numbers (Odoo parses every number into a float anyway).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from emporion.connectors.base import Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker, guarded
from emporion.connectors.odoo import errors
from emporion.connectors.odoo.errors import Call

MAX_REQUEST_BYTES = 32 * 1024 * 1024
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
NOT_JSON: Any = object()  # the body of an answer that is not JSON (an HTML page)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: its status, its parsed JSON body (or NOT_JSON) and its headers."""

    status: int
    body: Any
    headers: httpx.Headers

    @property
    def is_json(self) -> bool:
        """Whether the body parsed as JSON."""
        return self.body is not NOT_JSON


def server_date(headers: httpx.Headers) -> datetime | None:
    """The server's clock from an answer's Date header, in UTC; None when absent or unreadable."""
    value = headers.get("Date")
    if not value:
        return None
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


class Wire:
    """The HTTP client of one Odoo connection: slots, breaker, size limits and typed transport failures."""

    def __init__(
        self, url: str, *, timeout: float, verify: Any, circuit: CircuitBreaker, max_concurrency: int
    ) -> None:
        self.url = url.rstrip("/")
        self.circuit = circuit
        self._slots = asyncio.Semaphore(max_concurrency)
        self.http = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=verify,
            headers={"Accept-Encoding": "gzip", "Accept": "application/json"},
        )
        self.last_date: datetime | None = None

    async def send(
        self, call: Call, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """Send one request and read its answer within the size limit; transport failures are Retryable."""
        content = None
        request_headers = dict(headers or {})
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), default=_encode).encode()
            if len(content) > MAX_REQUEST_BYTES:
                raise Permanent(
                    f"request {call.what} to Odoo is {len(content)} bytes,"
                    f" over the {MAX_REQUEST_BYTES} limit",
                    record=call.model or None,
                )
            request_headers["Content-Type"] = "application/json"
        async with self._slots, guarded(self.circuit) as guard:
            try:
                async with self.http.stream(
                    method, path, content=content, headers=request_headers
                ) as response:
                    raw = await _bounded(response, call)
            except httpx.TimeoutException as exc:
                raise Retryable(
                    f"Odoo did not answer {call.what} in time ({type(exc).__name__})", after=5.0
                ) from exc
            except httpx.TransportError as exc:
                raise Retryable(f"cannot reach Odoo at {self.url}: {type(exc).__name__}", after=5.0) from exc
            if response.status_code >= 500 or response.status_code == 429:
                guard.fail(f"Odoo answered HTTP {response.status_code} to {call.what}")
        self.last_date = server_date(response.headers) or self.last_date
        return Answer(response.status_code, _parse(raw, response), response.headers)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()


async def _bounded(response: httpx.Response, call: Call) -> bytes:
    """The decoded body, refused when it grows past MAX_RESPONSE_BYTES."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise Permanent(
                f"Odoo's answer to {call.what} exceeds {MAX_RESPONSE_BYTES} bytes: ask for fewer records",
                record=call.model or None,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, response: httpx.Response) -> Any:
    """The JSON body, or NOT_JSON for an HTML page or anything else that does not parse."""
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type or not raw:
        return NOT_JSON
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        return NOT_JSON


def _encode(value: Any) -> Any:
    """JSON for the values Python code hands the client: Decimal as a number, dates as Odoo's text."""
    if isinstance(value, Decimal):
        # Odoo's JSON parser makes a float of any number it reads: float(Decimal) is what it would get
        return float(value)
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            if value.tzinfo
            else value.strftime("%Y-%m-%d %H:%M:%S")
        )
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Odoo")


class JsonRpc:
    """Odoo's JSON-RPC: `POST /jsonrpc` with a service (`common`, `object`, `db`), a method and its args."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._ids = itertools.count(1)

    async def rpc(self, call: Call, service: str, method: str, args: list[Any]) -> Any:
        """The result of `service.method(*args)`, or the typed error of Odoo's answer."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        answer = await self.wire.send(call, "POST", "/jsonrpc", body)
        if answer.status != 200:
            raise errors.from_status(
                call, answer.status, answer.body if answer.is_json else None, answer.headers
            )
        if not answer.is_json or not isinstance(answer.body, dict):
            raise Permanent(
                f"{self.wire.url}/jsonrpc did not answer {call.what} with JSON: is it an Odoo server?"
            )
        if answer.body.get("error") is not None:
            raise errors.from_rpc_error(call, answer.body["error"])
        return answer.body.get("result")


class Json2:
    """Odoo 19's JSON-2: `POST /json/2/<model>/<method>` with named arguments and a bearer API key."""

    def __init__(self, wire: Wire, api_key: str, database: str | None) -> None:
        self.wire = wire
        self._headers = {"Authorization": f"bearer {api_key}"}
        if database:
            self._headers["X-Odoo-Database"] = database

    async def call(self, call: Call, params: dict[str, Any]) -> Any:
        """The bare JSON result of `model.method(**params)`, or the typed error of Odoo's answer."""
        path = f"/json/2/{call.model}/{call.method}"
        answer = await self.wire.send(call, "POST", path, params, self._headers)
        # Odoo 18 redirects /json/2 to its login page (303, then an HTML page with 200); 17 answers an
        # HTML 404. Neither is an answer of JSON-2, which always answers JSON.
        if 300 <= answer.status < 400 or (not answer.is_json and answer.status in (200, 404)):
            raise Permanent(
                f"{self.wire.url}{path} answered a page, not JSON: the server has no JSON-2 API"
                " (Odoo 18 or older: set api: jsonrpc)"
            )
        if answer.status != 200:
            raise errors.from_status(
                call, answer.status, answer.body if answer.is_json else None, answer.headers
            )
        return answer.body
