"""The write pace of one shop: batches in flight, items per batch and read timeouts, from measured time.

A shop whose few PHP workers share a fixed CPU gains no throughput from parallel batches once its
CPU is busy: each batch only takes longer, until a fixed read timeout fires while the shop is still
writing. So the pace starts with few batches in flight, adds one while the time per item stays near
the best seen (AIMD: additive increase, multiplicative decrease), cuts back when it does not and
halves on a timeout, a 429 or a 5xx; it sizes each batch to take about `batch_seconds`, and gives
each batch a read timeout that is a generous multiple of the time it should take.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

# The shop's work per item relative to a create (WooCommerce 10: create ≈ 53 ms, update ≈ 28 ms).
ITEM_WEIGHT = {"create": 1.0, "update": 0.55, "delete": 0.5}
SMOOTHING = 0.3  # weight of the newest measurement in the running time per item
TOLERANCE = 2.0  # latency "holds" while the time per item stays within this multiple of the best
QUICK_BATCH = 0.05  # seconds: a batch this fast says nothing about load (the shop is idle)
DECREASE = 0.7  # factor on the limit when latency no longer holds
BACK_OFF = 0.5  # factor on the limit after a timeout, a 429 or a 5xx
TIMEOUT_FACTOR = 5.0  # a batch's read timeout: this many times its expected time, at least the floor
BEST_DRIFT = 1.005  # the best time per item forgets a little with each batch (shops change)
MIN_SPLIT = 10  # items: a smaller batch mostly pays the shop's per-request cost


def weight_of(ops: Iterable[str]) -> float:
    """The shop's work for these batch items, in creates."""
    return sum(ITEM_WEIGHT.get(op, 1.0) for op in ops)


@dataclass
class PaceSettings:
    """The bounds of the pace: ceiling and start of concurrency, batch size and time, timeout floor."""

    ceiling: int = 4
    start: int = 1
    max_batch: int = 100
    batch_seconds: float = 4.0
    timeout_floor: float = 30.0

    def __post_init__(self) -> None:
        if self.ceiling < 1 or self.max_batch < 1 or self.batch_seconds <= 0 or self.timeout_floor <= 0:
            raise ValueError("pace settings must be positive")
        self.start = max(1, min(self.start, self.ceiling))


@dataclass
class _Kind:
    """What was measured for one kind of batch (products, a product's variations, categories)."""

    per_item: float | None = None  # seconds per create-equivalent, smoothed
    best: float | None = None
    batches: int = 0
    calibrated: bool = False  # measured once at the starting load: its best is the shop unloaded


@dataclass
class WritePace:
    """Adaptive concurrency, batch size and timeout for the batch writes of one connection."""

    settings: PaceSettings = field(default_factory=PaceSettings)
    limit: float = 0.0
    in_flight: int = 0
    grown: int = 0  # increases so far (for tests and metrics)
    shrunk: int = 0  # decreases so far
    loads: Counter[int] = field(default_factory=Counter)  # batches sent, by batches in flight with them
    _kinds: dict[str, _Kind] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None

    def __post_init__(self) -> None:
        self.limit = float(self.settings.start)

    @property
    def concurrency(self) -> int:
        """Batches allowed in flight now."""
        return max(1, min(self.settings.ceiling, math.floor(self.limit)))

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Wait until fewer batches than the current concurrency are in flight, then hold one; gives the
        batches in flight with it (the load its time is measured under)."""
        changed = self._condition()
        async with changed:
            await changed.wait_for(lambda: self.in_flight < self.concurrency)
            self.in_flight += 1
            load = self.in_flight
            self.loads[load] += 1
        try:
            yield load
        finally:
            async with changed:
                self.in_flight -= 1
                changed.notify_all()

    def per_item(self, kind: str) -> float | None:
        """Measured seconds per created item for a kind of batch, or None before the first answer."""
        return self._kinds.get(kind, _Kind()).per_item

    def batch_size(self, kind: str, weight_per_item: float = 1.0) -> int:
        """Items for the next batch: about `batch_seconds` of the shop's time, never above the maximum."""
        per_item = self.per_item(kind)
        if per_item is None or per_item <= 0:
            return self.settings.max_batch
        size = int(self.settings.batch_seconds / (per_item * max(weight_per_item, 0.1)))
        return max(min(MIN_SPLIT, self.settings.max_batch), min(self.settings.max_batch, size))

    def expected(self, kind: str, weight: float) -> float | None:
        """Seconds a batch of this weight should take at today's pace, or None before any answer."""
        per_item = self.per_item(kind)
        return None if per_item is None else per_item * weight

    def timeout(self, kind: str, weight: float) -> float:
        """The read timeout of a batch: a generous multiple of its expected time, never below the floor."""
        expected = self.expected(kind, weight)
        floor = self.settings.timeout_floor
        return floor if expected is None else max(floor, TIMEOUT_FACTOR * expected)

    def settle_seconds(self, kind: str, weight: float) -> float:
        """How long to let the shop finish a batch whose answer was lost before looking at the result."""
        expected = self.expected(kind, weight)
        return min(60.0, max(1.0, expected if expected is not None else 1.0))

    def record(self, kind: str, weight: float, seconds: float, load: int | None = None) -> None:
        """A batch of `weight` creates' work was answered in `seconds` with `load` batches in flight:
        learn, and grow or cut back. Only a batch that ran at the current concurrency (or above it)
        moves it, so that batches answered together count once and a cut is not repeated."""
        if weight <= 0:
            return
        stats = self._kinds.setdefault(kind, _Kind())
        measured = max(seconds, 1e-6) / weight
        stats.per_item = (
            measured if stats.per_item is None else SMOOTHING * measured + (1 - SMOOTHING) * stats.per_item
        )
        stats.best = measured if stats.best is None else min(measured, stats.best * BEST_DRIFT)
        stats.batches += 1
        stats.calibrated = stats.calibrated or load is None or load <= self.settings.start
        if not stats.calibrated or (load is not None and load < self.concurrency):
            return  # first seen under load, its best says nothing about an unloaded shop
        if seconds <= QUICK_BATCH or measured <= TOLERANCE * stats.best:
            if self.limit < self.settings.ceiling:
                self.limit = min(float(self.settings.ceiling), self.limit + 1.0)
                self.grown += 1  # waiters see it when this batch's slot is released
        else:
            self._cut(DECREASE)

    def back_off(self) -> None:
        """The shop timed out, refused with 429 or failed with a 5xx: halve the batches in flight."""
        self._cut(BACK_OFF)

    def _cut(self, factor: float) -> None:
        if self.limit > 1.0:
            self.limit = max(1.0, self.limit * factor)
            self.shrunk += 1
