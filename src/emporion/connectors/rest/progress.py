"""A described shop's orders brought up to date from the ERP's progress, and the reconcile window.

The shop's order is read first; then what it lacks is added, each at most once: shipments with
their tracking numbers (`fulfil`, matched by tracking number; without one, a customer-visible
`note` per shipment, matched by key or text), refunds (`refund`, matched by key or
amount), notes (`note`, matched by key or text), and the status (`status`) when the shop's differs.
`only` limits which of these a write touches (the engine sends status, hold and notes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.rest.settings import Call, OrderEntity
from emporion.connectors.rest.settings.paths import compiled
from emporion.connectors.rest.writes import guarded
from emporion.model import Order, OrderNote, Shipment

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector


def order_settings(connector: DeclarativeConnector) -> OrderEntity:
    """The description of the shop's orders."""
    settings = connector.entity("order")
    assert isinstance(settings, OrderEntity)
    return settings


async def write_orders(connector: DeclarativeConnector, items: Sequence[WriteItem]) -> list[Outcome]:
    """Each order brought up to date; one outcome per item."""
    settings = order_settings(connector)
    return [await guarded(settings, item, update_order(connector, settings, item)) for item in items]


def wanted_status(settings: OrderEntity, order: Order, current: Order) -> str | None:
    """The shop's status for `order.status` (None: already there); Permanent when the shop has none."""
    if current.status == order.status:
        return None
    if current.raw_status and settings.statuses.get(current.raw_status) == order.status:
        return None
    for name, status in settings.statuses.items():
        if status == order.status:
            return name
    raise Permanent(
        f"the shop has no status for {order.status}", record=f"order {order.number}", field="status"
    )


async def update_order(connector: DeclarativeConnector, settings: OrderEntity, item: WriteItem) -> Outcome:
    """Add what the shop order lacks, then move its status; never creates an order.

    Each part goes on its own: one the shop has no call for (a shipment without `fulfil` or `note`)
    does not keep the others back. What could not be written at all is the outcome's error, naming
    the order and the field, after the rest was written (every part is added once, so a retry of the
    item repeats nothing).
    """
    order = item.record
    assert isinstance(order, Order)
    ident = str(item.target_ref["id"]) if item.target_ref else item.key
    raw = await connector.raw("order", ident)
    current = connector.record("order", raw) if raw is not None else None
    if current is None:
        raise Permanent("the shop has no such order", record=f"order {order.number or ident}", field="id")
    if not isinstance(current, Order):
        raise Permanent(getattr(current, "reason", "unreadable order"), record=f"order {ident}")
    label = f"order {order.number or ident}"
    wants = item.only
    sent = 0
    unwritten: list[Permanent] = []
    known = {note.key for note in current.notes} | {note.text for note in current.notes}
    known |= held_notes(raw, connector.settings.options.get("order_notes", "$.notes[*]"))
    computed = await connector.hooks.progress_values(connector, order, raw)

    async def send(call: Call | None, name: str, field: str, **values: Any) -> None:
        nonlocal sent
        given = connector.values(**{**computed, **values, "id": ident, "key": ident})
        if await connector.hooks.send_progress(connector, name, call, given, label):
            sent += 1
            return
        if call is None:
            raise Permanent(f"the shop's orders have no {name} call", record=label, field=field)
        await connector.client.call(call, given, record=label)
        sent += 1

    async def add_note(note: OrderNote) -> None:
        if note.key not in known and note.text not in known:
            await send(
                settings.note,
                "note",
                "notes",
                text=note.text,
                note_key=note.key,
                customer_visible=note.customer_visible,
            )
            known.update((note.key, note.text))

    async def part(field: str, write: Callable[[], Awaitable[None]]) -> None:
        if wants is None or field in wants:
            try:
                await write()
            except Permanent as error:
                unwritten.append(error)

    async def shipments() -> None:
        held = {number for shipment in current.shipments for number in shipment.tracking_numbers}
        for shipment in order.shipments:
            fresh = [number for number in shipment.tracking_numbers if number not in held]
            if not fresh and (shipment.tracking_numbers or current.shipments):
                continue
            if settings.fulfil is None and settings.note is not None:
                await add_note(shipment_note(shipment))  # no fulfilments: the tracking told as a note
                continue
            await send(
                settings.fulfil,
                "fulfil",
                "shipments",
                tracking_number=(fresh or [""])[0],
                carrier=shipment.carrier,
                tracking_url=shipment.tracking_url,
            )

    async def refunds() -> None:
        keys = {refund.key for refund in current.refunds if refund.key}
        amounts = [refund.amount for refund in current.refunds]
        for refund in order.refunds:
            if refund.key in keys or refund.amount in amounts:
                if refund.amount in amounts:
                    amounts.remove(refund.amount)
                continue
            await send(
                settings.refund,
                "refund",
                "refunds",
                amount=refund.amount,
                reason=refund.reason,
                refund_key=refund.key,
                amount_minor=minor_units(refund.amount),
            )

    async def notes() -> None:
        for note in order.notes:
            await add_note(note)

    async def status() -> None:
        wanted = wanted_status(settings, order, current)
        if wanted is not None:
            await send(settings.status, "status", "status", status=wanted)

    await part("shipments", shipments)
    await part("refunds", refunds)
    await part("notes", notes)
    await part("status", status)
    if unwritten:
        reason = "; ".join(error.reason for error in unwritten)
        error = Permanent(reason, record=label, field=unwritten[0].field)
        return Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
    return Outcome(item.key, OutcomeStatus.UPDATED if sent else OutcomeStatus.UNCHANGED, {"id": ident})


def minor_units(amount: Decimal) -> int:
    """An amount in cents (half up), for shops that take integer minor units."""
    return int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))


def shipment_note(shipment: Shipment) -> OrderNote:
    """A shipment told as a note the customer sees: carrier, tracking numbers and link."""
    carrier = f" with {shipment.carrier}" if shipment.carrier else ""
    tracking = f", tracking number {shipment.tracking}" if shipment.tracking_numbers else ""
    link = f" ({shipment.tracking_url})" if shipment.tracking_url else ""
    text = f"Shipped{carrier}{tracking}{link}"
    return OrderNote(key=f"shipment-{shipment.key}", text=text, customer_visible=True)


def held_notes(raw: Any, path: str) -> set[str]:
    """Keys and texts of the notes a shop order holds (the `order_notes` option: their JSON path)."""
    found: set[str] = set()
    for note in compiled(path).findall(raw) if path else []:
        if isinstance(note, dict):
            found |= {str(note[name]) for name in ("key", "id", "text", "note") if note.get(name) is not None}
        elif isinstance(note, str):
            found.add(note)
    return found


async def window(connector: DeclarativeConnector, days: int) -> list[str]:
    """Keys of open orders (the shop's `open_statuses`) and of those changed in the last `days` days."""
    settings = order_settings(connector)
    since = datetime.now(UTC) - timedelta(days=days)
    keys: list[str] = []
    async for page in connector.scan("order"):
        for order in page:
            if not isinstance(order, Order):
                keys.append(order.key)  # unreadable: the reconcile makes it a dead letter
                continue
            moment = order.modified_at or order.created_at
            recent = moment is not None and (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= since
            if recent or (order.raw_status or "") in settings.open_statuses:
                keys.append(order.key)
    return list(dict.fromkeys(keys))
