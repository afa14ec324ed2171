"""Who holds leases (work items, webhook deliveries, claims on links, singleton jobs), and freeing
those of dead holders.

A lease runs out on its own; freeing it earlier is for holders known to be dead, so that a restarted
engine carries on at once instead of waiting for the leases its killed predecessor left behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.claims import PENDING
from emporion.state.tables import inbox, lease, link, work


async def holders(conn: AsyncConnection) -> set[str]:
    """Every worker that holds a lease on a work item, a webhook delivery, a claim on a link or a job."""
    found: set[str] = set()
    for query in (
        select(work.c.lease_owner).where(work.c.lease_owner.is_not(None)).distinct(),
        select(inbox.c.lease_owner)
        .where(inbox.c.lease_owner.is_not(None), inbox.c.processed_at.is_(None))
        .distinct(),
        select(link.c.last_error).where(link.c.state == PENDING).distinct(),
        select(lease.c.owner).distinct(),
    ):
        found.update(row[0] for row in await conn.execute(query) if row[0])
    return found


async def release(conn: AsyncConnection, owners: Sequence[str]) -> int:
    """Free everything these holders lease: work and deliveries become claimable, claims and jobs go away."""
    if not owners:
        return 0
    freed = await conn.execute(
        update(work).where(work.c.lease_owner.in_(owners)).values(lease_owner=None, lease_expires_at=None)
    )
    delivered = await conn.execute(
        update(inbox)
        .where(inbox.c.lease_owner.in_(owners), inbox.c.processed_at.is_(None))
        .values(lease_owner=None, lease_expires_at=None)
    )
    # a claim's holder may have created the record before dying: the next claimant searches the
    # target before creating (search-before-create), so dropping the claim cannot make a duplicate
    claimed = await conn.execute(delete(link).where(link.c.state == PENDING, link.c.last_error.in_(owners)))
    jobs = await conn.execute(delete(lease).where(lease.c.owner.in_(owners)))
    counts = (freed, delivered, claimed, jobs)
    return sum(int(result.rowcount or 0) for result in counts)
