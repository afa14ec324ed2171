"""Several claimers on one queue: every key processed, none held twice at once, no lost change."""

from __future__ import annotations

import asyncio
import json
import random

from emporion.state import StateStore
from tests.fixtures.state import start_queue_worker

F, E = "flow", "item"


async def _drain(
    store: StateStore, worker: str, holders: dict[str, str], finished: list[tuple[str, str]]
) -> None:
    idle = 0
    while idle < 5:
        items = await store.claim(F, E, worker=worker, limit=7)
        if not items:
            idle += 1
            await asyncio.sleep(0.01)
            continue
        idle = 0
        for item in items:
            assert item.key not in holders, f"{item.key} held by {holders.get(item.key)} and {worker}"
            holders[item.key] = worker
        await asyncio.sleep(0)
        for item in items:
            del holders[item.key]
        await store.finish(items)
        finished.extend((i.key, i.reason) for i in items)


async def test_tasks_share_a_queue_without_double_claims_or_lost_changes(store: StateStore) -> None:
    keys = [f"K{i:04d}" for i in range(600)]
    await store.enqueue(F, E, keys, reason="v0")
    holders: dict[str, str] = {}
    finished: list[tuple[str, str]] = []
    last_version = dict.fromkeys(keys, 0)

    async def produce() -> None:
        rng = random.Random(7)
        for version in range(1, 6):
            chosen = rng.sample(keys, 80)
            for key in chosen:
                last_version[key] = version
            await store.enqueue(F, E, chosen, reason=f"v{version}")
            await asyncio.sleep(0.01)

    await asyncio.gather(produce(), *(_drain(store, f"w{n}", holders, finished) for n in range(6)))
    await asyncio.gather(*(_drain(store, f"w{n}", holders, finished) for n in range(2)))
    assert await store.queue_depth() == {}
    newest: dict[str, int] = {}
    for key, reason in finished:
        newest[key] = max(newest.get(key, -1), int(reason[1:]))
    assert newest == last_version  # the last change of every key was processed


async def test_two_processes_share_a_sqlite_file(sqlite_url: str) -> None:
    store = await StateStore.connect(sqlite_url)
    keys = [f"K{i:04d}" for i in range(3000)]
    try:
        await store.enqueue(F, E, keys)
        workers = [start_queue_worker(sqlite_url, f"p{n}", tasks=3) for n in range(2)]
        outputs = [await asyncio.to_thread(w.communicate, timeout=120) for w in workers]
        for worker, (_, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
            assert "locked" not in err
        done = [key for out, _ in outputs for key, _ in json.loads(out)]
        assert sorted(done) == keys  # each key exactly once
        assert all(json.loads(out) for out, _ in outputs)  # both processes did work
        assert await store.queue_depth() == {}
    finally:
        await store.close()
