"""The Odoo catalogue on the sandbox: variants and attributes, prices, promotions, stock per warehouse,
images, custom fields, what is left out, and the 17 profile's stock context."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model import Product, StockLevel
from tests.connectors.odoo.conftest import RunningSandbox

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


@pytest.fixture
async def connector(odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
    """A connector reading the Wholesale pricelist and the Promotions pricelist's dated items."""
    settings = odoo_sandbox.settings(pricelists=["Wholesale"], sale_pricelist="Promotions", page_size=4)
    connector = OdooConnector("odoo", settings)
    yield connector
    await connector.close()


def product(records: list[Any]) -> Product:
    """The one product of a read."""
    (record,) = records
    assert isinstance(record, Product), record
    return record


def shirt_with_colours(running: RunningSandbox, sku: str) -> tuple[int, dict[str, int]]:
    """A template with Colour Red and Blue (+1.50), variants coded; its id and its variants by colour."""
    sandbox = running.sandbox
    (colour,) = sandbox.create("product.attribute", [{"name": "Colour"}])
    red, blue = sandbox.create(
        "product.attribute.value",
        [{"name": "Red", "attribute_id": colour}, {"name": "Blue", "attribute_id": colour}],
    )
    line = {"attribute_id": colour, "value_ids": [(6, 0, [red, blue])]}
    template = sandbox.create_product(f"Shirt {sku}", sku, 20.0, attribute_line_ids=[(0, 0, line)])
    rows = sandbox.search_read(
        "product.product", [("product_tmpl_id", "=", template)], ["product_template_attribute_value_ids"]
    )
    values = {
        row["id"]: row["name"]
        for row in sandbox.search_read(
            "product.template.attribute.value", [("product_tmpl_id", "=", template)]
        )
    }
    variants = {values[row["product_template_attribute_value_ids"][0]]: row["id"] for row in rows}
    for name, variant in variants.items():
        sandbox.write("product.product", [variant], {"default_code": f"{sku}-{name.upper()}"})
    blue_value = next(ident for ident, name in values.items() if name == "Blue")
    sandbox.write("product.template.attribute.value", [blue_value], {"price_extra": 1.5})
    return template, variants


async def test_variants_carry_attributes_extras_pricelist_prices_and_stock(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Attribute values by name, list price plus extra, Wholesale's 10 % off, free_qty per warehouse."""
    template, variants = shirt_with_colours(odoo_sandbox, "SHIRT-A")
    odoo_sandbox.sandbox.receive_stock("SHIRT-A-BLUE", 7, "WH2")
    shirt = product(await connector.read("product", [str(template)]))
    assert shirt.sku == "SHIRT-A" and shirt.currency == "EUR"
    assert shirt.attributes == {"Colour": ["Blue", "Red"]}
    by_sku = {variant.sku: variant for variant in shirt.variants}
    blue, red = by_sku["SHIRT-A-BLUE"], by_sku["SHIRT-A-RED"]
    assert blue.key == str(variants["Blue"]) and blue.attributes == {"Colour": "Blue"}
    assert (red.list_price, blue.list_price) == (Decimal("20.00"), Decimal("21.50"))
    assert (red.price_lists, blue.price_lists) == (
        {"Wholesale": Decimal("18.00")},
        {"Wholesale": Decimal("19.35")},
    )
    assert blue.stock == [
        StockLevel(warehouse="WH", quantity=Decimal(0)),
        StockLevel(warehouse="WH2", quantity=Decimal(7)),
    ]
    assert await connector.availability(["SHIRT-A-BLUE", "SHIRT-A-RED", "NOPE"], None) == {
        "SHIRT-A-BLUE": Decimal(7),
        "SHIRT-A-RED": Decimal(0),
    }
    assert await connector.availability(["SHIRT-A-BLUE"], ["WH"]) == {"SHIRT-A-BLUE": Decimal(0)}
    assert await connector.product_keys(["SHIRT-A-RED", "NOPE"]) == {"SHIRT-A-RED": str(template)}


async def test_the_most_specific_item_wins_and_a_dated_item_is_a_promotion(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A template's fixed price beats Wholesale's global 10 %; a dated Promotions item is a sale price."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Lamp", "LAMP-1", 50.0)
    (wholesale,) = sandbox.search_read("product.pricelist", [("name", "=", "Wholesale")], ["id"])
    (promotions,) = sandbox.search_read("product.pricelist", [("name", "=", "Promotions")], ["id"])
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)
    end = start + dt.timedelta(days=10)
    sandbox.create(
        "product.pricelist.item",
        [
            {
                "pricelist_id": wholesale["id"],
                "applied_on": "1_product",
                "product_tmpl_id": template,
                "fixed_price": 41.0,
            },
            {
                "pricelist_id": promotions["id"],
                "applied_on": "1_product",
                "product_tmpl_id": template,
                "compute_price": "percentage",
                "percent_price": 30.0,
                "date_start": start.strftime("%Y-%m-%d %H:%M:%S"),
                "date_end": end.strftime("%Y-%m-%d %H:%M:%S"),
            },
        ],
    )
    lamp = product(await connector.read("product", [str(template)]))
    assert lamp.price_lists == {"Wholesale": Decimal("41.00")}
    assert lamp.sale_price is not None and lamp.sale_price.price == Decimal("35.00")
    assert lamp.sale_price.start == start and lamp.sale_price.end == end + dt.timedelta(seconds=1)


async def test_only_stock_tracked_products_carry_stock_and_services_are_left_out(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A consumable without tracking has no stock levels; a service and an archived product are not read."""
    sandbox = odoo_sandbox.sandbox
    goods = sandbox.create_product("Sticker", "STICK-1", 1.0, is_storable=False)
    service = sandbox.create_product("Gift wrap", "WRAP-1", 3.0, type="service", is_storable=False)
    archived = sandbox.create_product("Old", "OLD-1", 3.0)
    sandbox.write("product.template", [archived], {"active": False})
    records = await connector.read("product", [str(goods), str(service), str(archived), "987654"])
    assert [record.key for record in records] == [str(goods)]
    assert product(records).stock == [] and product(records).sku == "STICK-1"
    scanned = {record.key async for page in connector.scan("product") for record in page}
    assert str(goods) in scanned and str(service) not in scanned and str(archived) not in scanned


async def test_images_by_url_only_when_the_template_has_one(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """The image URL is published when image_1920 is set, and Odoo serves it there."""
    sandbox = odoo_sandbox.sandbox
    pictured = sandbox.create_product("Mug", "MUG-1", 9.0, image_1920=PNG)
    plain = sandbox.create_product("Cup", "CUP-1", 9.0)
    records = {record.key: record for record in await connector.read("product", [str(pictured), str(plain)])}
    (image,) = product([records[str(pictured)]]).images
    assert image.url == f"{odoo_sandbox.url}/web/image/product.template/{pictured}/image_1920"
    assert product([records[str(plain)]]).images == []
    async with httpx.AsyncClient() as http:
        answer = await http.get(image.url)
    assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")


async def test_custom_fields_of_template_and_variant(odoo_sandbox: RunningSandbox) -> None:
    """Custom fields read from the template and the variant; one Odoo lacks is refused by name."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Bottle", "BOT-1", 5.0, volume=0.75)
    sandbox.write("product.product", [sandbox.variant("BOT-1")], {"barcode": "4006381333931"})
    custom = {"volume": "template.volume", "ean": "product.barcode"}
    connector = OdooConnector("odoo", odoo_sandbox.settings(custom_fields=custom))
    try:
        bottle = product(await connector.read("product", [str(template)]))
    finally:
        await connector.close()
    assert bottle.custom == {"volume": Decimal("0.75"), "ean": "4006381333931"}
    wrong = OdooConnector("odoo", odoo_sandbox.settings(custom_fields={"x": "template.x_missing"}))
    try:
        with pytest.raises(Permanent) as refused:
            await wrong.read("product", [str(template)])
    finally:
        await wrong.close()
    assert refused.value.field == "custom_fields" and "x_missing" in str(refused.value)


async def test_a_template_that_cannot_be_mapped_is_unmappable(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A template Odoo holds without a name becomes a stand-in naming it and the field, not a failure."""
    sandbox = odoo_sandbox.sandbox
    broken = sandbox.create_product("Nameless", "NN-1", 5.0)
    fine = sandbox.create_product("Named", "NN-2", 5.0)
    with sandbox.server.store.transaction():  # a database row as an old import left it
        sandbox.server.store.table("product.template")[broken]["name"] = False
        sandbox.server.store.touch("product.template", broken)
    records = {record.key: record for record in await connector.read("product", [str(broken), str(fine)])}
    stand_in = records[str(broken)]
    assert isinstance(stand_in, Unmappable) and stand_in.field == "name"
    assert stand_in.record == f"product template {broken}"
    assert isinstance(records[str(fine)], Product)


async def test_categories_with_their_parents(connector: OdooConnector, odoo_sandbox: RunningSandbox) -> None:
    """product.category rows as categories, the parent by key."""
    sandbox = odoo_sandbox.sandbox
    (parent,) = sandbox.create("product.category", [{"name": "Garden"}])
    (child,) = sandbox.create("product.category", [{"name": "Tools", "parent_id": parent}])
    categories = {
        record.key: record for record in await connector.read("category", [str(child), str(parent)])
    }
    assert categories[str(child)].parent_key == str(parent) and categories[str(parent)].parent_key is None
    scanned = {record.key async for page in connector.scan("category") for record in page}
    assert {str(child), str(parent)} <= scanned


async def test_odoo_17_reads_stock_with_its_own_context_key(odoo_sandbox_17: RunningSandbox) -> None:
    """On 17 the warehouse context key is `warehouse` and storable means detailed_type 'product'."""
    sandbox = odoo_sandbox_17.sandbox
    template = sandbox.create_product("Tent", "TENT-17", 99.0)
    sandbox.receive_stock("TENT-17", 3, "WH")
    sandbox.receive_stock("TENT-17", 4, "WH2")
    connector = OdooConnector("odoo", odoo_sandbox_17.settings(warehouses=["WH2"]))
    try:
        tent = product(await connector.read("product", [str(template)]))
    finally:
        await connector.close()
    assert tent.stock == [StockLevel(warehouse="WH2", quantity=Decimal(4))]
