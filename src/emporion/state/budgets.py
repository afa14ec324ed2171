"""Shared rate budgets: one token bucket per shop connection, held in PostgreSQL for every process.

Taking tokens is one statement that locks the bucket's row, refills it for the time elapsed, grants up
to the wanted number and returns what it granted (or how long to wait). Processes take a few tokens
at a time, so the database sees one short statement per block of requests, not per request. Times
come from the database's clock, so machines with skewed clocks still share one bucket.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import RateGrant

_ENSURE = text(
    """
    INSERT INTO rate_budget (name, rate, capacity, tokens, updated_at, paused_until)
    VALUES (:name, :rate, :capacity, :capacity, clock_timestamp(), TIMESTAMPTZ '1970-01-01 00:00:00+00')
    ON CONFLICT (name) DO UPDATE SET rate = EXCLUDED.rate, capacity = EXCLUDED.capacity,
        tokens = LEAST(rate_budget.tokens, EXCLUDED.capacity)
    """
)

_TAKE = text(
    """
    WITH clock AS (SELECT clock_timestamp() AS now),
    bucket AS (
        SELECT b.name, b.rate, b.paused_until > clock.now AS paused,
               EXTRACT(EPOCH FROM b.paused_until - clock.now) AS pause_left,
               CASE WHEN b.rate IS NULL THEN CAST(:wanted AS float)
                    ELSE LEAST(b.capacity, b.tokens
                         + GREATEST(0, EXTRACT(EPOCH FROM clock.now - b.updated_at)) * b.rate)
               END AS available
        FROM rate_budget b, clock WHERE b.name = :name FOR UPDATE OF b
    ),
    decision AS (
        SELECT bucket.*, CASE WHEN paused THEN 0 ELSE LEAST(:wanted, FLOOR(available)) END AS granted
        FROM bucket
    )
    UPDATE rate_budget r
    SET tokens = CASE WHEN d.rate IS NULL THEN 0 ELSE d.available - d.granted END,
        updated_at = (SELECT now FROM clock)
    FROM decision d WHERE r.name = d.name
    RETURNING d.granted, d.available, d.rate, d.paused, d.pause_left
    """
)

_PAUSE = text(
    """
    UPDATE rate_budget
    SET paused_until = GREATEST(paused_until, clock_timestamp() + make_interval(secs => :seconds))
    WHERE name = :name
    """
)


async def ensure(conn: AsyncConnection, name: str, rate: float | None, capacity: float) -> None:
    """Create the bucket of `name`, or set its rate and capacity (the configuration may have changed)."""
    await conn.execute(_ENSURE, {"name": name, "rate": rate, "capacity": capacity})


async def take(conn: AsyncConnection, name: str, wanted: int) -> RateGrant:
    """Take up to `wanted` tokens; none while the bucket is paused or has less than one token."""
    row = (await conn.execute(_TAKE, {"name": name, "wanted": wanted})).first()
    if row is None:
        raise LookupError(f"no rate budget named {name!r}: create it first")
    granted, available, rate, paused, pause_left = row
    if granted >= 1:
        return RateGrant(int(granted), 0.0)
    if paused:
        return RateGrant(0, float(pause_left))
    return RateGrant(0, (1 - float(available)) / float(rate))


async def pause(conn: AsyncConnection, name: str, seconds: float) -> None:
    """Hold every process's requests on `name` for `seconds` (the shop answered 429 with Retry-After)."""
    await conn.execute(_PAUSE, {"name": name, "seconds": seconds})
