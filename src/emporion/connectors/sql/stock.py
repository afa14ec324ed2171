"""Stock by SKU from the stock source: levels per warehouse, sums, and quantities kept back for staged orders.

The ERP counts stock it has not shipped yet, including what shop orders staged in its import tables
will take once it reads them; `rows/reserve.py` holds those quantities back from what is published.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent
from emporion.connectors.rows.assemble import DEFAULT_WAREHOUSE
from emporion.connectors.rows.values import to_decimal, to_text
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.reading import Source, column_of, is_deleted, key_text, rows_where_in


def text_of(value: Any) -> str:
    """A joined value (SKU, warehouse) as text; empty when unusable."""
    try:
        return to_text(value)
    except ValueError:
        return ""


def stock_levels(
    db: Database,
    connection: sa.Connection,
    source: Source,
    skus: Sequence[str],
) -> list[dict[str, Any]]:
    """The mapped live stock rows of `skus`, in the running call."""
    levels: list[dict[str, Any]] = []
    for row in rows_where_in(db, connection, source, column_of(source, "sku"), skus):
        if is_deleted(source, row):
            continue
        where = source.where(key_text(source, row) or "?")
        levels.append(source.mapper.fields(row, where) | {"_where": where})
    return levels


def by_warehouse(
    levels: Sequence[dict[str, Any]], known: Collection[str], source: Source
) -> dict[str, dict[str, Decimal]]:
    """Quantity per SKU and warehouse over the levels; SKUs in `known` without a level have none."""
    stock: dict[str, dict[str, Decimal]] = {sku: {} for sku in known}
    for fields in levels:
        per_warehouse = stock.setdefault(text_of(fields.get("sku")), {})
        warehouse = text_of(fields.get("warehouse")) or DEFAULT_WAREHOUSE
        per_warehouse[warehouse] = per_warehouse.get(warehouse, Decimal(0)) + quantity_of(fields, source)
    return stock


def quantity_of(fields: dict[str, Any], source: Source) -> Decimal:
    """A stock row's quantity; Permanent naming the table, row and column when it is no number."""
    try:
        return to_decimal(fields.get("quantity")) or Decimal(0)
    except ValueError as error:
        where = str(fields.get("_where", source.name))
        raise Permanent(f"not a quantity: {error}", record=where, field="quantity") from None
