"""Shop orders as WooCommerce 10.0.2 really sent them become Tryton sales whose total and tax are the shop's.

The orders are the recorded ones (tests/data/woocommerce-10.0.2/orders-taxes-*.json) read through the
WooCommerce order mapping: fixed-cart and percent coupons, fees of both signs, two tax rates, taxed
shipping, prices including tax, a shop that charges no tax. One Tryton serves the whole module.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import Held, OutcomeStatus, WriteItem
from emporion.connectors.roles import SaleOptions
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.connectors.woocommerce.order_mapping import order_from_wc
from emporion.model.orders import (
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentState,
    TaxLine,
)
from tests.connectors.tryton.test_sales_write import create_party, simple_skus
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton

RECORDED = Path(__file__).resolve().parents[2] / "data" / "woocommerce-10.0.2"
TAXES = {"": "VAT 19%", "reduced-rate": "VAT 7%"}
OPTIONS = SaleOptions(warehouse="WH", carriers={"*": "DHL"}, taxes=TAXES, payment_methods={"*": "Card"})


def recorded_orders(name: str) -> dict[int, dict[str, Any]]:
    """The order bodies of one recording, by order id."""
    data = json.loads((RECORDED / f"{name}.json").read_text())
    found = {}
    for exchange in data["exchanges"]:
        body = exchange["response"]["body"]
        if isinstance(body, dict) and "line_items" in body:
            found[body["id"]] = body
    return found


def as_sale(order: Order, party: int, skus: dict[str, str], reference: str) -> Order:
    """The recorded order for this Tryton: its SKUs those of the test catalogue, its customer a party."""
    lines = [line.model_copy(update={"sku": skus.setdefault(line.sku, "")}) for line in order.lines]
    refunds = [
        refund.model_copy(
            update={"lines": [rl.model_copy(update={"sku": skus.get(rl.sku, rl.sku)}) for rl in refund.lines]}
        )
        for refund in order.refunds
    ]
    customer = order.customer.model_copy(update={"key": str(party)})
    values = {"lines": lines, "customer": customer, "reference": reference, "refunds": refunds}
    return order.model_copy(update=values)


@pytest.fixture
async def connector(tryton_server_module: RunningTryton) -> Any:
    conn = tryton_server_module.connector()
    yield conn
    await conn.close()


async def sale_figures(
    server: RunningTryton, sale: int
) -> tuple[str, Decimal, Decimal, list[dict[str, Any]]]:
    (row,) = await server.rpc("sale.sale", "read", [sale], ["state", "total_amount", "tax_amount", "lines"])
    lines = await server.rpc(
        "sale.line",
        "read",
        row["lines"],
        ["product.code", "quantity", "unit_price", "amount", "taxes.name", "description"],
    )
    return row["state"], row["total_amount"], row["tax_amount"], lines


CASES = [
    # (recording, order id, what it shows)
    ("orders-taxes-excl", 104, "fixed-cart coupon capped per line, taxed shipping"),
    ("orders-taxes-excl", 105, "percent coupon, fee +2.50, fee -5.00 spread over two rates"),
    ("orders-taxes-excl", 106, "Store API checkout, fixed-cart coupon over 3 units"),
    ("orders-taxes-incl", 116, "prices including tax, fixed-cart coupon"),
    ("orders-taxes-incl", 117, "prices including tax, fees of both signs, two rates"),
    ("orders-taxes-incl", 118, "prices including tax, Store API"),
    ("orders-taxes-off", 101, "a shop charging no tax: fixed-cart coupon"),
    ("orders-taxes-off", 102, "a shop charging no tax: fees of both signs"),
]


@pytest.mark.parametrize(("recording", "order_id", "shows"), CASES)
async def test_recorded_order_becomes_a_sale_with_the_shops_total_and_tax(
    tryton_server_module: RunningTryton, connector: TrytonConnector, recording: str, order_id: int, shows: str
) -> None:
    body = recorded_orders(recording)[order_id]
    order = order_from_wc(body)
    assert isinstance(order, Order), order
    party = await create_party(connector, f"buyer{order_id}@example.test")
    catalogue = simple_skus(tryton_server_module, 3)
    skus: dict[str, str] = {}
    for line in order.lines:
        skus.setdefault(line.sku, catalogue[len(skus)])
    sale_order = as_sale(order, party["id"], skus, f"REC-{order_id}")
    (outcome,) = await connector.write_sales([WriteItem(str(order_id), sale_order)], OPTIONS)
    assert outcome.status is OutcomeStatus.CREATED, (shows, outcome.error)
    state, total, tax, lines = await sale_figures(tryton_server_module, outcome.target_ref["id"])  # type: ignore[index]
    assert (total, tax) == (order.total, order.tax_total), shows
    assert state in ("confirmed", "processing"), shows
    products = [line for line in lines if (line.get("product.") or {}).get("code") in skus.values()]
    # line totals after the coupon, never the price before it
    assert sorted(line["amount"] for line in products) == sorted(line.total for line in order.lines), shows
    if not order.tax_total:  # a shop that charges no tax: no product's default tax comes in
        assert all(line["taxes."] == [] for line in lines), shows


async def test_two_rates_keep_their_own_tax(
    tryton_server_module: RunningTryton, connector: TrytonConnector
) -> None:
    order = order_from_wc(recorded_orders("orders-taxes-excl")[105])
    assert isinstance(order, Order)
    party = await create_party(connector, "rates@example.test")
    catalogue = simple_skus(tryton_server_module, 2)
    sale_order = as_sale(
        order, party["id"], {"REC-STD": catalogue[0], "REC-RED": catalogue[1]}, "REC-105-RATES"
    )
    (outcome,) = await connector.write_sales([WriteItem("105r", sale_order)], OPTIONS)
    assert outcome.ok, outcome.error
    _state, _total, _tax, lines = await sale_figures(tryton_server_module, outcome.target_ref["id"])  # type: ignore[index]
    by_code = {(line.get("product.") or {}).get("code"): line for line in lines}
    assert [t["name"] for t in by_code[catalogue[0]]["taxes."]] == ["VAT 19%"]
    assert [t["name"] for t in by_code[catalogue[1]]["taxes."]] == ["VAT 7%"]
    shipping = by_code["SHIP-DHL"]
    assert shipping["amount"] == Decimal("4.90") and [t["name"] for t in shipping["taxes."]] == ["VAT 19%"]
    fees = {line["description"]: line for line in lines if not line.get("product.")}
    assert fees["Geschenkverpackung"]["amount"] == Decimal("2.50")
    # the shop spread the -5.00 fee's tax over both rates (-0.58 at 19 %, -0.14 at 7 %): one part per rate
    spread = {name: line for name, line in fees.items() if name.startswith("Treuerabatt")}
    assert {name: (line["amount"], [t["name"] for t in line["taxes."]]) for name, line in spread.items()} == {
        "Treuerabatt (19 %)": (Decimal("-3.05"), ["VAT 19%"]),
        "Treuerabatt (7 %)": (Decimal("-1.95"), ["VAT 7%"]),
    }
    # cents Tryton computes otherwise than the shop go per rate on that rate's rounding tax
    rounding = {
        line["description"]: line for line in lines if (line["description"] or "").startswith("Tax rounding")
    }
    assert set(rounding) <= {"Tax rounding VAT 19%", "Tax rounding VAT 7%"}
    assert all(line["amount"] == 0 for line in rounding.values())


def tax_inclusive_order(number: str, party: int, sku: str) -> Order:
    """7 x 9.99 including 19 %: the shop stores 58.76 net and 11.17 tax, 69.93 in all."""
    return Order(
        key=number,
        number=number,
        status=OrderStatus.PROCESSING,
        currency="EUR",
        customer=Customer(key=str(party), email="incl@example.test"),
        lines=[
            OrderLine(
                key="1",
                sku=sku,
                quantity=Decimal(7),
                unit_price=Decimal("8.394958"),
                total=Decimal("58.76"),
                tax=Decimal("11.17"),
            )
        ],
        tax_lines=[TaxLine(code="DE-19", rate_percent=Decimal(19), tax_total=Decimal("11.17"))],
        tax_total=Decimal("11.17"),
        total=Decimal("69.93"),
        prices_include_tax=True,
        reference=f"INCL-{number}",
    )


async def test_tax_inclusive_seven_times_9_99_is_69_93(
    tryton_server_module: RunningTryton, connector: TrytonConnector
) -> None:
    party = await create_party(connector, "incl@example.test")
    (sku,) = simple_skus(tryton_server_module, 1)
    order = tax_inclusive_order("9001", party["id"], sku)
    (outcome,) = await connector.write_sales([WriteItem("9001", order)], OPTIONS)
    assert outcome.ok, outcome.error
    _state, total, tax, lines = await sale_figures(tryton_server_module, outcome.target_ref["id"])  # type: ignore[index]
    assert (total, tax) == (Decimal("69.93"), Decimal("11.17"))
    (product,) = [line for line in lines if (line.get("product.") or {}).get("code") == sku]
    assert product["amount"] == Decimal("58.76") and product["unit_price"] == Decimal("8.3943")


async def test_gift_card_is_a_payment_and_the_customer_pays_the_rest(
    tryton_server_module: RunningTryton, connector: TrytonConnector
) -> None:
    party = await create_party(connector, "gift@example.test")
    (sku,) = simple_skus(tryton_server_module, 1)
    order = Order(
        key="9002",
        number="9002",
        status=OrderStatus.PROCESSING,
        payment_state=PaymentState.PAID,
        currency="EUR",
        customer=Customer(key=str(party["id"]), email="gift@example.test"),
        lines=[OrderLine(key="1", sku=sku, quantity=Decimal(2), unit_price=Decimal(9), total=Decimal(18))],
        total=Decimal(18),
        payments=[
            Payment(kind=PaymentKind.GIFT_CARD, code="GC-1", amount=Decimal(14)),
            Payment(method="stripe", transaction_id="ch_9", amount=Decimal(4)),
        ],
        reference="GIFT-9002",
    )
    no_tax = SaleOptions(
        warehouse="WH", carriers={"*": "DHL"}, taxes={"": "none"}, payment_methods={"*": "Card"}
    )
    (outcome,) = await connector.write_sales([WriteItem("9002", order)], no_tax)
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    sale = outcome.target_ref["id"]  # type: ignore[index]
    _state, total, tax, _lines = await sale_figures(tryton_server_module, sale)
    assert (total, tax) == (Decimal(18), Decimal(0))  # the order's total before the gift card
    payments = await tryton_server_module.rpc(
        "account.payment",
        "search_read",
        [("origin", "=", f"sale.sale,{sale}")],
        0,
        None,
        None,
        ["amount", "state"],
    )
    assert [(p["amount"], p["state"]) for p in payments] == [
        (Decimal(4), "succeeded")
    ]  # what the customer paid


async def test_a_sale_whose_figures_differ_is_held_as_a_draft(
    tryton_server_module: RunningTryton, connector: TrytonConnector
) -> None:
    party = await create_party(connector, "held@example.test")
    (sku,) = simple_skus(tryton_server_module, 1)
    order = tax_inclusive_order("9003", party["id"], sku).model_copy(update={"total": Decimal("79.93")})
    (outcome,) = await connector.write_sales([WriteItem("9003", order)], OPTIONS)
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Held)
    text = str(outcome.error)
    assert "order 9003" in text and "69.93" in text and "79.93" in text and "11.17" in text
    (sale,) = await tryton_server_module.rpc(
        "sale.sale", "search_read", [("reference", "=", "INCL-9003")], 0, None, None, ["state"]
    )
    assert sale["state"] == "draft"
    (again,) = await connector.write_sales([WriteItem("9003", order)], OPTIONS)  # checked again, still held
    assert isinstance(again.error, Held)
    fixed = order.model_copy(update={"total": Decimal("69.93")})  # the figures agree: the sale goes on
    (done,) = await connector.write_sales([WriteItem("9003", fixed)], OPTIONS)
    assert done.status is OutcomeStatus.MATCHED, done.error
    (row,) = await tryton_server_module.rpc("sale.sale", "read", [sale["id"]], ["state"])
    assert row["state"] in ("confirmed", "processing")


async def test_a_wrong_tax_mapping_is_held_never_booked_as_rounding(
    tryton_server_module: RunningTryton, connector: TrytonConnector
) -> None:
    order = order_from_wc(recorded_orders("orders-taxes-excl")[104])
    assert isinstance(order, Order)
    party = await create_party(connector, "mapping@example.test")
    catalogue = simple_skus(tryton_server_module, 3)
    skus = {"REC-STD": catalogue[0], "REC-RED": catalogue[1], "REC-DEL": catalogue[2]}
    sale_order = as_sale(order, party["id"], skus, "REC-104-WRONG")
    wrong = SaleOptions(warehouse="WH", carriers={"*": "DHL"}, taxes={"": "VAT 7%", "reduced-rate": "VAT 7%"})
    (outcome,) = await connector.write_sales([WriteItem("104w", sale_order)], wrong)
    assert isinstance(outcome.error, Held), outcome.error
    assert "order 104" in str(outcome.error) and "2.83" in str(outcome.error)  # the shop's tax, named
