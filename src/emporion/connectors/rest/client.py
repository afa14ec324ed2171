"""The HTTP side of a declarative connection: authentication, calls, errors, paging and rate budget.

One `RestClient` per connection. `call` sends one described `Call` (REST, or a GraphQL document when
the connection is `type: graphql`) with its placeholders filled and turns the answer into JSON or a
typed error (`connectors/base.py`) naming the record; `pages` follows a list call's paging.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from emporion.connectors.base import (
    AuthError,
    ConnectorError,
    Permanent,
    RateLimited,
    Retryable,
    SharedRateBudget,
    UnknownOutcome,
)
from emporion.connectors.budget import RateBudget
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen, guarded
from emporion.connectors.http import observe_httpx, parse_retry_after
from emporion.connectors.rest.auth import build_auth, first, reason
from emporion.connectors.rest.budget import Headroom, number_at
from emporion.connectors.rest.conversions import decode_json, encode_json
from emporion.connectors.rest.paging import follow
from emporion.connectors.rest.settings import Call, RestConnection
from emporion.connectors.rest.settings.paths import compiled
from emporion.connectors.rest.templates import MissingValue, render, spelled
from emporion.connectors.roles import RequestObserver

Json = Any
QUICK_RETRY_SECONDS = 0.2
MAX_QUICK_RETRY_AFTER = 5.0  # a 429 asking for longer is left to the engine's retry
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
AUTH_CODES = {"FORBIDDEN", "UNAUTHENTICATED", "UNAUTHORIZED", "ACCESS_DENIED"}
JSON_HEADERS = {"Content-Type": "application/json"}
OPERATION = re.compile(r"\b(query|mutation)\s+(\w+)")


class Missing(Permanent):
    """The shop answered 404 (or a GraphQL null) for a record: it does not exist (any more)."""


@dataclass(frozen=True)
class Answer:
    """A decoded answer: its JSON body and its headers (lower-case names)."""

    body: Json
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Page:
    """One page of a list call: the records (JSON), the whole answer, and the total if the shop says."""

    items: list[Json]
    answer: Answer
    total: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """One rendered request: method, URL (relative or absolute), query, JSON body, headers, label."""

    method: str
    url: str
    params: dict[str, Any]
    json: Json
    headers: dict[str, str]
    label: str


def shop_message(body: Json) -> tuple[str, str | None]:
    """The shop's error message and the field at fault, from common error shapes.

    The error is the body itself, its `error` object or its first `errors` entry (REST APIs and
    GraphQL alike); its field is named `field`, `param`, `path` or `property` there or at the top.
    """
    if not isinstance(body, dict):
        return "", None
    places = [body]
    if isinstance(body.get("error"), dict):
        places.insert(0, body["error"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        places.insert(0, errors[0])
    message = next((text for place in places if (text := _text(place)) is not None), "")
    field = next(
        (value for place in places for name in FIELD_NAMES if isinstance(value := place.get(name), str)), None
    )
    return message[:300], field


FIELD_NAMES = ("field", "param", "path", "property")


def _text(error: dict[str, Any]) -> str | None:
    """The message of one error object, if it has one."""
    for name in ("message", "error", "detail", "title"):
        if isinstance(error.get(name), str):
            return str(error[name])
    return None


def as_param(value: Any, lists: str = "comma") -> Any:
    """A query parameter's value as text spells it; a list comma-joined, or kept as a list (sent as
    the parameter repeated, once per item) when the call's `lists` is `repeat`."""
    if lists == "repeat" and isinstance(value, list | tuple):
        return [spelled(item) for item in value]
    return spelled(value)


class RestClient:
    """Sends a connection's described calls; owns its httpx client, authentication and rate budget."""

    def __init__(self, name: str, settings: RestConnection, circuit: CircuitBreaker) -> None:
        self.name = name
        self.settings = settings
        self.circuit = circuit
        self.graphql = settings.type == "graphql"
        rate = settings.rate
        self.budget = RateBudget(max_rps=rate.max_requests_per_second, max_concurrency=rate.max_concurrency)
        self.headroom = Headroom(self.budget, rate)
        self.auth = build_auth(name, settings.url, settings.auth)
        self.requests_sent: Counter[str] = Counter()  # "GET /products/{id}" -> count, for metrics
        self._http = httpx.AsyncClient(
            base_url=settings.url,
            auth=self.auth,
            verify=settings.tls.httpx_verify(),
            timeout=settings.timeout,
            headers={"Accept": "application/json", "User-Agent": "emporion", **settings.headers},
            follow_redirects=False,
        )

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request this client sends and of every answer."""
        observe_httpx(self._http, observer)

    def requests_per_second(self) -> float | None:
        """The configured request rate (None: none fixed)."""
        return self.settings.rate.max_requests_per_second

    def share_budget(self, shared: SharedRateBudget) -> None:
        """Take request starts from a budget shared with other processes."""
        self.budget.share(shared)

    async def call(
        self,
        call: Call,
        values: Mapping[str, Any] | None = None,
        *,
        record: str | None = None,
        idempotency_key: str | None = None,
        read: bool = False,
    ) -> Answer:
        """Send `call` with `values` filled in; `read` calls are retried on transient failures.

        Errors: 401/403 AuthError, 404 Missing, 429 RateLimited (Retry-After), 5xx and timeouts
        Retryable, other 4xx (and GraphQL `errors`, or the call's `error` path matching) Permanent
        naming `record` and the shop's message.
        """
        outgoing = self._render(call, values or {}, {}, record, idempotency_key)
        return await self._send_retrying(call, outgoing, record, read)

    async def _send_retrying(self, call: Call, outgoing: Outgoing, record: str | None, read: bool) -> Answer:
        """`_send`, again up to `retries` times for a read that failed transiently or any 429."""
        retries = self.settings.retries
        for attempt in range(retries + 1):
            try:
                return await self._send(call, outgoing, record, read)
            except CircuitOpen:
                raise
            except RateLimited as error:
                if attempt == retries or (error.after or 0.0) > MAX_QUICK_RETRY_AFTER:
                    raise
            except Retryable:
                if attempt == retries or not read:
                    raise
                await asyncio.sleep(random.uniform(0.0, QUICK_RETRY_SECONDS * 2**attempt))
        raise AssertionError("unreachable")

    def _render(
        self,
        call: Call,
        values: Mapping[str, Any],
        paging: Mapping[str, Any],
        record: str | None,
        idempotency_key: str | None = None,
    ) -> Outgoing:
        """The request `call` describes, with `values` filled in and `paging` added."""
        headers = {}
        if call.idempotency_header and idempotency_key:
            headers[call.idempotency_header] = idempotency_key
        try:
            if self.graphql or call.query is not None:
                variables = {**render(call.variables, values), **paging}
                payload = {"query": call.query, "variables": variables}
                named = OPERATION.search(call.query or "")
                label = f"GraphQL {named.group(1)} {named.group(2)}" if named else "GraphQL query"
                return Outgoing("POST", self.settings.url, {}, payload, headers, label)
            path = str(render(call.path, values))
            params = {k: as_param(render(v, values), call.lists) for k, v in call.params.items()}
            params = {k: v for k, v in {**params, **paging}.items() if v is not None and v not in ("", [])}
            body = render(call.body, values) if call.body is not None else None
        except MissingValue as error:
            raise Permanent(f"{self.name}: {error.args[0]}", record=record) from None
        return Outgoing(call.method, path, params, body, headers, f"{call.method} {path}")

    async def _send(self, call: Call, outgoing: Outgoing, record: str | None, read: bool) -> Answer:
        """One try: within the rate budget and the circuit breaker; a typed error for a failure."""
        self.requests_sent[f"{call.method} {call.path}" if call.path else outgoing.label] += 1
        async with self.budget.slot(), guarded(self.circuit):
            try:
                response = await self._http.request(
                    outgoing.method,
                    outgoing.url,
                    params=outgoing.params or None,
                    content=None if outgoing.json is None else encode_json(outgoing.json),
                    headers=outgoing.headers if outgoing.json is None else outgoing.headers | JSON_HEADERS,
                )
            except httpx.TransportError as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, httpx.TimeoutException)
                    else f"failed ({type(exc).__name__})"
                )
                message = f"{self.name}: {outgoing.label} {kind}"
                if not read and not isinstance(exc, NOT_SENT):
                    raise UnknownOutcome(message, pending=isinstance(exc, httpx.TimeoutException)) from None
                raise Retryable(message) from None
            body = self._decode(response, outgoing, read)
            self.headroom.observe(response.headers, body)
            if response.status_code >= 300:
                error = self._refusal(response, body, outgoing, record)
                if isinstance(error, RateLimited):
                    await self.budget.hold(error.after or 1.0)
                elif isinstance(error, Retryable) and not read:
                    raise UnknownOutcome(str(error), after=error.after) from None
                raise error
            await self._check_answer(call, body, outgoing, record)
        return Answer(body, response.headers)

    def _decode(self, response: httpx.Response, outgoing: Outgoing, read: bool) -> Json:
        """The JSON body, numbers with decimals as exact Decimals (None when empty); a 2xx that is not
        JSON is a transient failure (a proxy's page)."""
        if not response.content:
            return None
        try:
            return decode_json(response.content)
        except ValueError:
            if response.status_code >= 300:
                return None
            message = f"{self.name}: {outgoing.label} answered HTTP {response.status_code} without JSON"
            raise (Retryable(message) if read else UnknownOutcome(message)) from None

    def _refusal(
        self, response: httpx.Response, body: Json, outgoing: Outgoing, record: str | None
    ) -> ConnectorError:
        """The typed error of an HTTP error answer."""
        status, label = response.status_code, outgoing.label
        message, field = shop_message(body)
        said = f": {message}" if message else ""
        after = parse_retry_after(response.headers.get("retry-after"))
        if status < 400:  # redirects are not followed: credentials stay with the configured host
            return Permanent(
                f"{self.name}: {label} was redirected (HTTP {status}); check the connection's url"
            )
        if status == 429:
            return RateLimited(f"{self.name}: rate limit on {label} (HTTP 429){said}", after=after)
        if status >= 500 or status in (408, 425):
            return Retryable(f"{self.name}: {label} failed with HTTP {status}{said}", after=after)
        if status in (401, 403):
            return AuthError(
                f"{self.name}: the shop refused the credentials for {label} (HTTP {status}{reason(response)})"
            )
        if status == 404:
            return Missing(f"{self.name}: {label} found nothing (HTTP 404){said}", record=record)
        return Permanent(f"{self.name} refused {label}: HTTP {status}{said}", record=record, field=field)

    async def _check_answer(self, call: Call, body: Json, outgoing: Outgoing, record: str | None) -> None:
        """GraphQL `errors`, the call's `error` path, and a GraphQL null record become typed errors."""
        label = outgoing.label
        errors = body.get("errors") if isinstance(body, dict) and self.graphql else None
        if errors:
            first_error: dict[str, Any] = (
                errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
            )
            code = str((first_error.get("extensions") or {}).get("code", "")).upper()
            message = str(first_error.get("message", ""))[:300]
            if code == "THROTTLED":
                needed = number_at(body, self.settings.rate.cost) or number_at(
                    body, "$.extensions.cost.requestedQueryCost"
                )
                after = self.headroom.throttled_wait(needed)
                await self.budget.hold(after)
                raise RateLimited(f"{self.name}: {label} throttled: {message}", after=after)
            if code in AUTH_CODES:
                raise AuthError(
                    f"{self.name}: the shop refused the credentials for {label} ({code}: {message})"
                )
            raise Permanent(f"{self.name}: {label} failed: {message}", record=record)
        if call.error is not None and body is not None:
            failure = first(body, call.error)
            if failure:
                raise Permanent(f"{self.name}: {label} refused: {str(failure)[:300]}", record=record)
        if self.graphql and call.result is not None and body is not None and first(body, call.result) is None:
            raise Missing(f"{self.name}: {label} found nothing (null)", record=record)

    def pages(
        self, call: Call, paging: Any | None, values: Mapping[str, Any] | None = None
    ) -> AsyncIterator[Page]:
        """Every page of a list call, following `paging` (page, offset, cursor, next link; None: one)."""
        return follow(self, call, paging, dict(values or {}))

    def items_of(self, call: Call, answer: Answer) -> list[Json]:
        """The records of a list answer: at the call's `items` path, else the answer if it is a list."""
        if call.items is None:
            if isinstance(answer.body, list):
                return answer.body
            raise Permanent(f"{self.name}: a list call's answer is not a list and names no `items` path")
        found = compiled(call.items).findall(answer.body) if answer.body is not None else []
        if len(found) == 1 and isinstance(found[0], list):
            return found[0]
        return [item for item in found if item is not None]

    async def read_page(self, call: Call, values: Mapping[str, Any], paging: Mapping[str, Any]) -> Answer:
        """One page of a list call: `paging` goes into the query (REST) or the variables (GraphQL)."""
        return await self._send_retrying(call, self._render(call, values, paging, None), None, True)

    async def read_url(self, call: Call, url: str) -> Answer:
        """A page by the absolute URL the shop gave for it (next links); only on the shop's own host."""
        if httpx.URL(url).netloc != httpx.URL(self.settings.url).netloc:
            raise Permanent(f"{self.name}: a next-page link points to another host ({httpx.URL(url).host})")
        outgoing = Outgoing("GET", url, {}, None, {}, f"GET {httpx.URL(url).path}")
        return await self._send_retrying(call, outgoing, None, True)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()
