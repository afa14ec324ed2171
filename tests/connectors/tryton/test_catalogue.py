"""The Tryton connector reads the sample catalogue of a real Tryton server correctly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from emporion.connectors.base import AuthError, Permanent, Unmappable
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.model import Product
from emporion_devkit.erp.catalogue import CATEGORY_TREE, plan
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton


async def scan_products(server: RunningTryton, **options: object) -> dict[str, Product]:
    connector = server.connector(**options)
    try:
        return {p.sku: p async for page in connector.scan("product") for p in page}  # type: ignore[union-attr]
    finally:
        await connector.close()


def planned(server: RunningTryton) -> dict[str, object]:
    spec = server.catalogue
    return {item.code: item for item in plan(spec.products, spec.variant_share, spec.seed)}


async def test_scan_returns_every_salable_template_once(tryton_server_module: RunningTryton) -> None:
    products = await scan_products(tryton_server_module)
    expected = {code for code, item in planned(tryton_server_module).items() if item.salable}  # type: ignore[attr-defined]
    assert set(products) == expected
    assert all(product.currency == "EUR" for product in products.values())


async def test_simple_product_fields_prices_and_stock(tryton_server_module: RunningTryton) -> None:
    products = await scan_products(tryton_server_module)
    items = planned(tryton_server_module)
    simple = [code for code, item in items.items() if len(item.variants) == 1 and item.salable]  # type: ignore[attr-defined]
    for code in simple:
        item = items[code]
        product = products[code]
        assert not product.is_variable
        assert product.name == item.name  # type: ignore[attr-defined]
        assert product.list_price == item.list_price  # type: ignore[attr-defined]
        assert product.price_lists == {
            "Wholesale": (item.list_price * Decimal("0.9")).quantize(Decimal("0.01"))
        }  # type: ignore[attr-defined]
        stock = {level.warehouse: level.quantity for level in product.stock}
        assert stock == {wh: Decimal(q) for wh, q in item.variants[0].stock.items()}  # type: ignore[attr-defined]
        assert product.weight == Decimal(str(item.weight))  # type: ignore[attr-defined]
        assert product.description.startswith(item.name)  # type: ignore[attr-defined]


async def test_sale_price_windows_current_and_future(tryton_server_module: RunningTryton) -> None:
    products = await scan_products(tryton_server_module)
    today = date.today()
    seen_current = seen_future = False
    for code, item in planned(tryton_server_module).items():
        if not item.salable:  # type: ignore[attr-defined]
            continue
        product = products[code]
        prices = [product.sale_price] if not product.is_variable else [v.sale_price for v in product.variants]
        if item.promotion is None:  # type: ignore[attr-defined]
            assert prices == [None] * len(prices)
            continue
        factor, start, end = item.promotion  # type: ignore[attr-defined]
        for sale in prices:
            assert sale is not None
            assert sale.price == (item.list_price * factor).quantize(Decimal("0.01"))  # type: ignore[attr-defined]
            first = today + timedelta(days=start)
            assert sale.start == datetime(first.year, first.month, first.day, tzinfo=UTC)
            last = today + timedelta(days=end + 1)
            assert sale.end == datetime(last.year, last.month, last.day, tzinfo=UTC)
        seen_current |= start < 0
        seen_future |= start > 0
    assert seen_current and seen_future, "the sample catalogue must hold both kinds of promotion"


async def test_variable_product_has_variants_with_attributes_and_stock(
    tryton_server_module: RunningTryton,
) -> None:
    products = await scan_products(tryton_server_module)
    variable = [item for item in planned(tryton_server_module).values() if len(item.variants) > 1]  # type: ignore[attr-defined]
    assert variable
    for item in variable:
        product = products[item.code]  # type: ignore[attr-defined]
        assert product.is_variable and product.stock == []
        assert [v.sku for v in product.variants] == [item.code + v.suffix for v in item.variants]  # type: ignore[attr-defined]
        for variant, plan_variant in zip(product.variants, item.variants, strict=True):  # type: ignore[attr-defined]
            assert variant.attributes == plan_variant.attributes
            assert {s.warehouse: s.quantity for s in variant.stock} == {
                wh: Decimal(q) for wh, q in plan_variant.stock.items()
            }
            assert variant.list_price == item.list_price  # type: ignore[attr-defined]
        assert set(product.attributes) == {"size", "colour"}
        assert product.attributes["size"] == sorted({v.attributes["size"] for v in item.variants})  # type: ignore[attr-defined]


async def test_categories_form_the_sample_tree(tryton_server_module: RunningTryton) -> None:
    connector = tryton_server_module.connector()
    try:
        categories = [c async for page in connector.scan("category") for c in page]
        products = await connector.read("product", ["1", "2", "3"])
    finally:
        await connector.close()
    by_key = {c.key: c for c in categories}
    names = {c.name: c for c in categories}
    assert set(names) == set(CATEGORY_TREE) | {
        child for children in CATEGORY_TREE.values() for child in children
    }
    for root, children in CATEGORY_TREE.items():
        assert names[root].parent_key is None
        for child in children:
            assert by_key[names[child].parent_key].name == root  # type: ignore[index]
    for product in products:
        assert len(product.categories) == 1 and product.categories[0] in by_key  # type: ignore[attr-defined]


async def test_read_leaves_out_unsalable_and_unknown_records_and_names_unusable_keys(
    tryton_server_module: RunningTryton,
) -> None:
    items = planned(tryton_server_module)
    codes = list(items)
    unsalable = [str(codes.index(code) + 1) for code, item in items.items() if not item.salable]  # type: ignore[attr-defined]
    assert unsalable
    connector = tryton_server_module.connector()
    try:
        records = await connector.read("product", [*unsalable, "1", "999999", "not-a-number"])
    finally:
        await connector.close()
    assert [record.key for record in records if not isinstance(record, Unmappable)] == ["1"]
    (unusable,) = [record for record in records if isinstance(record, Unmappable)]
    assert unusable.key == "not-a-number" and unusable.record == "product not-a-number"  # a dead letter


async def test_paging_gives_the_same_products_in_small_pages(tryton_server_module: RunningTryton) -> None:
    connector = tryton_server_module.connector(page_size=7)
    try:
        pages = [page async for page in connector.scan("product")]
    finally:
        await connector.close()
    assert all(len(page) <= 7 for page in pages) and len(pages) >= 9
    keys = [int(p.key) for page in pages for p in page]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    assert {p.sku for page in pages for p in page} == set(await scan_products(tryton_server_module))


async def test_custom_fields_read_template_and_variant_fields(tryton_server_module: RunningTryton) -> None:
    custom = {"ean": "product.ean", "code": "template.code", "options": "product.attributes"}
    products = await scan_products(tryton_server_module, custom_fields=custom)
    items = planned(tryton_server_module)
    assert products["SKU-00001"].custom == {
        "ean": items["SKU-00001"].ean,
        "code": "SKU-00001",
        "options": None,
    }  # type: ignore[attr-defined]
    variable = next(p for p in products.values() if p.is_variable)
    assert variable.custom == {"code": variable.sku}
    assert variable.variants[0].custom["ean"] is None
    assert '"size"' in str(variable.variants[0].custom["options"])


async def test_check_passes_for_the_provisioned_user(tryton_server_module: RunningTryton) -> None:
    connector = tryton_server_module.connector(warehouses=["WH", "WH2"])
    try:
        results = await connector.check()
    finally:
        await connector.close()
    assert all(result.ok for result in results), results
    assert {r.name for r in results} >= {"login", "company", "read stock.move", "read stock quantities"}


async def test_unknown_warehouse_is_a_clear_permanent_error(tryton_server_module: RunningTryton) -> None:
    connector = tryton_server_module.connector(warehouses=["WH", "NOPE"])
    try:
        with pytest.raises(Permanent, match="no warehouse with code NOPE"):
            await connector.read("product", ["1"])
    finally:
        await connector.close()


async def test_bad_credentials_raise_auth_error(tryton_server_module: RunningTryton) -> None:
    client = TrytonClient(
        tryton_server_module.url, tryton_server_module.database, "emporion", "wrong-password"
    )
    try:
        with pytest.raises(AuthError, match=r"refused the login 'emporion'.*bad credentials"):
            await client.model("product.template", "search", [], 0, 1, None)
    finally:
        await client.close()
    connector = TrytonConnector(
        "tryton", tryton_server_module.url, tryton_server_module.database, "nobody", "x"
    )
    try:
        results = await connector.check()
    finally:
        await connector.close()
    assert results[0].name == "login" and not results[0].ok and "bad credentials" in results[0].detail
