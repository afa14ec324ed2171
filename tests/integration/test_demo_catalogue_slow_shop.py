"""The demo's catalogue synced into an empty shop as slow as a real WooCommerce 10, and three times slower.

Real Tryton with the catalogue `emporion demo` builds (500 products: 480 salable, 239 variations),
one server for both speeds (these tests only read it); the sandbox shop under its latency model
calibrated on the recorded WooCommerce 10.0.2 timing, run faster than real time with the connector's
timeout and batch time scaled alike; the demo's own catalogue flow. The initial sync ends clean with no
dead letter and no product or variation written twice on the wire, verify is clean, two reconciles
in a row find no drift, and a sync again sends no write.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from emporion.engine.reconcile import Reconciler
from emporion.engine.sync import sync_flow, verify_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for
from tests.integration.slow_shop_support import Wire, slow_shop
from tests.integration.test_catalogue_comes_clean import products_by_id

pytestmark = pytest.mark.tryton

SALABLE, VARIATIONS = 480, 239  # the demo catalogue: 500 products, every 25th not for sale

# the demo's catalogue flow (devkit/src/emporion_devkit/demo/run.py)
DEMO_FLOW = """
  - name: catalogue
    source: erp
    target: shop
    entities: [category, product]
    warehouses: [WH]
    safety_stock: 1
    mapping:
      short_description:
        template: "{{ name }} (SKU {{ sku }})"
      custom.source:
        constant: tryton
"""


def shop_client(shop: SandboxShop) -> httpx.Client:
    """A REST client for the sandbox shop that waits as long as the modelled shop takes."""
    return httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=60,
    )


@pytest.mark.parametrize("scale", [1.0, 3.0], ids=["wc10-latency", "wc10-latency-x3"])
async def test_demo_catalogue_syncs_once_into_a_slow_shop_and_stays_clean(
    scale: float,
    demo_tryton_module: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(demo_tryton_module, {"shop": sandbox_shop}, sqlite_url, DEMO_FLOW, monkeypatch)
    slow_shop(sandbox_shop, settings, scale)
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        client = runner.target.client  # type: ignore[attr-defined]
        wire = Wire()
        client._http.event_hooks["request"].append(wire)

        report = await verify_flow(runner, await sync_flow(runner))
        for entity in report.entities:
            assert not (entity.failed or entity.missing), (entity.entity, entity.failed, entity.missing[:5])
            assert not entity.mismatches, [(m.label, m.diffs) for m in entity.mismatches[:5]]
        assert report.clean
        assert await engine.store.list_dead() == []
        assert wire.twice == [], f"written more than once: {wire.twice[:10]}"
        written = Counter(key.split(" ", 1)[0] for key in wire.writes)
        assert written == {"product": SALABLE, "variation": VARIATIONS}
        products = report.entities[-1]
        assert products.linked == products.source_count == products.target_count == SALABLE
        with shop_client(sandbox_shop) as api:
            skus = [product["sku"] for product in products_by_id(api)]
        assert len(skus) == len(set(skus)) == SALABLE  # the shop holds each product once

        reconciler = Reconciler(engine)
        for _ in range(2):
            result = await reconciler.reconcile("catalogue")
            drift = [(item.kind, item.label, [d.field for d in item.fields]) for item in result.items]
            assert result.clean and not drift, drift[:10]
            assert result.counts["compared"] == SALABLE + result.counts["category.source"]

        written_before, sent_before = sum(wire.writes.values()), wire.methods.copy()
        again = await sync_flow(runner)
        assert all(not entity.failed for entity in again.entities)
        assert again.entities[-1].counts == {"unchanged": SALABLE}
        assert sum(wire.writes.values()) == written_before
        assert set(wire.methods - sent_before) <= {"GET"}  # a sync again at most reads
