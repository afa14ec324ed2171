"""WooCommerce order, refund, note and customer payloads <-> canonical records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.woocommerce.mapping import MappingError
from emporion.connectors.woocommerce.order_mapping import (
    customer_from_order,
    customer_from_wc,
    order_from_wc,
    status_from_wc,
    status_to_wc,
)
from emporion.connectors.woocommerce.order_meta import (
    meta_changes,
    note_ids,
    note_marker,
    note_to_wc,
    wanted_meta,
)
from emporion.connectors.woocommerce.refund_mapping import refund_from_wc, refund_keys, refund_to_wc
from emporion.model import (
    Address,
    Invoice,
    OrderNote,
    OrderStatus,
    PaymentState,
    Refund,
    RefundLine,
    RefundOrigin,
    Shipment,
)

PAYLOADS = Path("/work/shared/payloads/woocommerce")


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def test_published_order_reads_without_loss() -> None:
    order = order_from_wc(payload("order.json"), [payload("order-refund.json")])
    assert (order.key, order.number, order.status, order.raw_status, order.currency) == (
        "727",
        "727",
        OrderStatus.PROCESSING,
        "processing",
        "USD",
    )
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.modified_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.customer.key == "guest:john.doe@example.com"
    assert order.customer.guest and order.customer.email == "john.doe@example.com"
    assert order.billing == Address(
        first_name="John",
        last_name="Doe",
        street="969 Market",
        city="San Francisco",
        postcode="94103",
        state="CA",
        country="US",
        email="john.doe@example.com",
        phone="(555) 555-5555",
    )
    assert order.shipping.street == "969 Market" and order.shipping.email == ""
    first, second = order.lines
    assert (first.key, first.sku, first.quantity, first.unit_price, first.total, first.tax) == (
        "315",
        "",
        Decimal(2),
        Decimal("3.00"),
        Decimal("6.00"),
        Decimal("0.45"),
    )
    assert first.product_key == "93" and first.subtotal == Decimal("6.00")
    assert (second.sku, second.product_key, second.unit_price, second.name) == (
        "Bar3",
        "23",
        Decimal("12.00"),
        "Ship Your Idea \u2013 Color: Black, Size: M Test",  # `&ndash;` in the shop's answer
    )
    assert [(s.method, s.title, s.total) for s in order.shipping_lines] == [
        ("flat_rate", "Flat Rate", Decimal("10.00"))
    ]
    assert (order.discount_total, order.shipping_total, order.tax_total, order.total) == (
        Decimal("0.00"),
        Decimal("10.00"),
        Decimal("1.35"),
        Decimal("29.35"),
    )
    assert order.paid and not order.prices_include_tax and order.coupons == []
    assert order.payment is not None
    assert (order.payment.method, order.payment.method_title, order.payment.amount) == (
        "bacs",
        "Direct Bank Transfer",
        Decimal("29.35"),
    )
    assert order.payment.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.custom == {}  # only WooCommerce's own "_" meta
    assert [(r.key, r.amount, r.restock) for r in order.refunds] == [("726", Decimal("10.00"), False)]
    assert order.refunds[0].origin is RefundOrigin.SHOP and not order.refunds[0].payout
    assert order.payment_state is PaymentState.PARTIALLY_REFUNDED and order.hold is None


def test_line_price_is_read_exactly_when_quantity_is_zero() -> None:
    data = payload("order.json")
    data["line_items"][0].update(quantity=0, subtotal="0.00", price=0.1)
    assert order_from_wc(data).lines[0].unit_price == Decimal("0.1")


def test_registered_customer_and_unknown_status() -> None:
    data = payload("order.json")
    data.update(
        customer_id=25, status="shipped-partially", date_paid_gmt=None, coupon_lines=[{"code": "X10"}]
    )
    data["billing"]["email"] = "John.Doe@Example.com"
    data["meta_data"].append({"id": 1, "key": "tracking_number", "value": "1Z999"})
    order = order_from_wc(data)
    assert order.customer.key == "25" and not order.customer.guest
    assert (order.status, order.raw_status) == (OrderStatus.ON_HOLD, "shipped-partially")
    assert not order.paid and order.coupons == ["X10"]
    assert order.custom == {}  # the tracking meta emporion writes reads back as a shipment
    assert [(s.tracking_numbers, s.carrier) for s in order.shipments] == [(["1Z999"], "")]
    assert order.hold is not None and "shipped-partially" in order.hold.reason
    assert order.payment_state is PaymentState.UNPAID
    assert customer_from_order({**data, "customer_id": 0}).key == "guest:john.doe@example.com"


def test_published_customer_reads() -> None:
    customer = customer_from_wc(payload("customer.json"))
    assert (customer.key, customer.email, customer.first_name, customer.guest) == (
        "25",
        "john.doe@example.com",
        "John",
        False,
    )
    assert customer.phone == "(555) 555-5555" and customer.billing is not None  # contact on the customer
    assert (customer.billing.city, customer.billing.phone, customer.billing.email) == (
        "San Francisco",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("wc", "canonical"),
    [
        ("pending", OrderStatus.PENDING),
        ("on-hold", OrderStatus.ON_HOLD),
        ("processing", OrderStatus.PROCESSING),
        ("completed", OrderStatus.COMPLETED),
        ("cancelled", OrderStatus.CANCELLED),
        ("refunded", OrderStatus.REFUNDED),
        ("failed", OrderStatus.FAILED),
        ("checkout-draft", OrderStatus.DRAFT),
    ],
)
def test_statuses_both_ways(wc: str, canonical: OrderStatus) -> None:
    assert status_from_wc(wc) is canonical
    assert status_to_wc(canonical) == wc


def test_shipped_is_written_as_processing() -> None:
    assert status_to_wc(OrderStatus.SHIPPED) == "processing"


def test_refund_lines_are_positive_and_keep_the_emporion_key() -> None:
    data = payload("order-refund.json")
    data["meta_data"] = [
        {"id": 1, "key": "_emporion_refund", "value": "R-7"},
        {"id": 2, "key": "_emporion_restock", "value": "yes"},
    ]
    data["line_items"] = [
        {
            "id": 900,
            "sku": "Bar3",
            "quantity": -1,
            "total": "-12.00",
            "meta_data": [{"id": 3, "key": "_refunded_item_id", "value": "316"}],
        }
    ]
    refund = refund_from_wc(data)
    assert (refund.key, refund.amount, refund.restock) == ("R-7", Decimal("10.00"), True)
    assert refund.origin is RefundOrigin.ERP  # emporion only ever writes refunds made in the ERP
    assert refund.lines == [
        RefundLine(line_key="316", sku="Bar3", quantity=Decimal(1), amount=Decimal("12.00"))
    ]
    assert refund.created_at == datetime(2017, 3, 21, 20, 7, 11, tzinfo=UTC)
    assert refund_keys([data]) == {"726", "R-7"}


def test_refund_body_names_lines_and_marks_the_key() -> None:
    refund = Refund(
        key="R-1",
        amount=Decimal("12.5"),
        reason="damaged",
        restock=True,
        lines=[RefundLine(line_key="316", quantity=Decimal(1), amount=Decimal("12.5"))],
    )
    body = refund_to_wc(refund)
    assert body["amount"] == "12.50" and body["api_refund"] is False and body["api_restock"] is True
    assert body["line_items"] == [{"id": 316, "quantity": 1, "refund_total": "12.50"}]
    assert {"key": "_emporion_refund", "value": "R-1"} in body["meta_data"]
    paid_out = refund_to_wc(refund.model_copy(update={"payout": True, "origin": RefundOrigin.ERP}))
    assert paid_out["api_refund"] is True
    assert {"key": "_emporion_origin", "value": "erp"} in paid_out["meta_data"]
    assert refund_from_wc({"id": 9, **paid_out}).origin is RefundOrigin.ERP


def test_notes_and_meta_from_explicit_fields() -> None:
    order = order_from_wc(payload("order.json")).model_copy(
        update={
            "notes": [OrderNote(key="ship-1", text="Shipped with DHL: 1Z999", customer_visible=True)],
            "shipments": [
                Shipment(key="1", carrier="UPS", tracking_numbers=["OLD"]),
                Shipment(key="2", carrier="DHL", tracking_numbers=["1Z999", "1Z998"]),
            ],
            "invoices": [Invoice(key="7", number="INV-7"), Invoice(key="8", number="CN-8", credit_note=True)],
            "reference": "SO-0042",
            "custom": {"weight": Decimal("1.50")},
        }
    )
    assert note_to_wc(order.notes[0]) == {
        "note": "Shipped with DHL: 1Z999",
        "customer_note": True,
    }  # no marker
    private = OrderNote(key="invoice-7", text="Invoice INV-7")
    assert note_to_wc(private) == {"note": "Invoice INV-7" + note_marker("invoice-7"), "customer_note": False}
    assert wanted_meta(order) == {
        "weight": Decimal("1.50"),
        "erp_reference": "SO-0042",
        "tracking_number": "1Z999, 1Z998",
        "tracking_carrier": "DHL",
        "invoice_number": "INV-7",
    }
    have = [
        {"id": 1, "key": "tracking_number", "value": "1Z999, 1Z998"},
        {"id": 2, "key": "weight", "value": "1.50"},
        {"id": 3, "key": "tracking_carrier", "value": "DHL"},
        {"id": 4, "key": "erp_reference", "value": "SO-0042"},
    ]
    assert meta_changes(order, have) == [{"key": "invoice_number", "value": "INV-7"}]
    written = {
        **payload("order.json"),
        "meta_data": [*have, {"id": 5, "key": "invoice_number", "value": "INV-7"}],
    }
    reread = order_from_wc(written)  # what was written reads back as the same fields: nothing to write again
    assert reread.reference == "SO-0042" and reread.custom == {"weight": "1.50"}
    assert [(s.carrier, s.tracking_numbers) for s in reread.shipments] == [("DHL", ["1Z999", "1Z998"])]
    assert meta_changes(reread, written["meta_data"]) == []


def test_note_marker_is_recognised_in_the_published_note_shape() -> None:
    note = payload("order-note.json")
    assert note_ids([note]) == set()
    note["note"] = "Shipped: 1Z999" + note_marker("ship-1")
    assert note_ids([note]) == {"ship-1"}


def test_raw_status_is_written_only_when_it_reads_as_the_status() -> None:
    assert status_to_wc(OrderStatus.ON_HOLD, "shipped") == "shipped"  # a plugin status, asked for
    assert status_to_wc(OrderStatus.ON_HOLD, "processing") == "on-hold"  # a stale raw status is ignored
    assert status_to_wc(OrderStatus.COMPLETED, "wc-completed") == "completed"


def test_refund_naming_a_foreign_line_is_refused() -> None:
    refund = Refund(key="tryton:5", amount=Decimal(1), lines=[RefundLine(line_key="sale-line-9")])
    with pytest.raises(MappingError) as caught:
        refund_to_wc(refund)
    assert caught.value.field == "refunds" and "sale-line-9" in str(caught.value)
