"""Shop records to canonical records and back, by the JSON paths of an entity's field mapping.

Reading: each canonical field takes the value at its JSON path (money by the entity's `money` kind,
Decimal always); nested lists (variants, lines, shipments, refunds) by their own mappings. A value
that does not fit (a price that is no number, a required field missing) raises Permanent naming the
record and the canonical field, so the engine dead-letters that record alone.
Writing: the inverse: a body holding each written field at its path (created as needed), plus the
entity's constants on create.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from emporion.connectors.rest.settings import EntitySettings
from emporion.model import Record

Json = Any


def record_from(entity: str, data: Json, settings: EntitySettings, *, key: str | None = None) -> Record:
    """The canonical record (Product, Category, Customer, Order) of one shop record `data`."""
    raise NotImplementedError


def body_from(
    entity: str,
    record: Record,
    settings: EntitySettings,
    *,
    fields: Set[str] | None = None,
    creating: bool = False,
) -> Json:
    """The shop's JSON body for `record`: `fields` only (None: every mapped field), constants on create."""
    raise NotImplementedError


def value_at(data: Json, path: str) -> Any:
    """The single value at a JSON path in `data`, or None where there is none."""
    raise NotImplementedError
