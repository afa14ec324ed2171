"""minishop's JSON <-> emporion's canonical records, both ways, with no I/O.

Statuses are translated here and only here: minishop says `paid`, emporion says `processing`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.model import (
    Address,
    Category,
    Customer,
    Order,
    OrderLine,
    OrderNote,
    OrderStatus,
    Payment,
    PaymentState,
    Product,
)

Json = dict[str, Any]

# minishop field -> the canonical field it holds (errors name the canonical one)
CANONICAL_FIELDS = {
    "price": "list_price",
    "stock": "available",
    "category_ids": "categories",
    "parent_id": "parent_key",
}
STATUS_IN = {
    "new": OrderStatus.PENDING,
    "held": OrderStatus.ON_HOLD,
    "paid": OrderStatus.PROCESSING,
    "shipped": OrderStatus.SHIPPED,
    "done": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}
STATUS_OUT = {status: name for name, status in STATUS_IN.items()}
PAID = {"paid", "shipped", "done"}


def minishop_id(value: str, record: str, field: str) -> int:
    """A minishop id from the text the engine holds it as (ids are numbers)."""
    if not value.isdigit():
        raise Permanent(f"{value!r} is no minishop id", record=record, field=field)
    return int(value)


def product_from_wire(data: Json) -> Product:
    """A minishop product as a canonical Product."""
    return Product(
        key=str(data["id"]),
        sku=data["sku"],
        name=data["name"],
        description=data.get("description", ""),
        active=data["active"],
        list_price=Decimal(data["price"]),
        available=Decimal(data["stock"]),
        categories=[str(ident) for ident in data["category_ids"]],
    )


def product_to_wire(product: Product, fields: frozenset[str] | None) -> Json:
    """The minishop body for the canonical `fields` of `product` (None: every field it holds)."""
    body: Json = {"sku": product.sku, "name": product.name, "description": product.description}
    body["active"] = product.active and product.salable
    body["category_ids"] = [minishop_id(ident, product.sku, "categories") for ident in product.categories]
    if product.list_price is not None:
        body["price"] = str(product.list_price)
    if product.available is not None:
        if product.available != product.available.to_integral_value():
            raise Permanent("minishop counts stock in whole units", record=product.sku, field="available")
        body["stock"] = max(0, int(product.available))
    if fields is None:
        return body
    wire = {name for name in body if CANONICAL_FIELDS.get(name, name) in fields}
    return {name: value for name, value in body.items() if name in wire or name == "sku"}


def category_from_wire(data: Json) -> Category:
    """A minishop category as a canonical Category."""
    parent = data.get("parent_id")
    return Category(
        key=str(data["id"]), name=data["name"], slug=data["slug"], parent_key=str(parent) if parent else None
    )


def category_to_wire(category: Category, fields: frozenset[str] | None) -> Json:
    """The minishop body of a category; the engine has already swapped `parent_key` for minishop's id."""
    body: Json = {
        "name": category.name,
        "parent_id": minishop_id(category.parent_key, category.name, "parent_key")
        if category.parent_key
        else None,
    }
    if category.slug:
        body["slug"] = category.slug
    if fields is None:
        return body
    return {name: value for name, value in body.items() if CANONICAL_FIELDS.get(name, name) in fields}


def order_from_wire(data: Json) -> Order:
    """A minishop order as a canonical Order (a guest customer known by e-mail)."""
    status = STATUS_IN.get(data["status"])
    if status is None:
        raise Permanent(
            f"unknown order status {data['status']!r}", record=f"order {data['number']}", field="status"
        )
    email = data["email"]
    total = Decimal(data["total"])
    paid = data["status"] in PAID
    return Order(
        key=str(data["id"]),
        number=data["number"],
        status=status,
        raw_status=data["status"],
        payment_state=PaymentState.PAID if paid else PaymentState.UNPAID,
        currency=data["currency"],
        created_at=datetime.fromisoformat(data["created"]),
        modified_at=datetime.fromisoformat(data["modified"]),
        customer=Customer(key=f"guest:{email.lower()}", email=email, guest=True),
        billing=Address(email=email),
        lines=[
            OrderLine(
                key=str(line["id"]),
                sku=line["sku"],
                name=line["name"],
                quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]),
                total=Decimal(line["total"]),
            )
            for line in data["lines"]
        ],
        total=total,
        payments=[Payment(method="minishop", amount=total)] if paid else [],
        notes=[OrderNote(**note) for note in data["notes"]],
    )


def status_to_wire(order: Order) -> str:
    """minishop's name for the status an Order should have."""
    if order.status not in STATUS_OUT:
        raise Permanent(
            f"minishop has no status {order.status}", record=f"order {order.number}", field="status"
        )
    return STATUS_OUT[order.status]


def notes_to_add(order: Order, current: Json) -> list[Json]:
    """The notes of `order` the minishop order does not hold yet (matched by key: added once)."""
    held = {note["key"] for note in current["notes"]}
    return [note.model_dump() for note in order.notes if note.key not in held]
