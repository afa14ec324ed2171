"""The sandbox's traffic record: requests per second, and two writes of one product at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from emporion_devkit.sandbox.woocommerce import SandboxShop


def test_requests_are_counted_per_second_over_http(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    sandbox_shop.sandbox.traffic.clear()
    for _ in range(3):
        sandbox_client.get("/products")
    control = httpx.get(
        f"{sandbox_shop.base_url}/__sandbox/traffic",
        auth=(sandbox_shop.consumer_key, sandbox_shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    ).json()
    assert control["requests"] == 3
    assert sum(control["per_second"].values()) == 3
    assert all(abs(int(second) - time.time()) < 60 for second in control["per_second"])
    assert control["overlaps"] == []


def test_two_writes_of_one_product_at_once_are_an_overlap(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    sandbox_shop.faults.set(latency=0.5, route="/products/batch")

    def write(sku: str, name: str) -> int:
        body = {"create": [{"name": name, "sku": sku, "regular_price": "1.00"}]}
        return sandbox_client.post("/products/batch", json=body).status_code

    with ThreadPoolExecutor(2) as pool:  # the same SKU twice at once: one overlap
        assert list(pool.map(write, ["SAME-1", "SAME-1"], ["a", "b"])) == [200, 200]
    assert sandbox_shop.sandbox.traffic.overlaps == ["products:sku:SAME-1"]
    with ThreadPoolExecutor(2) as pool:  # different SKUs at once, then one SKU twice in turn: none
        list(pool.map(write, ["OTHER-1", "OTHER-2"], ["c", "d"]))
    write("SAME-2", "e")
    write("SAME-2", "f")
    assert sandbox_shop.sandbox.traffic.overlaps == ["products:sku:SAME-1"]
