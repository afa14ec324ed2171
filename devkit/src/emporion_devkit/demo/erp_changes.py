"""Merchant actions in Tryton by SKU (a price, a name, a goods receipt), for the demo and the tests.

They go through Tryton's JSON-RPC API like any user would, so the change feed sees real changes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from emporion.connectors.tryton.client import TrytonClient


async def product_by_sku(client: TrytonClient, sku: str) -> dict[str, Any]:
    """The product.product row with this code, with its template and unit."""
    rows = await client.search_read(
        "product.product", [("code", "=", sku)], ["id", "template", "default_uom"], limit=1
    )
    if not rows:
        raise LookupError(f"no product with SKU {sku!r} in Tryton")
    return rows[0]


async def set_list_price(client: TrytonClient, sku: str, price: Decimal) -> None:
    """Change the list price of the template behind a SKU."""
    row = await product_by_sku(client, sku)
    await client.model("product.template", "write", [row["template"]], {"list_price": price})


async def rename(client: TrytonClient, sku: str, name: str) -> None:
    """Rename the template behind a SKU."""
    row = await product_by_sku(client, sku)
    await client.model("product.template", "write", [row["template"]], {"name": name})


async def receive_stock(client: TrytonClient, sku: str, quantity: Decimal, warehouse: str = "WH") -> None:
    """Book a done move of `quantity` into (or, when negative, out of) a warehouse's storage."""
    row = await product_by_sku(client, sku)
    (location,) = await client.search_read("stock.location", [("code", "=", warehouse)], ["storage_location"])
    other_type = "supplier" if quantity > 0 else "lost_found"
    (other,) = await client.search_read("stock.location", [("type", "=", other_type)], ["id"], limit=1)
    if client.user_id is None:
        await client.login()
    company = client.context["company"]
    (company_row,) = await client.model("company.company", "read", [company], ["currency"])
    storage = location["storage_location"]
    source, target = (other["id"], storage) if quantity > 0 else (storage, other["id"])
    values = {
        "product": row["id"],
        "unit": row["default_uom"],
        "quantity": float(abs(quantity)),
        "from_location": source,
        "to_location": target,
        "unit_price": Decimal("1.00"),
        "currency": company_row["currency"],
        "company": company,
        "effective_date": date.today(),
    }
    moves = await client.model("stock.move", "create", [values])
    await client.model("stock.move", "do", moves)
