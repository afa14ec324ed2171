"""Tryton sale rows to canonical order parts: status, refund keys, origins, tracking numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from emporion.connectors.tryton.returns import return_reference
from emporion.connectors.tryton.sales_read import SaleFacts, order_status, origin_sale, refund_key
from emporion.model.orders import OrderStatus, RefundOrigin


@pytest.mark.parametrize(
    ("sale_state", "shipments", "expected"),
    [
        ("draft", [], OrderStatus.PENDING),
        ("quotation", [], OrderStatus.PENDING),
        ("confirmed", [], OrderStatus.PROCESSING),
        ("processing", ["waiting"], OrderStatus.PROCESSING),
        ("processing", ["assigned", "packed"], OrderStatus.PROCESSING),
        ("processing", ["done", "waiting"], OrderStatus.SHIPPED),
        ("processing", ["done", "cancelled"], OrderStatus.COMPLETED),
        ("processing", ["done", "done"], OrderStatus.COMPLETED),
        ("processing", ["cancelled"], OrderStatus.CANCELLED),
        ("done", [], OrderStatus.COMPLETED),
        ("done", ["done"], OrderStatus.COMPLETED),
        ("cancelled", [], OrderStatus.CANCELLED),
    ],
)
def test_status_from_sale_and_shipments(sale_state: str, shipments: list[str], expected: OrderStatus) -> None:
    assert order_status(sale_state, shipments) is expected


def test_refund_key_is_the_shop_key_or_the_return_sale_id() -> None:
    reference = return_reference("SHOP-1001", "55")
    assert reference == "SHOP-1001/R55"
    assert refund_key({"id": 9, "reference": reference}, "SHOP-1001") == "55"
    assert refund_key({"id": 9, "reference": None}, "SHOP-1001") == "tryton:9"
    assert refund_key({"id": 9, "reference": "SHOP-1002/R55"}, "SHOP-1001") == "tryton:9"
    assert refund_key({"id": 9, "reference": "SHOP-1001/R"}, "SHOP-1001") == "tryton:9"
    assert refund_key({"id": 9, "reference": "SHOP-1001/R55"}, None) == "tryton:9"


def test_origin_sale_reads_only_sale_origins() -> None:
    assert origin_sale("sale.sale,12") == 12
    assert origin_sale("sale.line,12") is None
    assert origin_sale("sale.sale,") is None
    assert origin_sale(None) is None


def test_shipment_tracking_joins_shipment_and_package_references() -> None:
    facts = SaleFacts(
        lines={},
        shipments={
            1: {
                "state": "done",
                "effective_date": dt.date(2026, 11, 20),
                "carrier.": {"rec_name": "DHL"},
                "shipping_reference": "TRACK-1",
                "packages": [5, 6],
            },
            2: {"state": "waiting", "effective_date": None, "shipping_reference": None, "packages": []},
        },
        packages={5: {"shipping_reference": "PKG-5"}, 6: {"shipping_reference": "TRACK-1"}},
        invoices={7: {"number": "INV-7", "state": "posted", "total_amount": Decimal("-5.00")}},
        return_states={},
    )
    done = facts.shipment(1)
    assert done.tracking_numbers == ["TRACK-1", "PKG-5"] and done.carrier == "DHL"
    assert done.tracking == "TRACK-1, PKG-5"
    assert done.shipped_at == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    waiting = facts.shipment(2)
    assert waiting.tracking_numbers == [] and waiting.shipped_at is None
    note = facts.invoice(7)
    assert note.credit_note and note.number == "INV-7" and note.total == Decimal("-5.00")


def test_refund_from_a_return_sale() -> None:
    facts = SaleFacts(
        lines={
            1: {
                "type": "line",
                "product": 3,
                "product.": {"code": "SKU-1"},
                "quantity": -2.0,
                "amount": Decimal("-20"),
            },
            2: {"type": "comment", "product": None, "quantity": None, "amount": None},
        },
        shipments={},
        packages={},
        invoices={8: {"number": "", "state": "draft", "total_amount": Decimal("-23.80")}},
        return_states={4: "done"},
    )
    ret = {
        "id": 30,
        "reference": "SHOP-9/R77",
        "lines": [1, 2],
        "shipment_returns": [4],
        "invoices": [8],
        "total_amount": Decimal("-23.80"),
        "create_date": dt.datetime(2026, 11, 21, 8, 0),
    }
    refund, notes = facts.refund(ret, "SHOP-9")
    assert refund.key == "77" and refund.amount == Decimal("23.80") and refund.restock
    assert refund.origin is RefundOrigin.SHOP  # made for the shop's refund 77
    assert [(line.sku, line.quantity, line.amount, line.restock) for line in refund.lines] == [
        ("SKU-1", Decimal(2), Decimal(20), True)
    ]
    made_here, _ = facts.refund({**ret, "reference": None}, "SHOP-9")
    assert made_here.key == "tryton:30" and made_here.origin is RefundOrigin.ERP
    assert refund.created_at == dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC)
    assert notes == [], "draft credit notes are not reported"
