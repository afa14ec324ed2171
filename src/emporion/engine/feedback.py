"""The way back: ERP sale states, shipments with tracking, invoices and returns reach the shop order.

The ERP's order change feed names sales; each sale's reference (`<prefix><shop order number>`)
leads to the shop order through the order flow's links. What the shop should show is built as a
canonical Order (status through the flow's status table, one note per shipment with tracking and per
invoice, the shipments' carriers and tracking numbers, the invoice numbers, the ERP's sale number as
`reference`, and the refunds whose origin is the ERP, paid out or not as the flow says) and handed to
the shop connector, which writes only what differs, in its system's own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from emporion.config import FlowSettings
from emporion.connectors.base import Unmappable, WriteItem
from emporion.connectors.roles import OrderSource, SalesTarget
from emporion.engine.orders import reference_prefix
from emporion.engine.outcomes import BatchResult, OutcomeApplier, Written
from emporion.model import Invoice, Order, OrderNote, OrderStatus, RefundOrigin, Shipment, fingerprint
from emporion.state import StateStore

SALE = "sale"  # the work-queue entity of ERP sales whose progress goes back to the shop
# what the shop is told of a sale; a change in any of these is written to the shop order
FEEDBACK_FIELDS = {"status", "raw_status", "reference", "notes", "shipments", "invoices", "refunds", "custom"}


class OrderFeedback:
    """ERP -> shop for one order flow."""

    def __init__(self, flow: FlowSettings, shop: OrderSource, erp: SalesTarget, store: StateStore) -> None:
        self.flow = flow
        self.shop = shop
        self.erp = erp
        self.store = store
        self.options = flow.orders
        self.prefix = reference_prefix(flow)

    def shop_number(self, sale: Order) -> str | None:
        """The shop order number behind a sale of this flow (None for other flows' sales and returns)."""
        reference = sale.reference or ""
        if not reference.startswith(self.prefix) or "/" in reference:
            return None
        return reference[len(self.prefix) :]

    def desired(self, sale: Order) -> Order:
        """The shop order as it should be, given the ERP sale: status, notes, fulfilments, refunds."""
        wanted_status = self.options.statuses.get(sale.status.value, sale.status.value)
        try:
            status = OrderStatus(wanted_status)
            raw = ""
        except ValueError:  # a status of the shop's own (a plugin's): asked for as it is
            status, raw = OrderStatus.ON_HOLD, wanted_status
        notes: list[OrderNote] = []
        shipments: list[Shipment] = []
        tracking_visible = self.options.tracking_note == "customer"
        if self.options.tracking_note != "none":
            for shipment in sale.shipments:
                if not shipment.tracking_numbers:
                    continue
                carrier = f" with {shipment.carrier}" if shipment.carrier else ""
                text = f"Shipped{carrier}: tracking number {shipment.tracking}"
                notes.append(
                    OrderNote(key=f"ship-{shipment.key}", text=text, customer_visible=tracking_visible)
                )
                shipments.append(
                    Shipment(
                        key=shipment.key, carrier=shipment.carrier, tracking_numbers=shipment.tracking_numbers
                    )
                )
        invoices = [
            Invoice(key=invoice.key, number=invoice.number)
            for invoice in sale.invoices
            if invoice.number and not invoice.credit_note
        ]
        if self.options.invoice_note != "none":
            visible = self.options.invoice_note == "customer"
            notes += [
                OrderNote(
                    key=f"invoice-{invoice.key}", text=f"Invoice {invoice.number}", customer_visible=visible
                )
                for invoice in invoices
            ]
        refunds = [
            refund.model_copy(update={"payout": self.options.refund_payout})
            for refund in sale.refunds
            if refund.origin is RefundOrigin.ERP  # the shop's own refunds are not sent back
        ]
        return sale.model_copy(
            update={
                "status": status,
                "raw_status": raw,
                "reference": sale.number,
                "notes": notes,
                "shipments": shipments,
                "invoices": invoices,
                "refunds": refunds,
                "custom": {},
            }
        )

    async def sync_keys(self, keys: Sequence[str], *, reason: str) -> BatchResult:
        """Push the ERP's progress on these sales to their shop orders."""
        result = BatchResult()
        sales: list[Order] = []
        for sale in await self.erp.read("order", list(keys)):
            if isinstance(sale, Unmappable):  # a sale the ERP gave in a shape it cannot be read in
                error = sale.error()
                result.dead_letter(
                    self.flow.name, SALE, sale.key, error, reason, error.record or f"sale {sale.key}"
                )
            elif isinstance(sale, Order):
                sales.append(sale)
        numbers = {sale.key: self.shop_number(sale) for sale in sales}
        orders = await self.store.find_links_by_natural_key(
            self.flow.name, "order", [n for n in numbers.values() if n]
        )
        seen = await self.store.get_links(self.flow.name, SALE, [sale.key for sale in sales])
        items: list[WriteItem] = []
        digests: dict[str, tuple[str, str | None]] = {}
        for sale in sales:
            number = numbers[sale.key]
            order_link = orders.get(number) if number else None
            if order_link is None or order_link.state != "synced":
                result.counts["not ours"] += 1
                continue
            wanted = self.desired(sale)
            digest = fingerprint(wanted.model_dump(include=FEEDBACK_FIELDS))
            previous = seen.get(sale.key)
            if previous and previous.fingerprint == digest:
                result.counts["unchanged"] += 1
                continue
            items.append(WriteItem(order_link.source_key, wanted, {"id": order_link.source_key}))
            digests[order_link.source_key] = (sale.key, previous.fingerprint if previous else None)
        if not items:
            return result
        applier = OutcomeApplier(self.flow.name, SALE, reason, result)
        sent = {item.key: item.record for item in items}
        for outcome in await self.shop.write("order", items, []):
            sale_key, before = digests[outcome.key]
            written = Written(
                sale_key,
                f"sale for order {outcome.key}",
                natural_key=outcome.key,
                before=before,
                after=fingerprint(sent[outcome.key].model_dump(include=FEEDBACK_FIELDS)),
                action="updated",
            )
            # the sale's link names the shop order it reached, whatever the shop answered
            applier.apply(replace(outcome, target_ref={"order": outcome.key}), written)
        return result
