"""What one write item says to a described shop: its natural key, the fields it writes, its idempotency
key, and the canonical name of a field the shop refuses."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent, WriteItem
from emporion.connectors.rest.settings import EntitySettings
from emporion.engine import keys
from emporion.model import Record, fingerprint

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

# the canonical field `engine.keys.natural_key` knows a record by, when its lookup field is empty
FALLBACK_FIELD = {"category": "name", "product": "sku", "customer": "email"}


def natural_key(record: Record, field: str | None) -> str:
    """The value of the natural-key field (dotted) of `record`, e-mails lower-cased; the key without one.

    A record whose natural-key field is empty (a category without a slug) is known by what the engine
    matches it by (`engine.keys.natural_key`: a category's name), never by an empty key.
    """
    if field is None:
        return record.key
    text = lookup_value(record, field)
    if not text:
        return keys.natural_key(record)
    return text.lower() if field.split(".")[-1] == "email" else text


async def find(
    connector: DeclarativeConnector, entity: str, records: Sequence[Record]
) -> dict[str, dict[str, object]]:
    """The shop's records for `records` by natural key: `{natural key: {"id": id}}`; only reads.

    Records with a value in the lookup field go through the described `lookup`. Those without one (a
    category with no slug) are known by the engine's key (a category's name), which the lookup cannot
    search by: the shop's listing is read and matched on that field's path in `fields` instead.
    Where that cannot be done (no list call, the field not mapped), Permanent: such a record is never
    created blind, since a create whose answer is lost could not be found again and a retry would make
    it twice.
    """
    settings = connector.entity(entity)
    if settings.lookup is None or not records:
        return {}
    field = settings.lookup.field
    searched = [natural_key(record, field) for record in records if lookup_value(record, field)]
    found = await connector.lookup(entity, searched) if searched else {}
    unsearchable = {natural_key(record, field) for record in records if not lookup_value(record, field)}
    if not unsearchable:
        return found
    fallback = FALLBACK_FIELD.get(entity, "key")
    path = settings.fields.get(fallback)
    if path is None or settings.list is None:
        raise unfindable(entity, settings, sorted(unsearchable)[0])
    from emporion.connectors.rest.mapping import value_at

    async for page in connector.listing(entity):
        for data in page:
            value = value_at(data, path)
            if value is not None and str(value) in unsearchable and str(value) not in found:
                found[str(value)] = {"id": connector.key_of(settings, data)}
    return found


def unfindable(entity: str, settings: EntitySettings, known_as: str) -> Permanent:
    """Why a record without a value in the lookup field cannot be searched for, so is not created."""
    field = settings.lookup.field if settings.lookup else "key"
    fallback = FALLBACK_FIELD.get(entity, "key")
    return Permanent(
        f"a {entity} without {field} can only be found by {fallback}, which the shop cannot be searched "
        "by here (no list call, or the field is not mapped): not created, so that it is never made twice",
        record=f"{entity} {known_as}",
        field=field,
    )


def blind(entity: str, settings: EntitySettings, record: Record) -> bool:
    """Whether a record could not be searched for before a create (see `find`)."""
    if settings.lookup is None or lookup_value(record, settings.lookup.field):
        return False
    return settings.list is None or FALLBACK_FIELD.get(entity, "key") not in settings.fields


def lookup_value(record: Record, field: str) -> str:
    """The value of the natural-key field (dotted) of `record` as text; empty when it has none."""
    value: Any = record
    for part in field.split("."):
        value = getattr(value, part, None)
    return "" if value is None else str(value)


def plural(entity: str) -> str:
    """The plural of an entity's name, for messages (category -> categories, product -> products)."""
    if entity.endswith("y") and entity[-2:-1] not in ("a", "e", "i", "o", "u"):
        return entity[:-1] + "ies"
    return entity + "s"


def written_fields(item: WriteItem, creating: bool) -> frozenset[str] | None:
    """The canonical fields a write sends: `only`, else all but what the shop owns once it exists."""
    if item.only is not None:
        return item.only
    if creating or not item.keep_on_update:
        return None
    return frozenset(type(item.record).model_fields) - item.keep_on_update


def whole(quantity: Any) -> Any:
    """A stock quantity as the shop counts it: a whole Decimal as an int (7, not 7.0), else as it is."""
    if isinstance(quantity, Decimal) and quantity == quantity.to_integral_value():
        return int(quantity)
    return quantity


def idempotency_key(connection: str, entity: str, item: WriteItem) -> str:
    """The same for the same write of the same record state, whatever process sends it."""
    text = f"{connection}\x1f{entity}\x1f{item.key}\x1f{fingerprint(item.record)}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def canonical_field(settings: EntitySettings, field: str | None) -> str | None:
    """The canonical name of a field the shop named in an error (`category_ids` -> `categories`)."""
    if not field:
        return field
    for canonical, path in settings.fields.items():
        if canonical == field or re.search(rf"[.\['\"]{re.escape(field)}['\"\]]*$", path):
            return str(canonical)
    return field
