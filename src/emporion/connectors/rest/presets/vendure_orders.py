"""Vendure's orders and customers read (taxes from gross and net, names split), and order progress.

Progress needs what a call's placeholders cannot hold: the lines still to fulfil and the settled
payment to refund (`progress_values`); a fulfilment is marked shipped after it is made, a refund
settled, a cancellation goes through `cancelOrder` and Shipped or Delivered through fulfilments of
what is left (`send_progress`). The mutations stay those of the description.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.presets.preset_hooks import current_order
from emporion.connectors.rest.presets.vendure_calls import CANCEL_ORDER, SETTLE_REFUND, SHIP_FULFILMENT, send
from emporion.connectors.rest.settings import Call

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
MOVED_BY_FULFILMENTS = ("Shipped", "Delivered")


def split_name(full: str | None) -> tuple[str, str]:
    """A full name as first name and the rest."""
    first, _, last = (full or "").strip().partition(" ")
    return first, last.strip()


def difference(data: Json, gross: str, net: str) -> int:
    """Tax in cents: an amount with tax less the same without."""
    return int(data.get(gross) or 0) - int(data.get(net) or 0)


def shape_order(data: Json) -> Json:
    """A Vendure order with the taxes and names it gives only as gross and net amounts or a full name."""
    billing_first, billing_last = split_name((data.get("billingAddress") or {}).get("fullName"))
    shipping_first, shipping_last = split_name((data.get("shippingAddress") or {}).get("fullName"))
    lines = [
        {**line, "shapedTax": difference(line, "linePriceWithTax", "linePrice")} for line in data["lines"]
    ]
    shipping = [
        {**line, "shapedTax": difference(line, "priceWithTax", "price")} for line in data["shippingLines"]
    ]
    shaped = {
        "billing_first_name": billing_first,
        "billing_last_name": billing_last,
        "shipping_first_name": shipping_first,
        "shipping_last_name": shipping_last,
        "shipping_tax": difference(data, "shippingWithTax", "shipping"),
        "tax_total": difference(data, "totalWithTax", "total"),
    }
    return {**data, "lines": lines, "shippingLines": shipping, "shaped": shaped}


def shape_customer(data: Json) -> Json:
    """A Vendure customer with its default billing and shipping addresses, a guest without an account."""
    addresses = data.get("addresses") or []
    billing = next(
        (a for a in addresses if a.get("defaultBillingAddress")), addresses[0] if addresses else None
    )
    shipping = next((a for a in addresses if a.get("defaultShippingAddress")), billing)
    return {**data, "guest": data.get("user") is None, "billing": named(billing), "shipping": named(shipping)}


def named(address: Json | None) -> Json | None:
    """An address with its full name split into first and last name."""
    if address is None:
        return None
    first, last = split_name(address.get("fullName"))
    return {**address, "firstName": first, "lastName": last}


def remaining_lines(order: Json) -> list[dict[str, Any]]:
    """The order's lines with the quantities no live fulfilment holds yet."""
    done: dict[str, int] = {}
    for fulfilment in order.get("fulfillments") or []:
        if fulfilment.get("state") != "Cancelled":
            for line in fulfilment.get("lines") or []:
                done[str(line["orderLineId"])] = done.get(str(line["orderLineId"]), 0) + int(line["quantity"])
    left = [
        {"orderLineId": line["id"], "quantity": int(line["quantity"]) - done.get(str(line["id"]), 0)}
        for line in order.get("lines") or []
    ]
    return [line for line in left if line["quantity"] > 0]


def settled_payment(order: Json) -> str | None:
    """The id of the order's settled payment (the one a refund pays back), if any."""
    payment = next((p for p in order.get("payments") or [] if p.get("state") == "Settled"), None)
    return None if payment is None else str(payment["id"])


def progress_values(current: Json) -> dict[str, Any]:
    """What every progress call of an order may name: lines still to fulfil, the settled payment."""
    return {"lines": remaining_lines(current), "payment_id": settled_payment(current)}


async def send_progress(
    connector: DeclarativeConnector, part: str, call: Call | None, values: dict[str, Any], record: str
) -> bool:
    """Fulfilments, refunds and status moves made Vendure's way; False for every other call."""
    if part == "fulfil" and call is not None:
        await fulfil(connector, call, values, record)
        return True
    if part == "refund" and call is not None:
        await refund(connector, call, values, record)
        return True
    if part == "status" and values.get("status") == "Cancelled":
        cancel = {"input": {"orderId": values["id"], "reason": "cancelled", "cancelShipping": True}}
        await send(connector, CANCEL_ORDER, cancel, record)
        return True
    if part == "status" and values.get("status") in MOVED_BY_FULFILMENTS:
        await move(connector, values, record)
        return True
    return False


async def fulfil(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """A fulfilment of every line no fulfilment holds yet (read again), then marked shipped."""
    left = remaining_lines(await current_order(connector, values, record))
    if not left:
        return
    given = values | {
        "lines": left,
        "carrier": values.get("carrier") or "",
        "tracking_number": values.get("tracking_number") or "",
    }
    answer = await connector.client.call(call, given, record=record)
    made = answer.body["data"]["addFulfillmentToOrder"]
    await send(connector, SHIP_FULFILMENT, {"id": made["id"], "state": "Shipped"}, record)


async def refund(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """A refund of the settled payment, in cents, then settled."""
    if not values.get("payment_id"):
        raise Permanent("the order has no settled payment to refund", record=record, field="refunds")
    answer = await connector.client.call(call, values | {"reason": values.get("reason") or ""}, record=record)
    made = answer.body["data"]["refundOrder"]
    settle = {"input": {"id": made["id"], "transactionId": f"refund-{made['id']}"}}
    await send(connector, SETTLE_REFUND, settle, record)


async def move(connector: DeclarativeConnector, values: dict[str, Any], record: str) -> None:
    """Shipped and Delivered through a fulfilment of what is left (then Delivered moves them on)."""
    fulfil_call = getattr(connector.entity("order"), "fulfil", None)
    if fulfil_call is None:
        raise Permanent("the description has no fulfil call", record=record, field="fulfil")
    await fulfil(connector, fulfil_call, values, record)
    if values["status"] == "Delivered":
        for fulfilment in (await current_order(connector, values, record)).get("fulfillments") or []:
            if fulfilment.get("state") in ("Pending", "Shipped"):
                for state in ("Shipped", "Delivered")[(fulfilment["state"] == "Shipped") :]:
                    moved = {"id": fulfilment["id"], "state": state}
                    await send(connector, SHIP_FULFILMENT, moved, record)
