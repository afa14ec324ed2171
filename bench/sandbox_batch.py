"""Benchmark: how many batch-updated products per second the WooCommerce sandbox absorbs.

Starts the sandbox as a separate process (`python -m emporion_devkit.sandbox.woocommerce`), creates the
catalogue through batch creates, then sends real HTTP `POST /products/batch` requests of 100 updates
each (price and stock changes) and prints one JSON object with the measured rates.

    .venv/bin/python bench/sandbox_batch.py [--products 2000] [--rounds 10] [--connections 2] [--model wc10]

Under the latency model (`--model wc10`) the rates are the modelled host's, divided by `--time-scale`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from emporion_devkit.erp.tryton_server import free_port

KEY, SECRET = "ck_bench", "cs_bench"


def start_sandbox(db: str, port: int, model: str = "none", time_scale: float = 1.0) -> subprocess.Popen[str]:
    """The sandbox in its own process (under a latency model unless `none`), waiting until it answers."""
    command = [sys.executable, "-m", "emporion_devkit.sandbox.woocommerce", "--port", str(port), "--db", db]
    command += ["--consumer-key", KEY, "--consumer-secret", SECRET]
    if model != "none":
        command += ["--latency", model, "--latency-time-scale", str(time_scale)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/wp-json/wc/v3", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start")


def client(port: int) -> httpx.Client:
    """A keep-alive client authenticating as behind a TLS proxy (Basic over X-Forwarded-Proto: https)."""
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}/wp-json/wc/v3",
        auth=(KEY, SECRET),
        headers={"X-Forwarded-Proto": "https"},
        timeout=60,
    )


def create_catalogue(port: int, count: int) -> tuple[list[int], float]:
    """Create `count` products in batches of 100; returns their ids and the seconds it took."""
    ids: list[int] = []
    started = time.perf_counter()
    with client(port) as http:
        for offset in range(0, count, 100):
            body = {
                "create": [
                    {"name": f"Bench {i}", "sku": f"BENCH-{i}", "regular_price": "10.00",
                     "manage_stock": True, "stock_quantity": 10}
                    for i in range(offset, min(offset + 100, count))
                ]
            }  # fmt: skip
            answer = http.post("/products/batch", json=body)
            answer.raise_for_status()
            ids += [item["id"] for item in answer.json()["create"]]
    return ids, time.perf_counter() - started


def update_round(port: int, chunks: list[list[int]], round_no: int, errors: list[str]) -> None:
    """Send one batch update request per chunk of 100 ids."""
    with client(port) as http:
        for chunk in chunks:
            body = {
                "update": [
                    {"id": product_id, "stock_quantity": (product_id + round_no) % 50,
                     "regular_price": f"{10 + round_no % 7}.{product_id % 100:02d}"}
                    for product_id in chunk
                ]
            }  # fmt: skip
            answer = http.post("/products/batch", json=body)
            if answer.status_code != 200 or any("error" in item for item in answer.json()["update"]):
                errors.append(answer.text[:200])


def main() -> None:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--memory", action="store_true", help="use an in-memory database instead of a file")
    parser.add_argument("--model", default="none", help="sandbox latency model: none or wc10")
    parser.add_argument("--time-scale", type=float, default=1.0, help="wall seconds per model second")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        db = ":memory:" if args.memory else str(Path(tmp) / "bench.sqlite")
        process = start_sandbox(db, port, args.model, args.time_scale)
        try:
            ids, create_seconds = create_catalogue(port, args.products)
            chunks = [ids[i : i + 100] for i in range(0, len(ids), 100)]
            errors: list[str] = []
            started = time.perf_counter()
            for round_no in range(args.rounds):
                share = [chunks[i :: args.connections] for i in range(args.connections)]
                threads = [
                    threading.Thread(target=update_round, args=(port, part, round_no, errors))
                    for part in share
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            seconds = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=10)
    updated = len(ids) * args.rounds
    report = {
        "benchmark": "sandbox_batch",
        "database": "memory" if args.memory else "file",
        "cpus": os.cpu_count(),
        "products": len(ids),
        "batch_size": 100,
        "connections": args.connections,
        "model": args.model,
        "time_scale": args.time_scale,
        "create_products_per_second": round(len(ids) / create_seconds, 1),
        "updated_products": updated,
        "update_seconds": round(seconds, 3),
        "update_products_per_second": round(updated / seconds, 1),
        "update_requests_per_second": round(updated / 100 / seconds, 2),
        "errors": len(errors),
        "target_products_per_second": 2000,
        "meets_target": updated / seconds >= 2000 and not errors,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
