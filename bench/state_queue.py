"""Benchmark of the state store's work queue: enqueue, claim and finish 100,000 keys in batches of 100.

Prints JSON: per dialect and phase, wall time and this process's CPU time, in total and per key.
The queue is filled first (so claims run against a large queue), then drained; `finish` also writes
one link and one journal line per key, as a worker does. PostgreSQL server CPU is not counted.

    .venv/bin/python bench/state_queue.py [--keys 100000] [--batch 100] [--pg postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from emporion.state import JournalEntry, Link, StateStore

FLOW, ENTITY = "bench", "product"


async def _timed(phase: Callable[[], Awaitable[None]], keys: int) -> dict[str, float]:
    """Run one phase; wall and CPU seconds, and microseconds per key."""
    wall, cpu = time.perf_counter(), time.process_time()
    await phase()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "wall_us_per_key": round(wall / keys * 1e6, 1),
        "cpu_us_per_key": round(cpu / keys * 1e6, 1),
    }


async def run(url: str, keys: int, batch: int) -> dict[str, Any]:
    """Fill then drain the queue on the database at `url`."""
    store = await StateStore.connect(url, migrate=True)
    names = [f"SKU-{i:07d}" for i in range(keys)]

    async def fill() -> None:
        for start in range(0, keys, batch):
            await store.enqueue(FLOW, ENTITY, names[start : start + batch], cursor=str(start))

    async def drain() -> None:
        while items := await store.claim(FLOW, ENTITY, worker="bench", limit=batch):
            links = [Link(FLOW, ENTITY, i.key, {"id": i.id}, i.key, "f" * 32) for i in items]
            journal = [JournalEntry(FLOW, ENTITY, i.key, "created", "bench", None, "f" * 32) for i in items]
            await store.finish(items, links=links, journal=journal)

    try:
        result = {"enqueue": await _timed(fill, keys), "claim_finish": await _timed(drain, keys)}
        assert await store.queue_depth(FLOW) == {}, "queue not drained"
        assert await store.count_links(FLOW, ENTITY) == keys
        total_wall = result["enqueue"]["wall_s"] + result["claim_finish"]["wall_s"]
        total_cpu = result["enqueue"]["cpu_s"] + result["claim_finish"]["cpu_s"]
        result["total"] = {
            "wall_s": round(total_wall, 3),
            "cpu_s": round(total_cpu, 3),
            "wall_us_per_key": round(total_wall / keys * 1e6, 1),
            "cpu_us_per_key": round(total_cpu / keys * 1e6, 1),
        }
        return result
    finally:
        await store.close()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def main() -> None:
    """Run on SQLite (a temporary file) and PostgreSQL (a temporary database)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--pg",
        default=os.environ.get("EMPORION_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"keys": args.keys, "batch": args.batch, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        report["sqlite"] = await run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.keys, args.batch)
    name = f"emporion_bench_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(args.pg), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        pg = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        report["postgresql"] = await run(pg, args.keys, args.batch)
    finally:
        with psycopg.connect(_libpq(args.pg), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
