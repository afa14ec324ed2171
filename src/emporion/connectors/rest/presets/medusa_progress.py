"""Medusa order progress: the described order calls completed with what Medusa needs first.

`progress_values` gives every progress call the lines still to fulfil; `send_progress` makes the
fulfilments (then their shipments with the tracking label), refunds (the payment captured first),
status actions and notes (kept in the order's metadata) Medusa's way. The order is read again
before each of these, since an earlier part of the same write may have changed it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.presets.medusa_calls import send
from emporion.connectors.rest.presets.preset_hooks import current_order
from emporion.connectors.rest.settings import Call, OrderEntity

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
STATUS_ACTIONS = {"completed": "complete", "canceled": "cancel", "archived": "archive"}


def remaining_items(order: Json) -> list[dict[str, Any]]:
    """The order's line items with the quantities not fulfilled yet."""
    left = []
    for item in order.get("items") or []:
        done = int(Decimal(str((item.get("detail") or {}).get("fulfilled_quantity") or 0)))
        quantity = int(Decimal(str(item.get("quantity") or 0))) - done
        if quantity > 0:
            left.append({"id": item["id"], "quantity": quantity})
    return left


def progress_values(current: Json) -> dict[str, Any]:
    """What every progress call of an order may name: the line items still to fulfil."""
    return {"items": remaining_items(current) if isinstance(current, dict) else []}


async def send_progress(
    connector: DeclarativeConnector, part: str, call: Call | None, values: dict[str, Any], record: str
) -> bool:
    """Fulfilments, refunds, status actions and notes made Medusa's way; False for every other call."""
    if call is None:
        return False
    if part == "fulfil":
        await fulfil(connector, call, values, record)
    elif part == "refund":
        await refund(connector, call, values, record)
    elif part == "status":
        await move(connector, call, values, record)
    elif part == "note":
        await note(connector, call, values, record)
    else:
        return False
    return True


async def fulfil(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """A fulfilment of every item not yet fulfilled, then its shipment with the tracking label."""
    items = remaining_items(await current_order(connector, values, record))
    if not items:
        return
    await connector.client.call(call, values | {"items": items}, record=record)
    order = await current_order(connector, values, record)
    fresh = [
        f for f in order.get("fulfillments") or [] if not f.get("shipped_at") and not f.get("canceled_at")
    ]
    if not fresh:
        raise Permanent("Medusa made no fulfilment to ship", record=record, field="shipments")
    fulfilment = max(fresh, key=lambda f: str(f.get("created_at") or ""))
    body: dict[str, Any] = {"items": items}
    number = str(values.get("tracking_number") or "")
    if number:
        url = str(values.get("tracking_url") or "")
        link = url if url.startswith(("http://", "https://")) else f"https://tracking.invalid/{number}"
        body["labels"] = [{"tracking_number": number, "tracking_url": link, "label_url": link}]
    path = f"/admin/orders/{values['id']}/fulfillments/{fulfilment['id']}/shipments"
    await send(connector, "POST", path, record, body)


async def refund(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """A refund of the order's payment, captured first when it is only authorized."""
    order = await current_order(connector, values, record)
    payments = [
        payment
        for collection in order.get("payment_collections") or []
        for payment in collection.get("payments") or []
        if not payment.get("canceled_at")
    ]
    if not payments:
        raise Permanent("the order has no payment to refund", record=record, field="refunds")
    payment = payments[0]
    if not payment.get("captured_at"):
        await send(connector, "POST", f"/admin/payments/{payment['id']}/capture", record, {})
    given = values | {"payment_id": payment["id"], "reason": values.get("reason") or "refund"}
    await connector.client.call(call, given, record=record)


async def move(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """complete, cancel and archive by Medusa's actions; shipped by fulfilling what is left."""
    status = str(values.get("status") or "")
    settings = connector.entity("order")
    if status == "shipped" and isinstance(settings, OrderEntity) and settings.fulfil is not None:
        await fulfil(connector, settings.fulfil, values, record)
        return
    action = STATUS_ACTIONS.get(status)
    if action is None:
        raise Permanent(f"Medusa has no action that makes an order {status}", record=record, field="status")
    await connector.client.call(call, values | {"action": action}, record=record)


async def note(connector: DeclarativeConnector, call: Call, values: dict[str, Any], record: str) -> None:
    """A note kept in the order's metadata (Medusa has no order notes), beside what is there."""
    metadata = dict((await current_order(connector, values, record)).get("metadata") or {})
    name = f"emporion_note_{values.get('note_key') or len(metadata) + 1}"
    given = values | {"metadata": metadata | {name: values.get("text") or ""}}
    await connector.client.call(call, given, record=record)
