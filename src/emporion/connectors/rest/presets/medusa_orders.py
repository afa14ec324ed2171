"""Medusa orders read in cents: the total the shopper sees, taxes rounded to add up to it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion.connectors.rest.presets.medusa_calls import CENT, cents, exact

Json = Any


def rounded_parts(parts: list[Json], order_tax: Decimal) -> None:
    """Each part's tax in cents (`shaped_tax`), the cents the rounding lost or gained given back to
    the parts it moved most, so that they add up to the order's tax to the cent (what Medusa shows)."""
    for part in parts:
        part["shaped_tax"] = cents(part.get("tax_total"))
    left = order_tax - sum((part["shaped_tax"] for part in parts), Decimal(0))
    step = CENT if left > 0 else -CENT
    moved = sorted(
        parts, key=lambda part: (exact(part.get("tax_total")) - part["shaped_tax"]) * step, reverse=True
    )
    for part in moved[: int(abs(left) / CENT)]:
        part["shaped_tax"] += step


def tax_lines(items: list[Json], methods: list[Json]) -> list[dict[str, Any]]:
    """The order's tax per rate (by each part's first tax line): on lines, and on shipping."""
    by_code: dict[str, dict[str, Any]] = {}
    for kind, parts in (("tax_total", items), ("shipping_tax_total", methods)):
        for part in parts:
            for tax_line in (part.get("tax_lines") or [])[:1]:
                code = str(tax_line.get("code") or tax_line.get("rate"))
                entry = by_code.setdefault(
                    code,
                    {"code": tax_line.get("code") or "", "label": tax_line.get("description") or ""}
                    | {
                        "rate": tax_line.get("rate"),
                        "tax_total": Decimal(0),
                        "shipping_tax_total": Decimal(0),
                    },
                )
                entry[kind] += part["shaped_tax"]
    return list(by_code.values())


def shape_order(data: Json) -> Json:
    """A Medusa order in cents: its total as Medusa shows it (half up), taxes rounded to add up to it,
    a status word that says "shipped" or "delivered" for a pending order whose fulfilment says so."""
    items = [dict(line) for line in data.get("items") or []]
    methods = [dict(line) for line in data.get("shipping_methods") or []]
    for part in [*items, *methods]:
        part["shaped_net"] = cents(exact(part.get("total")) - exact(part.get("tax_total")))
    unrounded = sum((exact(part.get("tax_total")) for part in [*items, *methods]), Decimal(0))
    rounded_parts([*items, *methods], cents(unrounded))
    shipping_tax = sum((line["shaped_tax"] for line in methods), Decimal(0))
    tax = sum((line["shaped_tax"] for line in items), Decimal(0)) + shipping_tax
    net = sum((line["shaped_net"] for line in [*items, *methods]), Decimal(0))
    status = str(data.get("status") or "")
    if status == "pending":
        fulfilment = str(data.get("fulfillment_status") or "")
        status = {"shipped": "shipped", "partially_shipped": "shipped", "partially_delivered": "shipped"}.get(
            fulfilment, "delivered" if fulfilment == "delivered" else status
        )
    fulfilments = [{**f, "shaped_state": fulfilment_state(f)} for f in data.get("fulfillments") or []]
    collections = [
        {**collection, "payments": [rounded_payment(p) for p in collection.get("payments") or []]}
        for collection in data.get("payment_collections") or []
    ]
    shaped = {
        "status": status,
        "shipping_total": sum((line["shaped_net"] for line in methods), Decimal(0)),
        "shipping_tax": shipping_tax,
        "tax_total": tax,
        "total": net + tax,
        "tax_lines": tax_lines(items, methods),
    }
    lists = {"items": items, "shipping_methods": methods, "fulfillments": fulfilments}
    return {**data, **lists, "payment_collections": collections, "shaped": shaped}


def rounded_payment(payment: Json) -> Json:
    """A payment and its refunds with their amounts in cents (Medusa charges the unrounded total)."""
    refunds = [{**refund, "amount": cents(refund.get("amount"))} for refund in payment.get("refunds") or []]
    return {**payment, "amount": cents(payment.get("amount")), "refunds": refunds}


def fulfilment_state(fulfilment: Json) -> str:
    """A fulfilment's state from its moments."""
    for moment, state in (
        ("canceled_at", "canceled"),
        ("delivered_at", "delivered"),
        ("shipped_at", "shipped"),
    ):
        if fulfilment.get(moment):
            return state
    return "fulfilled"
