"""Order rules that need no system: totals, customer keys, fingerprints, and what feedback sends."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.config import FlowSettings
from emporion.connectors.base import Permanent
from emporion.engine.feedback import OrderFeedback
from emporion.engine.orders import check_totals, customer_key, intake_fingerprint, reference_prefix
from emporion.engine.validation import check_order, check_text, text_problem
from emporion.model import (
    Address,
    Customer,
    FeeLine,
    Invoice,
    Order,
    OrderLine,
    OrderNote,
    OrderStatus,
    PaymentState,
    Refund,
    RefundOrigin,
    Shipment,
)


def flow(**orders: Any) -> FlowSettings:
    return FlowSettings.model_validate(
        {"name": "shop-de", "source": "shop", "target": "erp", "entities": ["order"], "orders": orders}
    )


def order(**fields: Any) -> Order:
    base: dict[str, Any] = {
        "key": "41",
        "number": "41",
        "status": OrderStatus.PROCESSING,
        "currency": "EUR",
        "customer": Customer(key="guest:ann@example.com", email="Ann@Example.com", guest=True),
        "billing": Address(email="ann@example.com"),
        "lines": [
            OrderLine(key="1", sku="SKU-1", quantity=Decimal(2), unit_price=Decimal(10), total=Decimal(18)),
            OrderLine(key="2", sku="SKU-2", quantity=Decimal(1), unit_price=Decimal(5), total=Decimal(5)),
        ],
        "shipping_total": Decimal("4.90"),
        "tax_total": Decimal("5.30"),
        "total": Decimal("33.20"),
    }
    return Order(**{**base, **fields})


def test_totals_within_tolerance_and_errors_name_the_field() -> None:
    check_totals(order(), Decimal("0.01"))
    fee = FeeLine(key="f", name="Gift wrap", total=Decimal("2.50"), tax=Decimal("0.48"))
    allowance = FeeLine(key="a", name="Loyalty", total=Decimal("-5.00"))
    check_totals(order(fees=[fee, allowance], total=Decimal("30.70")), Decimal(0))
    check_totals(order(total=Decimal("33.24")), Decimal("0.05"))
    with pytest.raises(Permanent) as caught:
        check_totals(order(total=Decimal("40.00")), Decimal("0.05"))
    assert caught.value.field == "total" and caught.value.record == "order 41"
    bad_line = OrderLine(key="9", sku="SKU-1", quantity=Decimal(0), unit_price=Decimal(1), total=Decimal(0))
    with pytest.raises(Permanent) as caught:
        check_totals(order(lines=[bad_line], total=Decimal("10.20")), Decimal("0.05"))
    assert caught.value.field == "lines[0].quantity" and caught.value.record == "order 41 line 9"


def line(**fields: Any) -> OrderLine:
    base: dict[str, Any] = {"key": "7", "sku": "SKU-1", "quantity": 1, "unit_price": 10, "total": 10}
    return OrderLine(**{**base, **fields})


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ({"lines": [line(sku="")]}, "lines[0].sku", "line has no SKU"),
        ({"lines": [line(quantity=0)]}, "lines[0].quantity", "absurd quantity 0"),
        ({"lines": [line(quantity=-3)]}, "lines[0].quantity", "absurd quantity -3"),
        ({"lines": [line(quantity=Decimal("0.5"))]}, "lines[0].quantity", "fractional quantity 0.5"),
        ({"lines": [line(quantity=10**9)]}, "lines[0].quantity", "absurd quantity 1000000000"),
        ({"lines": [line(unit_price=-1)]}, "lines[0].unit_price", "invalid price -1"),
        ({"lines": [line(total=Decimal("-0.01"))]}, "lines[0].total", "invalid price -0.01"),
        ({"lines": [line(tax_class="reduced-rate")]}, "lines[0].tax_class", "'reduced-rate' has no ERP tax"),
        ({"total": Decimal(-1)}, "total", "invalid amount -1"),
        ({"billing": Address(email="a@b.example", city="K\udcf6ln")}, "billing.city", "lone surrogate"),
        ({"shipping": Address(street="Main\x00St")}, "shipping.street", "U+0000"),
        ({"customer_note": "ok \ufffd"}, "customer_note", "U+FFFD"),
    ],
)
def test_order_checks_name_the_field(bad: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(Permanent) as caught:
        check_order(order(**bad), {"": "VAT 19%"})
    assert caught.value.field == field and reason in caught.value.reason
    assert (caught.value.record or "").startswith("order 41")


def test_clean_orders_and_mapped_tax_classes_pass() -> None:
    check_order(order(), {})
    check_order(order(lines=[line(tax_class="reduced-rate")]), {"reduced-rate": "VAT 7%"})
    check_order(order(customer_note="Bitte klingeln.\nDanke!\tZürich"), {})


def test_text_problems() -> None:
    assert text_problem("Müller, Zürich\n") is None
    assert "U+001B" in (text_problem("\x1b[31m") or "")
    with pytest.raises(Permanent) as caught:
        check_text({"attributes": {"Colour": ["red", "bl\x07ue"]}}, "SKU-1")
    assert caught.value.field == "attributes.Colour[1]" and caught.value.record == "SKU-1"


def test_customer_key_is_the_lower_case_email_or_the_order() -> None:
    assert customer_key(flow(), order()) == "ann@example.com"
    assert customer_key(flow(customer_match="none"), order()) == "order:41"
    nobody = order(customer=Customer(key="guest:", email=""), billing=Address())
    with pytest.raises(Permanent) as caught:
        customer_key(flow(), nobody)
    assert caught.value.field == "billing.email"


def test_intake_fingerprint_ignores_what_the_erp_does_not_care_about() -> None:
    assert intake_fingerprint(order()) == intake_fingerprint(
        order(customer_note="ring twice", modified_at=None)
    )
    assert intake_fingerprint(order()) != intake_fingerprint(order(status=OrderStatus.CANCELLED))
    assert intake_fingerprint(order()) != intake_fingerprint(order(payment_state=PaymentState.PAID))
    assert intake_fingerprint(order(payment_state=PaymentState.PAID)) == intake_fingerprint(
        order(payment_state=PaymentState.PARTIALLY_REFUNDED)
    )
    assert intake_fingerprint(order()) != intake_fingerprint(
        order(refunds=[Refund(key="5", amount=Decimal(5))])
    )


def test_reference_prefix_default_and_configured() -> None:
    assert reference_prefix(flow()) == "SHOP-DE-"
    assert reference_prefix(flow(reference_prefix="DE")) == "DE"


def test_feedback_maps_status_and_writes_one_note_per_tracking_number_and_invoice() -> None:
    feedback = OrderFeedback(flow(tracking_note="customer", invoice_note="private"), None, None, None)  # type: ignore[arg-type]
    sale = order(
        key="900",
        number="SO-900",
        reference="SHOP-DE-41",
        status=OrderStatus.COMPLETED,
        shipments=[Shipment(key="7", carrier="DHL", tracking_numbers=["JJD0001"], state="done")],
        invoices=[Invoice(key="3", number="INV-3"), Invoice(key="4", number="CN-4", credit_note=True)],
        refunds=[
            Refund(key="tryton:12", origin=RefundOrigin.ERP, amount=Decimal(5)),
            Refund(key="55", amount=Decimal(3)),
        ],
    )
    assert feedback.shop_number(sale) == "41"
    assert feedback.shop_number(sale.model_copy(update={"reference": "SHOP-DE-41/R55"})) is None
    assert feedback.shop_number(sale.model_copy(update={"reference": "OTHER-41"})) is None
    wanted = feedback.desired(sale)
    assert wanted.status is OrderStatus.COMPLETED
    assert wanted.notes == [
        OrderNote(key="ship-7", text="Shipped with DHL: tracking number JJD0001", customer_visible=True),
        OrderNote(key="invoice-3", text="Invoice INV-3", customer_visible=False),
    ]  # credit notes are not invoices to announce
    assert [(s.key, s.carrier, s.tracking_numbers) for s in wanted.shipments] == [("7", "DHL", ["JJD0001"])]
    assert [i.number for i in wanted.invoices] == ["INV-3"] and wanted.reference == "SO-900"
    assert wanted.custom == {}  # nothing travels as a system's keys
    assert [(r.key, r.payout) for r in wanted.refunds] == [
        ("tryton:12", False)
    ]  # refunds that came from the shop are not sent back; the flow does not pay out
    paying = OrderFeedback(flow(refund_payout=True, tracking_note="none"), None, None, None)  # type: ignore[arg-type]
    quiet = paying.desired(sale)
    assert [r.payout for r in quiet.refunds] == [True]
    assert quiet.shipments == [] and [n.key for n in quiet.notes] == ["invoice-3"]
    mapped = OrderFeedback(
        flow(statuses={"shipped": "completed", "completed": "my-plugin-status"}), None, None, None
    )  # type: ignore[arg-type]
    odd = mapped.desired(sale)
    assert odd.status is OrderStatus.ON_HOLD and odd.raw_status == "my-plugin-status"


def test_status_names_of_older_configurations_read_as_emporions() -> None:
    options = flow(
        import_statuses=["processing", "on-hold", "awaiting-pickup"],
        statuses={"on-hold": "on-hold", "pending": "awaiting-pickup"},
    ).orders
    assert options.import_statuses == ["processing", "on_hold", "awaiting-pickup"]
    assert options.statuses == {"on_hold": "on_hold", "pending": "awaiting-pickup"}
    assert flow().orders.statuses["on_hold"] == "on_hold" and "on_hold" in flow().orders.import_statuses
    assert OrderStatus("on-hold") is OrderStatus.ON_HOLD  # records stored with the older spelling
    held = OrderFeedback(flow(statuses={"completed": "on-hold"}), None, None, None)  # type: ignore[arg-type]
    wanted = held.desired(order(status=OrderStatus.COMPLETED, reference="SHOP-DE-41"))
    assert (wanted.status, wanted.raw_status) == (OrderStatus.ON_HOLD, "")
