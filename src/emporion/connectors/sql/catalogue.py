"""The catalogue read from a Warenwirtschaft's tables: categories, products with everything by SKU, customers.

A product is its `products` row joined with the rows of its variants (by `product`), and the prices,
sale prices, stock and images of its SKUs and its variants' SKUs, all read in the same call (one
transaction), and assembled by `rows.assemble.products_from`. A row marked deleted by the source's
soft-delete column is read as absent. A row that cannot be mapped makes its record an `Unmappable`
stand-in naming the table, the row and the column, never a failure of its batch and never a silent
drop. Stock is published as available to promise: quantities on orders staged in the import tables
that the ERP has not taken yet are subtracted, warehouse by warehouse in name order, never below 0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.rows.assemble import Related, category_from, customer_from, products_from
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.reserve import reserve_record
from emporion.connectors.rows.settings import CATALOGUE_FIELDS
from emporion.connectors.rows.values import DEFAULT_PARSING, to_text
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.reading import (
    Row,
    Source,
    column_of,
    column_text,
    is_deleted,
    key_text,
    page_after,
    rows_where_in,
)
from emporion.connectors.sql.settings import SqlConnection
from emporion.connectors.sql.stock import by_warehouse, stock_levels
from emporion.logs import get_logger
from emporion.model import Record

log = get_logger("emporion.connectors.sql")

ENTITY_SOURCES = {"category": "categories", "product": "products", "customer": "customers"}
BY_SKU = ("prices", "sale_prices", "stock", "images")
Mapped = list[tuple[str, dict[str, Any]]]


def build_sources(settings: SqlConnection) -> dict[str, Source]:
    """Every configured catalogue source with its mapper, by role (products, stock...)."""
    sources: dict[str, Source] = {}
    for role, fields in CATALOGUE_FIELDS.items():
        spec = getattr(settings.catalogue, role)
        if spec is not None:
            sources[role] = Source(role, spec, RowMapper(spec, fields, parsing=DEFAULT_PARSING))
    return sources


class SqlCatalogue:
    """Reads categories, products and customers from the configured tables and queries."""

    def __init__(self, db: Database, settings: SqlConnection) -> None:
        self.db = db
        self.settings = settings
        self.sources = build_sources(settings)

    def main(self, entity: str) -> Source:
        """The source of an entity's records; Permanent when the entity is not configured."""
        role = ENTITY_SOURCES.get(entity)
        if role is None or role not in self.sources:
            raise Permanent(
                f"the SQL connection reads no {entity} records (catalogue.{role or entity} is not set)"
            )
        return self.sources[role]

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """The records of `keys` that exist (soft-deleted ones left out); Unmappable for unmappable rows."""
        source = self.main(entity)
        wanted = sorted({str(key) for key in keys})
        if not wanted:
            return []

        def work(connection: sa.Connection) -> list[Record]:
            rows = rows_where_in(self.db, connection, source, source.spec.key, wanted)
            return self.records(connection, entity, rows)

        return await self.db.read(work, what=source.name)

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record, page by page in key order (keyset), one transaction per page, flat memory."""
        source = self.main(entity)
        after: list[Any] | None = None
        while True:
            position = after

            def work(
                connection: sa.Connection, position: list[Any] | None = position
            ) -> tuple[list[Row], list[Record]]:
                rows = page_after(
                    self.db, connection, source, [source.spec.key], position, self.settings.page_size
                )
                return rows, self.records(connection, entity, rows)

            rows, records = await self.db.read(work, what=source.name)
            if not rows:
                return
            after = [rows[-1][_column_name(rows[-1], source.spec.key)]]
            if records:
                yield records
            if len(rows) < self.settings.page_size:
                return

    def records(self, connection: sa.Connection, entity: str, rows: list[Row]) -> list[Record]:
        """The canonical records of an entity's rows (in the running call): mapped, assembled."""
        source = self.main(entity)
        mapped, failed = self._mapped(source, rows)
        if entity == "category":
            return failed + [
                _guarded(key, partial(category_from, key, fields, DEFAULT_PARSING)) for key, fields in mapped
            ]
        if entity == "customer":
            return failed + [
                _guarded(key, partial(customer_from, key, fields, DEFAULT_PARSING)) for key, fields in mapped
            ]
        return failed + self._products(connection, mapped)

    def _mapped(self, source: Source, rows: list[Row]) -> tuple[Mapped, list[Record]]:
        """Each live row's key and fields (with `_where`), and stand-ins for rows that cannot be mapped."""
        mapped: Mapped = []
        failed: list[Record] = []
        for row in rows:
            key = key_text(source, row)
            if not key:
                log.warning("row without a key left out", source=source.name, column=source.spec.key)
                continue
            if is_deleted(source, row):
                continue
            where = source.where(key)
            try:
                fields = source.mapper.fields(row, where)
            except Permanent as error:
                failed.append(Unmappable.of(key, error))
                continue
            fields["_where"] = where
            mapped.append((key, fields))
        return mapped, failed

    def _products(self, connection: sa.Connection, products: Mapped) -> list[Record]:
        """Products with their variants, prices, sale prices, stock and images (by SKU)."""
        if not products:
            return []
        owners: dict[str, str] = {}  # SKU -> product key
        for key, fields in products:
            sku = _text(fields.get("sku"))
            if sku:
                owners[sku] = key
        broken: dict[str, Permanent] = {}
        related: dict[str, list[dict[str, Any]]] = {}
        if "variants" in self.sources:
            variants = self.sources["variants"]
            rows = rows_where_in(
                self.db, connection, variants, column_of(variants, "product"), [k for k, _ in products]
            )
            related["variants"] = self._sub_fields(variants, rows, "product", lambda value: value, broken)
            for fields in related["variants"]:
                sku = _text(fields.get("sku"))
                if sku:
                    owners[sku] = _text(fields.get("product"))
        for role in BY_SKU:
            if role in self.sources:
                source = self.sources[role]
                rows = rows_where_in(self.db, connection, source, column_of(source, "sku"), sorted(owners))
                related[role] = self._sub_fields(source, rows, "sku", owners.get, broken)
        bundle = Related(
            variants=related.get("variants", []),
            prices=related.get("prices", []),
            sale_prices=related.get("sale_prices", []),
            stock=related.get("stock", []),
            images=related.get("images", []),
        )
        records = products_from(products, bundle, parsing=DEFAULT_PARSING, currency=self.settings.currency)
        if related.get("stock"):
            pending = self._pending(connection, sorted(owners))
            first = self.settings.orders.reserve_warehouses if self.settings.orders else None
            records = [reserve_record(record, pending, first) for record in records]
        return [Unmappable.of(r.key, broken[r.key]) if r.key in broken else r for r in records]

    def _sub_fields(
        self,
        source: Source,
        rows: list[Row],
        join_field: str,
        owner_of: Callable[[str], str | None],
        broken: dict[str, Permanent],
    ) -> list[dict[str, Any]]:
        """The mapped fields of a sub-entity's live rows; a row that cannot be mapped breaks its product."""
        join_column = column_of(source, join_field)
        fields_list: list[dict[str, Any]] = []
        for row in rows:
            if is_deleted(source, row):
                continue
            where = source.where(key_text(source, row) or "?")
            try:
                fields = source.mapper.fields(row, where)
            except Permanent as error:
                owner = owner_of(column_text(row, join_column))
                if owner:
                    broken.setdefault(owner, error)
                continue
            fields["_where"] = where
            fields_list.append(fields)
        return fields_list

    def _pending(self, connection: sa.Connection, skus: Sequence[str]) -> dict[str, Decimal]:
        """Quantities staged for the ERP and not taken yet, per SKU (none without `orders.taken_column`)."""
        if not skus or self.settings.orders is None or not self.settings.orders.taken_column:
            return {}
        from emporion.connectors.sql.staging import pending_quantities

        return pending_quantities(connection, self.settings, skus)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each SKU (a product's or a variant's); unknown SKUs absent."""
        wanted = sorted({str(sku) for sku in skus if str(sku)})
        if not wanted or "products" not in self.sources:
            return {}
        return await self.db.read(
            lambda connection: self.product_keys_in(connection, wanted), what="product SKUs"
        )

    def product_keys_in(self, connection: sa.Connection, skus: Sequence[str]) -> dict[str, str]:
        """`product_keys` in the running call; soft-deleted rows count (their changes name a product)."""
        found: dict[str, str] = {}
        products = self.sources["products"]
        sku_column = column_of(products, "sku")
        for row in rows_where_in(self.db, connection, products, sku_column, skus):
            key, sku = key_text(products, row), column_text(row, sku_column)
            if key and sku:
                found[sku] = key
        variants = self.sources.get("variants")
        if variants is not None:
            variant_sku, owner = column_of(variants, "sku"), column_of(variants, "product")
            for row in rows_where_in(self.db, connection, variants, variant_sku, skus):
                sku, product = column_text(row, variant_sku), column_text(row, owner)
                if sku and product:
                    found.setdefault(sku, product)
        return found

    async def stock(self, skus: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Stock per known SKU and warehouse, as the ERP counts it (a known SKU without rows: none).

        Staged orders the ERP has not taken yet are not subtracted here: the sales side's
        `availability` holds them back (products read by `read`/`scan` carry them held back).
        """
        wanted = sorted({str(sku) for sku in skus if str(sku)})
        if not wanted:
            return {}

        def work(connection: sa.Connection) -> dict[str, dict[str, Decimal]]:
            known = set(self.product_keys_in(connection, wanted)) if "products" in self.sources else set()
            source = self.sources.get("stock")
            if source is None:
                return {}
            return by_warehouse(stock_levels(self.db, connection, source, wanted), known, source)

        return await self.db.read(work, what="stock")


def _guarded(key: str, build: Callable[[], Record]) -> Record:
    """`build()`, or an Unmappable stand-in for `key` when the fields cannot be typed."""
    try:
        return build()
    except Permanent as error:
        return Unmappable.of(key, error)
    except ValueError as error:
        return Unmappable.of(key, Permanent(str(error), record=key))


def _text(value: Any) -> str:
    """A joined value (SKU, product key, warehouse) as text; empty when unusable."""
    try:
        return to_text(value)
    except ValueError:
        return ""


def _column_name(row: Row, column: str) -> str:
    """The row's spelling of `column` (exact, else ignoring case)."""
    if column in row:
        return column
    return next(name for name in row if name.casefold() == column.casefold())
