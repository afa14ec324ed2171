"""Webhook order intake at R orders/s into a real Tryton: orders/s, latency, duplicates, emporion's share."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx

from bench.support.catalogue import initial_sync
from bench.support.engine import bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import Meter, peak_rss_mb, percentile, process_cpu_seconds, target
from bench.support.sandbox import SandboxProcess, free_port, sandbox_process
from bench.support.tryton import BenchTryton, bench_tryton, keep_tryton_up
from bench.support.workdir import scratch
from emporion import runtime
from emporion.connectors.base import Outcome, Retryable
from emporion.model import status_name
from emporion.server.secrets import WebhookSecrets

DEFAULT_SIZE = 100  # orders placed
CATALOGUE = 60  # products in the Tryton catalogue (the test suite's cached template)
GRACE_S = 180.0  # how long the last orders may take to become sales
PREFIX = "WEB-"
ORDER_FLOW = """
  - name: orders
    source: shop
    target: erp
    entities: [order]
    poll_interval: 5
    orders:
      reference_prefix: WEB-
      warehouse: WH
      carriers: {"*": DHL}
      payment_methods: {stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}
      shortage: hold
"""


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Sync the catalogue, then shoppers place `size` orders at `rate` per second, sent by webhook."""
    rate = float(options.get("rate", 2.0))
    catalogue = int(options.get("catalogue", CATALOGUE))
    os.environ["BENCH_WEBHOOK_SECRET"] = secrets.token_hex(16)
    with scratch("orders") as folder, sandbox_process(folder / "shop.sqlite") as shop:
        with bench_tryton(catalogue, folder / "tryton") as erp:
            settings = catalogue_settings(
                shop,
                sqlite_url(folder / "state.db"),
                erp=erp.login(),
                extra_flows=ORDER_FLOW,
                shop_options="    webhooks: true\n    webhook_secret: env:BENCH_WEBHOOK_SECRET\n",
                server_port=free_port(),
            )
            result = anyio.run(_measure, settings, shop, erp, folder, size, rate)
            result["tryton_prepare_s"] = erp.prepare_seconds
    result.update({"size": size, "rate": rate, "catalogue": catalogue})
    share = result["emporion_cpu_share"]  # None when Tryton had to be restarted
    result["targets"] = {
        "duplicates": target(result["duplicates"], 0, result["duplicates"] == 0),
        "all_taken": target(result["not_taken"], 0, result["not_taken"] == 0),
        "emporion_share": target(share, "< 0.5", share is not None and share < 0.5),
    }
    return result


async def _measure(
    settings: Any, shop: SandboxProcess, erp: BenchTryton, folder: Path, size: int, rate: float
) -> dict[str, Any]:
    """Initial sync, then the engine and its server run while shoppers place orders."""
    async with bench_engine(settings) as engine:
        await initial_sync(engine)
        order_flow = engine.order_flows["orders"]
        taken: dict[str, float] = {}
        in_erp = [0.0]
        write_sales = order_flow.target.write_sales  # type: ignore[attr-defined]

        async def timed(items: Any, options: Any) -> list[Outcome]:
            """The sale writes, noting when each order became a sale."""
            began = time.perf_counter()
            outcomes = await write_sales(items, options)
            in_erp[0] += time.perf_counter() - began
            now = time.time()
            for outcome in outcomes:
                if outcome.ok:
                    taken.setdefault(outcome.key, now)
            return outcomes

        order_flow.target.write_sales = timed  # type: ignore[attr-defined]
        stop = anyio.Event()
        placed: dict[str, float] = {}
        statuses = set(order_flow.flow.orders.import_statuses)
        tryton_pid = erp.server._process.pid  # type: ignore[union-attr]
        tryton_cpu, shop_cpu = process_cpu_seconds(tryton_pid), shop.cpu_seconds()
        crashes: list[dict[str, Any]] = []
        meter = Meter().start()
        async with anyio.create_task_group() as group:
            hooks = WebhookSecrets(settings)
            group.start_soon(partial(runtime.run, engine, stop=stop, serve=True, secrets=hooks))
            group.start_soon(keep_tryton_up, erp, crashes, stop)
            await anyio.sleep(3.0)  # the server is up and the webhooks are registered
            await _place(shop, size, rate, statuses, placed)
            deadline = time.monotonic() + GRACE_S
            while time.monotonic() < deadline and not set(placed) <= set(taken):  # noqa: ASYNC110
                await anyio.sleep(0.2)
            meter.stop()
            stop.set()
        latencies = [taken[key] - at for key, at in placed.items() if key in taken]
        references = await _sale_references(erp)
        counts = Counter(references)
        last = max((taken[key] for key in placed if key in taken), default=time.time())
        first = min(placed.values(), default=last)
        # a restarted Tryton's CPU time cannot be added up with the first process's
        tryton_cpu = None if crashes else process_cpu_seconds(tryton_pid) - tryton_cpu
        return {
            "orders_placed": len(placed),
            "orders_taken": len([key for key in placed if key in taken]),
            "not_taken": len([key for key in placed if key not in taken]),
            "orders_per_s": round(len(latencies) / (last - first), 2) if last > first else None,
            "latency_s": {
                "p50": _round(percentile(latencies, 0.5)),
                "p95": _round(percentile(latencies, 0.95)),
                "p99": _round(percentile(latencies, 0.99)),
            },
            "sales_in_erp": len(references),
            "duplicates": sum(count - 1 for count in counts.values() if count > 1),
            "wall_s": round(meter.wall, 1),
            "emporion_cpu_s": round(meter.cpu, 2),
            "tryton_cpu_s": round(tryton_cpu, 2) if tryton_cpu is not None else None,
            "sandbox_cpu_s": round(shop.cpu_seconds() - shop_cpu, 2),
            "emporion_cpu_share": round(meter.cpu / (meter.cpu + tryton_cpu), 3) if tryton_cpu else None,
            "erp_call_s": round(in_erp[0], 1),
            "peak_rss_mb": peak_rss_mb(),
            "processed": dict(engine.processed),
            "tryton_crashes": crashes,
        }


async def _place(
    shop: SandboxProcess, size: int, rate: float, statuses: set[str], placed: dict[str, float]
) -> None:
    """Shoppers place `size` orders at `rate` per second; importable ones are remembered with their time."""
    async with httpx.AsyncClient(
        base_url=shop.base_url, auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"}, timeout=60,
    ) as http:  # fmt: skip
        began, done = time.monotonic(), 0
        while done < size:
            due = min(size, int((time.monotonic() - began) * rate) + 1)
            if due > done:
                answer = await http.post("/__sandbox/orders/simulate", json={"count": due - done})
                answer.raise_for_status()
                now = time.time()
                orders = answer.json()
                if not orders:
                    break  # the shop ran out of stock
                for order in orders:
                    if status_name(order["status"]) in statuses:
                        placed[str(order["id"])] = now
                done += len(orders)
            await anyio.sleep(max(0.0, began + (done + 1) / rate - time.monotonic()))


async def _sale_references(erp: BenchTryton, attempts: int = 10) -> list[str]:
    """References of the sales emporion created in Tryton (one per shop order, if all is well)."""
    client = erp.admin()
    try:
        for attempt in range(1, attempts + 1):
            try:
                rows = await client.search_read(
                    "sale.sale", [("reference", "like", f"{PREFIX}%")], ["reference"]
                )
                return [row["reference"] for row in rows]
            except Retryable as exc:
                if attempt == attempts or not erp.server.running:
                    process = erp.server._process
                    raise RuntimeError(
                        f"cannot read the sales back ({exc}); trytond running: {erp.server.running}, "
                        f"exit code {process.poll() if process else None}; its log:\n"
                        f"{erp.server.log_text()[-3000:]}"
                    ) from exc
                await anyio.sleep(min(2.0 * attempt, 10.0))
        raise AssertionError("unreachable")
    finally:
        await client.close()


def _round(value: float | None) -> float | None:
    """Milliseconds are enough."""
    return round(value, 3) if value is not None else None
