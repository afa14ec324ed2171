"""Alert bookkeeping: decide atomically whether an alert is due to be sent, and list recent alerts.

One row per alert key. A firing alert is sent when its key is new, was resolved, or was last sent
more than the quiet period ago; a resolution is sent when the person was told of the opening. The
row is locked while deciding (PostgreSQL `FOR UPDATE`, SQLite's write lock), so several workers
raising the same alert send it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import AlertRecord
from emporion.state.sql import greatest, insert
from emporion.state.tables import UTCDateTime, alert, cursor, dead, work

COLUMNS = (
    alert.c.key,
    alert.c.kind,
    alert.c.subject,
    alert.c.flow,
    alert.c.severity,
    alert.c.status,
    alert.c.first_seen,
    alert.c.last_seen,
    alert.c.last_sent,
    alert.c.resolved_at,
    alert.c.count,
    alert.c.message,
    alert.c.details,
)


async def _locked(conn: AsyncConnection, key: str) -> AlertRecord | None:
    row = (await conn.execute(select(*COLUMNS).where(alert.c.key == key).with_for_update())).first()
    return AlertRecord(*row) if row else None


def _told_of_opening(row: AlertRecord) -> bool:
    """Whether the current open episode of this key was sent (re-openings in a quiet period are not)."""
    return row.last_sent is not None and row.last_sent >= row.first_seen


async def fire(conn: AsyncConnection, fields: dict[str, Any], now: datetime, quiet_seconds: float) -> bool:
    """Record an occurrence of an open alert; True when it is due to be sent (and is marked sent)."""
    key = fields["key"]
    values = {**fields, "status": "open", "first_seen": now, "last_seen": now, "count": 0}
    await conn.execute(insert(conn.dialect.name, alert).values(values).on_conflict_do_nothing())
    row = await _locked(conn, key)
    assert row is not None
    reopened = row.status != "open"
    # new, or not told within the quiet period (a reminder; a re-opening right after its resolution waits)
    due = row.last_sent is None or row.last_sent <= now - timedelta(seconds=quiet_seconds)
    change: dict[str, Any] = {
        "last_seen": now,
        "message": fields["message"],
        "severity": fields["severity"],
        "status": "open",
        "resolved_at": None,
        "count": 1 if reopened else row.count + 1,
    }
    if reopened:
        change["first_seen"] = now
    if due:
        change.update(last_sent=now, details=fields.get("details"))
    await conn.execute(update(alert).where(alert.c.key == key).values(change))
    return due


async def resolve(conn: AsyncConnection, key: str, message: str, now: datetime) -> bool:
    """Mark an open alert resolved; True when the person was told of it and so must hear it is over."""
    row = await _locked(conn, key)
    if row is None or row.status != "open":
        return False
    told = _told_of_opening(row)
    change: dict[str, Any] = {"status": "resolved", "resolved_at": now, "last_seen": now, "message": message}
    if told:
        change["last_sent"] = now
    await conn.execute(update(alert).where(alert.c.key == key).values(change))
    return told


async def recent(
    conn: AsyncConnection, status: str | None, kind: str | None, flow: str | None, limit: int
) -> list[AlertRecord]:
    """Alerts, the most recently seen first; filtered by status, kind and flow when given."""
    stmt = select(*COLUMNS).order_by(alert.c.last_seen.desc(), alert.c.key).limit(limit)
    if status is not None:
        stmt = stmt.where(alert.c.status == status)
    if kind is not None:
        stmt = stmt.where(alert.c.kind == kind)
    if flow is not None:
        stmt = stmt.where(alert.c.flow == flow)
    return [AlertRecord(*row) for row in await conn.execute(stmt)]


async def dead_summary(conn: AsyncConnection, sample: int) -> dict[str, tuple[int, int, list[str]]]:
    """Per flow with open dead letters: how many, the newest id, and the newest `sample` record names."""
    counts = select(dead.c.flow, func.count(), func.max(dead.c.id)).where(dead.c.status == "open")
    summary: dict[str, tuple[int, int, list[str]]] = {}
    for flow, count, newest in (await conn.execute(counts.group_by(dead.c.flow))).all():
        names = select(dead.c.record, dead.c.key, dead.c.entity, dead.c.field).where(
            dead.c.flow == flow, dead.c.status == "open"
        )
        rows = await conn.execute(names.order_by(dead.c.id.desc()).limit(sample))
        labels = [
            f"{record or f'{entity} {key}'}" + (f" ({field})" if field else "")
            for record, key, entity, field in rows
        ]
        summary[flow] = (int(count), int(newest), labels)
    return summary


async def waiting_since(conn: AsyncConnection, now: datetime) -> dict[str, datetime]:
    """Per flow: since when its longest-waiting due, unleased work item has been ready for a worker.

    An item is ready from the later of its enqueue time and its due time, so work deliberately
    scheduled for later (a backoff, an order on hold) does not count as lag until it is due.
    """
    ready = greatest(conn.dialect.name, work.c.enqueued_at, work.c.next_attempt_at)
    stmt = (
        select(work.c.flow, type_coerce(func.min(ready), UTCDateTime))
        .where(
            work.c.next_attempt_at <= now,
            or_(work.c.lease_expires_at.is_(None), work.c.lease_expires_at <= now),
        )
        .group_by(work.c.flow)
    )
    return {flow: since for flow, since in await conn.execute(stmt)}


async def polled_at(conn: AsyncConnection) -> dict[str, datetime]:
    """Per flow: when its least recently read change feed was last read successfully (its cursor's time)."""
    stmt = select(cursor.c.flow, type_coerce(func.min(cursor.c.updated_at), UTCDateTime)).group_by(
        cursor.c.flow
    )
    return {flow: at for flow, at in await conn.execute(stmt)}
