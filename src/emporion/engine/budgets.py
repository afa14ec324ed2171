"""Rate budgets shared by every process of a fleet: a token bucket per shop connection in PostgreSQL.

The engine hands each rate-limited connector (`roles.RateLimitedConnection`) a `StoreRateBudget`; the
connector only sees the `SharedRateBudget` interface, never the state database.
"""

from __future__ import annotations

from emporion.connectors.roles import RateLimitedConnection
from emporion.engine.connections import ConnectorPool
from emporion.logs import get_logger
from emporion.state import StateStore

log = get_logger("emporion.budget")
BURST_SECONDS = 0.2  # the bucket holds at most this many seconds' worth of tokens


class StoreRateBudget:
    """The token bucket of one connection, kept in the state database and refilled at `rate` per second."""

    def __init__(self, store: StateStore, name: str, rate: float | None) -> None:
        self.store = store
        self.name = name
        self.rate = rate
        self.capacity = 10.0 if rate is None else max(1.0, rate * BURST_SECONDS)
        self._ready = False

    async def take(self, wanted: int) -> tuple[int, float]:
        """Up to `wanted` tokens now, or (0, seconds to wait)."""
        if not self._ready:
            await self.store.ensure_rate_budget(self.name, self.rate, self.capacity)
            self._ready = True
        grant = await self.store.take_rate_tokens(self.name, wanted)
        return grant.granted, grant.wait

    async def pause(self, seconds: float) -> None:
        """Hold every process's requests on this connection for `seconds`."""
        if not self._ready:
            await self.store.ensure_rate_budget(self.name, self.rate, self.capacity)
            self._ready = True
        await self.store.pause_rate_budget(self.name, seconds)


def share_rate_budgets(pool: ConnectorPool, store: StateStore, names: set[str]) -> list[str]:
    """Give the connectors of `names` that take one a budget shared through PostgreSQL; the names shared.

    On SQLite nothing is shared: one engine process runs per SQLite file, its own budget suffices.
    """
    if store.dialect != "postgresql":
        return []
    shared = []
    for name in sorted(names):
        connector = pool.get(name)
        if isinstance(connector, RateLimitedConnection):
            connector.share_budget(StoreRateBudget(store, name, connector.requests_per_second()))
            shared.append(name)
    return shared
