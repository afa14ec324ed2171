"""The webhook inbox: store a delivery once (duplicates are refused), lease it to a worker, mark it done."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import InboxDelivery
from emporion.state.sql import chunks, insert
from emporion.state.tables import inbox

_COLUMNS = (
    inbox.c.id,
    inbox.c.source,
    inbox.c.delivery_id,
    inbox.c.topic,
    inbox.c.received_at,
    inbox.c.headers,
    inbox.c.body,
    inbox.c.processed_at,
)


async def add(
    conn: AsyncConnection,
    source: str,
    delivery_id: str,
    topic: str,
    headers: Mapping[str, Any],
    body: bytes,
    now: datetime,
) -> bool:
    """Insert a delivery if (source, delivery_id) is new; False for a duplicate delivery."""
    stmt = (
        insert(conn.dialect.name, inbox)
        .values(
            source=source,
            delivery_id=delivery_id,
            topic=topic,
            headers=dict(headers),
            body=bytes(body),
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=[inbox.c.source, inbox.c.delivery_id])
        .returning(inbox.c.id)
    )
    return (await conn.execute(stmt)).first() is not None


async def claim(
    conn: AsyncConnection, *, worker: str, limit: int, now: datetime, lease_seconds: float, source: str | None
) -> list[InboxDelivery]:
    """Lease up to `limit` unprocessed deliveries, oldest first."""
    pending = (
        select(inbox.c.id)
        .where(
            inbox.c.processed_at.is_(None),
            or_(inbox.c.lease_expires_at.is_(None), inbox.c.lease_expires_at <= now),
        )
        .order_by(inbox.c.received_at, inbox.c.id)
        .limit(limit)
    )
    if source is not None:
        pending = pending.where(inbox.c.source == source)
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    stmt = (
        update(inbox)
        .where(inbox.c.id.in_(pending.scalar_subquery()))
        .values(lease_owner=worker, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(*_COLUMNS)
    )
    deliveries = [InboxDelivery(*row) for row in await conn.execute(stmt)]
    deliveries.sort(key=lambda d: (d.received_at, d.id))
    return deliveries


async def mark_processed(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> int:
    """Mark deliveries processed and free their leases; returns how many were still pending."""
    marked = 0
    for part in chunks(sorted(set(ids))):
        stmt = (
            update(inbox)
            .where(inbox.c.id.in_(part), inbox.c.processed_at.is_(None))
            .values(processed_at=now, lease_owner=None, lease_expires_at=None)
        )
        marked += (await conn.execute(stmt)).rowcount
    return marked
