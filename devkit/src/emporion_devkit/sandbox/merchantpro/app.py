"""The ASGI app: `/api/v2/...` behind HTTP Basic (API key and secret), one handler per resource.

Answers are JSON: a list is `{"meta": {...}, "data": [...]}`, one record is the record itself, an
error is `{"error": {"name", "message"}}` with its status. Rate limit and injected faults answer
before the handler runs; a refused request changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from emporion_devkit.sandbox.merchantpro import catalog, sales
from emporion_devkit.sandbox.merchantpro.errors import ApiError, no_route, not_allowed
from emporion_devkit.sandbox.merchantpro.listing import matches, page
from emporion_devkit.sandbox.merchantpro.store import Store, render
from emporion_devkit.sandbox.merchantpro.units import unit_view

PREFIX = "/api/v2/"
LOCKOUT_AFTER = 5  # failed logins in a row before the API answers 403 instead of 401


class Gate:
    """Credentials, the rate limit and the faults a test injects: what a request meets first."""

    def __init__(self, key: str, secret: str, max_requests_per_second: float | None) -> None:
        self.key, self.secret = key, secret
        self.rate = max_requests_per_second
        self.failed_logins = 0
        self.faults: list[int] = []
        self.requests = 0
        self._window: list[float] = []
        self._lock = threading.Lock()

    def admit(self, authorization: str) -> None:
        """Raise the error a request meets before its handler: a fault, bad credentials, the rate."""
        with self._lock:
            self.requests += 1
            if self.faults:
                status = self.faults.pop(0)
                raise ApiError(status, "ServiceUnavailable" if status >= 500 else "Fault", "Injected fault")
            if not self.authorized(authorization):
                self.failed_logins += 1
                if self.failed_logins > LOCKOUT_AFTER:
                    raise ApiError(403, "Forbidden", "Too many failed login attempts")
                raise ApiError(401, "Unauthorized", "Invalid API credentials")
            self.failed_logins = 0
            if self.rate:
                moment = time.monotonic()
                self._window = [t for t in self._window if moment - t < 1.0]
                if len(self._window) >= self.rate:
                    raise ApiError(429, "TooManyRequests", "Rate limit exceeded", retry_after=1)
                self._window.append(moment)

    def authorized(self, authorization: str) -> bool:
        """Whether the header is `Basic base64(key:secret)` with this sandbox's key and secret."""
        scheme, _, encoded = authorization.partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        key, _, secret = given.partition(":")
        good = secrets.compare_digest(key, self.key) and secrets.compare_digest(secret, self.secret)
        return scheme.lower() == "basic" and good


class MerchantProApp:
    """Routes `/api/v2/<resource>[/<id>]` to the catalogue, customer and order rules."""

    def __init__(self, store: Store, gate: Gate) -> None:
        self.store = store
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            if not request.url.path.startswith(PREFIX):
                raise no_route()
            self.gate.admit(request.headers.get("authorization", ""))
            response = await self.handle(request)
        except ApiError as error:
            headers = (
                {"Retry-After": str(error.details.pop("retry_after"))}
                if "retry_after" in error.details
                else None
            )
            response = JSONResponse(error.body(), error.status, headers=headers)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Dispatch one authorized request."""
        parts = request.url.path[len(PREFIX) :].strip("/").split("/")
        query = dict(request.query_params)
        body = await self.body(request) if request.method in ("POST", "PATCH", "PUT") else None
        resource, rest = parts[0], parts[1:]
        url = f"{self.store.base_url}{PREFIX}{resource}"
        if resource == "inventory":
            return self.inventory(request.method, rest, query, body, url)
        kind = {
            "products": "product",
            "categories": "category",
            "customers": "customer",
            "orders": "order",
        }.get(resource)
        if kind is None or len(rest) > 1:
            raise no_route()
        if not rest:
            if request.method == "GET":
                records = [r for r in self.store.all(kind) if matches(kind, r, query)]
                return answer(page(url, query, records, lambda r: self.view(kind, r, query)))
            if request.method == "POST":
                return answer(self.view(kind, self.create(kind, body, query), query), 201)
            raise not_allowed(request.method)
        if request.method == "GET":
            return answer(self.view(kind, self.store.get(kind, rest[0]), query))
        if request.method in ("PATCH", "PUT"):
            return answer(self.view(kind, self.update(kind, rest[0], body, query), query))
        if request.method == "DELETE" and kind != "order":
            self.delete(kind, rest[0])
            return Response(status_code=204)
        raise not_allowed(request.method)

    @staticmethod
    async def body(request: Request) -> Any:
        """The JSON body, or a 400."""
        try:
            return json_loads(await request.body())
        except ValueError:
            raise ApiError(400, "InvalidRequest", "The request body is not valid JSON") from None

    def view(self, kind: str, record: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
        """A record as answered: products with side-loaded variants on `include=variants`."""
        if kind == "product":
            included = "variants" in query.get("include", "").split(",")
            return catalog.product_view(self.store, record, included)
        return {"id": record["id"], **record}

    def create(self, kind: str, body: Any, query: Mapping[str, str]) -> dict[str, Any]:
        """POST to a collection."""
        ignore = query.get("ignore_nonexistent_fields") in ("1", "true")
        if kind == "product":
            return catalog.create_product(self.store, body, ignore)
        if kind == "category":
            return catalog.write_category(self.store, {}, body, creating=True)
        if kind == "customer":
            return sales.write_customer(self.store, {}, body, creating=True)
        return sales.create_order(self.store, body)

    def update(self, kind: str, record_id: str, body: Any, query: Mapping[str, str]) -> dict[str, Any]:
        """PATCH one record: the fields sent change."""
        ignore = query.get("ignore_nonexistent_fields") in ("1", "true")
        if kind == "product":
            return catalog.update_product(self.store, record_id, body, ignore)
        if kind == "order":
            return sales.update_order(self.store, record_id, body, ignore)
        record = self.store.get(kind, record_id)
        if kind == "category":
            return catalog.write_category(self.store, record, body, creating=False)
        return sales.write_customer(self.store, record, body, creating=False)

    def delete(self, kind: str, record_id: str) -> None:
        """DELETE one product, category or customer."""
        if kind == "category":
            catalog.delete_category(self.store, record_id)
        else:
            self.store.remove(kind, self.store.get(kind, record_id)["id"])

    def inventory(self, method: str, rest: list[str], query: dict[str, str], body: Any, url: str) -> Response:
        """`/inventory` (list), `/inventory/{id}` and `/inventory/sku/{sku}` (GET, PATCH)."""
        if not rest:
            if method != "GET":
                raise not_allowed(method)
            units = []
            for product in self.store.all("product"):
                owned = [product] if product.get("type") == "basic" else product.get("variants", [])
                units += [unit_view(unit, product["id"]) for unit in owned]
            return answer(page(url, query, [u for u in units if matches("inventory", u, query)], dict))
        if len(rest) == 2 and rest[0] == "sku":
            unit, product = catalog.unit_of(self.store, sku=rest[1])
        elif len(rest) == 1:
            unit, product = catalog.unit_of(self.store, unit_id=rest[0])
        else:
            raise no_route()
        if method == "GET":
            return answer(unit_view(unit, product["id"]))
        if method in ("PATCH", "PUT"):
            return answer(catalog.update_unit(self.store, unit, product, body))
        raise not_allowed(method)


def json_loads(raw: bytes) -> Any:
    """Decode a JSON body (an empty body is an empty object)."""
    return json.loads(raw) if raw.strip() else {}


def answer(data: Any, status: int = 200) -> Response:
    """A JSON answer of stored values (Decimal, datetime) in their JSON form."""
    return JSONResponse(render(data), status)
