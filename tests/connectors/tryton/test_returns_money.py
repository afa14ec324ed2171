"""WooCommerce 10.0.2's recorded refunds become Tryton credit notes with the refunded amounts and their tax.

Order 105 (two rates, fees, taxed shipping) and its three refunds as the shop really laid them out
(order-refunds.json), read through the WooCommerce mapping: one unit refunded with restock, shipping
and a fee refunded with their tax, 5.00 of money only; and a partial refund of a line. One Tryton
serves the module.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.connectors.woocommerce.order_mapping import order_from_wc
from emporion.model.orders import Order, Refund, RefundLine
from tests.connectors.tryton.test_returns import grant_accounting
from tests.connectors.tryton.test_sales_money import OPTIONS, as_sale
from tests.connectors.tryton.test_sales_write import create_party, ship, simple_skus
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton


def recorded_refunds() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Order 105 after its refunds, and the refunds as GET orders/105/refunds listed them."""
    import json

    from tests.connectors.tryton.test_sales_money import RECORDED

    data = json.loads((RECORDED / "order-refunds.json").read_text())
    exchanges = data["exchanges"]
    listed = next(
        e
        for e in exchanges
        if e["request"]["path"].endswith("/orders/105/refunds") and e["request"]["method"] == "GET"
    )
    order = [
        e
        for e in exchanges
        if e["request"]["path"].endswith("/orders/105") and e["request"]["method"] == "GET"
    ][-1]
    return order["response"]["body"], listed["response"]["body"]


@pytest.fixture
async def sold(tryton_server_module: RunningTryton) -> Any:
    """Order 105 as a shipped Tryton sale, the order with its refunds, and a connector."""
    admin = tryton_server_module.admin()
    await grant_accounting(admin, tryton_server_module.user)
    await admin.close()
    connector = tryton_server_module.connector()
    body, refunds = recorded_refunds()
    order = order_from_wc(body, refunds)
    assert isinstance(order, Order)
    tag = uuid.uuid4().hex[:12]  # unique per test: the sale is found by reference before it is made
    party = await create_party(connector, f"refunds{tag}@example.test")
    catalogue = simple_skus(tryton_server_module, 2)
    skus = {"REC-STD": catalogue[0], "REC-RED": catalogue[1]}
    reference = f"REF-105-{tag}"
    sale_order = as_sale(order, party["id"], skus, reference)
    (outcome,) = await connector.write_sales([WriteItem("105", sale_order)], OPTIONS)
    assert outcome.ok, outcome.error
    sale = outcome.target_ref["id"]  # type: ignore[index]
    (row,) = await tryton_server_module.rpc("sale.sale", "read", [sale], ["shipments"])
    await ship(tryton_server_module, row["shipments"])
    yield connector, sale_order, sale, skus
    await connector.close()


async def write_refund(connector: TrytonConnector, order: Order, sale: int, refund: Refund) -> dict[str, Any]:
    record = order.model_copy(update={"refunds": [refund]})
    (outcome,) = await connector.write("return", [WriteItem(f"105/{refund.key}", record, {"id": sale})], [])
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    assert outcome.target_ref is not None
    return outcome.target_ref


async def credit_note(server: RunningTryton, ref: dict[str, Any]) -> dict[str, Any]:
    (note,) = await server.rpc(
        "account.invoice",
        "read",
        [ref["credit_note"]],
        ["state", "total_amount", "tax_amount", "untaxed_amount"],
    )
    assert note["state"] == "posted"
    return note


async def returned_units(server: RunningTryton, return_id: int) -> list[tuple[str, float, str]]:
    (ret,) = await server.rpc("sale.sale", "read", [return_id], ["shipment_returns"])
    shipments = await server.rpc(
        "stock.shipment.out.return", "read", ret["shipment_returns"], ["state", "incoming_moves"]
    )
    moves = [m for s in shipments for m in s["incoming_moves"]]
    rows = (
        await server.rpc("stock.move", "read", moves, ["product.code", "quantity", "state"]) if moves else []
    )
    return [(row["product."]["code"], row["quantity"], row["state"]) for row in rows]


async def test_refund_of_a_unit_with_restock(tryton_server_module: RunningTryton, sold: Any) -> None:
    connector, order, _sale, skus = sold
    refund = next(r for r in order.refunds if r.key == "113")
    assert refund.lines and refund.lines[0].restock  # WooCommerce's own restock signal
    ref = await write_refund(connector, order, _sale, refund)
    note = await credit_note(tryton_server_module, ref)
    assert (note["total_amount"], note["tax_amount"]) == (Decimal("-21.41"), Decimal("-3.42"))
    assert await returned_units(tryton_server_module, ref["id"]) == [(skus["REC-STD"], 1.0, "done")]


async def test_refund_of_shipping_and_a_fee_with_their_tax(
    tryton_server_module: RunningTryton, sold: Any
) -> None:
    connector, order, sale, _skus = sold
    refund = next(r for r in order.refunds if r.key == "114")
    assert (refund.shipping, refund.shipping_tax, refund.fees, refund.fees_tax) == (
        Decimal("4.90"),
        Decimal("0.93"),
        Decimal("2.50"),
        Decimal("0.48"),
    )
    ref = await write_refund(connector, order, sale, refund)
    note = await credit_note(tryton_server_module, ref)
    assert (note["total_amount"], note["tax_amount"]) == (Decimal("-8.81"), Decimal("-1.41"))
    assert await returned_units(tryton_server_module, ref["id"]) == []  # no goods come back


async def test_money_only_refund_reverses_its_tax_pro_rata(
    tryton_server_module: RunningTryton, sold: Any
) -> None:
    connector, order, sale, _skus = sold
    refund = next(r for r in order.refunds if r.key == "115")
    assert not refund.lines and refund.amount == Decimal("5.00")
    ref = await write_refund(connector, order, sale, refund)
    note = await credit_note(tryton_server_module, ref)
    assert note["total_amount"] == Decimal("-5.00")
    # the sale is 74.78 with 9.42 tax: about an eighth of a refund is tax, reversed on both rates
    assert Decimal("-0.70") <= note["tax_amount"] <= Decimal("-0.55")
    (ret,) = await tryton_server_module.rpc("sale.sale", "read", [ref["id"]], ["lines"])
    lines = await tryton_server_module.rpc("sale.line", "read", ret["lines"], ["taxes.name", "amount"])
    assert {t["name"] for line in lines for t in line["taxes."]} >= {"VAT 19%", "VAT 7%"}


async def test_partial_refund_of_a_line_credits_the_refunded_amount(
    tryton_server_module: RunningTryton, sold: Any
) -> None:
    connector, order, sale, skus = sold
    reduced = next(line for line in order.lines if line.sku == skus["REC-RED"])
    # one of three units (26.98 for 3) refunded at 4.00 plus its 7 % tax, not restocked
    line = RefundLine(
        line_key=reduced.key,
        sku=reduced.sku,
        quantity=Decimal(1),
        amount=Decimal("4.00"),
        tax=Decimal("0.28"),
    )
    refund = Refund(key="900", amount=Decimal("4.28"), lines=[line])
    ref = await write_refund(connector, order, sale, refund)
    note = await credit_note(tryton_server_module, ref)
    assert (note["total_amount"], note["tax_amount"]) == (Decimal("-4.28"), Decimal("-0.28"))
    assert await returned_units(tryton_server_module, ref["id"]) == []  # not restocked: nothing comes back
