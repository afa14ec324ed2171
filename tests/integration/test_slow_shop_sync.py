"""The initial sync into a shop as slow as a real WooCommerce 10 on two cores, and three times slower.

Real Tryton (the test catalogue), the sandbox shop under its latency model calibrated on the recorded
WooCommerce 10.0.2 timing (a few PHP workers sharing a fixed CPU, per-item costs, background jobs),
run faster than real time with every timeout scaled alike so that the ratios stay those of the real
shop. Every SKU the connector sends is counted on the wire.
"""

from __future__ import annotations

from typing import Any

import pytest

from emporion.engine.sync import sync_flow, verify_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for
from tests.integration.slow_shop_support import Wire, slow_shop

pytestmark = pytest.mark.tryton

FLOW = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 1
"""


@pytest.mark.parametrize(("scale", "lost"), [(1.0, False), (3.0, False), (1.0, True)])
async def test_initial_sync_into_a_slow_shop_ends_clean_and_writes_each_product_once(
    scale: float,
    lost: bool,
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, FLOW, monkeypatch)
    slow_shop(sandbox_shop, settings, scale)
    shop: Any = settings.connections["shop"]
    if lost:  # one products batch answered only after the read timeout, but written all the same
        sandbox_shop.faults.set(route="/products/batch", methods=["POST"], latency=shop.timeout + 2, count=1)
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        client = runner.target.client  # type: ignore[attr-defined]
        wire = Wire()
        client._http.event_hooks["request"].append(wire)
        report = await verify_flow(runner, await sync_flow(runner))
        assert report.clean, [(e.entity, e.failed, e.missing, e.mismatches[:3]) for e in report.entities]
        assert all(not entity.failed for entity in report.entities)  # no dead letter
        assert await engine.store.list_dead() == []
        assert wire.twice == [], f"written more than once: {wire.twice[:10]}"
        assert client.recovered > 0 if lost else client.recovered == 0
        products = report.entities[-1]
        assert products.linked == products.source_count == products.target_count

        # a second full sync finds everything in place and writes nothing
        written = sum(wire.writes.values())
        again = await sync_flow(runner)
        assert sum(wire.writes.values()) == written
        assert all(not entity.failed for entity in again.entities)
