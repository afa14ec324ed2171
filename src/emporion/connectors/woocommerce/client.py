"""Async client for WooCommerce's REST API v3: auth, rate budget, paging, batches, error translation.

One `httpx.AsyncClient` per connection; every request goes through the connection's rate budget.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from emporion.connectors.base import ConnectorError, RateLimited, Retryable
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen, guarded
from emporion.connectors.http import observe_httpx
from emporion.connectors.roles import RequestObserver
from emporion.connectors.woocommerce.auth import AuthMode, SignatureMethod, build_auth
from emporion.connectors.woocommerce.budget import RateBudget
from emporion.connectors.woocommerce.errors import (
    NO_ANSWER,
    WooError,
    translate_response,
    translate_transport,
)

API_PREFIX = "/wp-json/wc/v3"
MAX_PER_PAGE = 100
MAX_BATCH = 100
QUICK_RETRY_SECONDS = 0.5  # a transient GET failure is tried again within about this long
MAX_QUICK_RETRY_AFTER = 10.0  # a longer Retry-After goes back to the caller instead of being waited out

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")

BatchOp = Literal["create", "update", "delete"]
Params = Mapping[str, Any]


@dataclass
class BatchItemResult:
    """WooCommerce's answer for one item of a batch: the resource, or its error."""

    op: BatchOp
    index: int
    data: dict[str, Any] | None = None
    error: WooError | None = None

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
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.base_url = store_url.rstrip("/") + API_PREFIX
        self.batch_size = batch_size
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}")
        self.page_size = page_size
        self.budget = RateBudget(max_rps=max_rps, max_concurrency=max_concurrency)
        self.circuit = circuit
        self.retries = retries
        self.requests_sent: Counter[str] = Counter()  # "GET products/{id}/variations" -> count, for metrics
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

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request this client sends and of every answer."""
        observe_httpx(self._http, observer)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(
        self, method: str, path: str, *, params: Params | None = None, json: Any = None, check: bool = True
    ) -> httpx.Response:
        """Send one request within the budget; raise a typed error for an error answer unless `check` is off.

        Transport failures always raise `Retryable`; a 429 also pauses the whole budget. Requests go
        through the connection's circuit breaker: while it is open they fail fast with `CircuitOpen`.
        Up to `retries` times, a GET that failed for a transient reason, and any request refused with a
        429 (the shop did nothing), is sent again at once: after a short jittered pause, or after the
        Retry-After pause of the budget.
        """
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.retries + 1):
            try:
                return await self._send(method, path, query, json, check)
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
        self, method: str, path: str, query: dict[str, str], json: Any, check: bool
    ) -> httpx.Response:
        """One try of `request`."""
        self.requests_sent[f"{method} {_ID_SEGMENT.sub('/{id}', '/' + path.strip('/'))[1:]}"] += 1
        content, headers = (None, None) if json is None else (encode_json(json), JSON_HEADERS)
        async with self.budget.slot(), guarded(self.circuit):
            try:
                response = await self._http.request(
                    method, path, params=query, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                raise translate_transport(method, path, exc) from exc
            if response.status_code >= 400 and (check or response.status_code == 429):
                error = translate_response(method, path, response)
                if response.status_code == 429:
                    await self.budget.hold(getattr(error, "after", None) or 1.0)
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
    ) -> BatchResult:
        """POST `<path>/batch` in requests of at most `batch_size` items (create+update+delete together).

        Failed items come back inside the 200 answer as `{"id", "error"}`; they become per-item
        errors here. A whole request that fails raises its typed error (after the other chunks ran).
        """
        items: list[tuple[BatchOp, int, Any]] = [
            *(("create", i, body) for i, body in enumerate(create)),
            *(("update", i, body) for i, body in enumerate(update)),
            *(("delete", i, ident) for i, ident in enumerate(delete)),
        ]
        chunks = [items[start : start + self.batch_size] for start in range(0, len(items), self.batch_size)]
        answers = await asyncio.gather(
            *(self._batch_chunk(path, chunk) for chunk in chunks), return_exceptions=True
        )
        result = BatchResult(create=[], update=[], delete=[])
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            for item in answer:
                getattr(result, item.op).append(item)
        for op in ("create", "update", "delete"):
            getattr(result, op).sort(key=lambda item: item.index)
        return result

    async def _batch_chunk(self, path: str, chunk: list[tuple[BatchOp, int, Any]]) -> list[BatchItemResult]:
        body: dict[str, list[Any]] = {}
        for op, _index, payload in chunk:
            body.setdefault(op, []).append(payload)
        answer = await self.post(f"{path}/batch", body)
        results: list[BatchItemResult] = []
        position: dict[str, int] = {}
        for op, index, _payload in chunk:
            at = position.get(op, 0)
            position[op] = at + 1
            entries = answer.get(op) if isinstance(answer, dict) else None
            entry = entries[at] if isinstance(entries, list) and at < len(entries) else None
            results.append(_batch_item(op, index, entry))
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
        raise Retryable(
            f"WooCommerce {method} {path} answered HTTP {response.status_code} without JSON"
        ) from exc


def has_next_page(response: httpx.Response, page: int, count: int, size: int = MAX_PER_PAGE) -> bool:
    """Whether a collection has a page after `page`: X-WP-TotalPages, else Link, else a full page."""
    total_pages = response.headers.get("X-WP-TotalPages")
    if total_pages is not None and total_pages.strip().isdigit():
        return page < int(total_pages)
    if "link" in response.headers:
        return "next" in response.links
    return count >= size
