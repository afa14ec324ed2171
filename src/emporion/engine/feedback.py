"""The way back: ERP sale states, shipments with tracking, invoices and returns reach the shop order.

The ERP's order change feed names sales; each sale's reference (`<prefix><shop order number>`)
leads to the shop order through the order flow's links. What the shop should show is built as a
canonical Order (status through the flow's status table, one note per tracking number and invoice,
meta data, refunds made in the ERP) and handed to the shop connector, which writes only what differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emporion.config import FlowSettings
from emporion.connectors.base import Connector, Permanent, Retryable, Unmappable, WriteItem
from emporion.engine.flow import BatchResult
from emporion.engine.orders import reference_prefix
from emporion.model import Order, OrderStatus, fingerprint
from emporion.state import DeadLetter, JournalEntry, Link, StateStore

SALE = "sale"  # the work-queue entity of ERP sales whose progress goes back to the shop


class OrderFeedback:
    """ERP -> shop for one order flow."""

    def __init__(self, flow: FlowSettings, shop: Connector, erp: Connector, store: StateStore) -> None:
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
        """The shop order as it should be, given the ERP sale."""
        status_name = self.options.statuses.get(sale.status.value, sale.status.value)
        try:
            status = OrderStatus(status_name)
            raw = ""
        except ValueError:
            status, raw = OrderStatus.ON_HOLD, status_name
        custom: dict[str, Any] = {"erp_reference": sale.number}
        customer_notes = self.options.tracking_note == "customer"
        for shipment in sale.shipments:
            if not shipment.tracking_number or self.options.tracking_note == "none":
                continue
            carrier = f" with {shipment.carrier}" if shipment.carrier else ""
            custom[f"note:ship-{shipment.key}"] = (
                f"Shipped{carrier}: tracking number {shipment.tracking_number}"
            )
            custom[f"note_customer:ship-{shipment.key}"] = customer_notes
            custom["tracking_number"] = shipment.tracking_number
            custom["tracking_carrier"] = shipment.carrier
        for invoice in sale.invoices:
            if invoice.credit_note or not invoice.number:
                continue
            custom["invoice_number"] = invoice.number
            if self.options.invoice_note != "none":
                custom[f"note:invoice-{invoice.key}"] = f"Invoice {invoice.number}"
                custom[f"note_customer:invoice-{invoice.key}"] = self.options.invoice_note == "customer"
        refunds = [refund for refund in sale.refunds if refund.key.startswith("tryton:")]  # made in the ERP
        if refunds:
            custom["api_refund"] = self.options.refund_payout
        return sale.model_copy(
            update={"status": status, "raw_status": raw, "custom": custom, "refunds": refunds}
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
            digest = fingerprint(wanted.model_dump(include={"status", "raw_status", "custom", "refunds"}))
            previous = seen.get(sale.key)
            if previous and previous.fingerprint == digest:
                result.counts["unchanged"] += 1
                continue
            items.append(WriteItem(order_link.source_key, wanted, {"id": order_link.source_key}))
            digests[order_link.source_key] = (sale.key, previous.fingerprint if previous else None)
        if not items:
            return result
        for outcome in await self.shop.write("order", items, []):
            sale_key, before = digests[outcome.key]
            if outcome.ok:
                after = fingerprint(
                    next(i for i in items if i.key == outcome.key).record.model_dump(
                        include={"status", "raw_status", "custom", "refunds"}
                    )
                )
                result.links.append(
                    Link(self.flow.name, SALE, sale_key, {"order": outcome.key}, outcome.key, after, "synced")
                )
                result.journal.append(
                    JournalEntry(
                        self.flow.name,
                        SALE,
                        sale_key,
                        "updated",
                        reason,
                        before,
                        after,
                        {"order": outcome.key},
                    )
                )
                result.counts["updated"] += 1
            elif isinstance(outcome.error, Retryable):
                result.retry.append((sale_key, str(outcome.error), outcome.error.after))
            else:
                error = (
                    outcome.error if isinstance(outcome.error, Permanent) else Permanent(str(outcome.error))
                )
                result.dead.append(
                    DeadLetter(
                        self.flow.name,
                        SALE,
                        sale_key,
                        str(error),
                        error.field,
                        f"sale for order {outcome.key}",
                    )
                )
                result.counts["failed"] += 1
        return result
