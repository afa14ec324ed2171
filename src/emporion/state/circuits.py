"""Circuit breaker states per connection, written on each transition and read by `emporion status`.

Each process keeps its own breaker per connection; the row holds the last transition any of them
reported, and counts how often the circuit opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.sql import insert
from emporion.state.tables import circuit


@dataclass(frozen=True)
class CircuitRecord:
    """One connection's circuit as last reported: state, since when, why, how often it opened."""

    connection: str
    state: str  # closed, open, half-open
    since: datetime
    failures: int = 0
    last_error: str | None = None
    opened_count: int = 0
    worker: str | None = None


async def record(conn: AsyncConnection, entry: CircuitRecord, opened: bool, now: datetime) -> None:
    """Upsert the connection's row; `opened` counts one more opening."""
    values = {
        "connection": entry.connection,
        "state": entry.state,
        "since": entry.since,
        "failures": entry.failures,
        "last_error": entry.last_error,
        "worker": entry.worker,
        "updated_at": now,
    }
    statement = insert(conn.dialect.name, circuit).values(**values, opened_count=1 if opened else 0)
    update = {key: statement.excluded[key] for key in values if key != "connection"}
    if opened:
        update["opened_count"] = circuit.c.opened_count + 1
    await conn.execute(statement.on_conflict_do_update(index_elements=[circuit.c.connection], set_=update))


async def read_all(conn: AsyncConnection) -> list[CircuitRecord]:
    """Every connection's row, by name."""
    rows = await conn.execute(
        select(
            circuit.c.connection,
            circuit.c.state,
            circuit.c.since,
            circuit.c.failures,
            circuit.c.last_error,
            circuit.c.opened_count,
            circuit.c.worker,
        ).order_by(circuit.c.connection)
    )
    return [CircuitRecord(*row) for row in rows]
