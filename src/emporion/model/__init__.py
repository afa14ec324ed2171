"""Canonical records: the one shape every connector reads into and writes from."""

from emporion.model.base import CustomValue, Record, fingerprint
from emporion.model.catalogue import (
    Category,
    Image,
    Product,
    SalePrice,
    StockLevel,
    Variant,
)

ENTITY_TYPES: dict[str, type[Record]] = {
    "category": Category,
    "product": Product,
}

__all__ = [
    "ENTITY_TYPES",
    "Category",
    "CustomValue",
    "Image",
    "Product",
    "Record",
    "SalePrice",
    "StockLevel",
    "Variant",
    "fingerprint",
]
