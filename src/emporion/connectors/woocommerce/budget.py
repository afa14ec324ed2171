"""A rate budget for one connection: a token bucket for requests per second plus a concurrency cap.

The server's own 429 `Retry-After` pauses the whole budget, so that every request sharing the
connection waits instead of only the one that was refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


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
