"""Scale-out: items/s of 1, 2 and 4 `emporion worker` processes on PostgreSQL against a 50 ms shop.

    .venv/bin/python bench/scenarios/scale.py [--size N] [--json]

The shop is the WooCommerce sandbox in its own process, every answer held 50 ms (fault `latency`), so
a worker spends its time waiting, as against a real shop far away. The source is synthetic: the ERP
connection of each worker is replaced by an in-memory source of canonical products, so that neither an
ERP nor this machine's two cores set the pace. For each worker count, the workers are started and
idle, then `size` new products are queued at once; the figure is size / seconds until the queue is
empty (every product created in the shop and linked). Target: 4 workers >= 3x one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from emporion_devkit.erp.tryton_server import free_port

DEFAULT_SIZE = 400
WORKER_COUNTS = (1, 2, 4)
LATENCY = 0.05
BATCH = 5  # items claimed per batch: small, so that each worker waits on the shop (latency-bound)
FLOW = "catalogue"
KEY, SECRET = "ck_scale_bench", "cs_scale_bench"
ROOT = Path(__file__).resolve().parents[2]


# -- the synthetic source, installed in each worker process -------------------------------------------


class SyntheticSource:
    """A source connector that answers every read at once with made-up canonical products."""

    def __init__(self, name: str) -> None:
        self.name = name

    def capabilities(self) -> Any:
        """Reads products; its change feed never has news (the benchmark queues the work itself)."""
        from emporion.connectors.base import Capabilities

        return Capabilities(reads=frozenset({"product"}), writes=frozenset(), natural_keys={"product": "sku"})

    async def check(self) -> list[Any]:
        """Nothing to check."""
        return []

    async def changes(self, entity: str, cursor: str | None) -> Any:
        """No changes, the cursor stays."""
        from emporion.connectors.base import ChangeBatch

        return ChangeBatch([], cursor or "0")

    async def read(self, entity: str, keys: list[str]) -> list[Any]:
        """One product per key, with a price and stock."""
        from emporion.model import Product
        from emporion.model.catalogue import StockLevel

        return [
            Product(
                key=key,
                sku=f"SCALE-{key}",
                name=f"Scale product {key}",
                list_price=Decimal("19.90"),
                stock=[StockLevel(warehouse="WH", quantity=Decimal(7))],
            )
            for key in keys
        ]

    async def scan(self, entity: str) -> AsyncIterator[list[Any]]:
        """Nothing to scan (the flow's cursor is set, so no initial sync asks)."""
        for _ in ():
            yield []

    async def close(self) -> None:
        """Nothing to close."""


def worker_main(config: str) -> None:
    """Run `emporion worker -c CONFIG` with the ERP connection served by the synthetic source."""
    from emporion.connectors import registry

    original = registry.build

    def build(name: str, settings: Any) -> Any:
        return SyntheticSource(name) if name == "erp" else original(name, settings)

    registry.build = build
    from emporion.cli import app

    app(["worker", "-c", config])


# -- the run ------------------------------------------------------------------------------------------


def _pg_admin_url() -> str:
    """A PostgreSQL server (EMPORION_TEST_PG_URL, else scripts/postgres.sh starts one and says where)."""
    url = os.environ.get("EMPORION_BENCH_PG_URL") or os.environ.get("EMPORION_TEST_PG_URL")
    if url:
        return url
    script = ROOT / "scripts/postgres.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def _start_sandbox(directory: Path, latency: float) -> tuple[subprocess.Popen[bytes], str]:
    """The sandbox in its own process, every answer held `latency` seconds."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "emporion_devkit.sandbox.woocommerce", "--port", str(port)]
    command += ["--db", str(directory / "shop.sqlite"), "--consumer-key", KEY, "--consumer-secret", SECRET]
    log = (directory / "sandbox.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/wp-json/wc/v3", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the sandbox did not start") from None
            time.sleep(0.1)
    answer = httpx.post(
        f"{url}/__sandbox/faults",
        json={"latency": latency},
        auth=(KEY, SECRET),
        headers={"X-Forwarded-Proto": "https"},
    )
    answer.raise_for_status()
    return process, url


def _sandbox_traffic(url: str) -> dict[str, Any]:
    import httpx

    answer = httpx.get(
        f"{url}/__sandbox/traffic", auth=(KEY, SECRET), headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    answer.raise_for_status()
    return dict(answer.json())


def _write_config(directory: Path, state_url: str, shop_url: str) -> Path:
    config = directory / "emporion.yaml"
    config.write_text(
        f"""
state: {{url: "{state_url}"}}
logging: {{format: json, level: warning}}
connections:
  erp: {{type: tryton, url: "http://127.0.0.1:9", database: synthetic, username: bench, password: bench}}
  shop: {{type: woocommerce, url: "{shop_url}", consumer_key: {KEY}, consumer_secret: {SECRET}}}
flows:
  - name: {FLOW}
    source: erp
    target: shop
    entities: [product]
    batch_size: {BATCH}
    poll_interval: 3600
"""
    )
    return config


def _start_workers(config: Path, count: int, directory: Path) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes, returned once each has said it started."""
    processes, logs = [], []
    for index in range(count):
        log = directory / f"worker-{count}-{index}.log"
        logs.append(log)
        with log.open("wb") as out:
            command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(config)]
            processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    while not all("started" in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            _stop(processes)
            tails = "\n".join(log.read_text()[-2000:] for log in logs)
            raise RuntimeError(f"workers did not start:\n{tails}")
        time.sleep(0.1)
    return processes


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def _round(store: Any, config: Path, count: int, size: int, directory: Path) -> dict[str, Any]:
    """Queue `size` new products for `count` idle workers; time until all are done."""
    workers = _start_workers(config, count, directory)
    try:
        await asyncio.sleep(1.0)  # past the first idle poll of every worker
        keys = [f"w{count}-{index:06d}" for index in range(size)]
        links_before = await store.count_links(FLOW, "product")
        started = time.perf_counter()
        await store.enqueue(FLOW, "product", keys, reason="bench")
        while (await store.queue_depth(FLOW)).get((FLOW, "product"), 0):  # noqa: ASYNC110 - polling
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        done = await store.count_links(FLOW, "product") - links_before
    finally:
        _stop(workers)
    return {"items": done, "seconds": round(seconds, 3), "items_per_second": round(done / seconds, 1)}


async def _run(size: int, directory: Path, latency: float) -> dict[str, Any]:
    import psycopg
    from sqlalchemy.engine import make_url

    from emporion.state import StateStore

    admin = make_url(_pg_admin_url())
    name = f"emporion_bench_scale_{secrets.token_hex(4)}"
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    state_url = admin.set(database=name).render_as_string(hide_password=False)
    sandbox, shop_url = _start_sandbox(directory, latency)
    try:
        config = _write_config(directory, state_url, shop_url)
        await StateStore.migrate(state_url)
        store = await StateStore.connect(state_url, migrate=False)
        try:
            await store.enqueue(FLOW, "product", [], cursor="0")  # the flow has started: no initial sync
            rounds = {}
            for count in WORKER_COUNTS:
                rounds[str(count)] = await _round(store, config, count, size, directory)
        finally:
            await store.close()
        traffic = _sandbox_traffic(shop_url)
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=20)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = rounds["4"]["items_per_second"] / rounds["1"]["items_per_second"]
    total_items = sum(r["items"] for r in rounds.values())
    return {
        "scenario": "scale",
        "size": size,
        "latency_ms": round(latency * 1000),
        "batch_size": BATCH,
        "workers": rounds,
        "ratio_4_vs_1": round(ratio, 2),
        "ratio_2_vs_1": round(rounds["2"]["items_per_second"] / rounds["1"]["items_per_second"], 2),
        "shop_requests_per_item": round(traffic["requests"] / max(1, total_items), 2),
        "overlapping_writes": len(traffic["overlaps"]),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 1),  # other work on the machine shares its cores
        "targets": {"scale_4_vs_1": {"value": round(ratio, 2), "target": 3.0, "met": ratio >= 3.0}},
    }


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """1, 2 and 4 workers on PostgreSQL against a 50 ms sandbox: items/s each and the 4-vs-1 ratio."""
    latency = float(options.get("latency_ms", LATENCY * 1000)) / 1000
    with tempfile.TemporaryDirectory(prefix="emporion-bench-scale-") as directory:
        return asyncio.run(_run(size, Path(directory), latency))


def main() -> None:
    """Command line: the figures as a table, or as JSON with --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="products queued per worker count")
    parser.add_argument("--latency-ms", type=float, default=LATENCY * 1000, help="shop delay per answer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--worker", metavar="CONFIG", help=argparse.SUPPRESS)  # a worker process of the run
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    result = run(args.size, {"latency_ms": args.latency_ms})
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for count, figures in result["workers"].items():
        rate, items, seconds = figures["items_per_second"], figures["items"], figures["seconds"]
        print(f"{count} worker(s): {rate:8.1f} items/s ({items} in {seconds} s)")
    target = result["targets"]["scale_4_vs_1"]
    verdict = "met" if target["met"] else "NOT met"
    print(f"4 vs 1: {result['ratio_4_vs_1']}x (target >= {target['target']}x: {verdict})")


if __name__ == "__main__":
    main()
