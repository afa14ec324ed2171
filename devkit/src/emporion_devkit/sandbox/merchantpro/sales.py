"""Customers and orders: accounts by e-mail, orders placed with their lines, statuses and returns.

An order keeps three statuses: its own (`status`), the payment's and the shipping's. A return is an
order of its own, of type "return", naming the order it returns (`source_order_id`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion_devkit.sandbox.merchantpro.catalog import check_fields, unit_of
from emporion_devkit.sandbox.merchantpro.errors import ApiError, invalid
from emporion_devkit.sandbox.merchantpro.store import Store, cents, money
from emporion_devkit.sandbox.merchantpro.units import flag, quantity, text

ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address",
    "city",
    "county",
    "postal_code",
    "country_code",
    "phone",
)
CUSTOMER_WRITABLE = {
    "email",
    "first_name",
    "last_name",
    "phone",
    "ext_ref",
    "status",
    "newsletter",
    "billing_address",
    "shipping_address",
}
STATUSES = ("new", "confirmed", "processing", "completed", "cancelled")
PAYMENT_STATUSES = ("unpaid", "paid", "refunded")
SHIPPING_STATUSES = ("unshipped", "shipped", "delivered", "returned")
ORDER_WRITABLE = {"status", "payment_status", "shipping_status", "ext_ref", "internal_note"}
ORDER_CREATABLE = {
    *ORDER_WRITABLE,
    "type",
    "source_order_id",
    "customer_id",
    "email",
    "billing_address",
    "shipping_address",
    "line_items",
    "payment_method",
    "shipping_method",
    "shipping_amount",
}


def address(value: object, field: str) -> dict[str, str] | None:
    """An address object with the known address fields (others refused); all empty is no address."""
    if not isinstance(value, dict) or set(value) - set(ADDRESS_FIELDS):
        raise invalid(field, f"an object with the fields {', '.join(ADDRESS_FIELDS)} is required")
    found = {name: text(value.get(name), f"{field}.{name}") for name in ADDRESS_FIELDS}
    return found if any(found.values()) else None


def customer_by_email(store: Store, email: str) -> dict[str, Any] | None:
    """The account with `email` (e-mails match whatever their case), or None."""
    wanted = email.strip().lower()
    return next((c for c in store.all("customer") if c["email"].lower() == wanted), None)


def write_customer(store: Store, customer: dict[str, Any], data: object, creating: bool) -> dict[str, Any]:
    """POST or PATCH /customers: an account; its e-mail is required and unique."""
    body = check_fields(data, CUSTOMER_WRITABLE, False)
    with store.locked():
        draft = dict(customer)
        if creating or "email" in body:
            email = text(body.get("email"), "email", required=True).strip()
            if "@" not in email:
                raise invalid("email", f"{email!r} is not an e-mail address")
            other = customer_by_email(store, email)
            if other is not None and other["id"] != draft.get("id"):
                raise ApiError(400, "DuplicateEntry", f"email: {email} already has an account", field="email")
            draft["email"] = email
        for field in ("first_name", "last_name", "phone"):
            if field in body:
                draft[field] = text(body[field], field)
        if "ext_ref" in body:
            draft["ext_ref"] = text(body["ext_ref"], "ext_ref") or None
        if "newsletter" in body:
            draft["newsletter"] = flag(body["newsletter"], "newsletter")
        if "status" in body and body["status"] not in ("active", "inactive"):
            raise invalid("status", f"{body['status']!r} is not one of active, inactive")
        draft["status"] = body.get("status", draft.get("status", "active"))
        for field in ("billing_address", "shipping_address"):
            if field in body:
                draft[field] = address(body[field], field) if body[field] is not None else None
        if creating:
            defaults = {"first_name": "", "last_name": "", "phone": "", "ext_ref": None, "newsletter": False}
            return store.add(
                "customer", {**defaults, "billing_address": None, "shipping_address": None, **draft}
            )
        customer.update(draft)
        store.touch("customer", customer)
        return customer


def order_lines(store: Store, items: object, source: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The lines of a new order from [{sku, quantity, unit_price_gross?}]: each SKU must be sold here."""
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise invalid("line_items", "a non-empty list of lines is required")
    lines = []
    for index, item in enumerate(items):
        field = f"line_items[{index}]"
        sku = text(item.get("sku"), f"{field}.sku", required=True)
        try:
            unit, product = unit_of(store, sku=sku)
        except ApiError:
            raise invalid(f"{field}.sku", f"no product or variant has the SKU {sku!r}") from None
        count = quantity(item.get("quantity", 1), f"{field}.quantity")
        if count <= 0:
            raise invalid(f"{field}.quantity", "the quantity must be positive")
        if source is not None:
            sold = sum(line["quantity"] for line in source["line_items"] if line["sku"] == sku)
            if count > sold:
                raise invalid(f"{field}.quantity", f"the order {source['id']} has only {sold} of {sku}")
        gross = (
            money(item["unit_price_gross"], f"{field}.unit_price_gross")
            if "unit_price_gross" in item
            else unit["price_gross"]
        )
        net = store.net(gross)
        lines.append(
            {
                "id": index + 1,
                "product_id": product["id"],
                "variant_id": unit["id"] if unit is not product else None,
                "sku": sku,
                "name": product["name"],
                "quantity": count,
                "unit_price_net": net,
                "unit_price_gross": gross,
                "tax_value": store.vat_percent,
                "total_net": cents(net * count),
                "total_gross": cents(gross * count),
            }
        )
    return lines


def create_order(store: Store, data: object) -> dict[str, Any]:
    """POST /orders: an order (or a return of one) with its lines; sold units leave the stock."""
    body = check_fields(data, ORDER_CREATABLE, False)
    with store.locked():
        kind = body.get("type", "order")
        if kind not in ("order", "return"):
            raise invalid("type", f"{kind!r} is not one of order, return")
        source = None
        if kind == "return":
            source = store.find("order", int(str(body.get("source_order_id") or 0)))
            if source is None or source["type"] != "order":
                raise invalid("source_order_id", "a return names the order it returns")
        customer = (
            store.find("customer", int(str(body.get("customer_id") or 0)))
            if body.get("customer_id")
            else None
        )
        if body.get("customer_id") and customer is None:
            raise invalid("customer_id", f"the customer {body['customer_id']} does not exist")
        email = customer["email"] if customer else (source or {}).get("email") or body.get("email")
        email = text(email, "email", required=True)
        lines = order_lines(store, body.get("line_items"), source)
        billing = address(body["billing_address"], "billing_address") if body.get("billing_address") else None
        shipping = (
            address(body["shipping_address"], "shipping_address") if body.get("shipping_address") else billing
        )
        fee = money(body.get("shipping_amount", 0), "shipping_amount")
        order = {
            "type": kind,
            "source_order_id": source["id"] if source else None,
            "ext_ref": None,
            "status": "new",
            "payment_status": "unpaid",
            "shipping_status": "unshipped",
            "customer_id": customer["id"] if customer else (source or {}).get("customer_id"),
            "email": email,
            "billing_address": billing or (source or {}).get("billing_address"),
            "shipping_address": shipping or (source or {}).get("shipping_address"),
            "currency": store.currency,
            "payment_method": str(body.get("payment_method", "cod")),
            "shipping_method": str(body.get("shipping_method", "courier")),
            "line_items": lines,
            "subtotal": sum((line["total_gross"] for line in lines), Decimal(0)),
            "shipping_amount": fee,
            "internal_note": "",
        }
        order["total"] = order["subtotal"] + fee
        apply_statuses(order, body)
        if kind == "order":
            for line in lines:
                unit, product = unit_of(store, sku=line["sku"])
                if unit.get("inventory_enabled"):
                    unit["stock"] -= line["quantity"]
                    store.touch("product", product)
        return store.add("order", order)


def apply_statuses(order: dict[str, Any], body: dict[str, Any]) -> None:
    """The statuses, external reference and note of `body` onto `order`, each checked."""
    for field, allowed in (
        ("status", STATUSES),
        ("payment_status", PAYMENT_STATUSES),
        ("shipping_status", SHIPPING_STATUSES),
    ):
        if field in body:
            if body[field] not in allowed:
                raise invalid(field, f"{body[field]!r} is not one of {', '.join(allowed)}")
            order[field] = body[field]
    if "ext_ref" in body:
        order["ext_ref"] = text(body["ext_ref"], "ext_ref") or None
    if "internal_note" in body:
        order["internal_note"] = text(body["internal_note"], "internal_note")


def update_order(
    store: Store, order_id: object, data: object, ignore_unknown: bool = False
) -> dict[str, Any]:
    """PATCH /orders/{id}: statuses, external reference and note; lines and amounts are not changed."""
    body = check_fields(data, ORDER_WRITABLE, ignore_unknown)
    with store.locked():
        order = store.get("order", order_id)
        draft = dict(order)
        apply_statuses(draft, body)
        order.update(draft)
        store.touch("order", order)
        return order
