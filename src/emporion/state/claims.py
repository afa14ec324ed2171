"""Claims on links: reserve a source key before creating its record in the target.

Two workers that meet the same new customer at the same moment would both search the ERP, find
nothing and both create it. A claim is a `pending` link inserted under the link table's unique
constraint: exactly one caller gets it; the others wait for the link to become `synced`. A claim
whose holder died expires after its lease, so nothing stays blocked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.ledger import LINK_COLUMNS, to_link
from emporion.state.records import Link
from emporion.state.sql import insert
from emporion.state.tables import link

PENDING = "pending"


async def claim_link(
    conn: AsyncConnection, flow: str, entity: str, key: str, owner: str, lease: timedelta, now: datetime
) -> Link | None:
    """None when `owner` holds the claim (new, its own, or taken over after expiry); else the link."""
    claimed = await conn.execute(
        insert(conn.dialect.name, link)
        .values(
            flow=flow,
            entity=entity,
            source_key=key,
            natural_key=key,
            state=PENDING,
            last_error=owner,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[link.c.flow, link.c.entity, link.c.source_key])
    )
    if claimed.rowcount == 1:
        return None
    where = and_(link.c.flow == flow, link.c.entity == entity, link.c.source_key == key)
    row = (await conn.execute(select(*LINK_COLUMNS, link.c.updated_at).where(where))).one()
    existing = to_link(row[:-1])
    updated_at = row[-1]
    if existing.state != PENDING:
        return existing
    if existing.last_error == owner:
        return None
    if updated_at is not None and _aware(updated_at) < now - lease:
        taken = await conn.execute(
            update(link)
            .where(where, link.c.state == PENDING, link.c.updated_at == updated_at)
            .values(last_error=owner, updated_at=now)
        )
        if taken.rowcount == 1:
            return None
    return existing


async def release_claim(conn: AsyncConnection, flow: str, entity: str, key: str, owner: str) -> bool:
    """Give up `owner`'s claim after the creation failed, so that a retry (by anyone) may claim again."""
    released = await conn.execute(
        delete(link).where(
            link.c.flow == flow,
            link.c.entity == entity,
            link.c.source_key == key,
            link.c.state == PENDING,
            link.c.last_error == owner,
        )
    )
    return released.rowcount == 1


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
