"""Pricelist prices and promotions of a page of variants, read from Odoo and computed by prices.py.

One read of the rules of the watched pricelists (and of the pricelists they compute from) that may
price the page, one search per category a rule names, the cost only when a rule computes from it;
then each variant's price per configured pricelist and its promotion, at the server's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.money import quantity_of
from emporion.connectors.odoo.prices import (
    ALL_ROWS,
    ITEM_FIELDS,
    PriceBook,
    PricedVariant,
    Rule,
    base_pricelists,
    cost_needed,
    rule_from_row,
)
from emporion.model import SalePrice


async def load_book(
    client: OdooClient, pricelists: Iterable[int], variants: Sequence[PricedVariant], *, page_size: int
) -> PriceBook:
    """The rules of `pricelists` (and of the pricelists they compute from) that may price `variants`."""
    templates = sorted({variant.template for variant in variants})
    ids = sorted({variant.id for variant in variants})
    wanted, loaded = set(pricelists), set[int]()
    rules: list[Rule] = []
    while wanted - loaded:
        batch = sorted(wanted - loaded)
        loaded |= set(batch)
        domain: list[Any] = [
            ("pricelist_id", "in", batch),
            "|",
            "|",
            ("applied_on", "in", ["3_global", "2_product_category"]),
            ("product_tmpl_id", "in", templates),
            ("product_id", "in", ids),
        ]
        async for rows in client.pages(
            "product.pricelist.item", domain, ITEM_FIELDS, page_size=page_size, context=ALL_ROWS
        ):
            found = [rule_from_row(row) for row in rows]
            rules.extend(found)
            wanted |= base_pricelists(found)
    categories = sorted(
        {rule.category for rule in rules if rule.category and rule.applied_on == "2_product_category"}
    )
    descendants: dict[int, set[int]] = {}
    for category in categories:
        below = await client.search("product.category", [("id", "child_of", category)])
        descendants[category] = {category, *below}
    return PriceBook(rules, descendants)


async def with_cost(client: OdooClient, priced: list[PricedVariant]) -> list[PricedVariant]:
    """The variants with their cost (standard_price), for rules computed from it."""
    rows = await client.read("product.product", [variant.id for variant in priced], ["standard_price"])
    cost = {int(row["id"]): quantity_of(row.get("standard_price")) for row in rows}
    return [
        PricedVariant(v.id, v.template, v.category, v.list_price, cost.get(v.id, Decimal(0))) for v in priced
    ]


async def variant_prices(
    client: OdooClient,
    priced: list[PricedVariant],
    pricelists: Mapping[str, int],
    sale_pricelist: int | None,
    *,
    page_size: int,
) -> dict[int, tuple[dict[str, Decimal], SalePrice | None]]:
    """Per variant: its price in each named pricelist and its promotion from the sale pricelist."""
    watched = [*pricelists.values(), *([sale_pricelist] if sale_pricelist else [])]
    if not watched or not priced:
        return {}
    book = await load_book(client, watched, priced, page_size=page_size)
    rules: list[Rule] = [rule for pricelist_rules in book.rules.values() for rule in pricelist_rules]
    if cost_needed(rules):
        priced = await with_cost(client, priced)
    now: dt.datetime = await client.now()
    return {
        item.id: (
            {name: book.price(pricelist, item, now) for name, pricelist in pricelists.items()},
            book.promotion(sale_pricelist, item, now) if sale_pricelist else None,
        )
        for item in priced
    }
