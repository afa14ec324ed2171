"""Shop orders into Odoo sales on the sandbox (JSON-RPC on 18, JSON-2 on 19): once per reference, lines,
taxes, shipping, confirmation, payment reference, totals held, cancellations."""

from __future__ import annotations

from decimal import Decimal

from emporion.connectors.base import Held, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model.orders import Order, OrderLine, OrderStatus, Payment, Refund, RefundLine, TaxLine
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import FEE_SKU, OPTIONS, connector, order, partner, stocked, tag

__all__ = ["connector"]


async def test_an_order_becomes_one_confirmed_sale_with_the_shop_figures(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Lines, 19 % tax, the delivery line, confirmation and the payment reference; written again: matched."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku)
    shop.payments.append(Payment(method="stripe", transaction_id=f"pi_{label}", amount=shop.total))
    (first,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert first.status is OutcomeStatus.CREATED and first.target_ref, first.error
    (again,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert again.ok and again.status is not OutcomeStatus.CREATED, again.error
    assert again.target_ref and again.target_ref["id"] == first.target_ref["id"]
    sales = odoo_sandbox.sandbox.search_read(
        "sale.order",
        [("client_order_ref", "=", shop.reference)],
        [
            "state",
            "amount_total",
            "amount_tax",
            "reference",
            "carrier_id",
            "partner_shipping_id",
            "order_line",
        ],
    )
    assert len(sales) == 1
    (sale,) = sales
    assert sale["state"] == "sale" and sale["reference"] == f"pi_{label}" and sale["carrier_id"]
    assert Decimal(str(sale["amount_total"])) == Decimal("29.63")
    assert Decimal(str(sale["amount_tax"])) == Decimal("4.73")
    lines = odoo_sandbox.sandbox.search_read(
        "sale.order.line", [("order_id", "=", sale["id"])], ["is_delivery"]
    )
    assert sorted(line["is_delivery"] for line in lines) == [False, True]
    pickings = odoo_sandbox.sandbox.search_read("stock.picking", [("sale_id", "=", sale["id"])], ["state"])
    assert len(pickings) == 1  # confirmed: one delivery waits in the warehouse


async def test_an_unknown_sku_fails_naming_the_line(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """No product with that internal reference: FAILED, Permanent on `lines[0].sku`, and no sale made."""
    label = tag()
    shop = order(label, await partner(connector, f"{label}@example.com"), f"NO-SUCH-{label}")
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert outcome.error.field == "lines[0].sku" and outcome.error.record
    assert not odoo_sandbox.sandbox.search_read(
        "sale.order", [("client_order_ref", "=", shop.reference)], ["id"]
    )


async def test_a_total_odoo_does_not_reach_holds_the_quotation(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """The shop says a cent more than Odoo computes: Held naming the total, the sale stays a quotation."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku, total=Decimal("29.64"))
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Held)
    assert (
        outcome.error.field == "total" and "29.63" in outcome.error.reason and "29.64" in outcome.error.reason
    )
    (sale,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("client_order_ref", "=", shop.reference)], ["state"]
    )
    assert sale["state"] == "draft"


async def test_a_line_total_a_unit_price_cannot_carry_keeps_its_cents(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """10.00 for three units: 3.33 each and a rounding line of 0.01 of the fee product; untaxed shop order."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku)
    line = shop.lines[0].model_copy(
        update={"quantity": Decimal(3), "total": Decimal("10.00"), "tax": Decimal(0)}
    )
    shop = shop.model_copy(
        update={
            "lines": [line],
            "shipping_lines": [],
            "shipping_total": Decimal(0),
            "shipping_tax": Decimal(0),
            "tax_total": Decimal(0),
            "total": Decimal("10.00"),
        }
    )
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref, outcome.error
    (sale,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("id", "=", outcome.target_ref["id"])], ["amount_total"]
    )
    assert Decimal(str(sale["amount_total"])) == Decimal("10.00")


async def test_cancelling_in_the_shop_cancels_the_sale_unless_it_shipped(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Before shipping: the sale is cancelled (no wizard left open); after: an alert naming the delivery."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    party = await partner(connector, f"{label}@example.com")
    waiting, shipped = order(f"{label}A", party, sku), order(f"{label}B", party, sku)
    outcomes = await connector.write_sales([WriteItem(o.key, o) for o in (waiting, shipped)], OPTIONS)
    assert all(o.status is OutcomeStatus.CREATED and o.target_ref for o in outcomes), outcomes
    first, second = (int(o.target_ref["id"]) for o in outcomes if o.target_ref)
    odoo_sandbox.sandbox.ship(second, tracking="TRACK-1")
    cancelled = [
        WriteItem(o.key, s.model_copy(update={"status": OrderStatus.CANCELLED}), o.target_ref)
        for o, s in zip(outcomes, (waiting, shipped), strict=True)
    ]
    done, refused = await connector.write_sales(cancelled, OPTIONS)
    assert done.status is OutcomeStatus.UPDATED, done.error
    assert refused.status is OutcomeStatus.FAILED and isinstance(refused.error, Permanent)
    assert refused.error.field == "status" and "return" in refused.error.reason
    states = {
        row["id"]: row["state"]
        for row in odoo_sandbox.sandbox.search_read("sale.order", [("id", "in", [first, second])], ["state"])
    }
    assert states == {first: "cancel", second: "sale"}
    (again,) = await connector.write_sales(cancelled[:1], OPTIONS)
    assert again.status is OutcomeStatus.UNCHANGED


async def test_odoo_17_takes_the_sale_and_its_return_in_its_own_names(
    odoo_sandbox_17: RunningSandbox,
) -> None:
    """On 17 (`tax_id`, `product_uom`, the return wizard's `create_returns`): the sale's tax is the shop's and
    a restocked refund comes back through the wizard."""
    odoo_sandbox_17.sandbox.create_product("Fees", FEE_SKU, 0.0, type="service", is_storable=False)
    connector = OdooConnector("odoo", odoo_sandbox_17.settings(fee_product=FEE_SKU))
    try:
        label = tag()
        sku = stocked(odoo_sandbox_17, label)
        shop = order(label, await partner(connector, f"{label}@example.com"), sku)
        (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
        assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref, outcome.error
        sale_id = int(outcome.target_ref["id"])
        odoo_sandbox_17.sandbox.ship(sale_id, tracking="T17")
        refund = Refund(
            key="1",
            amount=Decimal("11.90"),
            lines=[
                RefundLine(
                    line_key="1", sku=sku, quantity=Decimal(1), amount=Decimal(10), tax=Decimal("1.90")
                )
            ],
            restock=True,
        )
        item = WriteItem(shop.key, shop.model_copy(update={"refunds": [refund]}), {"id": sale_id})
        (returned,) = await connector.write("return", [item], [])
        assert returned.status is OutcomeStatus.CREATED and returned.target_ref, returned.error
        assert returned.target_ref["return_picking"]
        (back,) = await connector.read("order", [str(sale_id)])
        assert (
            isinstance(back, Order)
            and back.tax_total == Decimal("4.73")
            and back.status is OrderStatus.COMPLETED
        )
        assert [r.amount for r in back.refunds] == [Decimal("11.90")] and back.refunds[0].restock
    finally:
        await connector.close()


async def test_a_cent_of_tax_rounded_otherwise_goes_on_a_rounding_line_when_the_merchant_keeps_one(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Three lines of 0.13 at 19 %: Odoo rounding per line gets 0.06, the shop once 0.07. Without a "19%
    rounding" tax the order is held; with one (fixed 0.01) the held sale goes on when written again, and a
    new one comes to the shop's 0.46 at once."""
    odoo_sandbox.sandbox.write("res.company", [1], {"tax_calculation_rounding_method": "round_per_line"})
    label = tag()
    sku = stocked(odoo_sandbox, label, price=0.13)
    party = await partner(connector, f"{label}@example.com")
    lines = [
        OrderLine(key=str(n), sku=sku, quantity=Decimal(1), unit_price=Decimal("0.13"), total=Decimal("0.13"))
        for n in range(3)
    ]
    values = {
        "lines": lines,
        "shipping_lines": [],
        "shipping_total": Decimal(0),
        "shipping_tax": Decimal(0),
        "tax_total": Decimal("0.07"),
        "total": Decimal("0.46"),
    }
    held = order(f"{label}H", party, sku, **values)
    (outcome,) = await connector.write_sales([WriteItem(held.key, held)], OPTIONS)
    assert isinstance(outcome.error, Held) and "0.06" in outcome.error.reason
    odoo_sandbox.sandbox.create(
        "account.tax",
        [{"name": "19% rounding", "amount": 0.01, "amount_type": "fixed", "type_tax_use": "sale"}],
    )
    (resumed,) = await connector.write_sales([WriteItem(held.key, held)], OPTIONS)
    assert resumed.status is OutcomeStatus.MATCHED and resumed.target_ref, resumed.error
    (fixed,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("id", "=", resumed.target_ref["id"])], ["state"]
    )
    assert fixed["state"] == "sale"
    shop = order(label, party, sku, **values)
    (made,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert made.status is OutcomeStatus.CREATED and made.target_ref, made.error
    (sale,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("id", "=", made.target_ref["id"])], ["amount_total", "amount_tax", "state"]
    )
    assert sale["state"] == "sale" and Decimal(str(sale["amount_total"])) == Decimal("0.46")
    assert Decimal(str(sale["amount_tax"])) == Decimal("0.07")


async def test_shipping_is_taxed_at_the_rate_the_shop_charged_on_it(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Goods at 19 %, shipping at 7 % (the shop's tax lines say so): the delivery line has the mapped 7 %."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    tax_lines = [
        TaxLine(rate_percent=Decimal(19), tax_total=Decimal("3.80")),
        TaxLine(rate_percent=Decimal(7), shipping_tax_total=Decimal("0.34")),
    ]
    shop = order(
        label,
        await partner(connector, f"{label}@example.com"),
        sku,
        tax_lines=tax_lines,
        shipping_tax=Decimal("0.34"),
        tax_total=Decimal("4.14"),
        total=Decimal("29.04"),
    )
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref, outcome.error
    (sale,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("id", "=", outcome.target_ref["id"])], ["amount_tax"]
    )
    assert Decimal(str(sale["amount_tax"])) == Decimal("4.14")
