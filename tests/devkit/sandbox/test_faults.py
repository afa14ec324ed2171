"""The fault injector, controlled from Python and over HTTP, seen by a real HTTP client."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.devkit.sandbox.support import Receiver


def test_429_with_retry_after_on_matching_routes_only(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    sandbox_shop.faults.set(rate_429=1.0, retry_after=2, route="/products*")
    limited = sandbox_client.get("/products")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["data"]["status"] == 429
    assert sandbox_client.get("/products/12").status_code == 429
    assert sandbox_client.get("/orders").status_code == 200
    sandbox_shop.faults.clear()
    assert sandbox_client.get("/products").status_code == 200


def test_counted_5xx_then_recovery(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    sandbox_shop.faults.set(rate_503=1.0, count=2)
    first, second, third = (sandbox_client.get("/products") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["content-type"].startswith("text/html")
    sandbox_shop.faults.set(rate_500=1.0, count=1, methods=["POST"])
    assert sandbox_client.get("/products").status_code == 200
    failed = sandbox_client.post("/products", json={"name": "x"})
    assert failed.status_code == 500 and failed.json()["code"] == "internal_server_error"
    sandbox_shop.faults.set(rate_502=1.0, count=1)
    assert sandbox_client.get("/orders").status_code == 502


def test_latency_fixed_and_random(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    sandbox_shop.faults.set(latency=0.3, route="/orders")
    started = time.perf_counter()
    assert sandbox_client.get("/orders").status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    sandbox_client.get("/products")
    assert time.perf_counter() - started < 0.3
    sandbox_shop.faults.clear()
    sandbox_shop.faults.set(latency=0.1, latency_max=0.2)
    started = time.perf_counter()
    sandbox_client.get("/products")
    assert 0.1 <= time.perf_counter() - started < 1.0


def test_timeouts_and_dropped_connections(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    sandbox_shop.faults.set(rate_timeout=1.0, timeout=3, count=1)
    with pytest.raises(httpx.ReadTimeout):
        sandbox_client.get("/products", timeout=0.5)
    sandbox_shop.faults.set(rate_drop=1.0, count=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        sandbox_client.get("/products")
    assert sandbox_client.get("/products").status_code == 200


def test_share_of_faults_is_a_rate(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    sandbox_shop.faults.set(rate_429=0.5, seed=42)
    statuses = [sandbox_client.get("/system_status").status_code for _ in range(200)]
    assert 60 <= statuses.count(429) <= 140 and statuses.count(200) == 200 - statuses.count(429)


def test_control_over_http(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    control = sandbox_shop.base_url + "/__sandbox/faults"
    auth = (sandbox_shop.consumer_key, sandbox_shop.consumer_secret)
    headers = {"X-Forwarded-Proto": "https"}
    assert httpx.post(control, json={"rate_429": 1.0}).status_code == 401
    added = httpx.post(control, json={"rate_429": 1.0, "route": "/coupons*"}, auth=auth, headers=headers)
    assert added.status_code == 201 and added.json()["route"] == "/coupons*"
    assert [rule["rate_429"] for rule in httpx.get(control, auth=auth, headers=headers).json()] == [1.0]
    assert sandbox_client.get("/coupons").status_code == 429
    bad = httpx.post(control, json={"rate_teapot": 1.0}, auth=auth, headers=headers)
    assert bad.status_code == 400
    assert httpx.delete(control, auth=auth, headers=headers).status_code == 200
    assert sandbox_client.get("/coupons").status_code == 200


def test_lost_and_duplicated_webhook_deliveries(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    sandbox_client.post("/webhooks", json={"topic": "order.created", "delivery_url": receiver.url})
    sandbox_shop.faults.set(rate_webhook_loss=1.0, route="order.*", count=1)
    sandbox_client.post("/orders", json={})
    time.sleep(0.05)
    assert sandbox_shop.sandbox.webhooks.idle(5)
    assert receiver.deliveries() == []
    sandbox_shop.faults.clear()
    sandbox_shop.faults.set(rate_webhook_duplicate=1.0)
    order = sandbox_client.post("/orders", json={}).json()
    time.sleep(0.05)
    assert sandbox_shop.sandbox.webhooks.idle(5)
    deliveries = receiver.deliveries()
    assert len(deliveries) == 2
    assert deliveries[0][0]["x-wc-webhook-delivery-id"] == deliveries[1][0]["x-wc-webhook-delivery-id"]
    assert json.loads(deliveries[0][1])["id"] == order["id"] and deliveries[0][1] == deliveries[1][1]
    log = sandbox_client.get(sandbox_shop.base_url + "/__sandbox/webhooks/deliveries").json()
    assert [entry.get("copies") for entry in log if entry["topic"] == "order.created"] == [0, 2]
