"""The work queue's statements: coalescing enqueue, leased claim, finish, retry, release."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Text,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import WorkItem
from emporion.state.sql import BatchStatement, Values, greatest, insert, insert_rows, least, row_values
from emporion.state.tables import UTCDateTime, cursor, work

_TEXT, _INT, _BIGINT, _TIME = Text(), Integer(), BigInteger(), DateTime(timezone=True)
_ENQUEUE_COLUMNS = (
    ("flow", _TEXT),
    ("entity", _TEXT),
    ("key", _TEXT),
    ("reason", _TEXT),
    ("priority", _INT),
    ("next_attempt_at", _TIME),
    ("enqueued_at", _TIME),
    ("correlation_id", _TEXT),
)


def _enqueue_statement(dialect: str, replay: bool) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE that coalesces a new change into a queued row."""
    ins = insert_rows(dialect, work, _ENQUEUE_COLUMNS)
    new = ins.excluded
    if replay:
        changes = {
            "attempts": literal_column("0"),
            "next_attempt_at": new.next_attempt_at,
            "last_error": null(),
        }
    else:
        earliest = least(dialect, work.c.next_attempt_at, new.next_attempt_at)
        backing_off = work.c.attempts > literal_column("0")
        changes = {"next_attempt_at": case((backing_off, work.c.next_attempt_at), else_=earliest)}
    return ins.on_conflict_do_update(
        index_elements=[work.c.flow, work.c.entity, work.c.key],
        set_={
            "generation": work.c.generation + literal_column("1"),
            "priority": greatest(dialect, work.c.priority, new.priority),
            "reason": new.reason,
            "correlation_id": func.coalesce(new.correlation_id, work.c.correlation_id),
            **changes,
        },
    )


_ENQUEUE = BatchStatement(lambda dialect: _enqueue_statement(dialect, replay=False), _ENQUEUE_COLUMNS)
_REPLAY = BatchStatement(lambda dialect: _enqueue_statement(dialect, replay=True), _ENQUEUE_COLUMNS)


async def enqueue(
    conn: AsyncConnection,
    *,
    flow: str,
    entity: str,
    keys: Iterable[str],
    reason: str,
    priority: int,
    due: datetime,
    now: datetime,
    replay: bool = False,
    correlation_id: str | None = None,
) -> int:
    """Upsert one work row per key; a key already queued coalesces into its row.

    On conflict the generation moves (so a worker holding the row knows a newer change came in),
    the priority rises to the higher one and the due time moves to the earlier one -- unless the row
    is backing off after failed attempts: a new change does not make the failing target healthier,
    so the backoff is kept. A replay (from the dead letters) resets attempts and is due at once.
    """
    unique_keys = sorted(set(keys))  # a stable lock order; ON CONFLICT must not meet a key twice
    values = Values(conn.dialect.name)
    due_value, now_value = values.time(due), values.time(now)
    rows = [
        (flow, entity, key, reason, priority, due_value, now_value, correlation_id) for key in unique_keys
    ]
    await (_REPLAY if replay else _ENQUEUE).run(conn, rows)
    return len(unique_keys)


async def set_cursor(conn: AsyncConnection, flow: str, entity: str, value: str, now: datetime) -> None:
    """Upsert the change-feed position of (flow, entity)."""
    ins = insert(conn.dialect.name, cursor)
    stmt = ins.on_conflict_do_update(
        index_elements=[cursor.c.flow, cursor.c.entity],
        set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at},
    )
    await conn.execute(stmt, {"flow": flow, "entity": entity, "value": value, "updated_at": now})


def _claim_statement(dialect: str) -> Any:
    """UPDATE ... RETURNING that leases the first due, unleased rows (SKIP LOCKED on PostgreSQL)."""
    now = bindparam("now_", type_=UTCDateTime)
    due = (
        select(work.c.id)
        .where(
            work.c.flow == bindparam("flow_"),
            work.c.entity == bindparam("entity_"),
            work.c.next_attempt_at <= now,
            or_(work.c.lease_expires_at.is_(None), work.c.lease_expires_at <= now),
        )
        .order_by(work.c.priority.desc(), work.c.next_attempt_at)
        .limit(bindparam("limit_", type_=Integer))
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)  # concurrent claimers take different rows
    return (
        update(work)
        .where(work.c.id.in_(due.scalar_subquery()))
        .values(
            lease_owner=bindparam("owner_"),
            lease_expires_at=bindparam("expires_", type_=UTCDateTime),
            claimed_generation=work.c.generation,
        )
        .returning(
            work.c.id,
            work.c.flow,
            work.c.entity,
            work.c.key,
            work.c.generation,
            work.c.attempts,
            work.c.reason,
            work.c.priority,
            work.c.lease_owner,
            work.c.correlation_id,
            work.c.enqueued_at,
        )
    )


_CLAIM = BatchStatement(
    _claim_statement,
    (
        ("flow_", _TEXT),
        ("entity_", _TEXT),
        ("now_", _TIME),
        ("limit_", _INT),
        ("owner_", _TEXT),
        ("expires_", _TIME),
    ),
)


async def claim(
    conn: AsyncConnection,
    *,
    flow: str,
    entity: str,
    worker: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
) -> list[WorkItem]:
    """Lease up to `limit` due rows that nobody holds (or whose holder's lease ran out)."""
    values = Values(conn.dialect.name)
    expires = values.time(now + timedelta(seconds=lease_seconds))
    rows = await _CLAIM.fetch(conn, (flow, entity, values.time(now), limit, worker, expires))
    items = [WorkItem(*row[:-1], enqueued_at=_aware(row[-1])) for row in rows]
    items.sort(key=lambda item: (-item.priority, item.id))
    return items


def _aware(value: datetime | str | None) -> datetime | None:
    """A timestamp from a raw row (SQLite hands back its naive UTC text) as an aware UTC datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _delete_done(dialect: str) -> Any:
    row = row_values(dialect, (("id_", _BIGINT), ("generation_", _INT), ("owner_", _TEXT)))
    return delete(work).where(
        work.c.id == row["id_"], work.c.generation == row["generation_"], work.c.lease_owner == row["owner_"]
    )


def _reopen_changed(dialect: str) -> Any:
    row = row_values(dialect, (("id_", _BIGINT), ("owner_", _TEXT)))
    return (
        update(work)
        .where(work.c.id == row["id_"], work.c.lease_owner == row["owner_"])
        .values(lease_owner=null(), lease_expires_at=null(), attempts=literal_column("0"), last_error=null())
    )


def _back_off(dialect: str, count: bool = True) -> Any:
    row = row_values(dialect, (("id_", _BIGINT), ("owner_", _TEXT), ("due_", _TIME), ("error_", _TEXT)))
    return (
        update(work)
        .where(work.c.id == row["id_"], work.c.lease_owner == row["owner_"])
        .values(
            attempts=work.c.attempts + literal_column("1" if count else "0"),
            next_attempt_at=row["due_"],
            last_error=row["error_"],
            lease_owner=null(),
            lease_expires_at=null(),
        )
    )


def _delete_key(dialect: str) -> Any:
    row = row_values(dialect, (("flow_", _TEXT), ("entity_", _TEXT), ("key_", _TEXT)))
    return delete(work).where(
        work.c.flow == row["flow_"],
        work.c.entity == row["entity_"],
        work.c.key == row["key_"],
        work.c.generation == work.c.claimed_generation,
    )


def _reopen_key(dialect: str) -> Any:
    row = row_values(dialect, (("flow_", _TEXT), ("entity_", _TEXT), ("key_", _TEXT)))
    return (
        update(work)
        .where(
            work.c.flow == row["flow_"],
            work.c.entity == row["entity_"],
            work.c.key == row["key_"],
            work.c.generation != work.c.claimed_generation,
        )
        .values(lease_owner=null(), lease_expires_at=null(), attempts=literal_column("0"), last_error=null())
    )


def _release(dialect: str) -> Any:
    row = row_values(dialect, (("id_", _BIGINT), ("owner_", _TEXT)))
    return (
        update(work)
        .where(work.c.id == row["id_"], work.c.lease_owner == row["owner_"])
        .values(lease_owner=null(), lease_expires_at=null())
    )


_ID_OWNER = (("id_", _BIGINT), ("owner_", _TEXT))
_DELETE_DONE = BatchStatement(_delete_done, (("id_", _BIGINT), ("generation_", _INT), ("owner_", _TEXT)))
_REOPEN_CHANGED = BatchStatement(_reopen_changed, _ID_OWNER)
_BACK_OFF = BatchStatement(_back_off, (*_ID_OWNER, ("due_", _TIME), ("error_", _TEXT)))
_POSTPONE = BatchStatement(
    lambda dialect: _back_off(dialect, count=False), (*_ID_OWNER, ("due_", _TIME), ("error_", _TEXT))
)
_DELETE_KEY = BatchStatement(_delete_key, (("flow_", _TEXT), ("entity_", _TEXT), ("key_", _TEXT)))
_REOPEN_KEY = BatchStatement(_reopen_key, (("flow_", _TEXT), ("entity_", _TEXT), ("key_", _TEXT)))
_RELEASE = BatchStatement(_release, _ID_OWNER)


def _lock_order(item: WorkItem) -> tuple[str, str, str]:
    """Writers touch work rows in (flow, entity, key) order, as enqueue does, to keep deadlocks rare."""
    return (item.flow, item.entity, item.key)


async def complete(conn: AsyncConnection, done: Sequence[WorkItem]) -> None:
    """Delete finished rows, unless the key changed again meanwhile: then free it for the new change.

    A row whose lease this worker lost (expired and claimed by another) is left to its new holder.
    """
    ordered = sorted(done, key=_lock_order)
    await _DELETE_DONE.run(conn, [(i.id, i.generation, i.lease_owner) for i in ordered])
    # only rows that survived the delete (their generation moved) still match
    await _REOPEN_CHANGED.run(conn, [(i.id, i.lease_owner) for i in ordered])


async def back_off(
    conn: AsyncConnection, retry: Sequence[tuple[WorkItem, str, float]], now: datetime, *, count: bool = True
) -> None:
    """Count a failed attempt (unless `count` is off) and make the row due again after its delay."""
    values = Values(conn.dialect.name)
    rows = [
        (item.id, item.lease_owner, values.time(now + timedelta(seconds=delay)), error)
        for item, error, delay in sorted(retry, key=lambda entry: _lock_order(entry[0]))
    ]
    await (_BACK_OFF if count else _POSTPONE).run(conn, rows)


async def drop_keys(conn: AsyncConnection, keys: Sequence[tuple[str, str, str]]) -> None:
    """Delete the work rows of dead-lettered keys; a key changed since its claim is freed instead."""
    ordered = sorted(set(keys))
    await _DELETE_KEY.run(conn, ordered)
    await _REOPEN_KEY.run(conn, ordered)


async def release(conn: AsyncConnection, items: Sequence[WorkItem]) -> None:
    """Give leases back without counting an attempt (a worker shutting down)."""
    await _RELEASE.run(conn, [(i.id, i.lease_owner) for i in sorted(items, key=_lock_order)])


async def extend(
    conn: AsyncConnection, items: Sequence[WorkItem], worker: str, now: datetime, lease_seconds: float
) -> int:
    """Push out the lease of rows `worker` still holds (a batch that takes long); returns how many."""
    ids = sorted(item.id for item in items)
    if not ids:
        return 0
    stmt = (
        update(work)
        .where(work.c.id.in_(ids), work.c.lease_owner == worker)
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return (await conn.execute(stmt)).rowcount


async def depth(conn: AsyncConnection, flow: str | None) -> dict[tuple[str, str], int]:
    """Rows queued per (flow, entity)."""
    stmt = select(work.c.flow, work.c.entity, func.count()).group_by(work.c.flow, work.c.entity)
    if flow is not None:
        stmt = stmt.where(work.c.flow == flow)
    return {(f, e): n for f, e, n in await conn.execute(stmt)}


async def next_due(conn: AsyncConnection, flow: str, entity: str) -> datetime | None:
    """When the next row becomes claimable: its due time, or its lease expiry if that is later."""
    lease = work.c.lease_expires_at
    effective = case(
        (lease.is_not(None) & (lease > work.c.next_attempt_at), lease), else_=work.c.next_attempt_at
    )
    stmt = select(type_coerce(func.min(effective), UTCDateTime)).where(
        work.c.flow == flow, work.c.entity == entity
    )
    return (await conn.execute(stmt)).scalar()
