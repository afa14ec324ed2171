"""Tryton sales read back as canonical Orders, and the order change feed, against a real server."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Unmappable
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.model.orders import Order, OrderStatus, RefundOrigin
from emporion_devkit.demo import erp_orders
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton


@dataclass
class ShopSale:
    """A sale made in Tryton as an order from the shop would be: reference, lines, shipping cost."""

    id: int
    reference: str
    party: int


async def _product(admin: TrytonClient, code: str) -> dict[str, Any]:
    (row,) = await admin.search_read(
        "product.product",
        [("code", "=", code)],
        ["id", "default_uom", "list_price_used", "template.account_category"],
    )
    category = row["template."]["account_category"]
    (taxes,) = await admin.read("product.category", [category], ["customer_taxes_used"])
    return {**row, "customer_taxes_used": taxes["customer_taxes_used"]}


async def carrier_id(admin: TrytonClient, name: str) -> int:
    """The provisioned carrier with this party name (its product carries the shipping price)."""
    (row,) = await admin.search_read("carrier", [("party.name", "=", name)], ["id"], limit=1)
    return int(row["id"])


async def make_party(admin: TrytonClient, email: str, name: str = "Erika Mustermann") -> int:
    (country,) = await admin.search_read("country.country", [("code", "=", "DE")], ["id"], limit=1) or [None]
    address: dict[str, Any] = {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"}
    if country:
        address["country"] = country["id"]
    (party,) = await admin.model(
        "party.party",
        "create",
        [
            {
                "name": name,
                "addresses": [["create", [address]]],
                "contact_mechanisms": [["create", [{"type": "email", "value": email}]]],
            }
        ],
    )
    return int(party)


async def make_sale(
    admin: TrytonClient,
    reference: str,
    lines: dict[str, Decimal],
    *,
    carrier: str | None = "DHL",
    email: str = "erika@example.com",
    confirm: bool = True,
) -> ShopSale:
    """Party and sale with product lines and a carrier (its cost line added on quote), confirmed as admin."""
    party = await make_party(admin, email)
    (address,) = await admin.search_read("party.address", [("party", "=", party)], ["id"])
    (warehouse,) = await admin.search_read("stock.location", [("code", "=", "WH")], ["id"])
    sale_lines: list[dict[str, Any]] = []
    for code, quantity in lines.items():
        product = await _product(admin, code)
        sale_lines.append(
            {
                "type": "line",
                "product": product["id"],
                "unit": product["default_uom"],
                "quantity": float(quantity),
                "unit_price": product["list_price_used"],
                "taxes": [["add", product["customer_taxes_used"]]],
                "description": code,
            }
        )
    shipping: dict[str, Any] = (
        {"carrier": await carrier_id(admin, carrier)} if carrier else {"shipment_cost_method": None}
    )
    (sale,) = await admin.model(
        "sale.sale",
        "create",
        [
            {
                "party": party,
                "reference": reference,
                "invoice_address": address["id"],
                "shipment_address": address["id"],
                "warehouse": warehouse["id"],
                "lines": [["create", sale_lines]],
                **shipping,
            }
        ],
    )
    if confirm:
        await admin.model("sale.sale", "quote", [sale])
        await admin.model("sale.sale", "confirm", [sale])
    return ShopSale(int(sale), reference, party)


async def read_one(connector: TrytonConnector, sale: ShopSale) -> Order:
    (order,) = await connector.read("order", [str(sale.id)])
    assert isinstance(order, Order)
    return order


@pytest.fixture
async def admin(tryton_server: RunningTryton) -> Any:
    client = tryton_server.admin()
    yield client
    await client.close()


@pytest.fixture
async def connector(tryton_server: RunningTryton) -> Any:
    conn = tryton_server.connector()
    yield conn
    await conn.close()


async def test_confirmed_sale_reads_as_processing_order(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    sale = await make_sale(admin, "SHOP-1001", {"SKU-00001": Decimal(2), "SKU-00002": Decimal(1)})
    order = await read_one(connector, sale)
    assert order.reference == "SHOP-1001"
    assert order.status is OrderStatus.PROCESSING and order.raw_status in ("confirmed", "processing")
    assert order.number and order.currency == "EUR"
    assert order.customer.key == str(sale.party) and order.customer.email == "erika@example.com"
    assert order.customer.last_name == "Mustermann" and order.billing.city == "Berlin"
    assert [(line.sku, line.quantity) for line in order.lines] == [
        ("SKU-00001", Decimal(2)),
        ("SKU-00002", Decimal(1)),
    ]
    assert all(line.total == line.unit_price * line.quantity for line in order.lines)
    assert order.shipping_total == Decimal("4.90")
    untaxed = sum((line.total for line in order.lines), Decimal(0)) + order.shipping_total
    assert order.tax_total > 0 and order.total == untaxed + order.tax_total
    assert [shipment.state for shipment in order.shipments] in (["waiting"], ["draft"], ["assigned"])
    assert order.invoices == [] and order.refunds == []


async def test_status_follows_the_sale_and_its_shipments(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    draft = await make_sale(admin, "SHOP-2001", {"SKU-00003": Decimal(1)}, confirm=False)
    assert (await read_one(connector, draft)).status is OrderStatus.PENDING
    await admin.model("sale.sale", "quote", [draft.id])
    quoted = await read_one(connector, draft)
    assert quoted.status is OrderStatus.PENDING and quoted.raw_status == "quotation"
    await admin.model("sale.sale", "confirm", [draft.id])
    assert (await read_one(connector, draft)).status is OrderStatus.PROCESSING

    await erp_orders.ship_sale(admin, "SHOP-2001", "TRACK-2001")
    shipped = await read_one(connector, draft)
    assert shipped.status is OrderStatus.COMPLETED
    (shipment,) = shipped.shipments
    assert shipment.state == "done" and shipment.tracking_numbers == ["TRACK-2001"] and shipment.shipped_at

    cancelled = await make_sale(admin, "SHOP-2002", {"SKU-00011": Decimal(1)})
    await erp_orders.cancel_sale(admin, "SHOP-2002")
    order = await read_one(connector, cancelled)
    assert order.status is OrderStatus.CANCELLED and order.raw_status in ("cancelled", "processing")


async def test_partly_shipped_sale_is_shipped(admin: TrytonClient, connector: TrytonConnector) -> None:
    sale = await make_sale(admin, "SHOP-3001", {"SKU-00012": Decimal(2)})
    (row,) = await admin.read("sale.sale", [sale.id], ["shipments"])
    (shipment,) = await admin.read(
        "stock.shipment.out",
        row["shipments"],
        ["outgoing_moves"],
    )
    # Split the shipment in two, as a warehouse sending part of an order first does.
    (second,) = await admin.model("stock.shipment.out", "copy", [shipment["id"]], {"moves": None})
    (move,) = shipment["outgoing_moves"]
    await admin.model("stock.move", "write", [move], {"quantity": 1.0})
    await admin.model("stock.move", "copy", [move], {"shipment": f"stock.shipment.out,{second}"})
    (row,) = await admin.read("sale.sale", [sale.id], ["shipments"])
    assert len(row["shipments"]) == 2
    first = min(row["shipments"])
    for button in ("wait", "assign_force", "pick", "pack", "do"):
        await admin.model("stock.shipment.out", button, [first])
    order = await read_one(connector, sale)
    assert order.status is OrderStatus.SHIPPED
    assert sorted(shipment.state for shipment in order.shipments)[0] == "done"


async def start_feed(connector: TrytonConnector) -> str:
    batch = await connector.changes("order", None)
    assert batch.keys == [] and batch.cursor
    return batch.cursor


async def next_keys(connector: TrytonConnector, cursor: str) -> tuple[set[str], str]:
    batch = await connector.changes("order", cursor)
    assert batch.cursor
    return set(batch.keys), batch.cursor


async def test_feed_reports_each_change_of_a_shop_sale_once(
    admin: TrytonClient, connector: TrytonConnector
) -> None:
    cursor = await start_feed(connector)
    sale = await make_sale(admin, "SHOP-4001", {"SKU-00006": Decimal(1)})
    other = await make_sale(admin, "SHOP-4002", {"SKU-00014": Decimal(1)})
    no_reference = await make_sale(admin, "", {"SKU-00015": Decimal(1)})
    keys, cursor = await next_keys(connector, cursor)
    assert keys == {str(sale.id), str(other.id)}, (
        "confirmed shop sales are reported, sales without reference not"
    )
    assert str(no_reference.id) not in keys
    keys, cursor = await next_keys(connector, cursor)
    assert keys == set(), "unchanged sales are not reported again"

    await erp_orders.ship_sale(admin, "SHOP-4001", "TRACK-4001")
    keys, cursor = await next_keys(connector, cursor)
    assert keys == {str(sale.id)}

    assert await erp_orders.post_invoices(admin, "SHOP-4001")
    keys, cursor = await next_keys(connector, cursor)
    assert keys == {str(sale.id)}
    order = await read_one(connector, sale)
    (invoice,) = order.invoices
    assert invoice.number and invoice.state == "posted" and not invoice.credit_note
    assert invoice.total == order.total

    await erp_orders.cancel_sale(admin, "SHOP-4002")
    keys, cursor = await next_keys(connector, cursor)
    assert keys == {str(other.id)}

    return_id = await erp_orders.return_sale(admin, "SHOP-4001", {"SKU-00006": Decimal(1)})
    keys, cursor = await next_keys(connector, cursor)
    assert keys == {str(sale.id)}, "a return reports the sale it returns"
    keys, cursor = await next_keys(connector, cursor)
    assert keys == set()
    order = await read_one(connector, sale)
    (refund,) = order.refunds
    assert refund.key == f"tryton:{return_id}" and refund.restock and refund.origin is RefundOrigin.ERP
    assert [(line.sku, line.quantity) for line in refund.lines] == [("SKU-00006", Decimal(1))]
    credit_notes = [invoice for invoice in order.invoices if invoice.credit_note]
    assert len(credit_notes) == 1 and credit_notes[0].total == -refund.amount


async def test_feed_filters_by_reference_prefix(tryton_server: RunningTryton, admin: TrytonClient) -> None:
    connector = tryton_server.connector(order_reference_prefixes=["SHOP-"])
    try:
        cursor = await start_feed(connector)
        mine = await make_sale(admin, "SHOP-5001", {"SKU-00016": Decimal(1)})
        await make_sale(admin, "OTHER-5001", {"SKU-00016": Decimal(1)})
        keys, _ = await next_keys(connector, cursor)
        assert keys == {str(mine.id)}
    finally:
        await connector.close()


async def test_read_is_batched_over_many_sales(admin: TrytonClient, connector: TrytonConnector) -> None:
    sales = [await make_sale(admin, f"SHOP-6{index:03d}", {"SKU-00013": Decimal(1)}) for index in range(5)]
    calls = 0
    original = connector.client.model

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args, **kwargs)

    connector.client.model = counting  # type: ignore[method-assign]
    found = await connector.read("order", [*(str(sale.id) for sale in sales), "999999", "not-a-sale"])
    orders = [order for order in found if isinstance(order, Order)]
    assert [order.reference for order in orders] == [sale.reference for sale in sales], (
        "gone sales are left out"
    )
    assert [record.key for record in found if isinstance(record, Unmappable)] == ["not-a-sale"]
    assert calls <= 8, f"{calls} round trips for 5 sales: reads must be batched"
