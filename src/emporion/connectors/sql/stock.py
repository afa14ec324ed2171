"""Stock by SKU from the stock source: levels per warehouse, sums, and quantities kept back for staged orders.

The ERP counts stock it has not shipped yet, including what shop orders staged in its import tables
will take once it reads them. Published stock keeps those quantities back, warehouse by warehouse in
name order and never below 0, so the shop does not sell the same piece twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent
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
    warehouses: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """The mapped live stock rows of `skus` in `warehouses` (None: all), in the running call."""
    levels: list[dict[str, Any]] = []
    for row in rows_where_in(db, connection, source, column_of(source, "sku"), skus):
        if is_deleted(source, row):
            continue
        where = source.where(key_text(source, row) or "?")
        fields = source.mapper.fields(row, where) | {"_where": where}
        if warehouses is None or text_of(fields.get("warehouse")) in warehouses:
            levels.append(fields)
    return levels


def summed(levels: Sequence[dict[str, Any]], known: Collection[str], source: Source) -> dict[str, Decimal]:
    """Quantity per SKU over the levels; SKUs in `known` without a level have 0."""
    available: dict[str, Decimal] = {sku: Decimal(0) for sku in known}
    for fields in levels:
        sku = text_of(fields.get("sku"))
        available[sku] = available.get(sku, Decimal(0)) + quantity_of(fields, source)
    return available


def quantity_of(fields: dict[str, Any], source: Source) -> Decimal:
    """A stock row's quantity; Permanent naming the table, row and column when it is no number."""
    try:
        return to_decimal(fields.get("quantity")) or Decimal(0)
    except ValueError as error:
        where = str(fields.get("_where", source.name))
        raise Permanent(f"not a quantity: {error}", record=where, field="quantity") from None
