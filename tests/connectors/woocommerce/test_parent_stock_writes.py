"""Writes into a shop that keeps one stock for a variable product's variations on the product.

The merchant set the shop up that way (the product manages stock, its variations read
`manage_stock: "parent"`); the ERP's record gives each variant its own stock. The shop keeps its
layout: the product gets the sum, the variations no stock of their own. The sandbox answers
`manage_stock: "parent"` as WooCommerce 10.0.2 does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.engine.compare import diff_records
from emporion.model import Product, Variant
from tests.connectors.woocommerce.test_connector import size, variable_in_shop, woo, write_products
from tests.integration.engine_support import shop_api

__all__ = ["woo"]  # the connector on the sandbox shop, used by every test here


def shirt(**stock: int) -> Product:
    """The ERP's record of the shirt: each size its own stock, the product none."""
    variants = [
        Variant(
            key=f"erp-SHIRT-{option}",
            sku=f"SHIRT-{option}",
            attributes={"Size": option},
            list_price=Decimal("20.00"),
            available=Decimal(units),
        )
        for option, units in stock.items()
    ]
    return Product(
        key="erp-SHIRT", sku="SHIRT", name="Shirt", attributes={"Size": list(stock)}, variants=variants
    )


def in_shop(sandbox_shop: Any, ident: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The product and its variations by SKU, as the shop holds them (edit context)."""
    api = shop_api(sandbox_shop)
    product = api.get(f"/products/{ident}", params={"context": "edit"}).json()
    variations = api.get(f"/products/{ident}/variations", params={"context": "edit"}).json()
    return product, {v["sku"]: v for v in variations}


def stock_of(sandbox_shop: Any, ident: int) -> tuple[Any, Any, dict[str, Any]]:
    product, variations = in_shop(sandbox_shop, ident)
    return (
        product["manage_stock"],
        product["stock_quantity"],
        {s: v["manage_stock"] for s, v in variations.items()},
    )


def shared_by_all(sandbox_shop: Any) -> int:
    return variable_in_shop(sandbox_shop, [size("S", sku="SHIRT-S"), size("M", sku="SHIRT-M")])


async def test_a_matched_product_keeps_its_variations_stock_on_itself_as_their_sum(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = shared_by_all(sandbox_shop)  # 40 on the product, both sizes "parent"
    record = shirt(S=3, M=4)
    outcome = (await write_products(woo, record))[record.key]
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref["id"] == ident
    assert stock_of(sandbox_shop, ident) == (True, 7, {"SHIRT-S": "parent", "SHIRT-M": "parent"})
    [back] = await woo.read("product", [str(ident)])
    assert isinstance(back, Product) and back.available == Decimal(7)
    assert not diff_records(record, back, {"categories", "custom", "weight"})  # the sum is what counts


async def test_a_linked_update_writes_the_new_sum_and_leaves_the_variations_sharing(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = shared_by_all(sandbox_shop)
    record = shirt(S=3, M=4)
    ref = (await write_products(woo, record))[record.key].target_ref
    fewer = shirt(S=1, M=4)
    outcome = (await write_products(woo, fewer, refs={fewer.key: ref}))[fewer.key]
    assert outcome.status is OutcomeStatus.UPDATED, outcome.error
    assert stock_of(sandbox_shop, ident) == (True, 5, {"SHIRT-S": "parent", "SHIRT-M": "parent"})


async def test_a_variation_with_its_own_stock_keeps_it_and_so_does_a_new_size(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = variable_in_shop(
        sandbox_shop,
        [size("S", sku="SHIRT-S", manage_stock=True, stock_quantity=9), size("M", sku="SHIRT-M")],
    )
    record = shirt(S=2, M=6)
    await write_products(woo, record)
    product, variations = in_shop(sandbox_shop, ident)
    assert (variations["SHIRT-S"]["manage_stock"], variations["SHIRT-S"]["stock_quantity"]) == (True, 2)
    assert (variations["SHIRT-M"]["manage_stock"], product["stock_quantity"]) == ("parent", 6)

    bigger = shirt(S=2, M=6, L=5)
    await write_products(woo, bigger)  # matched by SKU again; L is new: like S, it keeps its own
    assert stock_of(sandbox_shop, ident) == (True, 6, {"SHIRT-S": True, "SHIRT-M": "parent", "SHIRT-L": True})


async def test_a_new_size_of_a_product_whose_variations_all_share_shares_too(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = shared_by_all(sandbox_shop)
    record = shirt(S=1, M=2, L=3)
    await write_products(woo, record)
    assert stock_of(sandbox_shop, ident) == (
        True,
        6,
        {"SHIRT-S": "parent", "SHIRT-M": "parent", "SHIRT-L": "parent"},
    )


async def test_a_product_created_by_the_sync_keeps_stock_on_each_variation(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    record = shirt(S=3, M=4)
    ref = (await write_products(woo, record))[record.key].target_ref
    assert stock_of(sandbox_shop, ref["id"]) == (False, None, {"SHIRT-S": True, "SHIRT-M": True})
    again = (await write_products(woo, shirt(S=2, M=4), refs={record.key: ref}))[record.key]
    assert again.ok and stock_of(sandbox_shop, ref["id"]) == (False, None, {"SHIRT-S": True, "SHIRT-M": True})
    _product, variations = in_shop(sandbox_shop, ref["id"])
    assert variations["SHIRT-S"]["stock_quantity"] == 2


async def test_stock_the_shop_owns_is_written_neither_to_the_product_nor_to_a_variation(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = variable_in_shop(
        sandbox_shop,
        [size("S", sku="SHIRT-S", manage_stock=True, stock_quantity=9), size("M", sku="SHIRT-M")],
    )
    record = shirt(S=2, M=6)
    owned = frozenset({"available"})
    [outcome] = await woo.write("product", [WriteItem(record.key, record, keep_on_update=owned)], [])
    assert outcome.status is OutcomeStatus.MATCHED
    product, variations = in_shop(sandbox_shop, ident)
    assert (product["stock_quantity"], variations["SHIRT-S"]["stock_quantity"]) == (40, 9)
    assert variations["SHIRT-M"]["manage_stock"] == "parent"
