"""MerchantPro's returns folded into the orders they return, as refunds of those orders.

A return is an order of its own in MerchantPro (`type: return`) naming the order it returns
(`source_order_id`). Each page of orders read gets the returns of its orders (one listing of the
returns placed since the page's oldest order), each as a refund under `returns`: its id, amount
(the return's gross total), date, and lines (net amount, tax, quantity, matched to the order's line by
SKU), restocked when the goods came back (`shipping_status: returned`). A cancelled return is no
refund. The order's `updated_at` becomes its latest return's when that is later, so the reconcile
window takes an order whose return is new. MerchantPro leaves the order itself untouched when a return
is placed on it, so the change feed also lists the returns changed since its moment (`returned_orders`)
and reports their orders with the return's stamp. A return is never read as an order of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.rest.settings import Call

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
RETURNS = Call(path="/api/v2/orders", params={"type": "return"}, items="$.data")
RETURNS_SINCE = Call(
    path="/api/v2/orders", params={"type": "return", "created_since": "{since}"}, items="$.data"
)

RETURNS_CHANGED = Call(
    path="/api/v2/orders", params={"type": "return", "updated_since": "{since}"}, items="$.data"
)


def stamp(text: Any) -> datetime | None:
    """An ISO 8601 stamp as a moment (None when there is none)."""
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def with_returns(connector: DeclarativeConnector, items: list[Json]) -> list[Json]:
    """The page's orders (returns left out), each with its returns as refunds under `returns`."""
    orders = [item for item in items if isinstance(item, dict) and item.get("type", "order") != "return"]
    if not orders:
        return orders
    by_order = await returns_of(connector, orders)
    return [folded(order, by_order.get(str(order.get("id")), [])) for order in orders]


async def returns_of(connector: DeclarativeConnector, orders: list[Json]) -> dict[str, list[Json]]:
    """The live returns of `orders`, by the id of the order each returns."""
    wanted = {str(order.get("id")) for order in orders}
    created = [order.get("created_at") for order in orders]
    oldest = min((text for text in created if stamp(text) is not None), key=stamp, default=None)  # type: ignore[arg-type]
    call = RETURNS if oldest is None or None in created else RETURNS_SINCE
    paging = connector.entity("order").paging
    found: dict[str, list[Json]] = {}
    async for page in connector.client.pages(call, paging, connector.values(since=oldest)):
        for item in page.items:
            source = str(item.get("source_order_id"))
            if source in wanted and item.get("status") != "cancelled":
                found.setdefault(source, []).append(item)
    return found


async def returned_orders(connector: DeclarativeConnector, since: Any) -> dict[str, tuple[str, datetime]]:
    """Order id -> (stamp text, moment) of the latest return of each order changed since `since`
    (placed, cancelled or with its goods back: each changes the order's refunds)."""
    paging = connector.entity("order").paging
    found: dict[str, tuple[str, datetime]] = {}
    async for page in connector.client.pages(RETURNS_CHANGED, paging, connector.values(since=since)):
        for item in page.items:
            source, text = item.get("source_order_id"), item.get("updated_at")
            moment = stamp(text)
            if source is None or moment is None:
                continue
            key = str(source)
            if key not in found or moment > found[key][1]:
                found[key] = (str(text), moment)
    return found


def folded(order: Json, returns: list[Json]) -> Json:
    """`order` with its returns as refunds; its `updated_at` the latest of its own and its returns'."""
    by_sku = {str(line.get("sku")): line for line in order.get("line_items") or []}
    refunds = [refund_of(item, by_sku) for item in sorted(returns, key=lambda item: int(item["id"]))]
    latest = max(
        (text for text in [order.get("updated_at"), *(r.get("updated_at") for r in returns)] if stamp(text)),
        key=stamp,  # type: ignore[arg-type]
        default=order.get("updated_at"),
    )
    return {**order, "returns": refunds, "updated_at": latest}


def refund_of(item: Json, by_sku: dict[str, Json]) -> Json:
    """One return as a refund: amount, date, lines matched to the order's by SKU, restock."""
    restock = item.get("shipping_status") == "returned"
    lines = []
    for line in item.get("line_items") or []:
        sold = by_sku.get(str(line.get("sku"))) or {}
        net, gross = Decimal(str(line.get("total_net") or 0)), Decimal(str(line.get("total_gross") or 0))
        lines.append(
            {
                "line_key": str(sold.get("id", line.get("id"))),
                "sku": line.get("sku"),
                "quantity": line.get("quantity"),
                "amount": str(net),
                "tax": str(gross - net),
                "restock": restock,
            }
        )
    return {
        "key": f"return-{item['id']}",
        "amount": str(item.get("total") or 0),
        "reason": f"return {item['id']}",
        "created_at": item.get("created_at"),
        "restock": restock,
        "lines": lines,
    }
