"""What the slow-shop tests share: the sandbox on the WooCommerce 10 latency model with the connector's
timeouts scaled alike, and a wire log counting each product and variation written by SKU.

The model runs four times faster than the real shop. The sandbox's own work (SQLite, JSON) is not
scaled: at 0.25 it stretches a lone batch of 100 creates by ~20 % and four at once by ~5 %, so parallel
batches still add almost no throughput; at 0.1 a lone batch is ~60 % slower and four at once seem to
gain two thirds in throughput, which the real shop does not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import httpx

from emporion.config import Settings
from emporion_devkit.sandbox.woocommerce import LatencyModel, SandboxShop

TIME_SCALE = 0.25
WRITES = re.compile(r"/products(?:/(?P<parent>\d+)/variations)?(?:/(?P<id>\d+)|/batch)?$")


def slow_shop(shop: SandboxShop, settings: Settings, scale: float) -> None:
    """Put `shop` on the latency model at `scale` times its cost; scale the connection's default
    timeout (30 s) and batch time (4 s) to the model's clock so that their ratios stay the real ones."""
    shop.sandbox.set_latency(LatencyModel.named("wc10", scale=scale, time_scale=TIME_SCALE))
    connection: Any = settings.connections["shop"]
    connection.timeout = 30.0 * TIME_SCALE
    connection.batch_seconds = 4.0 * TIME_SCALE


class Wire:
    """Every request, and each product and variation written (created or updated), counted by SKU."""

    def __init__(self) -> None:
        self.writes: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()

    async def __call__(self, request: httpx.Request) -> None:
        self.methods[request.method] += 1
        match = WRITES.search(request.url.path)
        if request.method == "GET" or match is None:
            return
        kind = "variation" if match["parent"] else "product"
        body = json.loads(request.content) if request.content else {}
        if request.url.path.endswith("/batch"):
            items = [*body.get("create", []), *body.get("update", [])]
        else:
            items = [{**body, "id": match["id"]}]
        for item in items:
            self.writes[f"{kind} {item.get('sku') or 'id ' + str(item.get('id'))}"] += 1

    @property
    def twice(self) -> list[str]:
        """What was written more than once, sorted."""
        return sorted(key for key, count in self.writes.items() if count > 1)
