"""A sync cycle on a synced catalogue when nothing changed (a change-feed poll), and a full re-read sweep."""

from __future__ import annotations

from typing import Any

import anyio

from bench.support.catalogue import initial_sync
from bench.support.engine import FLOW, RequestCounter, bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import Meter, peak_rss_mb, target
from bench.support.sandbox import sandbox_process
from bench.support.synthetic import SyntheticCatalogue
from bench.support.tryton import bench_tryton
from bench.support.workdir import scratch
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine

DEFAULT_SIZE = 100_000
CYCLES = 5
WALL_TARGET_S = 1.0
REQUEST_TARGET = 5


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Sync `size` products once (not measured), then measure idle cycles and one sweep."""
    source = options.get("source", "synthetic")
    with scratch("noop") as folder, sandbox_process(folder / "shop.sqlite") as shop:
        result: dict[str, Any] = {"size": size, "source": source}
        if source == "tryton":
            with bench_tryton(size, folder / "tryton") as erp:
                result["tryton_prepare_s"] = erp.prepare_seconds
                settings = catalogue_settings(shop, sqlite_url(folder / "state.db"), erp=erp.login())
                result.update(anyio.run(_measure, settings, None))
        else:
            settings = catalogue_settings(shop, sqlite_url(folder / "state.db"))
            result.update(anyio.run(_measure, settings, SyntheticCatalogue(size)))
    cycle = result["cycle"]
    result["targets"] = {
        "cycle_wall_s": target(cycle["wall_s"], WALL_TARGET_S, cycle["wall_s"] <= WALL_TARGET_S),
        "cycle_requests": target(cycle["requests"], REQUEST_TARGET, cycle["requests"] <= REQUEST_TARGET),
    }
    return result


async def _measure(settings: Any, synthetic: SyntheticCatalogue | None) -> dict[str, Any]:
    """Initial sync (the setup), then idle cycles, then one sweep over everything."""
    async with bench_engine(settings, synthetic) as engine:
        setup = await initial_sync(engine)
        runner = engine.runners[FLOW]
        await engine.drain(runner.flow)  # the first poll after the initial sync settles the cursor
        shop, source = RequestCounter(runner.target), RequestCounter(runner.source)
        cycles = []
        for _ in range(CYCLES):
            cycles.append(await _cycle(engine, shop, source))
        worst = max(cycles, key=lambda c: c["wall_s"])
        before = shop.count, source.count
        meter = Meter().start()
        report = await sync_flow(runner)
        meter.stop()
        counts = {f"{e.entity}.{k}": v for e in report.entities for k, v in e.counts.items()}
        return {
            "setup_sync_s": round(setup.wall_s, 1),
            "cycle": worst,
            "cycles": cycles,
            "sweep": {
                "wall_s": round(meter.wall, 2),
                "cpu_s": round(meter.cpu, 2),
                "shop_requests": shop.count - before[0],
                "source_requests": source.count - before[1],
                "cpu_us_per_item": round(meter.cpu / max(size_of(report), 1) * 1e6, 1),
                "counts": counts,
            },
            "peak_rss_mb": peak_rss_mb(),
        }


def size_of(report: Any) -> int:
    """Products the sweep read."""
    return sum(entity.source_count for entity in report.entities if entity.entity == "product")


async def _cycle(engine: Engine, shop: RequestCounter, source: RequestCounter) -> dict[str, Any]:
    """One cycle of the running engine: poll the change feed, then claim (and find nothing to do)."""
    flow = engine.runners[FLOW].flow
    before = shop.count, source.count
    meter = Meter().start()
    queued = await engine.poll(flow)
    handled = await engine.work(flow)
    meter.stop()
    shop_requests, source_requests = shop.count - before[0], source.count - before[1]
    return {
        "wall_s": round(meter.wall, 4),
        "cpu_s": round(meter.cpu, 4),
        "queued": queued,
        "handled": handled,
        "shop_requests": shop_requests,
        "source_requests": source_requests,
        "requests": shop_requests + source_requests,
    }
