"""Products show stock available to promise: order files the ERP has not taken are held back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from emporion.connectors.base import WriteItem
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.roles import SaleOptions
from emporion.model import Order, Product
from tests.connectors.files.erp import ExportingErp, settings
from tests.connectors.files.test_orders import order


def stocked(root: Path) -> None:
    """4711 in three warehouses (2 + 1 + 5), 4712 with 2 in the main one."""
    erp = ExportingErp(root)
    erp.add("4711", "Schraube", Decimal("0.12"))
    erp.add("4712", "Mutter", Decimal("1.25"), stock=Decimal(2))
    erp.stock[("4711", "Aussenlager")] = Decimal(2)
    erp.stock[("4711", "Bodenlager")] = Decimal(1)
    erp.stock[("4711", "Versand")] = Decimal(5)
    erp.export_articles()
    erp.export_stock()


def with_quantity(sale: Order, index: int, quantity: Decimal) -> Order:
    """`sale` with line `index` ordering `quantity`."""
    lines = list(sale.lines)
    lines[index] = lines[index].model_copy(update={"quantity": quantity})
    return sale.model_copy(update={"lines": lines})


def levels(product: Product) -> dict[str, Decimal]:
    """A product's stock per warehouse."""
    return {level.warehouse: level.quantity for level in product.stock}


async def test_products_hold_back_order_files_from_the_order_warehouse_first(tmp_path: Path) -> None:
    stocked(tmp_path)
    orders = {"folder": "orders", "format": "opentrans", "reserve_warehouses": ["Versand"]}
    connector = FilesConnector("drop", settings(str(tmp_path), orders=orders))
    big = with_quantity(order(), 0, Decimal(7))  # 7 of 4711, 2 of 4712
    await connector.write_sales([WriteItem("1001", big)], SaleOptions())
    one, two = await connector.read("product", ["4711", "4712"])
    assert isinstance(one, Product) and isinstance(two, Product)
    # 7 taken: 5 from Versand (the order warehouse), then 2 from Aussenlager (name order)
    assert levels(one) == {"Aussenlager": Decimal(0), "Bodenlager": Decimal(1), "Versand": Decimal(0)}
    assert levels(two) == {"Hauptlager": Decimal(0)}
    scanned = {r.key: r for page in [p async for p in connector.scan("product")] for r in page}
    assert isinstance(scanned["4711"], Product) and levels(scanned["4711"]) == levels(one)
    assert await connector.availability(["4711", "4712"], None) == {"4711": Decimal(1), "4712": Decimal(0)}
    assert await connector.availability(["4711"], ["Bodenlager", "Versand"]) == {"4711": Decimal(1)}
    (tmp_path / "orders" / "order-SHOP-1001.xml").unlink()  # the ERP took it
    (again,) = await connector.read("product", ["4711"])
    assert isinstance(again, Product) and sum(levels(again).values()) == 8


async def test_more_ordered_than_in_stock_never_shows_below_zero(tmp_path: Path) -> None:
    stocked(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    big = with_quantity(order(), 1, Decimal(9))  # 3 of 4711, 9 of 4712
    await connector.write_sales([WriteItem("1001", big)], SaleOptions())
    (two,) = await connector.read("product", ["4712"])
    assert isinstance(two, Product) and levels(two) == {"Hauptlager": Decimal(0)}
    (one,) = await connector.read("product", ["4711"])  # no order warehouse: by name, 3 of 8
    assert isinstance(one, Product)
    assert levels(one) == {"Aussenlager": Decimal(0), "Bodenlager": Decimal(0), "Versand": Decimal(5)}
    assert await connector.availability(["4712"], None) == {"4712": Decimal(0)}
