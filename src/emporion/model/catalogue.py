"""Catalogue records: categories, products with variants, prices, sale prices, stock and images."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from emporion.model.base import CustomValue, Record


class Category(Record):
    """A product category; `parent_key` is the source key of the parent category."""

    name: str
    parent_key: str | None = None
    slug: str | None = None
    description: str = ""


class Image(BaseModel):
    """An image by URL; position 0 is the main image."""

    model_config = ConfigDict(extra="forbid")

    url: str
    alt: str = ""
    position: int = 0


class SalePrice(BaseModel):
    """A promotional price, valid from `start` (inclusive) to `end` (exclusive); open ends allowed."""

    model_config = ConfigDict(extra="forbid")

    price: Decimal
    start: datetime | None = None
    end: datetime | None = None


class StockLevel(BaseModel):
    """Quantity available in one warehouse (on hand minus what is already promised)."""

    model_config = ConfigDict(extra="forbid")

    warehouse: str
    quantity: Decimal


class Variant(Record):
    """A sellable variant of a product, told apart by its attribute values."""

    sku: str
    attributes: dict[str, str] = Field(default_factory=dict)
    list_price: Decimal | None = None
    sale_price: SalePrice | None = None
    price_lists: dict[str, Decimal] = Field(default_factory=dict)
    stock: list[StockLevel] = Field(default_factory=list)
    available: Decimal | None = None
    weight: Decimal | None = None
    active: bool = True
    images: list[Image] = Field(default_factory=list)
    custom: dict[str, CustomValue] = Field(default_factory=dict)


class Product(Record):
    """A product as the shop sells it: simple when it has no variants, variable otherwise.

    Source connectors fill `stock` per warehouse and `price_lists` per price list; a flow's mapping
    chooses the price (`list_price`) and computes `available` (what the shop may promise).
    """

    sku: str
    name: str
    description: str = ""
    short_description: str = ""
    active: bool = True
    salable: bool = True
    categories: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    currency: str | None = None
    list_price: Decimal | None = None
    sale_price: SalePrice | None = None
    price_lists: dict[str, Decimal] = Field(default_factory=dict)
    stock: list[StockLevel] = Field(default_factory=list)
    available: Decimal | None = None
    weight: Decimal | None = None
    tax_class: str | None = None
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    variants: list[Variant] = Field(default_factory=list)
    custom: dict[str, CustomValue] = Field(default_factory=dict)

    @property
    def is_variable(self) -> bool:
        return bool(self.variants)
