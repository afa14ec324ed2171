"""The Odoo change feed on the sandbox: stock receipts, pricelist items, attribute values, categories,
and Odoo's no-op writes (write_date bumped, nothing changed) reported once only."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.connector import OdooConnector
from tests.connectors.odoo.conftest import RunningSandbox


@pytest.fixture
async def connector(odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
    """A connector watching the Wholesale pricelist and the Promotions pricelist."""
    settings = odoo_sandbox.settings(pricelists=["Wholesale"], sale_pricelist="Promotions", page_size=5)
    connector = OdooConnector("odoo", settings)
    yield connector
    await connector.close()


async def poll(connector: OdooConnector, cursor: str | None, entity: str = "product") -> tuple[set[str], str]:
    """The keys one poll reports and the cursor to go on with."""
    batch = await connector.changes(entity, cursor)
    assert batch.cursor and not batch.more
    return set(batch.keys), batch.cursor


def stamp(running: RunningSandbox, model: str, ident: int) -> str:
    """The write_date Odoo holds for a row."""
    (row,) = running.sandbox.search_read(model, [("id", "=", ident)], ["write_date"])
    return str(row["write_date"])


async def test_a_stock_receipt_is_reported_once(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A receipt writes quants and moves, never the product's write_date: the product is reported anyway."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Tent", "TENT-F", 90.0)
    sandbox.restamp("product.template", [template], "2020-01-01 00:00:00")
    sandbox.restamp("product.product", [sandbox.variant("TENT-F")], "2020-01-01 00:00:00")
    _, cursor = await poll(connector, None)
    sandbox.receive_stock("TENT-F", 5, "WH2")
    assert stamp(odoo_sandbox, "product.template", template) == "2020-01-01 00:00:00"
    keys, cursor = await poll(connector, cursor)
    assert str(template) in keys
    again, _ = await poll(connector, cursor)
    assert str(template) not in again


async def test_a_pricelist_item_change_reports_what_it_prices(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A template's item reports that template; Wholesale's global item every product; other lists nothing."""
    sandbox = odoo_sandbox.sandbox
    priced = sandbox.create_product("Lamp", "LAMP-F", 50.0)
    other = sandbox.create_product("Chair", "CHAIR-F", 70.0)
    (wholesale,) = sandbox.search_read("product.pricelist", [("name", "=", "Wholesale")], ["item_ids"])
    (unwatched,) = sandbox.create("product.pricelist", [{"name": "Staff", "currency_id": 1}])
    item, staff_item = sandbox.create(
        "product.pricelist.item",
        [
            {
                "pricelist_id": wholesale["id"],
                "applied_on": "1_product",
                "product_tmpl_id": priced,
                "fixed_price": 40.0,
            },
            {
                "pricelist_id": unwatched,
                "applied_on": "1_product",
                "product_tmpl_id": other,
                "fixed_price": 5.0,
            },
        ],
    )
    _, cursor = await poll(connector, None)
    sandbox.write("product.pricelist.item", [item], {"fixed_price": 39.0})
    sandbox.write("product.pricelist.item", [staff_item], {"fixed_price": 4.0})
    keys, cursor = await poll(connector, cursor)
    assert str(priced) in keys and str(other) not in keys
    (global_item,) = [
        row["id"]
        for row in sandbox.search_read(
            "product.pricelist.item", [("id", "in", wholesale["item_ids"])], ["applied_on"]
        )
        if row["applied_on"] == "3_global"
    ]
    sandbox.write("product.pricelist.item", [global_item], {"percent_price": 12.0})
    keys, _ = await poll(connector, cursor)
    assert {str(priced), str(other)} <= keys


async def test_a_write_that_changes_nothing_is_not_reported_again(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Odoo restamps a row written with its own values: a change is reported once, the next real one again."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Mug", "MUG-F", 9.0)
    _, cursor = await poll(connector, None)
    sandbox.set_price(template, 9.5)
    keys, cursor = await poll(connector, cursor)
    assert str(template) in keys
    sandbox.restamp("product.template", [template], "2020-01-01 00:00:00")
    sandbox.set_price(template, 9.5)  # the same price: Odoo bumps write_date all the same
    assert stamp(odoo_sandbox, "product.template", template) > "2020-01-01 00:00:00"
    keys, cursor = await poll(connector, cursor)
    assert str(template) not in keys
    sandbox.set_price(template, 9.75)
    keys, _ = await poll(connector, cursor)
    assert str(template) in keys


async def test_an_attribute_value_price_extra_reports_its_template(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """price_extra lives on product.template.attribute.value: a change there is the template's."""
    sandbox = odoo_sandbox.sandbox
    (size,) = sandbox.create("product.attribute", [{"name": "Fit"}])
    slim, wide = sandbox.create(
        "product.attribute.value",
        [{"name": "Slim", "attribute_id": size}, {"name": "Wide", "attribute_id": size}],
    )
    line = {"attribute_id": size, "value_ids": [(6, 0, [slim, wide])]}
    template = sandbox.create_product("Trousers", "TR-F", 40.0, attribute_line_ids=[(0, 0, line)])
    values = sandbox.search_read(
        "product.template.attribute.value", [("product_tmpl_id", "=", template)], ["id"]
    )
    sandbox.restamp("product.template", [template], "2020-01-01 00:00:00")
    _, cursor = await poll(connector, None)
    sandbox.write("product.template.attribute.value", [values[0]["id"]], {"price_extra": 4.0})
    assert stamp(odoo_sandbox, "product.template", template) == "2020-01-01 00:00:00"
    keys, _ = await poll(connector, cursor)
    assert keys == {str(template)}


async def test_a_renamed_category_is_reported(connector: OdooConnector, odoo_sandbox: RunningSandbox) -> None:
    """The category feed reports a category written with a new name, once."""
    sandbox = odoo_sandbox.sandbox
    (category,) = sandbox.create("product.category", [{"name": "Garden"}])
    _, cursor = await poll(connector, None, "category")
    sandbox.write("product.category", [category], {"name": "Garden & Patio"})
    keys, cursor = await poll(connector, cursor, "category")
    assert keys == {str(category)}
    assert str(category) not in (await poll(connector, cursor, "category"))[0]


async def test_a_cursor_that_is_not_ours_is_refused(connector: OdooConnector) -> None:
    """Garbage as a cursor is a permanent error, never a feed from the beginning."""
    with pytest.raises(Permanent, match="not an Odoo feed cursor"):
        await connector.changes("product", '{"hw": "2020"}')


async def test_a_deleted_or_moved_pricelist_item_reports_what_it_priced(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A deleted item leaves no stamp: the feed recalls what it priced; a moved item reports both products."""
    sandbox = odoo_sandbox.sandbox
    first = sandbox.create_product("Basket", "BASKET-F", 30.0)
    second = sandbox.create_product("Towel", "TOWEL-F", 8.0)
    third = sandbox.create_product("Cap", "CAP-F", 15.0)
    (promotions,) = sandbox.search_read("product.pricelist", [("name", "=", "Promotions")], ["id"])
    made = [
        {
            "pricelist_id": promotions["id"],
            "applied_on": "1_product",
            "product_tmpl_id": template,
            "fixed_price": 5.0,
        }
        for template in (first, second)
    ]
    doomed, moving = sandbox.create("product.pricelist.item", made)
    sandbox.restamp("product.pricelist.item", [doomed, moving], "2020-01-01 00:00:00")
    _, cursor = await poll(connector, None)
    sandbox.call("product.pricelist.item", "unlink", [doomed])
    keys, cursor = await poll(connector, cursor)
    assert str(first) in keys and str(second) not in keys
    sandbox.write("product.pricelist.item", [moving], {"product_tmpl_id": third})
    keys, cursor = await poll(connector, cursor)
    assert {str(second), str(third)} <= keys and str(first) not in keys
    keys, _ = await poll(connector, cursor)
    assert not {str(first), str(second), str(third)} & keys


async def test_an_image_added_to_a_template_is_reported(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """An image is too heavy to fingerprint, so its presence is: the first image publishes its URL."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Vase", "VASE-F", 19.0)
    _, cursor = await poll(connector, None)
    sandbox.write(
        "product.template", [template], {"image_1920": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()}
    )
    keys, cursor = await poll(connector, cursor)
    assert str(template) in keys
    assert str(template) not in (await poll(connector, cursor))[0]


async def test_a_promotion_that_begins_between_two_polls_is_reported(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A dated item changes prices when it begins, with nothing written then: the feed reports it."""
    sandbox = odoo_sandbox.sandbox
    template = sandbox.create_product("Kettle", "KETTLE-F", 40.0)
    (wholesale,) = sandbox.search_read("product.pricelist", [("name", "=", "Wholesale")], ["id"])
    begins = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=10)
    (item,) = sandbox.create(
        "product.pricelist.item",
        [
            {
                "pricelist_id": wholesale["id"],
                "applied_on": "1_product",
                "product_tmpl_id": template,
                "fixed_price": 30.0,
                "date_start": begins.strftime("%Y-%m-%d %H:%M:%S"),
            }
        ],
    )
    sandbox.restamp("product.pricelist.item", [item], "2020-01-01 00:00:00")
    sandbox.restamp("product.template", [template], "2020-01-01 00:00:00")
    sandbox.restamp("product.product", [sandbox.variant("KETTLE-F")], "2020-01-01 00:00:00")
    _, cursor = await poll(connector, None)
    early, cursor = await poll(connector, cursor)
    assert dt.datetime.now(dt.UTC) < begins, "the set-up took longer than the margin before the item begins"
    assert str(template) not in early
    await asyncio.sleep((begins - dt.datetime.now(dt.UTC)).total_seconds() + 1.5)
    keys, cursor = await poll(connector, cursor)
    assert str(template) in keys
    assert str(template) not in (await poll(connector, cursor))[0]


async def test_odoo_17_reports_a_receipt_and_a_price_change(odoo_sandbox_17: RunningSandbox) -> None:
    """The feed reads 17's names (detailed_type, the `warehouse` stock context) and reports as on 18."""
    sandbox = odoo_sandbox_17.sandbox
    boxed = sandbox.create_product("Box", "BOX-17", 4.0)
    priced = sandbox.create_product("Bag", "BAG-17", 6.0)
    connector = OdooConnector("odoo", odoo_sandbox_17.settings())
    try:
        _, cursor = await poll(connector, None)
        sandbox.receive_stock("BOX-17", 2, "WH")
        sandbox.set_price(priced, 6.5)
        keys, cursor = await poll(connector, cursor)
        assert {str(boxed), str(priced)} <= keys
        assert not {str(boxed), str(priced)} & (await poll(connector, cursor))[0]
    finally:
        await connector.close()
