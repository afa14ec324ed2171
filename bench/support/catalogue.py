"""The initial catalogue sync as the benchmarks run it, with its counts, requests and costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.support.engine import FLOW, RequestCounter
from bench.support.measure import Meter, peak_rss_mb
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine


@dataclass
class SyncFigures:
    """What one initial sync did and cost."""

    products: int = 0
    variants: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    shop_requests: int = 0
    source_requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    def as_dict(self, source_cpu_s: float | None = None) -> dict[str, Any]:
        """The figures as JSON-ready data; per product, and without the source when its CPU is known."""
        items = max(self.products, 1)
        figures: dict[str, Any] = {
            "products": self.products,
            "variants": self.variants,
            "wall_s": round(self.wall_s, 2),
            "items_per_s": round(self.products / self.wall_s, 1) if self.wall_s else None,
            "records_per_s": round((self.products + self.variants) / self.wall_s, 1) if self.wall_s else None,
            "shop_requests": self.shop_requests,
            "requests_per_item": round(self.shop_requests / items, 4),
            "source_requests": self.source_requests,
            "cpu_s": round(self.cpu_s, 2),
            "cpu_us_per_item": round(self.cpu_s / items * 1e6, 1),
            "peak_rss_mb": peak_rss_mb(),
            "counts": self.counts,
            "failed": self.failed,
        }
        if source_cpu_s is not None:
            figures["source_cpu_us_per_item"] = round(source_cpu_s / items * 1e6, 1)
            figures["engine_cpu_us_per_item"] = round((self.cpu_s - source_cpu_s) / items * 1e6, 1)
        return figures


async def initial_sync(engine: Engine) -> SyncFigures:
    """Run the catalogue flow's initial sync (what `emporion sync` does) and measure it."""
    runner = engine.runners[FLOW]
    shop, source = RequestCounter(runner.target), RequestCounter(runner.source)
    meter = Meter().start()
    report = await sync_flow(runner)
    meter.stop()
    figures = SyncFigures(wall_s=meter.wall, cpu_s=meter.cpu)
    for entity in report.entities:
        for name, value in entity.counts.items():
            figures.counts[f"{entity.entity}.{name}"] = value
        figures.failed += len(entity.failed)
        if entity.entity == "product":
            figures.products = entity.source_count
    figures.variants = await _variants(engine)
    figures.shop_requests, figures.source_requests = shop.count, source.count
    return figures


async def _variants(engine: Engine) -> int:
    """Variations the links remember (what the shop holds below variable products)."""
    total = 0
    async for links in engine.store.iter_links(FLOW, "product"):
        total += sum(len((link.target_ref or {}).get("variations") or {}) for link in links)
    return total
