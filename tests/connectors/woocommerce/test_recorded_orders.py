"""Orders recorded from a real WooCommerce 10.0.2 read into the neutral order contract without loss."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.config import OrderOptions
from emporion.connectors.base import Permanent
from emporion.connectors.woocommerce.mapping import parse_gmt
from emporion.connectors.woocommerce.order_mapping import order_from_wc
from emporion.engine.order_admission import with_deleted_products
from emporion.engine.orders import check_totals
from emporion.engine.validation import check_order
from emporion.model import (
    DiscountLine,
    FeeLine,
    Order,
    Payment,
    PaymentKind,
    PaymentState,
    RefundLine,
    RefundOrigin,
    TaxLine,
)

RECORDED = Path(__file__).parents[2] / "data" / "woocommerce-10.0.2"
TAXES = {"": "VAT 19%", "reduced-rate": "VAT 7%"}
ORDER_EXCHANGES = (2, 3, 11)  # order A (REST), order B (REST, fees), order C (Store API checkout)


def exchanges(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((RECORDED / name).read_text())["exchanges"]
    return data


def recorded_order(name: str, index: int) -> Order:
    return order_from_wc(exchanges(name)[index]["response"]["body"])


@pytest.mark.parametrize(
    "name", ["orders-taxes-off.json", "orders-taxes-excl.json", "orders-taxes-incl.json"]
)
@pytest.mark.parametrize("index", ORDER_EXCHANGES)
def test_every_recorded_order_passes_the_checks_to_the_cent(name: str, index: int) -> None:
    order = recorded_order(name, index)
    check_order(order, TAXES)
    check_totals(order, Decimal(0))  # fees (one negative) and coupons included, nothing off by a cent
    assert order.prices_include_tax is (name == "orders-taxes-incl.json")


def test_fees_coupons_tax_lines_and_shipping_tax_with_prices_excluding_tax() -> None:
    order = recorded_order("orders-taxes-excl.json", 3)
    assert order.key == "105" and order.payment_state is PaymentState.PAID
    assert order.fees == [
        FeeLine(key="30", name="Geschenkverpackung", total=Decimal("2.50"), tax=Decimal("0.48")),
        FeeLine(key="31", name="Treuerabatt", total=Decimal("-5.00"), tax=Decimal("-0.72")),
    ]
    assert order.discounts == [DiscountLine(code="pct10", amount=Decimal("6.99"), tax=Decimal("0.97"))]
    assert order.coupons == ["pct10"]
    assert order.tax_lines == [
        TaxLine(
            key="32",
            code="DE-MWST. 19 %-1",
            label="MwSt. 19 %",
            rate_percent=Decimal(19),
            tax_total=Decimal("6.74"),
            shipping_tax_total=Decimal("0.93"),
        ),
        TaxLine(
            key="33",
            code="DE-MWST. 7 %-1",
            label="MwSt. 7 %",
            rate_percent=Decimal(7),
            tax_total=Decimal("1.75"),
            shipping_tax_total=Decimal(0),
        ),
    ]
    assert [(s.key, s.total, s.tax) for s in order.shipping_lines] == [
        ("29", Decimal("4.90"), Decimal("0.93"))
    ]
    assert (order.shipping_tax, order.discount_total, order.discount_tax) == (
        Decimal("0.93"),
        Decimal("6.99"),
        Decimal("0.97"),
    )
    rates = sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))
    assert rates == order.tax_total == Decimal("9.42")


def test_prices_including_tax_keep_the_shops_cent_differences() -> None:
    order = recorded_order("orders-taxes-incl.json", 3)
    assert order.prices_include_tax and order.lines[0].subtotal == Decimal("33.60")  # net, 2 x 19.99 gross
    assert order.discounts == [DiscountLine(code="pct10", amount=Decimal("6.15"), tax=Decimal("0.84"))]
    assert (order.discount_total, order.discount_tax) == (Decimal("6.16"), Decimal("0.83"))  # as recorded
    assert [(fee.total, fee.tax) for fee in order.fees] == [
        (Decimal("2.50"), Decimal("0.47")),
        (Decimal("-5.00"), Decimal("-0.70")),
    ]


def test_coupon_amounts_without_decimals_and_a_store_api_cod_order() -> None:
    rest = recorded_order("orders-taxes-off.json", 2)
    assert rest.discounts == [DiscountLine(code="fix25", amount=Decimal(25), tax=Decimal(0))]
    assert rest.tax_lines == [] and rest.fees == []
    store = recorded_order("orders-taxes-off.json", 11)
    assert store.payments == [
        Payment(
            kind=PaymentKind.METHOD, method="cod", method_title="Cash on delivery", amount=Decimal("19.87")
        )
    ]


def test_refunds_with_lines_shipping_fees_money_only_and_restock_from_the_order_line() -> None:
    recorded = exchanges("order-refunds.json")
    order_after, refunds = recorded[8]["response"]["body"], recorded[6]["response"]["body"]
    order = order_from_wc(order_after, refunds)
    assert order.payment_state is PaymentState.PARTIALLY_REFUNDED
    by_key = {refund.key: refund for refund in order.refunds}
    assert [refund.key for refund in order.refunds] == ["115", "114", "113"]  # as the shop lists them
    lines = by_key["113"]
    assert lines.lines == [
        RefundLine(
            line_key="27",  # the order line (`_refunded_item_id`), not the refund's own line id
            sku="REC-STD",
            quantity=Decimal(1),
            amount=Decimal("17.99"),
            tax=Decimal("3.42"),
            restock=True,  # the order line says `_restock_refunded_items: "1"`
        )
    ]
    assert lines.restock and lines.amount == Decimal("21.41") and lines.reason == "Artikel beschädigt"
    parts = by_key["114"]
    assert (parts.shipping, parts.shipping_tax, parts.fees, parts.fees_tax) == (
        Decimal("4.90"),
        Decimal("0.93"),
        Decimal("2.50"),
        Decimal("0.48"),
    )
    assert parts.lines == [] and not parts.restock and parts.amount == Decimal("8.81")
    money = by_key["115"]
    assert (money.amount, money.lines, money.restock) == (Decimal("5.00"), [], False)
    for refund in order.refunds:
        assert refund.origin is RefundOrigin.SHOP and refund.payout is False  # `refunded_payment: false`
    check_totals(order, Decimal(0))  # refunds do not change what the order was


def test_totals_errors_name_fees_discounts_gift_cards_and_store_credit() -> None:
    order = recorded_order("orders-taxes-excl.json", 3)
    with pytest.raises(Permanent) as caught:
        check_totals(order.model_copy(update={"fees": order.fees[:1]}), Decimal("0.05"))
    assert caught.value.field == "total" and "fees 2.50" in caught.value.reason
    assert "gift cards 0" in caught.value.reason and "store credit 0" in caught.value.reason
    outside = DiscountLine(code="STAFF", amount=Decimal("10.00"), in_line_totals=False)
    check_totals(
        order.model_copy(update={"discounts": [*order.discounts, outside], "total": order.total - 10}),
        Decimal(0),
    )
    paid = [
        Payment(kind=PaymentKind.GIFT_CARD, code="GC-1", amount=Decimal("60")),
        Payment(kind=PaymentKind.STORE_CREDIT, amount=Decimal("20")),
    ]
    with pytest.raises(Permanent) as caught:
        check_totals(order.model_copy(update={"payments": paid}), Decimal("0.05"))
    assert caught.value.field == "payments"
    assert "gift cards 60 + store credit 20" in caught.value.reason


def every_recorded_order() -> list[tuple[str, dict[str, Any]]]:
    """Every full order body in the recordings: REST answers and the webhook deliveries' bodies."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(RECORDED.glob("*.json")):
        data = json.loads(path.read_text())
        bodies = [exchange["response"]["body"] for exchange in data.get("exchanges", [])]
        bodies += [
            json.loads(d["body_raw"])
            for d in data.get("deliveries_async", [])
            if "X-WC-Webhook-Topic" in d["headers"]
        ]
        for index, body in enumerate(bodies):
            for order in body if isinstance(body, list) else [body]:
                if isinstance(order, dict) and {"line_items", "total", "billing"} <= set(order):
                    found.append((f"{path.name}[{index}] order {order['id']}", order))
    return found


def test_every_recorded_order_reads_and_its_totals_reconcile_to_the_cent() -> None:
    orders = every_recorded_order()
    assert len(orders) >= 24
    stand_in = OrderOptions(deleted_product_sku="DELETED")  # order 104 lost a line's product
    for label, data in orders:
        order = with_deleted_products(order_from_wc(data), stand_in)
        check_totals(order, Decimal(0))  # fees +/-, coupons "25"/"21.8", tax per rate, inclusive prices
        assert order.total == Decimal(data["total"]), label
        rates = sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))
        assert rates == order.tax_total or not order.tax_lines, label
        assert order.paid is bool(data["date_paid_gmt"]), label  # paid only on the shop's evidence
        assert all("&" not in line.name or "&amp;" not in line.name for line in order.lines), label


def test_the_site_time_zone_does_not_move_an_orders_moments() -> None:
    recorded = exchanges("order-timezone-berlin.json")
    utc_site, berlin_site = recorded[0]["response"]["body"], recorded[2]["response"]["body"]
    assert utc_site["id"] == berlin_site["id"] and utc_site["date_created"] != berlin_site["date_created"]
    assert parse_gmt(utc_site["date_created_gmt"]) == parse_gmt(berlin_site["date_created_gmt"])
