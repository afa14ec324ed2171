"""A rate budget for one connection: a token bucket for requests per second plus a concurrency cap.

The server's own 429 `Retry-After` pauses the whole budget, so that every request sharing the
connection waits instead of only the one that was refused. With a shared budget (several processes,
see `share`) the tokens come from it in small blocks instead of from this process's bucket, and a
pause reaches every process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from emporion.connectors.base import SharedRateBudget

log = logging.getLogger("emporion.budget")
GRANT_SECONDS = 1.0  # tokens taken from a shared budget and not used within this expire
MAX_BLOCK = 10


class RateBudget:
    """Allows at most `max_rps` request starts per second and `max_concurrency` requests in flight."""

    def __init__(self, max_rps: float | None = None, max_concurrency: int = 4) -> None:
        if max_rps is not None and max_rps <= 0:
            raise ValueError("max_rps must be positive or None")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_rps = max_rps
        self.max_concurrency = max_concurrency
        self._capacity = max(1.0, max_rps or 1.0)
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._shared: SharedRateBudget | None = None
        self._granted = 0
        self._granted_at = 0.0

    def share(self, shared: SharedRateBudget | None) -> None:
        """Take tokens from `shared` (the budget of every process on this connection) from now on."""
        self._shared = shared
        self._granted = 0

    @property
    def block(self) -> int:
        """Tokens asked of a shared budget at a time: a tenth of a second's worth, 1 to 10."""
        if self.max_rps is None:
            return MAX_BLOCK
        return max(1, min(MAX_BLOCK, int(self.max_rps / 10)))

    async def hold(self, seconds: float) -> None:
        """Pause this budget and the shared one: the server refused a request with Retry-After."""
        self.pause(seconds)
        if self._shared is not None:
            try:
                await self._shared.pause(seconds)
            except Exception as error:  # the local pause still holds this process
                log.warning("shared rate budget not reachable for a pause: %s", error)

    def pause(self, seconds: float) -> None:
        """Hold every new request for `seconds` (the server asked us to wait)."""
        self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))

    @property
    def paused_for(self) -> float:
        """Seconds left before requests may start again after a pause."""
        return max(0.0, self._paused_until - time.monotonic())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a concurrency slot and a token, then let one request run."""
        async with self._slots:
            await self._take_token()
            yield

    async def _take_token(self) -> None:
        async with self._lock:
            while (wait := self.paused_for) > 0:  # noqa: ASYNC110 - the deadline can move while waiting
                await asyncio.sleep(wait)
            if self._shared is not None and await self._take_shared(self._shared):
                return
            if self.max_rps is None:
                return
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.max_rps)
            self._updated = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.max_rps)
                self._tokens = 1.0
                self._updated = time.monotonic()
            self._tokens -= 1

    async def _take_shared(self, shared: SharedRateBudget) -> bool:
        """One token from the shared budget (a block at a time); False when it is unreachable."""
        if self._granted > 0 and time.monotonic() - self._granted_at <= GRANT_SECONDS:
            self._granted -= 1
            return True
        while True:
            try:
                granted, wait = await shared.take(self.block)
            except Exception as error:  # fall back to this process's own bucket meanwhile
                log.warning("shared rate budget not reachable, using the local one: %s", error)
                return False
            if granted > 0:
                self._granted, self._granted_at = granted - 1, time.monotonic()
                return True
            await asyncio.sleep(min(max(wait, 0.005), 5.0))
