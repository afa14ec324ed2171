"""Sustained stock and price changes written to Tryton at R/s: latency from ERP write to shop write."""

from __future__ import annotations

import bisect
import json
import os
import sys
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from bench.support.catalogue import initial_sync
from bench.support.engine import FLOW, bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import Meter, peak_rss_mb, percentile, process_cpu_seconds, target
from bench.support.sandbox import sandbox_process
from bench.support.tryton import bench_tryton
from bench.support.workdir import ROOT, scratch
from emporion.connectors.base import Outcome

DEFAULT_SIZE = 60  # products in the Tryton catalogue the changes land on (the tests' cached one)
P99_TARGET_S = 2.0
LOAD_SLACK_S = 60.0  # how long the ERP's last write may take after the load's duration
GRACE_S = 60.0  # how long the last changes may take to arrive before they count as lost


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Sync a Tryton catalogue of `size` products, then change it at `rate` per second for `duration` s."""
    rate = float(options.get("rate", 200))
    duration = float(options.get("duration", 30))
    poll = float(options.get("poll", 1.0))
    with scratch("changes") as folder, sandbox_process(folder / "shop.sqlite") as shop:
        with bench_tryton(size, folder / "tryton") as erp:
            settings = catalogue_settings(
                shop, sqlite_url(folder / "state.db"), erp=erp.login(), poll_interval=poll
            )
            result = anyio.run(_measure, settings, erp, folder, rate, duration)
            result["tryton_prepare_s"] = erp.prepare_seconds
    result.update({"size": size, "rate": rate, "duration_s": duration, "poll_s": poll})
    p99 = result["latency_s"]["p99"]
    result["targets"] = {
        "p99_latency_s": target(p99, P99_TARGET_S, p99 is not None and p99 <= P99_TARGET_S),
        "keeps_up": target(result["keeps_up"], True, result["keeps_up"]),
    }
    return result


async def _measure(settings: Any, erp: Any, folder: Path, rate: float, duration: float) -> dict[str, Any]:
    """Initial sync, then the engine runs while another process writes changes to Tryton."""
    async with bench_engine(settings) as engine:
        setup = await initial_sync(engine)
        runner = engine.runners[FLOW]
        written: dict[str, list[float]] = defaultdict(list)
        write = runner.target.write

        async def timed_write(entity: str, upserts: Any, deletes: Any) -> list[Outcome]:
            """The shop write, noting when each record was written."""
            outcomes = await write(entity, upserts, deletes)
            now = time.time()
            for outcome in outcomes:
                if outcome.ok:
                    written[outcome.key].append(now)
            return outcomes

        runner.target.write = timed_write  # type: ignore[method-assign]
        stop = anyio.Event()
        out = folder / "load.json"
        tryton_cpu = process_cpu_seconds(erp.server._process.pid)
        meter = Meter().start()
        async with anyio.create_task_group() as group:
            group.start_soon(partial(engine.run, stop=stop))
            await anyio.sleep(2.0)  # the feed loop takes its first position
            env = {**os.environ, "BENCH_TRYTON_ADMIN_PASSWORD": erp.db.admin_password}
            env["PYTHONPATH"] = str(ROOT)
            command = [sys.executable, "-m", "bench.support.erp_load", "--url", erp.server.url]
            command += ["--database", erp.server.database, "--rate", str(rate), "--duration", str(duration)]
            with anyio.move_on_after(duration + LOAD_SLACK_S):  # a stuck ERP call must not hang the run
                await anyio.run_process([*command, "--out", str(out)], env=env, cwd=ROOT, check=True)
            events = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
            load = {"achieved_rate": len(events) / duration}
            deadline = time.monotonic() + GRACE_S
            while time.monotonic() < deadline and _pending(events, written):  # noqa: ASYNC110
                await anyio.sleep(0.25)
            await anyio.sleep(1.0)  # the worker commits what it wrote before it is stopped
            stop.set()
        meter.stop()
        latencies, lost = [], 0
        for key, _kind, at in events:
            times = written.get(key, [])
            index = bisect.bisect_left(times, at)
            if index < len(times):
                latencies.append(times[index] - at)
            else:
                lost += 1
        third = max(len(latencies) // 3, 1)
        result = {
            "setup_sync_s": round(setup.wall_s, 1),
            "changes": len(events),
            "achieved_rate": round(load["achieved_rate"], 1),
            "delivered": len(latencies),
            "not_delivered": lost,
            "latency_s": _latency(latencies),
            "latency_first_third_p99_s": _round(percentile(latencies[:third], 0.99)),
            "latency_last_third_p99_s": _round(percentile(latencies[-third:], 0.99)),
            "emporion_cpu_s": round(meter.cpu, 2),
            "emporion_cpu_share": round(meter.cpu / meter.wall, 3),
            "tryton_cpu_s": round(process_cpu_seconds(erp.server._process.pid) - tryton_cpu, 2),
            "wall_s": round(meter.wall, 1),
            "processed": dict(engine.processed),
            "peak_rss_mb": peak_rss_mb(),
        }
        early, late = percentile(latencies[:third], 0.99) or 0, percentile(latencies[-third:], 0.99) or 0
        # keeping up: everything arrived, the ERP took the rate, and latency did not grow while it ran
        result["keeps_up"] = bool(
            lost == 0 and events and load["achieved_rate"] >= 0.9 * rate and late <= max(2 * early, 2.0)
        )
        return result


def _pending(events: list[Any], written: dict[str, list[float]]) -> bool:
    """Whether some of the last changes have not reached the shop yet."""
    return any(not written.get(key) or written[key][-1] < at for key, _kind, at in events[-200:])


def _round(value: float | None) -> float | None:
    """Milliseconds are enough."""
    return round(value, 3) if value is not None else None


def _latency(values: list[float]) -> dict[str, float | None]:
    """Percentiles of the latencies."""
    return {
        "p50": _round(percentile(values, 0.50)),
        "p95": _round(percentile(values, 0.95)),
        "p99": _round(percentile(values, 0.99)),
        "max": _round(max(values) if values else None),
    }
