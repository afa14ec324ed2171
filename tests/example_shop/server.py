"""minishop: a tiny shop with a JSON REST API, the system behind the example connector.

Products by SKU with price and stock, categories, and orders with lines, a status and notes. Every
list pages by `?page=` and filters by `modified_since`; every request needs the `X-Api-Key` header.
Money travels as decimal strings. State lives in memory; `MiniShop.serve()` runs it with uvicorn on
127.0.0.1 and a free port. `fail_next` makes the next requests fail as a shop that is briefly unwell.
"""

from __future__ import annotations

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
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

Json = dict[str, Any]
KINDS = ("categories", "products", "orders")
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

    def __init__(self, api_key: str = "minishop-key", per_page: int = 20) -> None:
        self.api_key = api_key
        self.per_page = per_page
        self.records: dict[str, dict[int, Json]] = {kind: {} for kind in KINDS}
        self.writes = 0  # creates, updates and deletes of categories and products
        self.url = ""
        self._ids = iter(range(1, 1_000_000))
        self._faults: list[int] = []
        self._lock = threading.Lock()

    # -- levers for tests ---------------------------------------------------------------------------

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` API requests with `status` (429 and 503 say Retry-After: 1)."""
        self._faults += [status] * times

    def all(self, kind: str) -> list[Json]:
        """Every record of `kind`, by id."""
        with self._lock:
            return [dict(record) for _, record in sorted(self.records[kind].items())]

    # -- the API's rules ----------------------------------------------------------------------------

    def _stamp(self, kind: str, record: Json) -> Json:
        record["modified"] = now()
        self.records[kind][record["id"]] = record
        return record

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

    def save(self, kind: str, body: Json, ident: int | None = None) -> Json:
        """Create (no `ident`) or update a category or product with the fields in `body`."""
        with self._lock:
            record = dict(self._get(kind, ident)) if ident is not None else {"id": next(self._ids)}
            if ident is None and kind == "categories":
                record |= {"slug": str(body.get("name", "")).lower().replace(" ", "-"), "parent_id": None}
            if ident is None and kind == "products":
                record |= {"price": "0", "stock": 0, "active": True, "category_ids": [], "description": ""}
            record.update({k: v for k, v in body.items() if k not in ("id", "modified")})
            (self._check_category if kind == "categories" else self._check_product)(record, ident)
            self.writes += 1
            return self._stamp(kind, record)

    def delete(self, kind: str, ident: int) -> None:
        """Remove a category or product."""
        with self._lock:
            self._get(kind, ident)
            del self.records[kind][ident]
            self.writes += 1

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
            return self._stamp("orders", order)

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

    def page(self, kind: str, params: dict[str, str]) -> Json:
        """One page of `kind`, filtered, by id (oldest change first with `modified_since`).

        `server_time` is taken before reading: everything modified before it is in this answer.
        """
        with self._lock:
            taken = now()
            found = sorted(self.records[kind].values(), key=lambda r: r["id"])
            for name, field in (("sku", "sku"), ("slug", "slug"), ("email", "email"), ("status", "status")):
                if name in params:
                    wanted = set(params[name].split(","))
                    found = [r for r in found if str(r.get(field, "")).lower() in {w.lower() for w in wanted}]
            if "ids" in params:
                found = [r for r in found if str(r["id"]) in params["ids"].split(",")]
            if "modified_since" in params:
                found = [r for r in found if r["modified"] >= params["modified_since"]]
                found.sort(key=lambda r: (r["modified"], r["id"]))
            size = min(int(params.get("per_page", self.per_page)), 100)
            number = int(params.get("page", 1))
            pages = max(1, -(-len(found) // size))
            items = [dict(r) for r in found[(number - 1) * size : number * size]]
            return {"items": items, "page": number, "pages": pages, "total": len(found), "server_time": taken}

    # -- HTTP -----------------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        if request.headers.get("x-api-key") != self.api_key:
            return JSONResponse({"error": "unknown API key"}, 401)
        if self._faults:
            status = self._faults.pop(0)
            return JSONResponse({"error": "unwell"}, status, headers={"Retry-After": "1"})
        kind, ident = request.path_params["kind"], request.path_params.get("ident")
        try:
            if kind not in KINDS:
                raise Refused(404, f"no such resource {kind}")
            body = await request.json() if request.method in ("POST", "PUT") else {}
            return JSONResponse(
                self._route(request.method, kind, ident, request.path_params.get("action"), body, request)
            )
        except Refused as refused:
            return JSONResponse({"error": refused.message, "field": refused.field}, refused.status)

    def _route(
        self, method: str, kind: str, ident: int | None, action: str | None, body: Json, request: Request
    ) -> Any:
        if action == "status" and method == "PUT" and ident is not None:
            return self.set_status(ident, str(body.get("status")))
        if action == "notes" and method == "POST" and ident is not None:
            return self.add_note(ident, body)
        if method == "GET":
            return (
                self.page(kind, dict(request.query_params)) if ident is None else dict(self._get(kind, ident))
            )
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
        if request.headers.get("x-api-key") != self.api_key:
            return JSONResponse({"error": "unknown API key"}, 401)
        return JSONResponse({"shop": "minishop", "products": len(self.records["products"])})

    def app(self) -> Starlette:
        """The shop's ASGI app."""
        methods = ["GET", "POST", "PUT", "DELETE"]
        return Starlette(
            routes=[
                Route("/api/status", self._status),
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
            sock.close()
