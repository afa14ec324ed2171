"""Search-before-create: find existing WooCommerce products and categories by their natural keys.

WooCommerce's `sku` filter splits its value on commas (and also tries the whole string), so SKUs
without commas are looked up 100 at a time and SKUs containing a comma one by one; every answer is
filtered again by exact SKU. WooCommerce's `sku` filter also finds variations: a product is never
matched to one. Every read is in `context=edit` and, where it pages, in id order.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterable, Sequence
from typing import Any

from emporion.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient

PRODUCTS = "products"
CATEGORIES = "products/categories"
EDIT = {"context": "edit"}
BY_ID = {"orderby": "id", "order": "asc", **EDIT}


def _chunks(values: Sequence[str], size: int = MAX_PER_PAGE) -> list[list[str]]:
    return [list(values[start : start + size]) for start in range(0, len(values), size)]


async def find_products_by_sku(client: WooCommerceClient, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Existing products by exact SKU (`{sku: {"id", "sku", "type"}}`), one request per ≤100 SKUs.

    Variations are left out: `?sku=` lists a variation whose SKU matches, and a product is not one.
    """
    wanted = sorted({sku for sku in skus if sku})
    plain = [sku for sku in wanted if "," not in sku]
    queries = [",".join(chunk) for chunk in _chunks(plain)] + [sku for sku in wanted if "," in sku]
    pages = await asyncio.gather(
        *(client.get_all(PRODUCTS, {"sku": query, "_fields": "id,sku,type", **BY_ID}) for query in queries)
    )
    found: dict[str, dict[str, Any]] = {}
    wanted_set = set(wanted)
    for page in pages:
        for product in page:
            sku = str(product.get("sku") or "")
            if sku in wanted_set and product.get("type") != "variation":
                found.setdefault(sku, product)
    return found


async def find_categories_by_slug(client: WooCommerceClient, slugs: Iterable[str]) -> dict[str, int]:
    """Existing categories by slug (`{slug: id}`), one request per ≤100 slugs."""
    wanted = sorted({slug for slug in slugs if slug})
    pages = await asyncio.gather(
        *(client.get_all(CATEGORIES, {"slug": ",".join(chunk), **BY_ID}) for chunk in _chunks(wanted))
    )
    return {str(c["slug"]): int(c["id"]) for page in pages for c in page if c.get("slug") in wanted}


async def all_categories_by_name(client: WooCommerceClient) -> dict[tuple[str, int], int]:
    """Every category by (name, parent id), for records that carry no slug."""
    categories = await client.get_all(CATEGORIES, BY_ID)
    found: dict[tuple[str, int], int] = {}
    for category in categories:
        name = html.unescape(str(category.get("name", "")))
        found.setdefault((name, int(category.get("parent") or 0)), int(category["id"]))
    return found


async def product_variations_by_sku(client: WooCommerceClient, product_id: int) -> dict[str, int]:
    """The existing variations of a product (`{sku: id}`); variations without SKU are left out."""
    variations = await client.get_all(f"{PRODUCTS}/{product_id}/variations", {"_fields": "id,sku", **BY_ID})
    return {str(v["sku"]): int(v["id"]) for v in variations if v.get("sku")}
