"""Medusa order progress: the described order calls completed with what Medusa needs first."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.presets.medusa_calls import send
from emporion.connectors.rest.settings import Call, OrderEntity

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer
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


class OrderProgress:
    """The order calls of the description, completed with what Medusa needs before they are sent."""

    def __init__(self, connector: DeclarativeConnector) -> None:
        self.connector = connector
        self.plain = connector.client.call
        settings = connector.entity("order") if connector.settings.entities.order else None
        self.settings = settings if isinstance(settings, OrderEntity) else None

    def install(self) -> None:
        """Put this in front of the connection's calls."""
        self.connector.client.call = self.call  # type: ignore[method-assign]

    async def call(
        self,
        call: Call,
        values: Any = None,
        *,
        record: str | None = None,
        idempotency_key: str | None = None,
        read: bool = False,
    ) -> Answer:
        """Fulfilments, refunds and status actions completed; every other call as it is."""
        given = dict(values or {})
        described = self.settings
        if described is not None and call is described.fulfil:
            return await self.fulfil(call, given, record)
        if described is not None and call is described.refund:
            return await self.refund(call, given, record)
        if described is not None and call is described.status:
            return await self.move(call, given, record)
        if described is not None and call is described.note:
            return await self.note(call, given, record)
        return await self.plain(call, given, record=record, idempotency_key=idempotency_key, read=read)

    async def order(self, values: dict[str, Any], record: str | None) -> Json:
        """The order the call is about, as Medusa holds it now."""
        found = await self.connector.raw("order", str(values["id"]))
        if found is None:
            raise Permanent("Medusa has no such order", record=record, field="id")
        return found

    async def fulfil(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A fulfilment of every item not yet fulfilled, then its shipment with the tracking label."""
        from emporion.connectors.rest.client import Answer

        items = remaining_items(await self.order(values, record))
        if not items:
            return Answer({}, {})
        answer = await self.plain(call, values | {"items": items}, record=record)
        order = await self.order(values, record)
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
        await send(self.connector, "POST", path, record or "", body)
        return answer

    async def refund(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A refund of the order's payment, captured first when it is only authorized."""
        order = await self.order(values, record)
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
            await send(self.connector, "POST", f"/admin/payments/{payment['id']}/capture", record or "", {})
        values |= {"payment_id": payment["id"], "reason": values.get("reason") or "refund"}
        return await self.plain(call, values, record=record)

    async def move(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """complete, cancel and archive by Medusa's actions; shipped by fulfilling what is left."""
        status = str(values.get("status") or "")
        if status == "shipped" and self.settings is not None and self.settings.fulfil is not None:
            return await self.fulfil(self.settings.fulfil, values, record)
        action = STATUS_ACTIONS.get(status)
        if action is None:
            raise Permanent(
                f"Medusa has no action that makes an order {status}", record=record, field="status"
            )
        return await self.plain(call, values | {"action": action}, record=record)

    async def note(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A note kept in the order's metadata (Medusa has no order notes), beside what is there."""
        metadata = dict((await self.order(values, record)).get("metadata") or {})
        name = f"emporion_note_{values.get('note_key') or len(metadata) + 1}"
        return await self.plain(
            call, values | {"metadata": metadata | {name: values.get("text") or ""}}, record=record
        )
