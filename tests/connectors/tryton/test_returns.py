"""Shop refunds written into Tryton as return sales, return shipments and credit notes, on a real server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.model.orders import Customer, Order, OrderStatus, Refund, RefundLine, RefundOrigin
from emporion_devkit.demo import erp_orders
from tests.connectors.tryton.test_sales_read import ShopSale, make_sale, read_one
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton


@pytest.fixture
async def admin(tryton_server: RunningTryton) -> Any:
    client = tryton_server.admin()
    yield client
    await client.close()


async def grant_accounting(admin: TrytonClient, login: str) -> None:
    """Credit notes are posted by emporion: its login needs Tryton's Account group for that."""
    (group,) = await admin.search_read("res.group", [("name", "=", "Accounting")], ["id"])
    (user,) = await admin.search_read("res.user", [("login", "=", login)], ["id"])
    await admin.model("res.user", "write", [user["id"]], {"groups": [["add", [group["id"]]]]})


@pytest.fixture
async def connector(tryton_server: RunningTryton, admin: TrytonClient) -> Any:
    await grant_accounting(admin, tryton_server.user)
    conn = tryton_server.connector()
    yield conn
    await conn.close()


def refund_item(sale: ShopSale, refund: Refund, shop_order: str = "1001") -> WriteItem:
    """The write the engine makes: the shop order carrying the one refund to apply."""
    order = Order(
        key=shop_order,
        number=shop_order,
        status=OrderStatus.PROCESSING,
        currency="EUR",
        customer=Customer(key=str(sale.party), email="erika@example.com"),
        total=Decimal("100"),
        refunds=[refund],
    )
    return WriteItem(key=f"{shop_order}/{refund.key}", record=order, target_ref={"id": sale.id})


async def return_sales(admin: TrytonClient, sale: ShopSale) -> list[dict[str, Any]]:
    return await admin.search_read(
        "sale.sale",
        [("origin", "=", f"sale.sale,{sale.id}")],
        ["reference", "state", "party", "shipment_returns", "invoices", "lines"],
    )


async def test_refund_with_restock_creates_return_sale_shipment_and_credit_note(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    sale = await make_sale(admin, "SHOP-7001", {"SKU-00001": Decimal(3), "SKU-00002": Decimal(1)})
    await erp_orders.ship_sale(admin, "SHOP-7001", "TRACK-7001")
    refund = Refund(
        key="55",
        amount=Decimal("11.90"),
        lines=[
            RefundLine(
                line_key="11", sku="SKU-00001", quantity=Decimal(2), amount=Decimal("10"), tax=Decimal("1.90")
            )
        ],
        restock=True,
    )
    (outcome,) = await connector.write("return", [refund_item(sale, refund)], [])
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    assert outcome.target_ref is not None and outcome.target_ref["credit_note"]

    (returned,) = await return_sales(admin, sale)
    assert returned["id"] == outcome.target_ref["id"]
    assert returned["reference"] == "SHOP-7001/R55" and returned["party"] == sale.party
    assert returned["state"] in ("processing", "done")
    (line,) = await admin.read("sale.line", returned["lines"], ["quantity", "product.code"])
    assert line["quantity"] == -2 and line["product."]["code"] == "SKU-00001"
    shipments = await admin.read("stock.shipment.out.return", returned["shipment_returns"], ["state"])
    assert [row["state"] for row in shipments] == ["done"]
    (note,) = await admin.read(
        "account.invoice", [outcome.target_ref["credit_note"]], ["state", "total_amount"]
    )
    assert note["state"] == "posted" and note["total_amount"] == Decimal("-11.90")  # the refunded amount

    order = await read_one(connector, sale)
    (read_back,) = order.refunds
    assert read_back.key == "55" and read_back.restock
    assert read_back.amount == -note["total_amount"]
    assert [(rl.sku, rl.quantity) for rl in read_back.lines] == [("SKU-00001", Decimal(2))]
    assert [invoice.key for invoice in order.invoices if invoice.credit_note] == [
        str(outcome.target_ref["credit_note"])
    ]

    (again,) = await connector.write("return", [refund_item(sale, refund)], [])
    assert again.status is OutcomeStatus.MATCHED and again.target_ref == outcome.target_ref
    assert len(await return_sales(admin, sale)) == 1, "a second write must not make a second return"


async def test_refund_without_restock_leaves_the_goods_out(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    sale = await make_sale(admin, "SHOP-7002", {"SKU-00003": Decimal(2)})
    refund = Refund(
        key="56", amount=Decimal("5"), lines=[RefundLine(line_key="1", sku="SKU-00003", quantity=Decimal(1))]
    )
    (outcome,) = await connector.write("return", [refund_item(sale, refund, "1002")], [])
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    (returned,) = await return_sales(admin, sale)
    assert returned["shipment_returns"] == []  # only restocked units come back: no return shipment
    (read_back,) = (await read_one(connector, sale)).refunds
    assert read_back.key == "56" and not read_back.restock


async def test_amount_only_refund_is_a_credit_line(admin: TrytonClient, connector: TrytonConnector) -> None:
    (goods,) = await admin.search_read("product.category", [("accounting", "=", True)], ["account_revenue"])
    await admin.model(
        "account.configuration", "write", [1], {"default_category_account_revenue": goods["account_revenue"]}
    )
    sale = await make_sale(admin, "SHOP-7003", {"SKU-00006": Decimal(1)})
    refund = Refund(key="57", amount=Decimal("7.50"), reason="late delivery")
    (outcome,) = await connector.write("return", [refund_item(sale, refund, "1003")], [])
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    assert outcome.target_ref is not None
    (note,) = await admin.read(
        "account.invoice", [outcome.target_ref["credit_note"]], ["state", "total_amount"]
    )
    assert note["state"] == "posted" and note["total_amount"] == Decimal("-7.50")
    (returned,) = await return_sales(admin, sale)
    assert returned["shipment_returns"] == []
    (read_back,) = (await read_one(connector, sale)).refunds
    assert read_back.key == "57" and read_back.amount == Decimal("7.50") and read_back.lines == []


async def test_bad_refunds_fail_one_by_one(admin: TrytonClient, connector: TrytonConnector) -> None:
    sale = await make_sale(admin, "SHOP-7004", {"SKU-00007": Decimal(1)})
    too_many = Refund(
        key="60", amount=Decimal(1), lines=[RefundLine(line_key="1", sku="SKU-00007", quantity=Decimal(5))]
    )
    unknown = Refund(
        key="61", amount=Decimal(1), lines=[RefundLine(line_key="2", sku="NOPE", quantity=Decimal(1))]
    )
    good = Refund(
        key="62", amount=Decimal(1), lines=[RefundLine(line_key="3", sku="SKU-00007", quantity=Decimal(1))]
    )
    unlinked = refund_item(sale, good, "1009")
    unlinked.target_ref = None
    outcomes = await connector.write(
        "return",
        [
            refund_item(sale, too_many, "1004"),
            refund_item(sale, unknown, "1004"),
            unlinked,
            refund_item(sale, good),
        ],
        [],
    )
    assert [outcome.status for outcome in outcomes] == [OutcomeStatus.FAILED] * 3 + [OutcomeStatus.CREATED]
    errors = [outcome.error for outcome in outcomes[:3]]
    assert all(isinstance(error, Permanent) for error in errors)
    assert "exceeds" in str(errors[0]) and "NOPE" in str(errors[1]) and "target_ref" in str(errors[2])
    assert [row["reference"] for row in await return_sales(admin, sale)] == ["SHOP-7004/R62"]


async def test_return_made_in_tryton_reads_as_a_refund(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    sale = await make_sale(admin, "SHOP-7005", {"SKU-00008": Decimal(2)})
    await erp_orders.ship_sale(admin, "SHOP-7005", "TRACK-7005")
    return_id = await erp_orders.return_sale(admin, "SHOP-7005", {"SKU-00008": Decimal(1)})
    order = await read_one(connector, sale)
    (refund,) = order.refunds
    assert refund.key == f"tryton:{return_id}" and refund.restock and refund.amount > 0
    assert refund.origin is RefundOrigin.ERP and all(line.restock for line in refund.lines)
    assert [(line.sku, line.quantity) for line in refund.lines] == [("SKU-00008", Decimal(1))]
    assert order.status is OrderStatus.COMPLETED

    # The shop's copy of that refund, written back, matches the Tryton return instead of making another.
    (echo,) = await connector.write("return", [refund_item(sale, refund, "1005")], [])
    assert echo.status is OutcomeStatus.MATCHED and echo.target_ref is not None
    assert echo.target_ref["id"] == return_id and echo.target_ref["credit_note"]
    assert len(await return_sales(admin, sale)) == 1
