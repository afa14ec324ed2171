"""The rate budget caps concurrency and request starts per second, and honours a server pause."""

from __future__ import annotations

import asyncio
import time

import pytest

from emporion.connectors.budget import RateBudget


async def test_concurrency_never_exceeds_the_cap() -> None:
    budget = RateBudget(max_concurrency=3)
    in_flight = 0
    peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with budget.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(20)))
    assert peak == 3


async def test_requests_per_second_are_spread_out() -> None:
    budget = RateBudget(max_rps=20, max_concurrency=10)
    starts: list[float] = []

    async def request() -> None:
        async with budget.slot():
            starts.append(time.monotonic())

    await asyncio.gather(*(request() for _ in range(30)))
    # A full bucket allows a burst of 20; the 10 after it need at least 10 / 20 s.
    assert starts[-1] - starts[0] >= 0.45


async def test_pause_holds_new_requests() -> None:
    budget = RateBudget()
    budget.pause(0.2)
    assert budget.paused_for > 0.1
    began = time.monotonic()
    async with budget.slot():
        waited = time.monotonic() - began
    assert waited >= 0.18


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_rps"):
        RateBudget(max_rps=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        RateBudget(max_concurrency=0)
