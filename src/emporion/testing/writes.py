"""Catalogue writes into a memory system: idempotent upserts by natural key, and deletes.

Each item gets its own outcome: a record the system refuses, or one a test marked to fail, comes
back FAILED with its typed error while the rest of the batch is written.
"""

from __future__ import annotations

from collections.abc import Sequence

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.model import Record
from emporion.testing.records import check, created, find, merged, natural_key
from emporion.testing.system import MemorySystem


def failed(item: WriteItem, error: ConnectorError) -> Outcome:
    """The outcome of an item that failed with `error`."""
    return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)


def upsert(system: MemorySystem, entity: str, item: WriteItem) -> Outcome:
    """Create or update one record; unlinked items are searched by natural key before any create."""
    injected = system.failure_for(item.key, natural_key(item.record))
    if injected is not None:
        return failed(item, injected)
    target = str(item.target_ref["id"]) if item.target_ref and "id" in item.target_ref else None
    existing = system.get(entity, target) if target else None
    status = OutcomeStatus.UPDATED
    if existing is None:  # not linked, or linked to a record that is gone: search, then create
        existing = find(system, entity, [natural_key(item.record)]).get(natural_key(item.record))
        status = OutcomeStatus.MATCHED
    try:
        if existing is None:
            check(system, entity, item.record)
            record = system.put(entity, created(system.new_key(), item))
            return Outcome(item.key, OutcomeStatus.CREATED, {"id": record.key})
        record = merged(existing, item)
        check(system, entity, record)
    except Permanent as error:
        return failed(item, error)
    if record == existing:
        return Outcome(item.key, OutcomeStatus.UNCHANGED, {"id": existing.key})
    system.put(entity, record)
    return Outcome(item.key, status, {"id": existing.key})


def delete(system: MemorySystem, entity: str, item: WriteItem) -> Outcome:
    """Remove a linked record; one already gone counts as deleted (deleting is idempotent)."""
    injected = system.failure_for(item.key, natural_key(item.record))
    if injected is not None:
        return failed(item, injected)
    target = str(item.target_ref["id"]) if item.target_ref and "id" in item.target_ref else None
    if target and system.get(entity, target) is not None:
        system.remove(entity, target)
    return Outcome(item.key, OutcomeStatus.DELETED)


def records_of(system: MemorySystem, entity: str, keys: Sequence[str]) -> list[Record]:
    """The records that exist among `keys`, in the order asked."""
    found = (system.get(entity, key) for key in dict.fromkeys(keys))
    return [record for record in found if record is not None]
