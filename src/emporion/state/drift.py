"""Reconciliation in the state database: saved reports, and links marked so that a repair rewrites them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state import queue as queue_sql
from emporion.state.records import ReconcileReport
from emporion.state.sql import chunks
from emporion.state.tables import link, reconcile_report, work

REPORT_COLUMNS = (
    reconcile_report.c.flow,
    reconcile_report.c.started_at,
    reconcile_report.c.finished_at,
    reconcile_report.c.status,
    reconcile_report.c.repair,
    reconcile_report.c.counts,
    reconcile_report.c["items"],
    reconcile_report.c.error,
    reconcile_report.c.id,
)
DRIFT_STATE = "drift"  # the target was found to differ: the next sync writes the record even if unchanged


def _report(row: Row[Any]) -> ReconcileReport:
    """A report from a row selected with REPORT_COLUMNS."""
    return ReconcileReport(*row)


async def insert_report(conn: AsyncConnection, report: ReconcileReport) -> int:
    """Keep a report; returns its id."""
    stmt = reconcile_report.insert().values(
        flow=report.flow,
        started_at=report.started_at,
        finished_at=report.finished_at,
        status=report.status,
        repair=report.repair,
        counts=report.counts or {},
        items=report.items or [],
        error=report.error,
    )
    result = await conn.execute(stmt.returning(reconcile_report.c.id))
    return int(result.scalar_one())


async def list_reports(
    conn: AsyncConnection, flow: str | None, limit: int, offset: int, with_items: bool
) -> list[ReconcileReport]:
    """Reports, newest first (items left out unless asked for: a list view needs only the counts)."""
    columns = tuple(c for c in REPORT_COLUMNS if with_items or c is not reconcile_report.c["items"])
    stmt = (
        select(*columns)
        .order_by(reconcile_report.c.started_at.desc(), reconcile_report.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if flow is not None:
        stmt = stmt.where(reconcile_report.c.flow == flow)
    names = [column.name for column in columns]
    return [ReconcileReport(**dict(zip(names, row, strict=True))) for row in await conn.execute(stmt)]


async def get_report(conn: AsyncConnection, report_id: int) -> ReconcileReport | None:
    """One report with its items."""
    row = (await conn.execute(select(*REPORT_COLUMNS).where(reconcile_report.c.id == report_id))).first()
    return _report(row) if row else None


async def mark_links(conn: AsyncConnection, flow: str, entity: str, keys: Sequence[str], state: str) -> None:
    """Set the state of these links (e.g. drift, so that the next sync rewrites what the target lost)."""
    for part in chunks(sorted(set(keys))):
        stmt = (
            update(link)
            .where(link.c.flow == flow, link.c.entity == entity, link.c.source_key.in_(part))
            .values(state=state)
        )
        await conn.execute(stmt)


async def forget_links(conn: AsyncConnection, flow: str, entity: str, keys: Sequence[str]) -> None:
    """Delete links that point at nothing, so that the next sync searches the target and creates again."""
    for part in chunks(sorted(set(keys))):
        stmt = delete(link).where(link.c.flow == flow, link.c.entity == entity, link.c.source_key.in_(part))
        await conn.execute(stmt)


async def queued_keys(conn: AsyncConnection, flow: str, entity: str, keys: Sequence[str]) -> set[str]:
    """Which of these keys wait in the work queue (their change is on its way)."""
    found: set[str] = set()
    for part in chunks(sorted(set(keys))):
        stmt = select(work.c.key).where(work.c.flow == flow, work.c.entity == entity, work.c.key.in_(part))
        found.update(row[0] for row in await conn.execute(stmt))
    return found


async def queue_repairs(
    conn: AsyncConnection,
    now: datetime,
    flow: str,
    entity: str,
    keys: Sequence[str],
    *,
    stale: Sequence[str] = (),
    forget: Sequence[str] = (),
    priority: int = 20,
    reason: str = "repair",
    replay: bool = True,
) -> int:
    """Mark `stale` links drift, delete `forget` links, queue `keys` due now (StateStore.queue_repairs)."""
    if stale:
        await mark_links(conn, flow, entity, stale, DRIFT_STATE)
    if forget:
        await forget_links(conn, flow, entity, forget)
    return await queue_sql.enqueue(
        conn,
        flow=flow,
        entity=entity,
        keys=keys,
        reason=reason,
        priority=priority,
        due=now,
        now=now,
        replay=replay,
    )
