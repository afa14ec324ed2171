"""Writes of a described shop: search before create, exactly-once creates, batches, stock and price calls.

Unlinked items are looked up by natural key first (one `lookup` for the whole write): found ones are
updated (MATCHED), the others created. A create carries an idempotency key derived from the
connection, entity, item key and record fingerprint (in the call's `idempotency_header`), so a retry
of the same write is the same request to the shop. A create whose outcome is unknown (a transient
failure after sending) is looked up by natural key: found, it happened; not found, the item fails
Retryable and the engine's retry searches again before creating. An update of a linked record the
shop no longer has searches again, then creates. A write naming only stock (or only price) fields
takes the entity's `stock` (`price`) call where described. Failures are the item's own; a refused
credential stops the whole write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import (
    AuthError,
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    RateLimited,
    Retryable,
    Unmappable,
    WriteItem,
)
from emporion.connectors.rest import mapping
from emporion.connectors.rest.client import Missing
from emporion.connectors.rest.items import (
    blind,
    canonical_field,
    find,
    idempotency_key,
    natural_key,
    plural,
    unfindable,
    whole,
    written_fields,
)
from emporion.connectors.rest.settings import Call, EntitySettings
from emporion.model import Product, Record

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

STOCK_FIELDS = frozenset({"available", "stock"})
PRICE_FIELDS = frozenset({"list_price", "sale_price", "price_lists", "currency"})
Found = dict[str, dict[str, object]]


async def write(
    connector: DeclarativeConnector, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
) -> list[Outcome]:
    """Upsert `upserts` and delete `deletes`; one outcome per item."""
    settings = connector.entity(entity)
    field = settings.lookup.field if settings.lookup else None
    unsearchable = [item for item in upserts if not item.target_ref and blind(entity, settings, item.record)]
    outcomes: list[Outcome] = [
        failed(item, unfindable(entity, settings, natural_key(item.record, field))) for item in unsearchable
    ]
    upserts = [item for item in upserts if item not in unsearchable]
    found = await find(connector, entity, [item.record for item in upserts if not item.target_ref])
    current = await held(connector, entity, upserts, found, field) if settings.batch is None else {}
    pending: list[WriteItem] = []
    for item in upserts:
        outcome = await guarded(
            settings, item, connector.hooks.write(connector, entity, item, ref_of(item, found, field))
        )
        if outcome is None:
            pending.append(item)
        else:
            outcomes.append(outcome)
    if settings.batch is not None:
        from emporion.connectors.rest.batches import write_batches

        outcomes += await write_batches(connector, entity, settings, pending, found)
    else:
        for item in pending:
            write = upsert(connector, entity, settings, item, found, current)
            outcomes.append(await guarded(settings, item, write))
    for item in deletes:
        outcomes.append(await guarded(settings, item, delete(connector, entity, settings, item)))
    return [outcome for outcome in outcomes if outcome is not None]


async def held(
    connector: DeclarativeConnector, entity: str, items: Sequence[WriteItem], found: Found, field: str | None
) -> dict[str, Record]:
    """The shop's records behind the items to update (one read), to skip writes that change nothing."""
    ids = [str(ref["id"]) for item in items if (ref := ref_of(item, found, field)) is not None]
    try:
        records = await connector.read(entity, ids) if ids else []
    except (Permanent, Retryable):
        return {}  # cannot tell: write as if changed
    return {record.key: record for record in records if not isinstance(record, Unmappable)}


def unchanged(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    item: WriteItem,
    current: Record | None,
) -> bool:
    """Whether the shop already holds what an update would send."""
    if current is None:
        return False
    try:
        wanted = body(connector, entity, settings, item, False)
        return bool(wanted == body(connector, entity, settings, replace(item, record=current), False))
    except Permanent:
        return False


def failed(item: WriteItem, error: Permanent) -> Outcome:
    """The outcome of an item that was not written, with why."""
    return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)


def product_outcome(item: WriteItem, ident: str, sent: bool) -> Outcome:
    """A product update's outcome: MATCHED when found by natural key, else UPDATED or UNCHANGED."""
    if not item.target_ref:
        return Outcome(item.key, OutcomeStatus.MATCHED, {"id": ident})
    return Outcome(item.key, OutcomeStatus.UPDATED if sent else OutcomeStatus.UNCHANGED, {"id": ident})


def ref_of(item: WriteItem, found: Found, field: str | None) -> dict[str, object] | None:
    """The shop record an item stands for: its link, else the one found by natural key."""
    return item.target_ref or found.get(natural_key(item.record, field))


async def guarded(settings: EntitySettings, item: WriteItem, write: Any) -> Any:
    """The outcome of one item's write: a failure is that item's, unless the credentials were refused."""
    try:
        return await write
    except AuthError:
        raise
    except Permanent as error:
        named = Permanent(
            error.reason, record=error.record or item.key, field=canonical_field(settings, error.field)
        )
        return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, named)
    except ConnectorError as error:
        return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)


def body(
    connector: DeclarativeConnector, entity: str, settings: EntitySettings, item: WriteItem, creating: bool
) -> Any:
    """The shop's body for one item, shaped by the preset's hook."""
    fields = written_fields(item, creating)
    id_types = {name: entry.id_type for name, entry in connector.settings.entities.configured().items()}
    data = mapping.body_from(
        entity, item.record, settings, fields=fields, creating=creating, id_types=id_types
    )
    return connector.hooks.shape_write(entity, data, item.record, creating)


def call_values(
    connector: DeclarativeConnector,
    item: WriteItem,
    ref: dict[str, object] | None,
    data: Any,
    field: str | None,
) -> dict[str, Any]:
    """What a write's call may name: id, key, natural key, sku, the body and the record's own fields."""
    record = item.record
    values: dict[str, Any] = dict(record)  # pydantic models iterate as (field, value)
    values |= {
        "key": item.key,
        "natural_key": natural_key(record, field),
        "body": data,
        "quantity": whole(getattr(record, "available", None)),
    }
    if ref is not None:
        values["id"] = ref.get("id")
    return connector.values(**values)


async def upsert(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    item: WriteItem,
    found: Found,
    current: dict[str, Record] | None = None,
) -> Outcome:
    """Create or update one record (search already done: `found`)."""
    field = settings.lookup.field if settings.lookup else None
    label = f"{entity} {natural_key(item.record, field) or item.key}"
    ref = ref_of(item, found, field)
    status = OutcomeStatus.UPDATED if item.target_ref else OutcomeStatus.MATCHED
    if ref is not None and unchanged(connector, entity, settings, item, (current or {}).get(str(ref["id"]))):
        return Outcome(item.key, OutcomeStatus.UNCHANGED if item.target_ref else status, {"id": ref["id"]})
    if ref is not None and (fast := fast_call(settings, item)) is not None:
        await send_fast(connector, fast, item, ref, field, label)
        return Outcome(item.key, status, {"id": ref["id"]})
    if settings.upsert is not None:
        data = body(connector, entity, settings, item, ref is None)
        answer = await send(connector, settings.upsert, item, ref, data, field, label, entity)
        return Outcome(item.key, OutcomeStatus.CREATED if ref is None else status, {"id": answer})
    if ref is not None and settings.update is not None:
        data = body(connector, entity, settings, item, False)
        try:
            ident = await send(connector, settings.update, item, ref, data, field, label, entity)
            return Outcome(item.key, status, {"id": ident or ref["id"]})
        except Missing:  # gone from the shop since it was linked: search again, then create
            again = await find(connector, entity, [item.record])
            if again:
                return await upsert(
                    connector, entity, settings, replace(item, target_ref=next(iter(again.values()))), {}
                )
    if settings.create is None:
        raise Permanent(
            f"{plural(entity)} cannot be created in the connection {connector.name}",
            record=label,
            field="create",
        )
    data = body(connector, entity, settings, item, True)
    try:
        ident = await send(connector, settings.create, item, None, data, field, label, entity)
    except RateLimited:
        raise
    except Retryable:  # sent, answer lost: did the create happen?
        again = await find(connector, entity, [item.record])
        if not again:
            raise
        return Outcome(item.key, OutcomeStatus.CREATED, {"id": next(iter(again.values()))["id"]})
    return Outcome(item.key, OutcomeStatus.CREATED, {"id": ident})


async def send(
    connector: DeclarativeConnector,
    call: Call,
    item: WriteItem,
    ref: dict[str, object] | None,
    data: Any,
    field: str | None,
    label: str,
    entity: str,
) -> Any:
    """Send one write call; the shop's id of the written record (from the call's `result`), or None."""
    key = idempotency_key(connector.name, entity, item) if call.idempotency_header else None
    values = call_values(connector, item, ref, data, field)
    answer = await connector.client.call(call, values, record=label, idempotency_key=key)
    written = mapping.value_at(answer.body, call.result) if call.result else answer.body
    ident = (
        mapping.value_at(written, connector.entity(entity).id) if isinstance(written, (dict, list)) else None
    )
    return str(ident) if ident is not None else (ref or {}).get("id")


def fast_call(settings: EntitySettings, item: WriteItem) -> Call | None:
    """The `stock` or `price` call when the write names only stock (or price) fields."""
    fields = written_fields(item, False)
    if not fields:
        return None
    if settings.stock is not None and fields <= STOCK_FIELDS:
        return settings.stock
    if settings.price is not None and fields <= PRICE_FIELDS:
        return settings.price
    return None


async def send_fast(
    connector: DeclarativeConnector,
    call: Call,
    item: WriteItem,
    ref: dict[str, object],
    field: str | None,
    label: str,
) -> None:
    """Stock or prices alone: once for a simple product, once per variant of a product with variants."""
    record = item.record
    variants = record.variants if isinstance(record, Product) else []
    parts = [(record, ref.get("id"))] if not variants else [(variant, ref.get("id")) for variant in variants]
    for part, ident in parts:
        values = call_values(connector, item, ref, None, field)
        values |= dict(part) | {"id": ident, "quantity": whole(getattr(part, "available", None))}
        if part is not record:
            values["variant"] = dict(part)
        await connector.client.call(call, values, record=label)


async def delete(
    connector: DeclarativeConnector, entity: str, settings: EntitySettings, item: WriteItem
) -> Outcome:
    """Remove a linked record; one the shop no longer has is gone already."""
    if item.target_ref:
        if settings.delete is None:
            raise Permanent(
                f"{plural(entity)} cannot be deleted in the connection {connector.name}",
                record=item.key,
                field="delete",
            )
        values = connector.values(id=item.target_ref.get("id"), key=item.key)
        try:
            await connector.client.call(settings.delete, values, record=f"{entity} {item.key}")
        except Missing:
            pass
    return Outcome(item.key, OutcomeStatus.DELETED, item.target_ref)
