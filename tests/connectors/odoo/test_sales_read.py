"""Odoo sales read back as Orders: status mapping, refund keys, fingerprints, and sales from the sandbox."""

from __future__ import annotations

from decimal import Decimal

from emporion.connectors.odoo.sale_feed import fingerprint
from emporion.connectors.odoo.sale_read import odoo_time, order_status, refund_key
from emporion.model.orders import Customer, Order, OrderStatus


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
