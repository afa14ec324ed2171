"""The keys a record is known and looked up by in the other system: SKU, category name, e-mail."""

from __future__ import annotations

from emporion.model import Category, Customer, Product, Record

MATCHED_ON = {"product": "SKU", "category": "slug or name", "customer": "e-mail"}


def natural_key(record: Record) -> str:
    """The key people and the target know a record by: SKU, category name, lower-cased e-mail."""
    if isinstance(record, Product):
        return record.sku
    if isinstance(record, Category):
        return record.name
    if isinstance(record, Customer):
        return record.email.strip().lower()
    return record.key


def lookup_key(record: Record) -> str:
    """What the target is asked to find a record by: SKU for products, slug (else name) for categories."""
    if isinstance(record, Category) and record.slug:
        return record.slug
    return natural_key(record)
