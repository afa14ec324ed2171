"""Batch writes of a described shop: `{items}` bodies in chunks of `batch_size`, outcomes per item.

The answer's list (the batch call's `items` path, else the whole answer) holds one entry per item
sent, in the order sent, or each naming its natural key (the lookup's `path`), which is preferred
when present. An entry carrying an error (the call's `error` path) fails its item alone; an item the
answer does not mention fails Retryable (the engine's retry searches before creating). Linked and
found items carry their id at the entity's `id` path (as the shop's ids are written: `id_type`), so
that the shop updates instead of creating.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import (
    AuthError,
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    Retryable,
    WriteItem,
)
from emporion.connectors.rest import mapping
from emporion.connectors.rest.conversions import id_out
from emporion.connectors.rest.items import canonical_field, idempotency_key, natural_key
from emporion.connectors.rest.settings import EntitySettings
from emporion.connectors.rest.writes import Found, body, ref_of

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

SIMPLE_PATH = re.compile(r"^\$\.([A-Za-z_]\w*)$")


def with_id(data: Any, path: str, ident: object) -> Any:
    """The body with the shop's id at `path` (a top-level `$.name` path; others are left to the call)."""
    match = SIMPLE_PATH.match(path)
    if match and isinstance(data, dict):
        return {**data, match.group(1): ident}
    return data


async def write_batches(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    items: Sequence[WriteItem],
    found: Found,
) -> list[Outcome]:
    """Every item written by the batch call, `batch_size` at a time; one outcome per item."""
    outcomes: list[Outcome] = []
    for start in range(0, len(items), settings.batch_size):
        chunk = list(items[start : start + settings.batch_size])
        try:
            outcomes += await one_batch(connector, entity, settings, chunk, found)
        except AuthError:
            raise
        except ConnectorError as error:
            outcomes += [Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error) for item in chunk]
    return outcomes


async def one_batch(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    chunk: list[WriteItem],
    found: Found,
) -> list[Outcome]:
    """One batch call and the outcome of each of its items."""
    assert settings.batch is not None
    field = settings.lookup.field if settings.lookup else None
    refs = [ref_of(item, found, field) for item in chunk]
    bodies = []
    for item, ref in zip(chunk, refs, strict=True):
        data = body(connector, entity, settings, item, ref is None)
        ident = id_out(str(ref["id"]), settings.id_type) if ref is not None else None
        bodies.append(with_id(data, settings.id, ident) if ref is not None else data)
    keys = "".join(idempotency_key(connector.name, entity, item) for item in chunk)
    key = hashlib.sha256(keys.encode()).hexdigest()[:40] if settings.batch.idempotency_header else None
    label = f"{entity} batch of {len(chunk)}"
    answer = await connector.client.call(
        settings.batch, connector.values(items=bodies), record=label, idempotency_key=key
    )
    path = settings.batch.items
    entries = mapping.value_at(answer.body, path) if path else answer.body
    entries = entries if isinstance(entries, list) else []
    by_natural = {}
    if settings.lookup is not None:
        for entry in entries:
            value = mapping.value_at(entry, settings.lookup.path) if isinstance(entry, dict) else None
            if value is not None:
                by_natural[str(value).lower() if field and field.endswith("email") else str(value)] = entry
    outcomes = []
    for index, (item, ref) in enumerate(zip(chunk, refs, strict=True)):
        entry = by_natural.get(natural_key(item.record, field)) or (
            entries[index] if index < len(entries) else None
        )
        outcomes.append(outcome_of(connector, entity, settings, item, ref, entry))
    return outcomes


def outcome_of(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    item: WriteItem,
    ref: dict[str, object] | None,
    entry: Any,
) -> Outcome:
    """One item's outcome from its entry in the batch answer."""
    assert settings.batch is not None
    label = (
        f"{entity} {natural_key(item.record, settings.lookup.field if settings.lookup else None) or item.key}"
    )
    if entry is None:
        return Outcome(
            item.key, OutcomeStatus.FAILED, item.target_ref, Retryable(f"{label}: not in the batch answer")
        )
    error = mapping.value_at(entry, settings.batch.error) if settings.batch.error else None
    if error:
        message = error if isinstance(error, str) else str(mapping.value_at(error, "$.message") or error)
        shop_field = mapping.value_at(error, "$.field") if isinstance(error, dict) else None
        failure = Permanent(message, record=label, field=canonical_field(settings, shop_field))
        return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, failure)
    ident = mapping.value_at(entry, settings.id)
    if ident is None:
        return Outcome(
            item.key,
            OutcomeStatus.FAILED,
            item.target_ref,
            Permanent("the shop gave no id", record=label, field="id"),
        )
    if ref is None:
        return Outcome(item.key, OutcomeStatus.CREATED, {"id": str(ident)})
    status = OutcomeStatus.UPDATED if item.target_ref else OutcomeStatus.MATCHED
    return Outcome(item.key, status, {"id": str(ident)})
