"""minishop's GraphQL API (POST /graphql) over the same records, with a Shopify-style cost budget.

Queries `products`/`orders` (skip, take, updatedAfter) -> {items, totalItems}, `product`/`order` by
id; mutations `createProduct`, `updateProduct`, `setStock` answer the product or an `ErrorResult`
(Vendure's style), `login` a token or an `ErrorResult`. Every answer carries `extensions.cost`
{requestedQueryCost, actualQueryCost, throttleStatus {maximumAvailable, currentlyAvailable,
restoreRate}}; a query costing more than is available is refused with the error code THROTTLED.
Without credentials, everything but `login` is refused with the code FORBIDDEN.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    build_schema,
    graphql_sync,
    parse,
    value_from_ast_untyped,
)
from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from tests.example_shop.server import MiniShop

SCHEMA = build_schema("""
type Product { id: ID! sku: String! name: String price: String stock: Int active: Boolean
  description: String modified: String }
type ProductList { items: [Product!]! totalItems: Int! }
type OrderLine { id: Int sku: String name: String quantity: Int unitPrice: String total: String }
type Order { id: ID! number: String status: String email: String currency: String total: String
  created: String modified: String lines: [OrderLine!]! }
type OrderList { items: [Order!]! totalItems: Int! }
type ErrorResult { errorCode: String! message: String! }
type LoginSuccess { token: String! expiresIn: Float! }
union ProductResult = Product | ErrorResult
union LoginResult = LoginSuccess | ErrorResult
input ProductInput { sku: String name: String price: String stock: Int active: Boolean
  description: String }
type Query {
  products(skip: Int, take: Int, updatedAfter: String): ProductList!
  product(id: ID!): Product
  orders(skip: Int, take: Int, updatedAfter: String): OrderList!
  order(id: ID!): Order
}
type Mutation {
  createProduct(input: ProductInput!): ProductResult!
  updateProduct(id: ID!, input: ProductInput!): ProductResult!
  setStock(sku: String!, quantity: Int!): ProductResult!
  login(username: String!, password: String!): LoginResult!
}
""")
DEFAULT_TAKE = 20
MUTATION_COST = 10


def snake(name: str) -> str:
    """`unitPrice` -> `unit_price`: the REST record's name of a GraphQL field."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def field_of(source: Any, info: Any, **args: Any) -> Any:
    """Resolve a field from a dict record by its GraphQL name or its snake_case REST name."""
    if isinstance(source, dict):
        return source.get(info.field_name, source.get(snake(info.field_name)))
    value = getattr(source, info.field_name, None)
    return value(info, **args) if callable(value) else value


class CostBudget:
    """Shopify's leaky bucket: `maximum` points, `restore_rate` points back per second."""

    def __init__(self, maximum: float = 1000.0, restore_rate: float = 50.0) -> None:
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available, self._updated = maximum, time.monotonic()
        self._lock = threading.Lock()

    def take(self, cost: float) -> tuple[bool, dict[str, Any]]:
        """Spend `cost` if available; whether it was, and the throttle status after."""
        with self._lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + (now - self._updated) * self.restore_rate)
            self._updated = now
            granted = cost <= self.available
            if granted:
                self.available -= cost
            status = {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": round(self.available, 3),
                "restoreRate": self.restore_rate,
            }
            return granted, status


def query_cost(document: Any, variables: dict[str, Any]) -> int:
    """The requested cost: a list field costs its `take` plus one, a mutation ten, anything else one."""
    cost = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            if definition.operation.value == "mutation":
                cost += MUTATION_COST
                continue
            args = {
                a.name.value: value_from_ast_untyped(a.value, variables) for a in selection.arguments or ()
            }
            plural = selection.name.value in ("products", "orders")
            cost += 1 + (int(args.get("take") or DEFAULT_TAKE) if plural else 0)
    return max(cost, 1)


class Root:
    """The query and mutation resolvers over one shop; `allowed` is whether the caller is let in."""

    def __init__(self, shop: MiniShop, allowed: bool) -> None:
        self.shop, self.allowed = shop, allowed

    def _check(self) -> None:
        if not self.allowed:
            raise GraphQLError("not authorised", extensions={"code": "FORBIDDEN"})

    def _list(self, kind: str, skip: int, take: int | None, after: str | None) -> dict[str, Any]:
        self._check()
        found = self.shop.found(kind, {"modified_since": after} if after else {})
        size = take or DEFAULT_TAKE
        return {"items": found[skip or 0 : (skip or 0) + size], "totalItems": len(found)}

    def products(
        self, info: Any, skip: int = 0, take: int | None = None, updatedAfter: str | None = None
    ) -> dict[str, Any]:
        """A page of products."""
        return self._list("products", skip, take, updatedAfter)

    def orders(
        self, info: Any, skip: int = 0, take: int | None = None, updatedAfter: str | None = None
    ) -> dict[str, Any]:
        """A page of orders."""
        return self._list("orders", skip, take, updatedAfter)

    def _one(self, kind: str, ident: str) -> dict[str, Any] | None:
        self._check()
        return next((r for r in self.shop.all(kind) if str(r["id"]) == ident), None)

    def product(self, info: Any, id: str) -> dict[str, Any] | None:
        """One product by id, or null."""
        return self._one("products", id)

    def order(self, info: Any, id: str) -> dict[str, Any] | None:
        """One order by id, or null."""
        return self._one("orders", id)

    def _write(self, body: dict[str, Any], ident: int | None) -> dict[str, Any]:
        from tests.example_shop.server import Refused

        self._check()
        try:
            return {"__typename": "Product", **self.shop.save("products", body, ident)}
        except Refused as refused:
            code = {409: "DUPLICATE", 404: "NOT_FOUND"}.get(refused.status, "INVALID")
            return {"__typename": "ErrorResult", "errorCode": code, "message": refused.message}

    def createProduct(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """Create a product, or say why not."""
        return self._write({k: v for k, v in input.items() if v is not None}, None)

    def updateProduct(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        """Update a product, or say why not."""
        return self._write({k: v for k, v in input.items() if v is not None}, int(id))

    def setStock(self, info: Any, sku: str, quantity: int) -> dict[str, Any]:
        """Set a product's stock by SKU, or say why not."""
        self._check()
        product = next((p for p in self.shop.all("products") if p["sku"] == sku), None)
        if product is None:
            return {"__typename": "ErrorResult", "errorCode": "NOT_FOUND", "message": f"no product {sku}"}
        return self._write({"stock": quantity}, product["id"])

    def login(self, info: Any, username: str, password: str) -> dict[str, Any]:
        """A token for a right user name and password, else an ErrorResult (with a 200)."""
        gate = self.shop.gate
        gate.token_requests += 1
        if not gate.check_login(username, password):
            return {"__typename": "ErrorResult", "errorCode": "INVALID_CREDENTIALS", "message": "wrong login"}
        token, lifetime = gate.issue()
        return {"__typename": "LoginSuccess", "token": token, "expiresIn": lifetime}


async def endpoint(shop: MiniShop, request: Request) -> JSONResponse:
    """POST /graphql: run one document against the shop, priced and throttled."""
    payload = await request.json()
    variables = payload.get("variables") or {}
    try:
        document = parse(payload.get("query") or "")
    except GraphQLError as error:
        return JSONResponse({"errors": [error.formatted]}, 400)
    requested = query_cost(document, variables)
    granted, status = shop.cost.take(requested)
    cost: dict[str, Any] = {"requestedQueryCost": requested, "throttleStatus": status}
    if not granted:
        error = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
        return JSONResponse({"errors": [error], "extensions": {"cost": cost}})
    root = Root(shop, shop.gate.allows(request))
    result = graphql_sync(
        SCHEMA,
        payload.get("query"),
        root_value=root,
        variable_values=variables,
        operation_name=payload.get("operationName"),
        field_resolver=field_of,
    )
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [error.formatted for error in result.errors]
    answer["extensions"] = {"cost": cost | {"actualQueryCost": requested}}
    return JSONResponse(answer)
