"""Leases on singleton jobs: one process at a time polls a feed, syncs a new flow, reconciles orders.

A lease is a row (name, owner, expires_at). Taking it is one upsert that succeeds when the row is
new, already ours (a renewal), or expired (its holder died or stalled); a holder renews well before
expiry. This works the same on SQLite and PostgreSQL and survives connection pools and poolers,
which session-bound advisory locks would not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import Lease
from emporion.state.sql import insert
from emporion.state.tables import lease


async def acquire(conn: AsyncConnection, name: str, owner: str, seconds: float, now: datetime) -> bool:
    """Take or renew the lease `name` for `owner` until now + seconds; False while another holds it."""
    ins = insert(conn.dialect.name, lease).values(
        name=name, owner=owner, acquired_at=now, expires_at=now + timedelta(seconds=seconds)
    )
    renewing = lease.c.owner == ins.excluded.owner
    stmt = ins.on_conflict_do_update(
        index_elements=[lease.c.name],
        set_={
            "owner": ins.excluded.owner,
            "expires_at": ins.excluded.expires_at,
            "acquired_at": case((renewing, lease.c.acquired_at), else_=ins.excluded.acquired_at),
        },
        where=or_(renewing, lease.c.expires_at <= now),
    ).returning(lease.c.owner)
    return (await conn.execute(stmt)).first() is not None


async def release(conn: AsyncConnection, name: str, owner: str) -> bool:
    """Give the lease up so that another process may take it at once; False when `owner` did not hold it."""
    result = await conn.execute(delete(lease).where(lease.c.name == name, lease.c.owner == owner))
    return result.rowcount == 1


async def held(conn: AsyncConnection, now: datetime, prefix: str = "") -> list[Lease]:
    """Leases not yet expired whose name starts with `prefix`, by name."""
    stmt = (
        select(lease.c.name, lease.c.owner, lease.c.acquired_at, lease.c.expires_at)
        .where(lease.c.expires_at > now, lease.c.name.startswith(prefix, autoescape=True))
        .order_by(lease.c.name)
    )
    return [Lease(*row) for row in await conn.execute(stmt)]
