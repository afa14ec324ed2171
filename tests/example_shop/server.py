"""minishop: a tiny shop with a JSON REST API, the system behind the example connectors.

Products by SKU with price and stock, categories, customers, and orders with lines, a status and
notes. Every list filters by `modified_since` and pages by `?page=` (or, by option, offset, cursor or
next link: shop_paging.py); every request needs the `X-Api-Key` header (or, by option, a bearer
token, HTTP Basic, OAuth 2 or a login: shop_auth.py). Money travels as decimal strings. Options add
a request limit (shop_rate.py), signed webhooks (shop_hooks.py) and a GraphQL API at /graphql with a
cost budget (shop_graphql.py). State lives in memory; `MiniShop.serve()` runs it with uvicorn on
127.0.0.1 and a free port. `fail_next` makes the next requests fail as a shop that is briefly unwell.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import URL, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.example_shop import shop_graphql
from tests.example_shop.shop_auth import Gate
from tests.example_shop.shop_graphql import CostBudget
from tests.example_shop.shop_hooks import Hooks, HookSigning
from tests.example_shop.shop_paging import PagingMode, paged
from tests.example_shop.shop_rate import RateLimit

Json = dict[str, Any]
KINDS = ("categories", "products", "customers", "orders")
TOPICS = {"categories": "category", "products": "product", "customers": "customer", "orders": "order"}
STATUSES = ("new", "held", "paid", "shipped", "done", "cancelled", "refunded")


class Refused(Exception):
    """A request the shop refuses: the HTTP status, a message and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def now() -> str:
    """The shop's clock, as ISO 8601 in UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class MiniShop:
    """The shop's records and the rules it enforces, behind one lock (the server and tests share it)."""

    def __init__(
        self,
        api_key: str = "minishop-key",
        per_page: int = 20,
        *,
        gate: Gate | None = None,
        paging: PagingMode = "page",
        rate_limit: RateLimit | None = None,
        signing: HookSigning | None = None,
        cost: CostBudget | None = None,
    ) -> None:
        self.api_key = api_key
        self.per_page = per_page
        self.gate = gate or Gate("api_key", api_key=api_key)
        self.paging: PagingMode = paging
        self.repeat_cursor = False  # a faulty shop that gives the same cursor again
        self.rate_limit = rate_limit
        self.hooks = Hooks(signing or HookSigning())
        self.cost = cost or CostBudget()
        self.requests = 0  # API requests answered (any status)
        self.last_listing = ""  # the query string of the last list request (sku=A&sku=B)
        self.records: dict[str, dict[int, Json]] = {kind: {} for kind in KINDS}
        self.writes = 0  # creates, updates and deletes of categories and products
        self.url = ""
        self._ids = iter(range(1, 1_000_000))
        self._faults: list[int] = []
        self._delays: list[float] = []
        self._lock = threading.Lock()

    # -- levers for tests ---------------------------------------------------------------------------

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` API requests with `status` (429 and 503 say Retry-After: 1)."""
        self._faults += [status] * times

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next `times` API requests only after `seconds` (the request is still carried out)."""
        self._delays += [seconds] * times

    def all(self, kind: str) -> list[Json]:
        """Every record of `kind`, by id."""
        with self._lock:
            return [dict(record) for _, record in sorted(self.records[kind].items())]

    # -- the API's rules ----------------------------------------------------------------------------

    def _stamp(self, kind: str, record: Json, event: str = "updated") -> Json:
        record["modified"] = now()
        self.records[kind][record["id"]] = record
        self.hooks.announce(TOPICS[kind], record["id"], event, record["modified"])
        return record

    def subscribe(self, url: str, topic: str, secret: str) -> Json:
        """Deliver `topic` (e.g. `product.updated`) to `url`, signed with `secret`."""
        return self.hooks.subscribe(url, topic, secret)

    def _get(self, kind: str, ident: int) -> Json:
        if ident not in self.records[kind]:
            raise Refused(404, f"no {kind[:-1]} {ident}")
        return self.records[kind][ident]

    def _check_product(self, product: Json, ident: int | None) -> None:
        if not product.get("sku"):
            raise Refused(422, "a product needs an SKU", "sku")
        if any(p["sku"] == product["sku"] and p["id"] != ident for p in self.records["products"].values()):
            raise Refused(409, f"SKU {product['sku']} exists", "sku")
        if Decimal(product.get("price", "0")) < 0:
            raise Refused(422, "a price cannot be negative", "price")
        for category in product.get("category_ids", []):
            if category not in self.records["categories"]:
                raise Refused(422, f"no category {category}", "category_ids")

    def _check_category(self, category: Json, ident: int | None) -> None:
        if not category.get("name"):
            raise Refused(422, "a category needs a name", "name")
        taken = any(
            c["slug"] == category["slug"] and c["id"] != ident for c in self.records["categories"].values()
        )
        if taken:
            raise Refused(409, f"slug {category['slug']} exists", "slug")
        if category.get("parent_id") is not None and category["parent_id"] not in self.records["categories"]:
            raise Refused(422, f"no parent category {category['parent_id']}", "parent_id")

    def _check_customer(self, customer: Json, ident: int | None) -> None:
        if "@" not in str(customer.get("email", "")):
            raise Refused(422, "a customer needs an e-mail address", "email")
        taken = any(
            c["email"].lower() == customer["email"].lower() and c["id"] != ident
            for c in self.records["customers"].values()
        )
        if taken:
            raise Refused(409, f"customer {customer['email']} exists", "email")

    def save(self, kind: str, body: Json, ident: int | None = None) -> Json:
        """Create (no `ident`) or update a category, product or customer with the fields in `body`."""
        with self._lock:
            record = dict(self._get(kind, ident)) if ident is not None else {"id": next(self._ids)}
            if ident is None and kind == "categories":
                record |= {"slug": str(body.get("name", "")).lower().replace(" ", "-"), "parent_id": None}
            if ident is None and kind == "products":
                record |= {"price": "0", "stock": 0, "active": True, "category_ids": [], "description": ""}
            if ident is None and kind == "customers":
                record |= {"first_name": "", "last_name": "", "phone": None}
            record.update({k: v for k, v in body.items() if k not in ("id", "modified")})
            checks = {"categories": self._check_category, "customers": self._check_customer}
            checks.get(kind, self._check_product)(record, ident)
            self.writes += 1
            return self._stamp(kind, record, "updated" if ident is not None else "created")

    def delete(self, kind: str, ident: int) -> None:
        """Remove a category or product."""
        with self._lock:
            self._get(kind, ident)
            del self.records[kind][ident]
            self.writes += 1
            self.hooks.announce(TOPICS[kind], ident, "deleted", now())

    def place_order(self, email: str, lines: list[tuple[str, int]], paid: bool = True) -> Json:
        """A shopper's order: lines priced from the catalogue, stock taken, status `paid` or `new`."""
        with self._lock:
            by_sku = {p["sku"]: p for p in self.records["products"].values()}
            order_lines = []
            for number, (sku, quantity) in enumerate(lines, start=1):
                if sku not in by_sku:
                    raise Refused(422, f"no product {sku}", "lines")
                product = by_sku[sku]
                product["stock"] -= quantity
                self._stamp("products", product)
                total = Decimal(product["price"]) * quantity
                order_lines.append(
                    {
                        "id": number,
                        "sku": sku,
                        "name": product["name"],
                        "quantity": quantity,
                        "unit_price": product["price"],
                        "total": str(total),
                    }
                )
            ident = next(self._ids)
            total = sum((Decimal(line["total"]) for line in order_lines), Decimal(0))
            order = {
                "id": ident,
                "number": f"MS-{1000 + ident}",
                "status": "paid" if paid else "new",
                "email": email,
                "currency": "EUR",
                "lines": order_lines,
                "total": str(total),
                "created": now(),
                "notes": [],
            }
            return self._stamp("orders", order, "created")

    def set_status(self, ident: int, status: str) -> Json:
        """Move an order to another status."""
        with self._lock:
            if status not in STATUSES:
                raise Refused(422, f"unknown status {status!r}", "status")
            return self._stamp("orders", {**self._get("orders", ident), "status": status})

    def add_note(self, ident: int, note: Json) -> Json:
        """Add a note to an order; a note's `key` is unique within its order."""
        with self._lock:
            order = self._get("orders", ident)
            if any(n["key"] == note.get("key") for n in order["notes"]):
                raise Refused(409, f"note {note.get('key')} exists", "key")
            kept = {
                "key": str(note["key"]),
                "text": str(note["text"]),
                "customer_visible": bool(note.get("customer_visible")),
            }
            return self._stamp("orders", {**order, "notes": [*order["notes"], kept]})

    def found(self, kind: str, params: dict[str, str]) -> list[Json]:
        """Every record of `kind` the filters in `params` let through, by id (by change with
        `modified_since`)."""
        with self._lock:
            found = sorted(self.records[kind].values(), key=lambda r: r["id"])
            for name, field in (("sku", "sku"), ("slug", "slug"), ("email", "email"), ("status", "status")):
                if name in params:
                    wanted = set(params[name].split(","))  # sku=A,B or sku=A&sku=B
                    found = [r for r in found if str(r.get(field, "")).lower() in {w.lower() for w in wanted}]
            if "ids" in params:
                found = [r for r in found if str(r["id"]) in params["ids"].split(",")]
            if "modified_since" in params:
                found = [r for r in found if r["modified"] >= params["modified_since"]]
                found.sort(key=lambda r: (r["modified"], r["id"]))
            return [dict(r) for r in found]

    def page(self, kind: str, params: dict[str, str], url: str = "") -> tuple[Json, dict[str, str]]:
        """One page of `kind`, filtered, in the shop's paging mode: the answer and its extra headers.

        `server_time` is taken before reading: everything modified before it is in this answer.
        """
        taken = now()
        found = self.found(kind, params)
        try:
            body, headers = paged(
                found, params, self.paging, URL(url), self.per_page, repeat_cursor=self.repeat_cursor
            )
        except ValueError as error:
            raise Refused(400, str(error), "cursor") from None
        return body | {"server_time": taken}, headers

    # -- HTTP -----------------------------------------------------------------------------------------

    def _refusal(self, request: Request) -> JSONResponse | None:
        """The answer to a request refused before it is read (credentials, rate, faults), else None."""
        self.requests += 1
        headers: dict[str, str] = {}
        if self.rate_limit is not None:
            granted, headers = self.rate_limit.take()
            if not granted:
                return JSONResponse({"error": "too many requests"}, 429, headers=headers)
        if not self.gate.allows(request):
            return JSONResponse(
                {"error": "unknown API key" if self.gate.mode == "api_key" else "unauthorised"}, 401
            )
        if self._faults:
            status = self._faults.pop(0)
            return JSONResponse({"error": "unwell"}, status, headers={"Retry-After": "1"})
        request.state.rate_headers = headers
        return None

    async def _handle(self, request: Request) -> JSONResponse:
        if (refusal := self._refusal(request)) is not None:
            return refusal
        if self._delays:
            answer = await self._answer(request)
            await asyncio.sleep(self._delays.pop(0))
            return answer
        return await self._answer(request)

    async def _answer(self, request: Request) -> JSONResponse:
        kind, ident = request.path_params["kind"], request.path_params.get("ident")
        headers = request.state.rate_headers
        try:
            if kind not in KINDS:
                raise Refused(404, f"no such resource {kind}")
            body = await request.json() if request.method in ("POST", "PUT") else {}
            if request.method == "GET" and ident is None:
                self.last_listing = request.url.query
                answer, extra = self.page(kind, joined(request.query_params), str(request.url))
                return JSONResponse(answer, headers=headers | extra)
            action = request.path_params.get("action")
            return JSONResponse(self._route(request.method, kind, ident, action, body), headers=headers)
        except Refused as refused:
            return JSONResponse(
                {"error": refused.message, "field": refused.field}, refused.status, headers=headers
            )

    def _route(self, method: str, kind: str, ident: int | None, action: str | None, body: Json) -> Any:
        if action == "status" and method == "PUT" and ident is not None:
            return self.set_status(ident, str(body.get("status")))
        if action == "notes" and method == "POST" and ident is not None:
            return self.add_note(ident, body)
        if method == "GET" and ident is not None:
            with self._lock:
                return dict(self._get(kind, ident))
        if kind == "orders" and method == "POST":
            lines = [(line["sku"], int(line["quantity"])) for line in body.get("lines", [])]
            return self.place_order(body["email"], lines, bool(body.get("paid", True)))
        if kind != "orders" and method in ("POST", "PUT"):
            return self.save(kind, body, ident if method == "PUT" else None)
        if kind != "orders" and method == "DELETE" and ident is not None:
            self.delete(kind, ident)
            return {"deleted": ident}
        raise Refused(405, f"{method} is not allowed here")

    async def _status(self, request: Request) -> JSONResponse:
        if (refusal := self._refusal(request)) is not None:
            return refusal
        answer = {"shop": "minishop", "products": len(self.records["products"])}
        return JSONResponse(answer, headers=request.state.rate_headers)

    async def _webhooks(self, request: Request) -> JSONResponse:
        """POST /api/webhooks {url, topic, secret} subscribes; GET lists the subscriptions."""
        if (refusal := self._refusal(request)) is not None:
            return refusal
        if request.method == "GET":
            listed = self.hooks.listed()
            return JSONResponse({"items": listed, "total": len(listed)}, headers=request.state.rate_headers)
        body = await request.json()
        if not all(isinstance(body.get(name), str) and body[name] for name in ("url", "topic", "secret")):
            return JSONResponse({"error": "a webhook needs a url, a topic and a secret", "field": "url"}, 422)
        return JSONResponse(self.subscribe(body["url"], body["topic"], body["secret"]), 201)

    async def _graphql(self, request: Request) -> JSONResponse:
        self.requests += 1
        return await shop_graphql.endpoint(self, request)

    def app(self) -> Starlette:
        """The shop's ASGI app."""
        methods = ["GET", "POST", "PUT", "DELETE"]
        return Starlette(
            routes=[
                Route("/api/status", self._status),
                Route("/oauth/token", self.gate.oauth_token, methods=["POST"]),
                Route("/api/oauth/token", self.gate.oauth_token, methods=["POST"]),
                Route("/api/login", self.gate.login, methods=["POST"]),
                Route("/api/webhooks", self._webhooks, methods=["GET", "POST"]),
                Route("/graphql", self._graphql, methods=["POST"]),
                Route("/api/{kind}", self._handle, methods=methods),
                Route("/api/{kind}/{ident:int}", self._handle, methods=methods),
                Route("/api/{kind}/{ident:int}/{action}", self._handle, methods=methods),
            ]
        )

    @contextmanager
    def serve(self) -> Iterator[MiniShop]:
        """Run the shop with uvicorn on 127.0.0.1 and a free port until the block ends."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(self.app(), log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(10)
            self.hooks.stop()
            sock.close()


def joined(query: QueryParams) -> dict[str, str]:
    """Query parameters with a repeated one's values comma-joined: list filters take either way."""
    return {name: ",".join(query.getlist(name)) for name in query}
