"""How the memory system knows records: natural keys, validation, and what an update changes."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from emporion.connectors.base import Permanent, WriteItem
from emporion.model import Category, Customer, Order, Product, Record
from emporion.testing.system import MemorySystem

# entity -> the field people and other systems know a record by (Capabilities.natural_keys)
NATURAL_KEYS = {"product": "sku", "category": "slug", "customer": "email", "order": "number"}


def natural_key(record: Record) -> str:
    """The natural key of a record: SKU, slug (the name when it has none), e-mail or order number."""
    if isinstance(record, Product):
        return record.sku
    if isinstance(record, Category):
        return record.slug or record.name
    if isinstance(record, Customer):
        return record.email.strip().lower()
    if isinstance(record, Order):
        return record.number
    return record.key


def label(record: Record) -> str:
    """How a failure names a record: its natural key, else its key."""
    return natural_key(record) or record.key


def find(system: MemorySystem, entity: str, wanted: Iterable[str]) -> dict[str, Record]:
    """Existing records by natural key (categories by slug or name, e-mails in any case)."""
    names = {name.strip().lower() if entity == "customer" else name for name in wanted if name}
    found: dict[str, Record] = {}
    for record in system.all(entity):
        candidates = {natural_key(record)}
        if isinstance(record, Category):
            candidates.add(record.name)
        for name in candidates & names:
            found.setdefault(name, record)
    return found


def check(system: MemorySystem, entity: str, record: Record) -> None:
    """Refuse what the system would refuse, naming the record and the field."""
    if isinstance(record, Product):
        if not record.sku:
            raise Permanent("a product needs an SKU", record=record.key, field="sku")
        unknown = [key for key in record.categories if system.get("category", key) is None]
        if unknown:
            raise Permanent(f"no category {unknown[0]!r}", record=record.sku, field="categories")
        if record.list_price is not None and record.list_price < Decimal(0):
            raise Permanent("a price cannot be negative", record=record.sku, field="list_price")
    elif isinstance(record, Category):
        if not record.name:
            raise Permanent("a category needs a name", record=record.key, field="name")
        if record.parent_key and system.get("category", record.parent_key) is None:
            missing = f"no parent category {record.parent_key!r}"
            raise Permanent(missing, record=record.name, field="parent_key")
    elif isinstance(record, Customer) and "@" not in record.email:
        raise Permanent("not an e-mail address", record=record.key, field="email")


def merged(existing: Record, item: WriteItem) -> Record:
    """`existing` with what `item` writes: only its `only` fields, never its `keep_on_update` ones."""
    incoming = item.record.model_dump()
    fields = item.only if item.only is not None else frozenset(incoming) - item.keep_on_update
    data = existing.model_dump()
    data.update({name: incoming[name] for name in fields if name in incoming and name != "key"})
    return type(existing).model_validate(data)


def created(key: str, item: WriteItem) -> Record:
    """A new record from `item` under the system's id `key` (every field is sent on create)."""
    return item.record.model_copy(update={"key": key})
