"""Odoo sales read back as Orders: status mapping, refund keys, fingerprints, and sales from the sandbox."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from emporion.connectors.base import Unmappable, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.sale_feed import fingerprint
from emporion.connectors.odoo.sale_read import odoo_time, order_status, refund_key
from emporion.model.orders import Customer, Order, OrderStatus
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import OPTIONS, connector, order, partner, stocked, tag

__all__ = ["connector"]


def test_a_sale_state_and_its_deliveries_give_the_order_status() -> None:
    """Quotations are pending; a confirmed sale is processing, shipped when some delivery is done, completed
    when all are; cancelled deliveries do not count; a cancelled sale is cancelled."""
    assert order_status("draft", []) is OrderStatus.PENDING
    assert order_status("sent", []) is OrderStatus.PENDING
    assert order_status("sale", ["assigned"]) is OrderStatus.PROCESSING
    assert order_status("sale", ["done", "assigned"]) is OrderStatus.SHIPPED
    assert order_status("sale", ["done", "cancel"]) is OrderStatus.COMPLETED
    assert order_status("done", []) is OrderStatus.COMPLETED
    assert order_status("cancel", ["cancel"]) is OrderStatus.CANCELLED


def test_a_credit_note_keeps_the_shop_refund_key_else_is_keyed_by_odoo() -> None:
    """`<reference>/R<key>` gives the shop's key back; any other ref is a credit note made in Odoo."""
    assert refund_key({"id": 7, "ref": "WC-100/R55"}, "WC-100") == "55"
    assert refund_key({"id": 7, "ref": "WC-1000/R55"}, "WC-100") == "odoo:7"
    assert refund_key({"id": 8, "ref": False}, "WC-100") == "odoo:8"
    assert refund_key({"id": 9, "ref": "WC-100/R"}, "WC-100") == "odoo:9"


def test_odoo_datetimes_are_utc() -> None:
    """Odoo writes naive UTC stamps; they read back as aware UTC datetimes, False as None."""
    moment = odoo_time("2026-03-01 10:20:30")
    assert moment is not None and moment.utcoffset() is not None and moment.hour == 10
    assert odoo_time(False) is None


def test_a_fingerprint_ignores_when_odoo_stamped_the_sale_but_not_what_changed() -> None:
    """A rewrite that only bumps write_date keeps the fingerprint; a new tracking number does not."""
    order = Order(
        key="1",
        number="S00001",
        status=OrderStatus.PROCESSING,
        currency="EUR",
        customer=Customer(key="3", email="a@example.com"),
        total=Decimal("20.00"),
        modified_at=odoo_time("2026-03-01 10:00:00"),
    )
    later = order.model_copy(update={"modified_at": odoo_time("2026-03-01 11:00:00")})
    shipped = order.model_copy(update={"status": OrderStatus.COMPLETED})
    assert fingerprint(order) == fingerprint(later)
    assert fingerprint(order) != fingerprint(shipped)


async def test_a_sale_reads_back_with_its_delivery_tracking_and_invoice(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Shipped with a tracking number and invoiced in Odoo: completed, the tracking, the invoice number."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku)
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.target_ref, outcome.error
    sale_id = int(outcome.target_ref["id"])
    (pending,) = await connector.read("order", [str(sale_id)])
    assert isinstance(pending, Order) and pending.status is OrderStatus.PROCESSING
    assert pending.reference == shop.reference and pending.total == Decimal("29.63")
    assert [line.sku for line in pending.lines] == [sku] and pending.shipping_total == Decimal("4.90")
    assert pending.customer.email == f"{label}@example.com" and pending.billing.country == "DE"
    odoo_sandbox.sandbox.ship(sale_id, tracking="1Z999")
    invoice = odoo_sandbox.sandbox.invoice(sale_id)
    (done,) = await connector.read("order", [str(sale_id)])
    assert isinstance(done, Order) and done.status is OrderStatus.COMPLETED
    (shipment,) = done.shipments
    assert (
        shipment.tracking_numbers == ["1Z999"]
        and shipment.carrier == "Standard delivery"
        and shipment.shipped_at
    )
    (bill,) = done.invoices
    assert (
        bill.key == str(invoice) and bill.number and bill.total == Decimal("29.63") and not bill.credit_note
    )


async def test_a_sale_cancelled_in_odoo_reads_cancelled_and_a_gone_key_is_left_out(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Cancelled through Odoo's wizard: cancelled; an unknown id is absent; a non-number a dead letter."""
    label = tag()
    shop = order(label, await partner(connector, f"{label}@example.com"), stocked(odoo_sandbox, label))
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.target_ref, outcome.error
    odoo_sandbox.sandbox.cancel_sale(int(outcome.target_ref["id"]))
    records = await connector.read("order", [str(outcome.target_ref["id"]), "999999", "x1"])
    cancelled = [r for r in records if isinstance(r, Order)]
    assert [o.status for o in cancelled] == [OrderStatus.CANCELLED]
    assert [r.key for r in records if isinstance(r, Unmappable)] == ["x1"]


async def test_the_feed_reports_a_new_sale_and_a_shipment_but_not_a_rewrite_that_changed_nothing(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A sale made after the start is reported; a no-op write (Odoo bumps write_date) is not; shipping is."""
    start = await connector.changes("order", None)
    label = tag()
    shop = order(label, await partner(connector, f"{label}@example.com"), stocked(odoo_sandbox, label))
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.target_ref, outcome.error
    sale_id = int(outcome.target_ref["id"])
    first = await connector.changes("order", start.cursor)
    assert str(sale_id) in first.keys
    odoo_sandbox.sandbox.write("sale.order", [sale_id], {"client_order_ref": shop.reference})
    quiet = await connector.changes("order", first.cursor)
    assert str(sale_id) not in quiet.keys
    odoo_sandbox.sandbox.ship(sale_id, tracking="TRK-9")
    shipped = await connector.changes("order", quiet.cursor)
    assert str(sale_id) in shipped.keys
    scanned = [record.key async for page in connector.scan("order") for record in page]
    assert str(sale_id) in scanned


async def test_a_feed_started_now_never_reports_a_sale_changed_before_it_started(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """The overlap window re-reads recent rows, but never reaches back before a feed's start."""
    label = tag()
    shop = order(label, await partner(connector, f"{label}@example.com"), stocked(odoo_sandbox, label))
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.target_ref, outcome.error
    await asyncio.sleep(1.1)  # Odoo stamps whole seconds: the sale is older than the feed
    start = await connector.changes("order", None)
    first = await connector.changes("order", start.cursor)
    second = await connector.changes("order", first.cursor)
    assert str(outcome.target_ref["id"]) not in {*first.keys, *second.keys}
