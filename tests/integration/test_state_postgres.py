"""Several OS processes claiming from one PostgreSQL queue while changes keep arriving.

Each worker inserts the keys it holds into an `inflight` table with a primary key: two workers
holding one key at once would fail there. Each enqueue carries a version in its reason; the newest
version of every key must have been processed in the end (a change made while the key was leased
is not lost).
"""

from __future__ import annotations

import asyncio
import json
import random

import psycopg
import pytest
from sqlalchemy.engine import make_url

from emporion.state import StateStore
from tests.fixtures.state import start_queue_worker

pytestmark = pytest.mark.postgres

F, E = "flow", "item"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_processes_share_the_queue_without_double_claims_or_lost_changes(pg_url: str) -> None:
    store = await StateStore.connect(pg_url)
    with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE inflight (key text PRIMARY KEY)")
    keys = [f"K{i:05d}" for i in range(3000)]
    last_version = dict.fromkeys(keys, 0)
    try:
        await store.enqueue(F, E, keys, reason="v0")
        workers = [start_queue_worker(pg_url, f"p{n}", tasks=3, inflight_url=pg_url) for n in range(4)]
        rng = random.Random(11)
        for version in range(1, 21):  # changes keep coming while the workers drain the queue
            chosen = rng.sample(keys, 150)
            for key in chosen:
                last_version[key] = version
            await store.enqueue(F, E, chosen, reason=f"v{version}")
            await asyncio.sleep(0.05)
        outputs = [await asyncio.to_thread(w.communicate, timeout=180) for w in workers]
        for worker, (_, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
        finished = [(key, reason) for out, _ in outputs for key, reason in json.loads(out)]
        newest: dict[str, int] = {}
        for key, reason in finished:
            newest[key] = max(newest.get(key, -1), int(reason[1:]))
        assert newest == last_version
        assert sum(1 for out, _ in outputs if json.loads(out)) == 4  # every process took part
        assert await store.queue_depth() == {}
    finally:
        await store.close()


async def test_expired_lease_is_taken_over_by_another_process(pg_url: str) -> None:
    store = await StateStore.connect(pg_url)
    try:
        await store.enqueue(F, E, [f"K{i}" for i in range(50)])
        crashed = await store.claim(F, E, worker="crashed", limit=50, lease_seconds=0.5)
        assert len(crashed) == 50
        await asyncio.sleep(0.6)
        worker = start_queue_worker(pg_url, "survivor", tasks=2)
        out, err = await asyncio.to_thread(worker.communicate, timeout=60)
        assert worker.returncode == 0, err
        assert sorted(key for key, _ in json.loads(out)) == sorted(i.key for i in crashed)
        assert await store.queue_depth() == {}
    finally:
        await store.close()


async def test_concurrent_enqueue_of_overlapping_keys_does_not_deadlock(pg_url: str) -> None:
    store = await StateStore.connect(pg_url)
    keys = [f"K{i:04d}" for i in range(400)]
    try:

        async def producer(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(15):
                await store.enqueue(F, E, rng.sample(keys, 120), cursor=str(seed))

        await asyncio.gather(*(producer(seed) for seed in range(6)))
        assert await store.queue_depth() == {(F, E): 400}
        assert await store.get_cursor(F, E) in {str(seed) for seed in range(6)}
    finally:
        await store.close()


async def test_store_survives_its_connections_being_killed(pg_url: str) -> None:
    store = await StateStore.connect(pg_url)
    try:
        await store.enqueue(F, E, ["a"])
        database = make_url(pg_url).database
        with psycopg.connect(_libpq(pg_url), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        assert await store.enqueue(F, E, ["b"]) == 1  # the dead pooled connection is replaced
        assert await store.queue_depth() == {(F, E): 2}
    finally:
        await store.close()
