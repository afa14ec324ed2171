"""Forgetting old history: journal lines, handled webhook deliveries, audit lines, resolved alerts,
reconcile reports, dead letters that were dealt with and conflicts that were resolved or dismissed
(with the alerts' age), each after its own number of days; and
console sessions once they expired (`sessions`, age 0: their `expires_at` is their age limit).

Nothing that is still to do is ever removed: deliveries not yet processed, open dead letters, open
alerts and open or reverted conflicts stay whatever their age. Rows go in batches, so that a first
prune of a large database does not hold one long write lock over the engine's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.tables import (
    alert,
    audit_log,
    conflict,
    console_session,
    dead,
    inbox,
    journal,
    reconcile_report,
)

BATCH = 5000


@dataclass(frozen=True)
class Rule:
    """Which rows of `table` may go once the time in `column` is older than the table's age limit."""

    table: Table
    key: Any  # the column a batch is picked by
    column: Any
    only: Any = None  # a further condition (rows still to do are never removed)

    def expired(self, cutoff: datetime) -> ColumnElement[bool]:
        """The rows this rule removes at this cutoff."""
        older = self.column < cutoff
        return older if self.only is None else older & self.only


RULES: dict[str, Rule] = {
    "journal": Rule(journal, journal.c.id, journal.c.at),
    "inbox": Rule(inbox, inbox.c.id, inbox.c.processed_at, inbox.c.processed_at.is_not(None)),
    "audit": Rule(audit_log, audit_log.c.id, audit_log.c.at),
    "alerts": Rule(alert, alert.c.key, alert.c.resolved_at, alert.c.status == "resolved"),
    "reports": Rule(reconcile_report, reconcile_report.c.id, reconcile_report.c.finished_at),
    "dead_letters": Rule(dead, dead.c.id, dead.c.failed_at, dead.c.status != "open"),
    "conflicts": Rule(
        conflict, conflict.c.id, conflict.c.resolved_at, conflict.c.state.in_(("resolved", "dismissed"))
    ),
    "sessions": Rule(console_session, console_session.c.id, console_session.c.expires_at),
}
EXPIRING: dict[str, timedelta] = {"sessions": timedelta(0)}  # pruned whatever the configured ages


async def count_expired(conn: AsyncConnection, name: str, cutoff: datetime) -> int:
    """How many rows of `name` are older than `cutoff` and may go."""
    condition = RULES[name].expired(cutoff)
    return int((await conn.execute(select(func.count()).where(condition))).scalar() or 0)


async def remove_expired(conn: AsyncConnection, name: str, cutoff: datetime, batch: int = BATCH) -> int:
    """Remove up to `batch` rows of `name` older than `cutoff`; how many went (fewer: none are left)."""
    rule = RULES[name]
    chosen = select(rule.key).where(rule.expired(cutoff)).limit(batch).scalar_subquery()
    result = await conn.execute(delete(rule.table).where(rule.key.in_(chosen)))
    return int(result.rowcount or 0)
