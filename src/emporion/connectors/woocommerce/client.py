"""Async client for WooCommerce's REST API v3: auth, rate budget, paging, batches, error translation.

One `httpx.AsyncClient` per connection; every request goes through the connection's rate budget,
and batch writes also through its write pace (batches in flight, items per batch and read timeout
adapted to the shop's measured speed). A batch whose answer was lost is settled, not blindly sent
again: the shop is given time to finish, the records it created are found by natural key, and only
the rest is sent once more.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from emporion.connectors.base import ConnectorError, RateLimited, Retryable, UnknownOutcome
from emporion.connectors.budget import RateBudget
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen, guarded
from emporion.connectors.http import observe_httpx
from emporion.connectors.roles import RequestObserver
from emporion.connectors.woocommerce.auth import AuthMode, SignatureMethod, build_auth
from emporion.connectors.woocommerce.errors import (
    NO_ANSWER,
    WooError,
    translate_response,
    translate_transport,
)
from emporion.connectors.woocommerce.pace import PaceSettings, WritePace, weight_of
from emporion.connectors.woocommerce.pages import describe_page

API_PREFIX = "/wp-json/wc/v3"
MAX_PER_PAGE = 100
MAX_BATCH = 100
QUICK_RETRY_SECONDS = 0.5  # a transient GET failure is tried again within about this long
MAX_QUICK_RETRY_AFTER = 10.0  # a longer Retry-After goes back to the caller instead of being waited out
SETTLE_LOOKS = 4  # looks at a lost batch's records before sending what is missing
SETTLE_ROUNDS = 2  # lost answers one batch may settle before its failure goes back to the caller
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # the shop never saw these

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")

BatchOp = Literal["create", "update", "delete"]
Params = Mapping[str, Any]
BatchEntry = tuple["BatchOp", int, Any]
# Finds the records a lost batch created: create bodies -> {position in the list: the record found}
Finder = Callable[[Sequence[dict[str, Any]]], Awaitable[dict[int, dict[str, Any]]]]


@dataclass
class BatchItemResult:
    """WooCommerce's answer for one item of a batch: the resource, or its error."""

    op: BatchOp
    index: int
    data: dict[str, Any] | None = None
    error: WooError | None = None
    recovered: bool = False  # the answer was lost; the record was found by natural key afterwards

    @property
    def ok(self) -> bool:
        """True when WooCommerce accepted the item."""
        return self.error is None


@dataclass
class BatchResult:
    """Per-item answers of a (possibly split) batch, in the order the items were given."""

    create: list[BatchItemResult]
    update: list[BatchItemResult]
    delete: list[BatchItemResult]


JSON_HEADERS = {"Content-Type": "application/json"}


def encode_json(body: Any) -> bytes:
    """A request body as compact UTF-8 JSON (orjson: batches of 100 products are large)."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def _ssl_context(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """httpx's verify: on, off, a ready SSL context, or a path to a CA bundle to trust."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


class WooCommerceClient:
    """The wire protocol of one WooCommerce store, with typed errors and a shared rate budget."""

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 30,
        max_rps: float | None = None,
        max_concurrency: int = 4,
        signature_method: SignatureMethod = "HMAC-SHA256",
        auth_mode: AuthMode = "auto",
        headers: Mapping[str, str] | None = None,
        batch_size: int = MAX_BATCH,
        circuit: CircuitBreaker | None = None,
        retries: int = 0,
        page_size: int = MAX_PER_PAGE,
        batch_seconds: float = 4.0,
        start_concurrency: int = 1,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.base_url = store_url.rstrip("/") + API_PREFIX
        self.batch_size = batch_size
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}")
        self.page_size = page_size
        self.budget = RateBudget(max_rps=max_rps, max_concurrency=max_concurrency)
        self.timeout = timeout
        self.pace = WritePace(
            PaceSettings(
                ceiling=max_concurrency,
                start=start_concurrency,
                max_batch=batch_size,
                batch_seconds=batch_seconds,
                timeout_floor=timeout,
            )
        )
        self.circuit = circuit
        self.retries = retries
        self.requests_sent: Counter[str] = Counter()  # "GET products/{id}/variations" -> count, for metrics
        self.recovered = 0  # records of lost batch answers found in the shop afterwards
        auth = build_auth(
            self.base_url, consumer_key, consumer_secret, mode=auth_mode, signature_method=signature_method
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            verify=_ssl_context(verify),
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "emporion", **(headers or {})},
            follow_redirects=False,
        )

    def pace_writes(self, batch_seconds: float, start_concurrency: int) -> None:
        """Set the seconds a batch write aims at and the batch writes in flight at first."""
        settings = self.pace.settings
        self.pace = WritePace(
            PaceSettings(
                ceiling=settings.ceiling,
                start=start_concurrency,
                max_batch=settings.max_batch,
                batch_seconds=batch_seconds,
                timeout_floor=settings.timeout_floor,
            )
        )

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request this client sends and of every answer."""
        observe_httpx(self._http, observer)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        check: bool = True,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request within the budget; raise a typed error for an error answer unless `check` is off.

        Transport failures always raise `Retryable`; a 429 also pauses the whole budget. Requests go
        through the connection's circuit breaker: while it is open they fail fast with `CircuitOpen`.
        Up to `retries` times, a GET that failed for a transient reason, and any request refused with a
        429 (the shop did nothing), is sent again at once: after a short jittered pause, or after the
        Retry-After pause of the budget. A write whose answer was lost (sent, then a timeout, a dropped
        connection or a 5xx) raises `UnknownOutcome`. `read_timeout` overrides the client's.
        """
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.retries + 1):
            try:
                return await self._send(method, path, query, json, check, read_timeout)
            except CircuitOpen:
                raise
            except RateLimited as error:
                if attempt == self.retries or (error.after or 0.0) > MAX_QUICK_RETRY_AFTER:
                    raise
            except Retryable:
                if attempt == self.retries or method != "GET":
                    raise
                await asyncio.sleep(random.uniform(0.0, QUICK_RETRY_SECONDS * 2**attempt))
        raise AssertionError("unreachable")

    async def _send(
        self, method: str, path: str, query: dict[str, str], json: Any, check: bool, read: float | None
    ) -> httpx.Response:
        """One try of `request`."""
        self.requests_sent[f"{method} {template(path)}"] += 1
        content, headers = (None, None) if json is None else (encode_json(json), JSON_HEADERS)
        limits = httpx.USE_CLIENT_DEFAULT if read is None else httpx.Timeout(self.timeout, read=read)
        async with self.budget.slot(), guarded(self.circuit):
            try:
                response = await self._http.request(
                    method, path, params=query, content=content, headers=headers, timeout=limits
                )
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    self.pace.back_off()
                failure = translate_transport(method, path, exc)
                if method != "GET" and not isinstance(exc, NOT_SENT):
                    queued = isinstance(exc, httpx.TimeoutException)  # may wait for a worker still
                    raise UnknownOutcome(str(failure), pending=queued) from exc
                raise failure from exc
            status = response.status_code
            if status == 429 or status >= 500:
                self.pace.back_off()
            if status >= 400 and (check or status == 429):
                error = translate_response(method, path, response)
                if status == 429:
                    await self.budget.hold(getattr(error, "after", None) or 1.0)
                elif status >= 500 and method != "GET":
                    raise UnknownOutcome(str(error), after=getattr(error, "after", None)) from error
                raise error
        return response

    async def get(self, path: str, params: Params | None = None) -> Any:
        """GET a resource and return its JSON."""
        return json_body("GET", path, await self.request("GET", path, params=params))

    async def post(self, path: str, body: Any) -> Any:
        """POST JSON and return the JSON answer."""
        return json_body("POST", path, await self.request("POST", path, json=body))

    async def iter_pages(
        self, path: str, params: Params | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield every page of a collection (`page_size` a page) until `X-WP-TotalPages` / `Link` say stop."""
        page = 1
        while True:
            response = await self.request(
                "GET", path, params={**(params or {}), "per_page": self.page_size, "page": page}
            )
            items = json_body("GET", path, response)
            if not isinstance(items, list):
                raise ConnectorError(f"WooCommerce GET {path} did not answer with a list")
            if items:
                yield items
            if not items or not has_next_page(response, page, len(items), self.page_size):
                return
            page += 1

    async def get_all(self, path: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, all pages."""
        return [item async for page in self.iter_pages(path, params) for item in page]

    async def batch(
        self,
        path: str,
        *,
        create: Sequence[dict[str, Any]] = (),
        update: Sequence[dict[str, Any]] = (),
        delete: Sequence[int] = (),
        find: Finder | None = None,
    ) -> BatchResult:
        """POST `<path>/batch` in requests sized and paced by the write pace (create+update+delete together).

        Failed items come back inside the 200 answer as `{"id", "error"}`; they become per-item
        errors here. A request whose answer was lost is settled with `find` (see `_settle`); without
        one, or when that fails too, it raises its error after the other requests ran.
        """
        pending: deque[BatchEntry] = deque(
            [
                *(("create", i, body) for i, body in enumerate(create)),
                *(("update", i, body) for i, body in enumerate(update)),
                *(("delete", i, ident) for i, ident in enumerate(delete)),
            ]
        )
        kind = template(path)
        answered: list[BatchItemResult] = []
        failures: list[BaseException] = []

        async def sender() -> None:
            while pending:
                async with self.pace.slot() as load:
                    if not pending:
                        return
                    share = weight_of(op for op, _, _ in pending) / len(pending)
                    size = self.pace.batch_size(kind, share)
                    chunk = [pending.popleft() for _ in range(min(size, len(pending)))]
                    try:
                        answered.extend(await self._batch_chunk(path, chunk, find, load=load))
                    except Exception as error:  # the other requests still run; raised below
                        failures.append(error)

        await asyncio.gather(*(sender() for _ in range(self.pace.settings.ceiling)))
        if failures:
            raise failures[0]
        result = BatchResult(create=[], update=[], delete=[])
        for item in answered:
            getattr(result, item.op).append(item)
        for op in ("create", "update", "delete"):
            getattr(result, op).sort(key=lambda item: item.index)
        return result

    async def _batch_chunk(
        self,
        path: str,
        chunk: list[BatchEntry],
        find: Finder | None,
        rounds: int = 0,
        load: int | None = None,
    ) -> list[BatchItemResult]:
        """One batch request, timed for the pace; a lost answer is settled."""
        body: dict[str, list[Any]] = {}
        for op, _index, payload in chunk:
            body.setdefault(op, []).append(payload)
        kind, weight = template(path), weight_of(op for op, _, _ in chunk)
        began = time.monotonic()
        read_timeout = self.pace.timeout(kind, weight)
        try:
            response = await self.request("POST", f"{path}/batch", json=body, read_timeout=read_timeout)
            answer = json_body("POST", f"{path}/batch", response)
        except UnknownOutcome as lost:
            if find is None or rounds >= SETTLE_ROUNDS:
                raise
            patience = read_timeout if lost.pending else 0.0
            return await self._settle(path, chunk, find, lost, rounds, patience)
        self.pace.record(kind, weight, time.monotonic() - began, load)
        results: list[BatchItemResult] = []
        position: dict[str, int] = {}
        for op, index, _payload in chunk:
            at = position.get(op, 0)
            position[op] = at + 1
            entries = answer.get(op) if isinstance(answer, dict) else None
            entry = entries[at] if isinstance(entries, list) and at < len(entries) else None
            results.append(_batch_item(op, index, entry))
        return results

    async def _settle(
        self,
        path: str,
        chunk: list[BatchEntry],
        find: Finder,
        lost: UnknownOutcome,
        rounds: int,
        patience: float = 0.0,
    ) -> list[BatchItemResult]:
        """The answer to `chunk` was lost, and the shop may still be writing it: wait, find what it
        created (looking again while more turns up), and only then send what is missing (updates and
        deletes again: they are idempotent). Nothing is created twice.

        A request that timed out may not even have started: it can wait for a PHP worker as long as
        it waited for its answer. So while nothing at all has turned up, looks go on (further apart)
        until `patience` seconds have passed; only then does "nothing, twice" mean "never written"."""
        kind = template(path)
        creates = [entry for entry in chunk if entry[0] == "create"]
        wait = self.pace.settle_seconds(kind, weight_of(op for op, _, _ in chunk))
        found: dict[int, dict[str, Any]] = {}
        seen, looks, waited = -1, 0, 0.0
        looked = not creates
        while creates and looks < SETTLE_LOOKS:
            await asyncio.sleep(wait)
            waited += wait
            try:
                found = await find([payload for _, _, payload in creates])
            except Retryable:  # the shop is still too busy to answer a lookup: give it more time
                wait *= 2
                looks += 1
                continue
            looked = True
            if len(found) == len(creates):
                break
            if not found and waited < patience:  # not started yet, perhaps: look later
                wait = min(wait * 2, max(patience - waited, wait))
                continue
            if len(found) == seen:
                break
            seen = len(found)
            looks += 1
        if not creates:
            await asyncio.sleep(wait)
        if not looked:
            raise lost
        self.recovered += len(found)
        results = [
            BatchItemResult(op, index, data=found[at], recovered=True)
            for at, (op, index, _payload) in enumerate(creates)
            if at in found
        ]
        rest = [entry for at, entry in enumerate(creates) if at not in found]
        rest += [entry for entry in chunk if entry[0] != "create"]
        if rest:
            results += await self._batch_chunk(path, rest, find, rounds + 1)
        return results


def _batch_item(op: BatchOp, index: int, entry: Any) -> BatchItemResult:
    if not isinstance(entry, dict):
        return BatchItemResult(
            op, index, error=WooError(NO_ANSWER, "WooCommerce gave no answer for this item")
        )
    if entry.get("error"):
        return BatchItemResult(op, index, error=WooError.from_body(entry["error"]))
    return BatchItemResult(op, index, data=entry)


def json_body(method: str, path: str, response: httpx.Response) -> Any:
    """The JSON of an answer (orjson: batch answers carry every product in full); a body that is not
    JSON (a proxy's page, a cut answer) is transient."""
    try:
        return orjson.loads(response.content)
    except ValueError as exc:
        page = describe_page(response)  # a web page (a wrong url, a security plugin) says what it is
        raise Retryable(
            f"WooCommerce {method} {path} answered HTTP {response.status_code} without JSON"
            + (f": {page}" if page else "")
        ) from exc


def template(path: str) -> str:
    """A path with its ids as `{id}`: `products/{id}/variations`, the key of metrics and of the pace."""
    return _ID_SEGMENT.sub("/{id}", "/" + path.strip("/"))[1:]


def has_next_page(response: httpx.Response, page: int, count: int, size: int = MAX_PER_PAGE) -> bool:
    """Whether a collection has a page after `page`: X-WP-TotalPages, else Link, else a full page."""
    total_pages = response.headers.get("X-WP-TotalPages")
    if total_pages is not None and total_pages.strip().isdigit():
        return page < int(total_pages)
    if "link" in response.headers:
        return "next" in response.links
    return count >= size
