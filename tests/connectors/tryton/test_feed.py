"""The Tryton change feed against a real server: what changed is reported once, nothing else."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.tryton.connector import TrytonConnector
from emporion.model import Product
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton


async def start_feed(connector: TrytonConnector, entity: str = "product") -> str:
    batch = await connector.changes(entity, None)
    assert batch.keys == [] and batch.cursor
    return batch.cursor


async def assert_reported_once(
    connector: TrytonConnector, cursor: str, expected: set[str], entity: str = "product"
) -> None:
    batch = await connector.changes(entity, cursor)
    assert set(batch.keys) == expected
    again = await connector.changes(entity, batch.cursor)
    assert again.keys == [], "unchanged rows must not be reported again"


async def template_id(server: RunningTryton, code: str) -> int:
    (row,) = await server.rpc("product.template", "search_read", [("code", "=", code)], 0, None, None, ["id"])
    return int(row["id"])


async def product_ids(server: RunningTryton, template: int) -> list[int]:
    return await server.rpc(
        "product.product", "search", [("template", "=", template)], 0, None, [["id", "ASC"]]
    )


async def test_price_change_on_template_is_reported(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector)
        template = await template_id(tryton_server, "SKU-00003")
        await tryton_server.rpc("product.template", "write", [template], {"list_price": Decimal("9.99")})
        await assert_reported_once(connector, cursor, {str(template)})
        (product,) = await connector.read("product", [str(template)])
        assert isinstance(product, Product) and product.list_price == Decimal("9.99")
    finally:
        await connector.close()


async def test_variant_change_reports_its_template(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector)
        template = await template_id(tryton_server, "VAR-00005")
        variant = (await product_ids(tryton_server, template))[1]
        await tryton_server.rpc("product.product", "write", [variant], {"suffix_code": "-M-RED-NEW"})
        await assert_reported_once(connector, cursor, {str(template)})
        (product,) = await connector.read("product", [str(template)])
        assert "VAR-00005-M-RED-NEW" in {v.sku for v in product.variants}  # type: ignore[attr-defined]
    finally:
        await connector.close()


async def receive_stock(server: RunningTryton, product: int, warehouse: str, quantity: float) -> None:
    """Book a done move from the supplier into the warehouse's storage, as a goods receipt would."""
    (location,) = await server.rpc(
        "stock.location", "search_read", [("code", "=", warehouse)], 0, None, None, ["storage_location"]
    )
    (supplier,) = await server.rpc("stock.location", "search", [("type", "=", "supplier")], 0, 1, None)
    (row,) = await server.rpc("product.product", "read", [product], ["default_uom"])
    admin = server.admin()
    try:
        await admin.login()
        company = admin.context["company"]
        (company_row,) = await admin.model("company.company", "read", [company], ["currency"])
        values: dict[str, Any] = {
            "product": product,
            "unit": row["default_uom"],
            "quantity": quantity,
            "from_location": supplier,
            "to_location": location["storage_location"],
            "unit_price": Decimal("1.00"),
            "currency": company_row["currency"],
            "company": company,
            "effective_date": date.today(),
        }
        moves = await admin.model("stock.move", "create", [values])
        await admin.model("stock.move", "do", moves)
    finally:
        await admin.close()


async def test_done_stock_move_in_one_warehouse_is_reported(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        template = await template_id(tryton_server, "SKU-00007")
        (before,) = await connector.read("product", [str(template)])
        cursor = await start_feed(connector)
        (variant,) = await product_ids(tryton_server, template)
        await receive_stock(tryton_server, variant, "WH2", 5)
        await assert_reported_once(connector, cursor, {str(template)})
        (after,) = await connector.read("product", [str(template)])
    finally:
        await connector.close()
    old = {s.warehouse: s.quantity for s in before.stock}  # type: ignore[attr-defined]
    new = {s.warehouse: s.quantity for s in after.stock}  # type: ignore[attr-defined]
    assert new == {"WH": old["WH"], "WH2": old["WH2"] + 5}


async def test_new_product_is_reported(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector)
        (unit,) = await tryton_server.rpc("product.uom", "search", [("symbol", "=", "u")], 0, 1, None)
        values = {
            "name": "Brand New Kettle",
            "code": "NEW-00001",
            "type": "goods",
            "default_uom": unit,
            "salable": True,
            "sale_uom": unit,
            "list_price": Decimal("42.00"),
            "products": [["create", [{"suffix_code": ""}]]],
        }
        (template,) = await tryton_server.rpc("product.template", "create", [values])
        await assert_reported_once(connector, cursor, {str(template)})
        (product,) = await connector.read("product", [str(template)])
        assert product.sku == "NEW-00001" and product.list_price == Decimal("42.00")  # type: ignore[attr-defined]
    finally:
        await connector.close()


async def test_deactivated_template_is_reported_and_left_out_of_read(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector)
        template = await template_id(tryton_server, "SKU-00003")  # no stock: Tryton allows deactivating it
        await tryton_server.rpc("product.template", "write", [template], {"active": False})
        await assert_reported_once(connector, cursor, {str(template)})
        assert await connector.read("product", [str(template)]) == []
    finally:
        await connector.close()


async def test_promotion_line_change_reports_its_template(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector)
        template = await template_id(tryton_server, "SKU-00001")
        (variant,) = await product_ids(tryton_server, template)
        lines = await tryton_server.rpc(
            "product.price_list.line", "search", [("product", "=", variant)], 0, None, None
        )
        await tryton_server.rpc(
            "product.price_list.line", "write", lines, {"formula": "unit_price * Decimal('0.5')"}
        )
        await assert_reported_once(connector, cursor, {str(template)})
        (product,) = await connector.read("product", [str(template)])
        assert product.sale_price.price == (product.list_price * Decimal("0.5")).quantize(Decimal("0.01"))  # type: ignore[attr-defined]
    finally:
        await connector.close()


async def test_category_change_is_reported(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        cursor = await start_feed(connector, "category")
        (category,) = await tryton_server.rpc(
            "product.category", "search", [("name", "=", "Kitchen")], 0, 1, None
        )
        await tryton_server.rpc("product.category", "write", [category], {"name": "Kitchen & Dining"})
        await assert_reported_once(connector, cursor, {str(category)}, entity="category")
        (record,) = await connector.read("category", [str(category)])
        assert record.name == "Kitchen & Dining"  # type: ignore[attr-defined]
        assert (await connector.changes("product", None)).keys == []
    finally:
        await connector.close()


async def test_client_logs_in_again_after_the_session_is_invalidated(tryton_server: RunningTryton) -> None:
    client = tryton_server.client()
    try:
        first = await client.model("product.template", "search_count", [])
        old_session = client._session
        await client.call("common.db.logout")  # the server forgets the token
        second = await client.model("product.template", "search_count", [])
        assert second == first and client._session != old_session
    finally:
        await client.close()
