"""Initial sync of N products (a tenth with 4 variants) into the sandbox shop: rate, requests, CPU, RSS."""

from __future__ import annotations

import time
from typing import Any

import anyio

from bench.support.catalogue import initial_sync
from bench.support.engine import bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import target
from bench.support.sandbox import model_figures, model_options, sandbox_process
from bench.support.synthetic import SyntheticCatalogue
from bench.support.tryton import bench_tryton
from bench.support.workdir import scratch

DEFAULT_SIZE = 100_000
CPU_TARGET_US = 50
RSS_TARGET_MB = 300


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Sync `size` products from the source (`source`: synthetic or tryton) into a fresh sandbox shop."""
    source = options.get("source", "synthetic")
    latency = float(options.get("latency", 0.0))
    auth = str(options.get("auth", "basic"))  # basic: as over HTTPS; oauth: signed as over plain HTTP
    flags = model_options(options)  # -o model=wc10: the latency model of a real WooCommerce 10
    with scratch("catalog") as folder, sandbox_process(folder / "shop.sqlite", latency, flags) as shop:
        result: dict[str, Any] = {"size": size, "source": source, "latency_s": latency, "auth": auth}
        result.update(model_figures(options))
        if source == "tryton":
            with bench_tryton(size, folder / "tryton") as erp:
                result["tryton_prepare_s"] = erp.prepare_seconds
                settings = catalogue_settings(shop, sqlite_url(folder / "state.db"), erp=erp.login())
                figures, _ = anyio.run(_sync, settings, None, auth)
        else:
            synthetic = SyntheticCatalogue(size)
            settings = catalogue_settings(shop, sqlite_url(folder / "state.db"))
            figures, _ = anyio.run(_sync, settings, synthetic, auth)
        result.update(figures)
        result["sandbox_cpu_s"] = round(shop.cpu_seconds(), 1)
        result["shop_products"] = shop.count("/products")
    result["targets"] = {
        "cpu_us_per_item": target(result["cpu_us_per_item"], CPU_TARGET_US, result["cpu_us_per_item"] <= 50),
        "peak_rss_mb": target(result["peak_rss_mb"], RSS_TARGET_MB, result["peak_rss_mb"] <= RSS_TARGET_MB),
    }
    return result


async def _sync(
    settings: Any, synthetic: SyntheticCatalogue | None, auth: str
) -> tuple[dict[str, Any], float | None]:
    """Run the initial sync on a fresh state database and return its figures."""
    async with bench_engine(settings, synthetic, auth=auth) as engine:
        began = time.perf_counter()
        figures = await initial_sync(engine)
        source_cpu = synthetic.cpu_seconds if synthetic else None
        result = figures.as_dict(source_cpu)
        result["elapsed_s"] = round(time.perf_counter() - began, 2)
        return result, source_cpu
