"""Stock per mapped warehouse: Odoo's `free_qty` (on hand less reserved), read in each warehouse's context.

`free_qty` is computed, never stored: it is scoped by the version's warehouse context key (`warehouse`
on 17, `warehouse_id` from 18, see profiles.py), so one read per warehouse gives every product of a
page at once. Only storable products carry stock (the profile's storable domain: `detailed_type =
'product'` on 17, `is_storable` from 18); services and consumables without tracking get none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.money import quantity_of
from emporion.model import StockLevel

ALL_ROWS = {"active_test": False}


async def resolve_warehouses(client: OdooClient, codes: Sequence[str]) -> dict[str, int]:
    """Warehouse code -> stock.warehouse id for `codes` (none: every warehouse); unknown codes refused."""
    rows = await client.search_read("stock.warehouse", [], ["code"], order="id")
    by_code = {str(row["code"]): int(row["id"]) for row in rows if row.get("code")}
    wanted = list(codes) or sorted(by_code)
    missing = [code for code in wanted if code not in by_code]
    if missing:
        known = ", ".join(sorted(by_code)) or "none"
        raise Permanent(
            f"Odoo has no warehouse with code {', '.join(missing)} (has {known})",
            record="stock.warehouse",
            field="code",
        )
    return {code: by_code[code] for code in wanted}


async def storable(client: OdooClient, product_ids: Sequence[int]) -> set[int]:
    """The product.product ids among `product_ids` whose stock Odoo tracks."""
    if not product_ids:
        return set()
    domain: list[Any] = [("id", "in", list(product_ids)), *client.profile.storable()]
    return set(await client.search("product.product", domain, context=ALL_ROWS))


async def free_quantities(
    client: OdooClient, product_ids: Sequence[int], warehouse: int
) -> dict[int, Decimal]:
    """free_qty per product in one warehouse (its view location and everything below it)."""
    if not product_ids:
        return {}
    context = client.profile.warehouse_context(warehouse)
    rows = await client.read("product.product", list(product_ids), ["free_qty"], context=context)
    return {int(row["id"]): quantity_of(row.get("free_qty")) for row in rows}


async def stock_levels(
    client: OdooClient, product_ids: Sequence[int], warehouses: dict[str, int]
) -> dict[int, list[StockLevel]]:
    """Stock levels per storable product in each warehouse; products Odoo does not track are absent."""
    tracked = sorted(await storable(client, product_ids))
    if not tracked:
        return {}
    reads = [free_quantities(client, tracked, warehouse) for warehouse in warehouses.values()]
    levels: dict[int, list[StockLevel]] = {product: [] for product in tracked}
    for code, quantities in zip(warehouses, await asyncio.gather(*reads), strict=True):
        for product, quantity in quantities.items():
            levels[product].append(StockLevel(warehouse=code, quantity=quantity))
    return levels


async def sku_availability(
    client: OdooClient, skus: Sequence[str], warehouses: dict[str, int], *, page_size: int
) -> dict[str, Decimal]:
    """free_qty per known storable SKU, summed over `warehouses`; other SKUs are absent."""
    wanted = sorted({sku for sku in skus if sku})
    available: dict[str, Decimal] = {}
    for start in range(0, len(wanted), page_size):
        chunk = wanted[start : start + page_size]
        rows = await client.search_read(
            "product.product", [("default_code", "in", chunk)], ["default_code"], context=ALL_ROWS
        )
        code_of = {int(row["id"]): str(row["default_code"]) for row in rows}
        levels = await stock_levels(client, sorted(code_of), warehouses)
        for product, product_levels in levels.items():
            total = sum((level.quantity for level in product_levels), Decimal(0))
            available[code_of[product]] = available.get(code_of[product], Decimal(0)) + total
    return available
