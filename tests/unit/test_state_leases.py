"""Leases on singleton jobs: one holder at a time, renewal, release, takeover after expiry."""

from __future__ import annotations

import anyio

from emporion.engine.singletons import Singletons
from emporion.state import StateStore


async def test_one_holder_at_a_time_and_renewal(store: StateStore) -> None:
    assert await store.acquire_lease("feed:f", "a", 30)
    assert not await store.acquire_lease("feed:f", "b", 30)
    assert await store.acquire_lease("feed:f", "a", 30)  # a renewal
    assert await store.acquire_lease("feed:g", "b", 30)  # another job is free
    held = {(lease.name, lease.owner) for lease in await store.leases("feed:")}
    assert held == {("feed:f", "a"), ("feed:g", "b")}
    assert not await store.release_lease("feed:f", "b")  # not b's to give
    assert await store.release_lease("feed:f", "a")
    assert await store.acquire_lease("feed:f", "b", 30)


async def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew(store: StateStore) -> None:
    assert await store.acquire_lease("reconcile:o", "dead", 0.3)
    assert not await store.acquire_lease("reconcile:o", "alive", 30)
    await anyio.sleep(0.5)
    assert await store.leases("reconcile:") == []
    assert await store.acquire_lease("reconcile:o", "alive", 30)
    assert not await store.acquire_lease("reconcile:o", "dead", 30)
    [lease] = await store.leases()
    assert lease.owner == "alive" and lease.expires_at > lease.acquired_at


async def test_singletons_run_a_job_in_one_runner_and_hand_it_over(store: StateStore) -> None:
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    stops = {name: anyio.Event() for name in ("a", "b")}

    def job(name: str) -> object:
        async def run() -> None:
            running.append(name)
            if len(running) > 1:
                overlaps.append(tuple(running))
            try:
                await stops[name].wait()
            finally:
                running.remove(name)

        return run

    runners = {name: Singletons(store, name, lease_seconds=3) for name in ("a", "b")}
    async with anyio.create_task_group() as group:
        for name, runner in runners.items():
            group.start_soon(runner.run, "feed:x", job(name), stops[name])
        with anyio.fail_after(10):
            while not running:  # noqa: ASYNC110 - polling another runner's state
                await anyio.sleep(0.02)
        first = running[0]
        second = "b" if first == "a" else "a"
        await anyio.sleep(1.5)  # past a renewal: the other runner keeps waiting
        assert running == [first]
        stops[first].set()  # the holder stops and gives the lease back
        with anyio.fail_after(10):
            while running != [second]:  # noqa: ASYNC110 - polling another runner's state
                await anyio.sleep(0.02)
        [lease] = await store.leases("feed:")
        assert lease.owner == second
        stops[second].set()
    assert overlaps == []
    assert await store.leases() == []  # both gave their lease back


async def test_a_running_batch_keeps_its_claim_by_renewal(store: StateStore) -> None:
    await store.enqueue("f", "product", ["a", "b"])
    items = await store.claim("f", "product", worker="w1", limit=10, lease_seconds=0.3)
    assert len(items) == 2
    assert await store.extend_claims(items, "w1", 30) == 2
    assert await store.extend_claims(items, "w2", 30) == 0  # only the holder renews
    await anyio.sleep(0.5)
    assert await store.claim("f", "product", worker="w2", limit=10) == []  # still w1's
    await store.finish(items)
    assert await store.queue_depth() == {}
