"""The shared rate budget in PostgreSQL: several takers together stay within the rate; a pause holds all."""

from __future__ import annotations

import time

import anyio

from emporion.engine.budgets import StoreRateBudget
from emporion.state import StateStore


async def test_takers_share_one_rate(pg_url: str) -> None:
    stores = [await StateStore.connect(pg_url) for _ in range(3)]
    try:
        budgets = [StoreRateBudget(store, "shop", rate=50) for store in stores]
        granted = [0, 0, 0]
        start = time.monotonic()

        async def take(index: int) -> None:
            while time.monotonic() - start < 2.0:
                tokens, wait = await budgets[index].take(5)
                granted[index] += tokens
                if not tokens:
                    await anyio.sleep(wait)

        async with anyio.create_task_group() as group:
            for index in range(3):
                group.start_soon(take, index)
        elapsed = time.monotonic() - start
        total = sum(granted)
        assert total <= 50 * elapsed + budgets[0].capacity + 5  # the rate, the burst, one block in flight
        assert total >= 50 * 2.0 * 0.4  # and the budget is used, not starved (loose: CI machines are busy)
        assert all(granted)  # every taker got its share
    finally:
        for store in stores:
            await store.close()


async def test_a_pause_holds_every_taker(pg_url: str) -> None:
    one, other = await StateStore.connect(pg_url), await StateStore.connect(pg_url)
    try:
        first, second = StoreRateBudget(one, "shop", rate=None), StoreRateBudget(other, "shop", rate=None)
        assert await second.take(10) == (10, 0.0)  # no rate: everything, pauses only
        await first.pause(1.0)
        tokens, wait = await second.take(10)
        assert tokens == 0 and 0.5 < wait <= 1.0
        await anyio.sleep(wait + 0.05)
        assert (await second.take(3))[0] == 3
    finally:
        await one.close()
        await other.close()


async def test_a_429_in_one_process_holds_the_requests_of_another(pg_url: str) -> None:
    from emporion.connectors.budget import RateBudget

    one, other = await StateStore.connect(pg_url), await StateStore.connect(pg_url)
    try:
        refused, waiting = RateBudget(max_rps=100), RateBudget(max_rps=100)
        refused.share(StoreRateBudget(one, "shop", rate=100))
        waiting.share(StoreRateBudget(other, "shop", rate=100))
        async with waiting.slot():  # takes a block of tokens
            pass
        await anyio.sleep(1.1)  # the block's unused tokens expire
        await refused.hold(0.8)  # the shop answered 429, Retry-After: 0.8
        started = time.monotonic()
        async with waiting.slot():
            pass
        assert time.monotonic() - started >= 0.6
    finally:
        await one.close()
        await other.close()
