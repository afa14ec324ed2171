"""Several `emporion worker` processes on PostgreSQL stay, together, within a shop's request rate.

Two sandbox shops over HTTP: one is the source of a catalogue flow, the other its target with
`max_requests_per_second`; the target counts the requests it gets in each second.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.engine_support import shop_api
from tests.integration.fleet_support import FleetProcess, emporion, start, stop
from tests.integration.test_catalogue_sync import all_products, eventually

RATE = 8.0
PRODUCTS = 40


def write_config(directory: Path, source: SandboxShop, target: SandboxShop, state_url: str) -> Path:
    config = directory / "emporion.yaml"
    config.write_text(
        f"""
state: {{url: "{state_url}", lease_seconds: 4, work_lease_seconds: 10}}
logging: {{format: json, level: info}}
connections:
  source:
    type: woocommerce
    url: {source.base_url}
    consumer_key: {source.consumer_key}
    consumer_secret: {source.consumer_secret}
  target:
    type: woocommerce
    url: {target.base_url}
    consumer_key: {target.consumer_key}
    consumer_secret: {target.consumer_secret}
    max_requests_per_second: {RATE}
flows:
  - name: copy
    source: source
    target: target
    entities: [product]
    batch_size: 2
    poll_interval: 0.5
"""
    )
    return config


def create_products(api: httpx.Client, price: str) -> None:
    body = {
        "create": [
            {"name": f"Rate {n}", "sku": f"RATE-{n:03d}", "regular_price": price, "status": "publish"}
            for n in range(PRODUCTS)
        ]
    }
    api.post("/products/batch", json=body).raise_for_status()


def reprice(api: httpx.Client, price: str) -> None:
    ids = [product["id"] for product in all_products(api)]
    body = {"update": [{"id": ident, "regular_price": price} for ident in ids]}
    api.post("/products/batch", json=body).raise_for_status()


def updates_logged(fleet: list[FleetProcess]) -> int:
    """Products the workers have logged as updated in the target so far."""
    return sum(
        int(event.get("updated", 0))
        for process in fleet
        for event in process.events()
        if event.get("event") == "synced"
    )


async def test_workers_together_keep_to_the_shop_rate(pg_url: str, tmp_path: Path) -> None:
    with (
        SandboxShop.serve(db=":memory:", port=0) as source,
        SandboxShop.serve(db=":memory:", port=0) as target,
        shop_api(source) as source_api,
        shop_api(target) as target_api,
    ):
        create_products(source_api, "10.00")
        config = write_config(tmp_path, source, target, pg_url)
        upgraded = emporion(config, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        fleet: list[FleetProcess] = [start(config, "worker", f"worker{n}") for n in range(3)]
        try:

            async def copied(price: str) -> bool:
                products = all_products(target_api)
                return len(products) == PRODUCTS and all(p["regular_price"] == price for p in products)

            await eventually(lambda: copied("10.00"), 180)  # the initial sync, by one worker
            before = updates_logged(fleet)
            target.sandbox.traffic.clear()
            reprice(source_api, "12.50")  # every product changes: work for all three workers

            async def all_updated() -> bool:  # read from the workers' logs: asking the shop would count
                return updates_logged(fleet) >= before + PRODUCTS

            await eventually(all_updated, 180)
            counted = target.sandbox.traffic.describe()
            assert await copied("12.50")
        finally:
            stop(fleet)

    per_second = sorted((int(second), count) for second, count in counted["per_second"].items())
    print("requests per second at the target:", [count for _, count in per_second])
    assert per_second, "the target shop got no request"
    # every second within the rate, give or take the bucket's small burst and one block per process
    allowance = RATE + max(1.0, RATE * 0.2) + 3 * 1
    assert max(count for _, count in per_second) <= allowance, per_second
    seconds = per_second[-1][0] - per_second[0][0] + 1
    assert counted["requests"] <= RATE * seconds + allowance, (counted["requests"], seconds)
    assert max(count for _, count in per_second) >= RATE * 0.6, per_second  # the rate was the limit
    syncing = {p.name for p in fleet for e in p.events() if e.get("event") == "synced"}
    assert len(syncing) >= 2, syncing  # the work was shared out
    assert counted["overlaps"] == []
