"""Real WooCommerce 10.0.2 orders: paid on the shop's evidence only, gift cards as payments, plain text."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.woocommerce.order_mapping import order_from_wc
from emporion.engine.orders import check_totals
from emporion.model import OrderStatus, Payment, PaymentKind, PaymentState

RECORDED = Path(__file__).parents[2] / "data" / "woocommerce-10.0.2"


def body(name: str, index: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text())["exchanges"][index]["response"]["body"]
    return data


@pytest.mark.parametrize(
    ("index", "status", "method", "state"),
    [
        (0, "on-hold", "bacs", PaymentState.UNPAID),
        (1, "pending", "bacs", PaymentState.UNPAID),
        (2, "processing", "bacs", PaymentState.PAID),  # `set_paid`: the shop dated the payment
        (3, "cancelled", "bacs", PaymentState.PAID),  # cancelling keeps the paid date
        (5, "processing", "cod", PaymentState.UNPAID),  # cash on delivery: processing, not paid
        (7, "processing", "cod", PaymentState.UNPAID),  # the same through a Store API checkout
        (9, "on-hold", "bacs", PaymentState.UNPAID),
        (10, "completed", "cod", PaymentState.PAID),  # completing it dated the payment
    ],
)
def test_paid_only_when_the_shop_dated_the_payment_never_by_status(
    index: int, status: str, method: str, state: PaymentState
) -> None:
    order = order_from_wc(body("orders-statuses-payment.json", index))
    assert (order.raw_status, order.payments[0].method, order.payment_state) == (status, method, state)
    payment = order.payment
    assert payment is not None and (payment.paid_at is not None) is (state is PaymentState.PAID)


def test_a_cash_on_delivery_order_becomes_paid_when_the_shop_says_so() -> None:
    before = order_from_wc(body("orders-statuses-payment.json", 7))
    after = order_from_wc(body("orders-statuses-payment.json", 10))
    assert before.key == after.key and not before.paid and after.paid


def test_an_online_transaction_without_a_paid_date_is_an_authorisation() -> None:
    data = body("orders-statuses-payment.json", 0)
    data.update(payment_method="stripe", transaction_id="pi_3Nabc")
    assert order_from_wc(data).payment_state is PaymentState.AUTHORIZED
    data.update(payment_method="bacs")  # a reference typed into an offline payment proves nothing
    assert order_from_wc(data).payment_state is PaymentState.UNPAID


def gift_card_order() -> dict[str, Any]:
    """The shape that used to fail: lines 18.00, shipping 10.00, no tax, total 4.00 left to pay."""
    data = copy.deepcopy(body("orders-taxes-off.json", 2))
    data["line_items"] = data["line_items"][:1]
    data["line_items"][0].update(quantity=1, subtotal="18.00", total="18.00", price=18)
    data["shipping_lines"][0]["total"] = "10.00"
    data.update(
        shipping_total="10.00", total="4.00", discount_total="0.00", coupon_lines=[], total_tax="0.00"
    )
    return data


def test_gift_cards_in_plugin_meta_are_payments_and_the_grand_total_is_restored() -> None:
    data = gift_card_order()
    data["meta_data"].append({"id": 9, "key": "_ywgc_applied_gift_cards", "value": {"GC-7Q2M": "24.00"}})
    order = order_from_wc(data)
    assert order.total == Decimal("28.00")
    assert order.paid_by(PaymentKind.GIFT_CARD) == Decimal("24.00")
    assert [p.code for p in order.payments if p.kind is PaymentKind.GIFT_CARD] == ["GC-7Q2M"]
    assert order.payment is not None and order.payment.amount == Decimal("4.00")  # what the method took
    check_totals(order, Decimal(0))


def test_a_listed_gift_card_and_store_credit_as_a_negative_fee_are_payments() -> None:
    data = gift_card_order()
    data["gift_cards"] = [{"id": 3, "code": "XMAS-2026", "amount": "20.00"}]
    data["fee_lines"] = [
        {"id": 77, "name": "Store credit", "tax_status": "none", "total": "-4.00", "total_tax": "0.00"}
    ]
    data["total"] = "4.00"  # 28.00 - 4.00 store credit (a fee, inside the total) - 20.00 gift card
    order = order_from_wc(data)
    assert order.fees == []  # not an allowance: a way of paying
    assert order.total == Decimal("28.00")
    assert (order.paid_by(PaymentKind.GIFT_CARD), order.paid_by(PaymentKind.STORE_CREDIT)) == (
        Decimal("20.00"),
        Decimal("4.00"),
    )
    check_totals(order, Decimal(0))


def test_a_negative_fee_that_is_a_discount_stays_a_fee() -> None:
    order = order_from_wc(body("orders-taxes-excl.json", 3))  # "Treuerabatt" -5.00 with its tax
    assert [fee.total for fee in order.fees] == [Decimal("2.50"), Decimal("-5.00")]
    assert [p.kind for p in order.payments] == [PaymentKind.METHOD]


def test_a_gift_card_fee_names_its_code() -> None:
    data = gift_card_order()
    data["fee_lines"] = [{"id": 5, "name": "Gift Card (AB12-CD34)", "total": "-24.00", "total_tax": "0"}]
    order = order_from_wc(data)
    assert order.payments[1:] == [
        Payment(
            kind=PaymentKind.GIFT_CARD,
            method_title="Gift Card (AB12-CD34)",
            code="AB12-CD34",
            amount=Decimal("24.00"),
        )
    ]
    check_totals(order, Decimal(0))


def test_html_entities_never_reach_the_erp() -> None:
    data = copy.deepcopy(body("orders-taxes-excl.json", 3))
    data["line_items"][0]["name"] = "Ship Your Idea &ndash; Color: Black &lt;Variable&gt;"
    data["shipping_lines"][0]["method_title"] = "Ground Advantage&#8482;"
    data["fee_lines"][0]["name"] = "Caf&eacute; &amp; Bar"
    data["shipping"]["company"] = "M&uuml;ller &amp; S&ouml;hne"
    data["customer_note"] = "Bitte &quot;hinten&quot; abstellen"
    order = order_from_wc(data)
    assert order.lines[0].name == "Ship Your Idea \u2013 Color: Black <Variable>"
    assert order.shipping_lines[0].title == "Ground Advantage\u2122"
    assert order.fees[0].name == "Café & Bar"
    assert order.shipping.company == "Müller & Söhne"
    assert order.customer_note == 'Bitte "hinten" abstellen'


def test_a_line_whose_product_was_deleted_reads_without_sku_or_product() -> None:
    before = order_from_wc(body("order-line-deleted-product.json", 0)).lines[2]
    after = order_from_wc(body("order-line-deleted-product.json", 2)).lines[2]
    assert (before.sku, before.product_key) == ("REC-DEL", "96")
    assert (after.key, after.sku, after.product_key, after.name) == ("22", "", None, "Rec Deleted Later")
    assert after.total == before.total


@pytest.mark.parametrize("status", ["partial-payment", "shipped", "awaiting-shipment"])
def test_statuses_emporion_does_not_know_are_holds_naming_the_status(status: str) -> None:
    data = body("orders-statuses-payment.json", 2)
    data["status"] = status
    order = order_from_wc(data)
    assert (order.status, order.raw_status) == (OrderStatus.ON_HOLD, status)
    assert order.hold is not None and repr(status) in order.hold.reason


@pytest.mark.parametrize("status", ["trash", "auto-draft"])
def test_trashed_and_auto_draft_orders_read_as_drafts(status: str) -> None:
    data = body("orders-statuses-payment.json", 2)
    data["status"] = status
    order = order_from_wc(data)
    assert (order.status, order.raw_status, order.hold) == (OrderStatus.DRAFT, status, None)


def test_a_variation_line_showing_its_parents_sku_is_refused_naming_the_line() -> None:
    variations = json.loads((RECORDED / "product-variable-variations.json").read_text())["exchanges"]
    parent = variations[0]["response"]["body"]
    inherited = next(v for v in variations[3]["response"]["body"] if v["sku"] == parent["sku"])
    data = copy.deepcopy(body("orders-taxes-excl.json", 3))
    data["line_items"][1].update(product_id=parent["id"], variation_id=inherited["id"], sku=inherited["sku"])
    assert order_from_wc(data).lines[1].sku == "REC-VAR-1"  # without the parents' SKUs: not seen
    with pytest.raises(Permanent) as caught:
        order_from_wc(data, [], {str(parent["id"]): parent["sku"]})
    assert caught.value.field == "line_items[1].sku" and caught.value.record == "order 105"
    assert f"variation {inherited['id']}" in caught.value.reason and "'REC-VAR-1'" in caught.value.reason
    own = next(v for v in variations[3]["response"]["body"] if v["sku"] not in ("", parent["sku"]))
    data["line_items"][1].update(variation_id=own["id"], sku=own["sku"])
    assert order_from_wc(data, [], {str(parent["id"]): parent["sku"]}).lines[1].sku == own["sku"]
