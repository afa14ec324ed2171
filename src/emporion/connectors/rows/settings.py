"""How a system's rows map to canonical records: per entity, a key column, columns and a change mode.

The SQL connector reads these rows from tables or queries, the file connector from CSV, XLSX or XML
files; both describe them with the models here, so that a merchant maps a database and a file export
the same way. A column entry is a column name or a field rule (`emporion.rules.FieldRule`) over the
row: a template, an expression, a value map, rounding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emporion.model import OrderStatus
from emporion.rules import FieldRule

Column = str | FieldRule  # a column's name, or a rule over the row's columns

# The canonical fields each entity's rows can fill (dotted paths: `custom.<name>`, `attributes.<name>`,
# `billing.<field>`, `shipping.<field>`). A sub-entity row names its product by `sku` (a product's or a
# variant's SKU), as ERPs key stock and prices by article number.
CATEGORY_FIELDS = ("name", "parent", "slug", "description")
PRODUCT_FIELDS = (
    "sku", "name", "description", "short_description", "active", "salable", "categories", "currency",
    "list_price", "weight", "tax_class",
)  # fmt: skip
VARIANT_FIELDS = ("product", "sku", "list_price", "weight", "active")
PRICE_FIELDS = ("sku", "price_list", "price")
SALE_PRICE_FIELDS = ("sku", "price", "start", "end")
STOCK_FIELDS = ("sku", "warehouse", "quantity")
IMAGE_FIELDS = ("sku", "url", "alt", "position")
CUSTOMER_FIELDS = ("email", "first_name", "last_name", "company", "phone", "number")
# The fields of each catalogue source, by its name in `CatalogueRows` (one table for both connectors).
CATALOGUE_FIELDS: dict[str, tuple[str, ...]] = {
    "categories": CATEGORY_FIELDS,
    "products": PRODUCT_FIELDS,
    "variants": VARIANT_FIELDS,
    "prices": PRICE_FIELDS,
    "sale_prices": SALE_PRICE_FIELDS,
    "stock": STOCK_FIELDS,
    "images": IMAGE_FIELDS,
    "customers": CUSTOMER_FIELDS,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ChangeMode(StrEnum):
    """How a source learns which rows changed."""

    MONOTONIC = "monotonic"  # a column that only grows: row version, increasing id
    UPDATED_AT = "updated_at"  # a modification time, re-read with a look-back window
    FULL_DIFF = "full_diff"  # hash every row and compare with the last poll (always available)


class ChangeSettings(Strict):
    """The change mode of one source, and how deletes are seen."""

    mode: ChangeMode = ChangeMode.FULL_DIFF
    column: str | None = Field(
        None, description="monotonic: the row version or increasing id; updated_at: the modification time"
    )
    lookback_seconds: float = Field(
        300.0, ge=0, description="updated_at: how far each poll reads back (late commits, clock skew)"
    )
    overlap: int = Field(
        0, ge=0, description="monotonic: values below the cursor read again (ids taken before a late commit)"
    )
    soft_delete: str | None = Field(
        None, description="column that marks a deleted row (true, 1, 'Y', 'J', 'X'): reported, read as gone"
    )

    @model_validator(mode="after")
    def _column_for_mode(self) -> ChangeSettings:
        if self.mode is not ChangeMode.FULL_DIFF and not self.column:
            raise ValueError(f"change mode {self.mode.value} needs `column`")
        return self


class RowSource(Strict):
    """Where one entity's rows come from: the key column and the canonical fields its columns fill."""

    key: str = Field(description="the column holding the record's key (unique per row)")
    columns: dict[str, Column] = Field(
        default_factory=dict,
        description="canonical field -> column or field rule (a field not named: the column of its name)",
    )
    change: ChangeSettings = Field(default_factory=ChangeSettings)


S = TypeVar("S", bound=RowSource)


class CatalogueRows(Strict, Generic[S]):
    """The catalogue's sources; products and their sub-entities are joined by SKU."""

    categories: S | None = None
    products: S | None = None
    variants: S | None = Field(None, description="rows with `product` (the product's key) and `sku`")
    prices: S | None = Field(None, description="price list prices: sku, price_list, price")
    sale_prices: S | None = Field(None, description="dated promotions: sku, price, start, end")
    stock: S | None = Field(None, description="available to promise per warehouse: sku, warehouse, quantity")
    images: S | None = Field(None, description="sku, url, alt, position")
    customers: S | None = None


class RowTarget(Strict):
    """Rows written from a canonical record: each target column's value is a canonical path or a rule."""

    columns: dict[str, Column] = Field(
        description="target column -> canonical path (customer.email, lines.sku...) or field rule"
    )


class ProgressStatuses(Strict):
    """The ERP's own status values -> emporion's order statuses (the shop is told these)."""

    statuses: dict[str, OrderStatus] = Field(
        default_factory=dict,
        description="ERP status -> pending, processing, shipped, completed, cancelled...",
    )
