"""Scale-out on PostgreSQL: `emporion serve` and several `emporion worker` processes share one state database.

Real Tryton, the sandbox shop over HTTP (every answer 50 ms late, so that two workers writing one
product at once would overlap at the shop, which records it), real worker processes.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from emporion.connectors.base import ConnectorError
from emporion.connectors.tryton.client import TrytonClient
from emporion.state import StateStore
from emporion.state.tables import work
from emporion_devkit.demo.erp_changes import set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import shop_api
from tests.integration.fleet_support import (
    FleetProcess,
    emporion,
    holdings,
    overlapping,
    start,
    stop,
    write_config,
)
from tests.integration.test_catalogue_sync import all_products, eventually, salable_templates, simple_skus

pytestmark = pytest.mark.tryton

FLOWS = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    poll_interval: 0.5
    batch_size: 5
  - name: orders
    source: shop
    target: erp
    entities: [order]
    poll_interval: 1
    orders:
      reference_prefix: "WEB-"
      shortage: accept
      carriers: {"*": DHL}
      payment_methods: {stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}
"""


async def change_prices(tryton: RunningTryton, prices: dict[str, Decimal]) -> None:
    admin = tryton.admin()
    try:
        for sku, price in prices.items():
            await set_list_price(admin, sku, price)
    finally:
        await admin.close()


def shop_prices(shop: SandboxShop) -> dict[str, str]:
    with shop_api(shop) as api:
        return {product["sku"]: product["regular_price"] for product in all_products(api)}


async def sale_counts(admin: TrytonClient, references: list[str]) -> dict[str, int]:
    """Sales per reference in Tryton (zero while Tryton is too busy to answer)."""
    try:
        sales = await admin.model(
            "sale.sale", "search_read", [("reference", "in", references)], 0, None, None, ["reference"]
        )
    except ConnectorError:
        return dict.fromkeys(references, 0)
    return {reference: sum(1 for sale in sales if sale["reference"] == reference) for reference in references}


async def leased_by(store: StateStore, owner: str) -> int:
    """Work rows of the catalogue flow that `owner` holds right now."""

    async def count(conn: object) -> int:
        rows = await conn.execute(select(work.c.key).where(work.c.lease_owner == owner))  # type: ignore[attr-defined]
        return len(rows.all())

    return await store._db.read(count)


async def test_workers_share_the_work_and_take_over_from_a_killed_one(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, pg_url: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, tryton_server, sandbox_shop, pg_url, flows=FLOWS, shop_options="    webhooks: true"
    )
    upgraded = emporion(config, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    fleet: list[FleetProcess] = [start(config, "serve", "serve")]
    fleet += [start(config, "worker", f"worker{n}") for n in range(3)]
    workers = fleet[1:]
    store = await StateStore.connect(pg_url, migrate=False)
    admin = tryton_server.admin()
    try:
        templates = await salable_templates(tryton_server)
        codes = sorted(t["code"] for t in templates)

        # the initial sync: run once, by whichever worker took the flow's lease
        async def catalogue_arrived() -> bool:
            return sorted(shop_prices(sandbox_shop)) == codes

        await eventually(catalogue_arrived, 240)
        sandbox_shop.sandbox.faults.set(latency=0.05)

        # live changes, shared out among the workers
        skus = await simple_skus(tryton_server)
        first = {sku: Decimal(100 + n) + Decimal("0.25") for n, sku in enumerate(skus[:30])}
        await change_prices(tryton_server, first)

        async def prices_arrived(wanted: dict[str, Decimal]) -> bool:
            current = shop_prices(sandbox_shop)
            return all(current.get(sku) == str(price) for sku, price in wanted.items())

        await eventually(lambda: prices_arrived(first), 120)

        # orders: placed in the shop, delivered by webhook to `serve`, imported by the workers
        importable = ("processing", "on-hold", "completed")
        placed = [order for order in sandbox_shop.place_orders(3) if order["status"] in importable]
        assert placed, "the shopper placed no importable order"

        async def orders_arrived() -> bool:
            found = await sale_counts(admin, [f"WEB-{order['number']}" for order in placed])
            return all(found.values())

        await eventually(orders_arrived, 120)

        # slow answers keep every worker busy; then the holder of the change feed dies mid-batch
        sandbox_shop.sandbox.faults.clear()
        sandbox_shop.sandbox.faults.set(latency=2.0, route="/products*", methods=["POST", "PUT"])
        second = {sku: Decimal(300 + n) + Decimal("0.75") for n, sku in enumerate(skus[:30])}
        await change_prices(tryton_server, second)
        [feed] = await store.leases("feed:catalogue")
        victim = next(p for p in workers if p.owner == feed.owner)

        async def victim_busy() -> bool:
            return await leased_by(store, victim.owner) > 0

        await eventually(victim_busy, 60)
        victim.kill()
        sandbox_shop.sandbox.faults.clear()
        sandbox_shop.sandbox.faults.set(latency=0.05)

        async def feed_taken_over() -> bool:
            return any(lease.owner != victim.owner for lease in await store.leases("feed:catalogue"))

        await eventually(feed_taken_over, 30)
        await eventually(lambda: prices_arrived(second), 120)

        async def victim_batch_taken_over() -> bool:  # claimable again once its lease ran out
            return await leased_by(store, victim.owner) == 0

        await eventually(victim_batch_taken_over, 60)

        # every product and order exactly once
        with shop_api(sandbox_shop) as api:
            products = all_products(api)
        assert sorted(p["sku"] for p in products) == codes
        counts = await sale_counts(admin, [f"WEB-{order['number']}" for order in placed])
        assert set(counts.values()) == {1}, counts

        async def queue_drained() -> bool:  # the killed worker's batch, taken over, is finished too
            return (await store.queue_depth()).get(("catalogue", "product"), 0) == 0

        await eventually(queue_drained, 60)
    finally:
        await admin.close()
        await store.close()
        stop(fleet)

    # no product was written by two workers at once
    assert sandbox_shop.sandbox.traffic.overlaps == []
    # each singleton job had one holder at a time, and the change feed changed hands once its holder died
    held = holdings(fleet)
    assert overlapping(held) == []
    assert len({h.owner for h in held["feed:catalogue"]}) >= 2
    assert {h.owner for h in held["webhooks"]} == {"serve"}
    assert any(h.how == "killed" and h.owner == victim.name for h in held["feed:catalogue"])
    # the work was shared: more than one worker synced catalogue batches
    syncing = {
        process.name
        for process in workers
        for event in process.events()
        if event.get("event") == "synced" and event.get("flow") == "catalogue"
    }
    assert len(syncing) >= 2, syncing
    for process in fleet:
        if process is not victim:
            assert process.popen.returncode == 0, process.log.read_text()[-3000:]
