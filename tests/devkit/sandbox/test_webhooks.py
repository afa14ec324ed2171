"""Webhook deliveries as WooCommerce sends them, received by a real HTTP endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.devkit.sandbox.support import Receiver


def settle(shop: SandboxShop) -> None:
    time.sleep(0.05)
    assert shop.sandbox.webhooks.idle(10)


def hook(client: httpx.Client, receiver: Receiver, topic: str, **extra: str) -> dict:
    body = {"name": topic, "topic": topic, "delivery_url": receiver.url, "secret": "s3cret"} | extra
    created = client.post("/webhooks", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def test_ping_then_one_signed_delivery_for_rapid_changes(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    webhook = hook(sandbox_client, receiver, "product.updated")
    settle(sandbox_shop)
    ping_headers, ping_body = receiver.requests[0]
    assert ping_body == f"webhook_id={webhook['id']}".encode()
    assert ping_headers["content-type"] == "application/x-www-form-urlencoded"
    product = sandbox_client.post("/products", json={"name": "v0"}).json()
    for n in range(1, 6):
        sandbox_client.put(f"/products/{product['id']}", json={"name": f"v{n}"})
    settle(sandbox_shop)
    deliveries = receiver.deliveries()
    assert len(deliveries) == 1
    headers, body = deliveries[0]
    expected_signature = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["x-wc-webhook-signature"], expected_signature)
    assert headers["x-wc-webhook-topic"] == "product.updated"
    assert headers["x-wc-webhook-resource"] == "product" and headers["x-wc-webhook-event"] == "updated"
    assert headers["x-wc-webhook-id"] == str(webhook["id"]) and headers["x-wc-webhook-delivery-id"]
    assert headers["x-wc-webhook-source"] == sandbox_shop.base_url + "/"
    assert b"\\/" in body  # wp_json_encode escapes slashes; signatures are over the raw body
    delivered = json.loads(body)
    assert delivered["name"] == "v5"
    assert delivered == sandbox_client.get(f"/products/{product['id']}").json()


def test_created_deleted_and_variation_topics(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    hook(sandbox_client, receiver, "product.created")
    hook(sandbox_client, receiver, "product.deleted")
    hook(sandbox_client, receiver, "order.created")
    hook(sandbox_client, receiver, "customer.created")
    hook(sandbox_client, receiver, "coupon.created")
    parent = sandbox_client.post("/products", json={"name": "Var", "type": "variable"}).json()
    variation = sandbox_client.post(f"/products/{parent['id']}/variations", json={"sku": "VAR-1"}).json()
    sandbox_client.delete(f"/products/{parent['id']}")
    sandbox_client.post("/orders", json={})
    sandbox_client.post("/customers", json={"email": "c@example.com"})
    sandbox_client.post("/coupons", json={"code": "x"})
    settle(sandbox_shop)
    by_topic: dict[str, list[dict]] = {}
    for headers, body in receiver.deliveries():
        by_topic.setdefault(headers["x-wc-webhook-topic"], []).append(json.loads(body))
    created = sorted(by_topic["product.created"], key=lambda item: item["id"])
    assert [item["id"] for item in created] == [parent["id"], variation["id"]]
    assert created[1]["type"] == "variation" and created[1]["parent_id"] == parent["id"]
    assert by_topic["product.deleted"] == [{"id": parent["id"]}]
    assert (
        len(by_topic["order.created"])
        == len(by_topic["customer.created"])
        == len(by_topic["coupon.created"])
        == 1
    )


def test_failures_are_not_retried_and_disable_the_webhook(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    webhook = hook(sandbox_client, receiver, "order.created")
    settle(sandbox_shop)
    receiver.status = 500
    for _ in range(6):
        sandbox_client.post("/orders", json={})
        settle(sandbox_shop)
    assert len(receiver.deliveries()) == 6
    assert sandbox_client.get(f"/webhooks/{webhook['id']}").json()["status"] == "active"
    sandbox_client.post("/orders", json={})
    settle(sandbox_shop)
    assert len(receiver.deliveries()) == 7
    assert sandbox_client.get(f"/webhooks/{webhook['id']}").json()["status"] == "disabled"
    sandbox_client.post("/orders", json={})
    settle(sandbox_shop)
    assert len(receiver.deliveries()) == 7


def test_success_resets_the_failure_count(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    webhook = hook(sandbox_client, receiver, "order.created")
    for status in [500] * 6 + [200] + [500] * 6:
        receiver.status = status
        sandbox_client.post("/orders", json={})
        settle(sandbox_shop)
    assert sandbox_client.get(f"/webhooks/{webhook['id']}").json()["status"] == "active"


def test_default_secret_is_the_consumer_secret(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    sandbox_client.post("/webhooks", json={"topic": "coupon.created", "delivery_url": receiver.url})
    sandbox_client.post("/coupons", json={"code": "signed"})
    settle(sandbox_shop)
    headers, body = receiver.deliveries()[0]
    secret = sandbox_shop.consumer_secret.encode()
    assert (
        headers["x-wc-webhook-signature"]
        == base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
    )


def test_invalid_topics_and_paused_webhooks(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    bad = sandbox_client.post("/webhooks", json={"topic": "order.exploded", "delivery_url": receiver.url})
    assert bad.status_code == 400 and bad.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    paused = hook(sandbox_client, receiver, "order.created", status="paused")
    sandbox_client.post("/orders", json={})
    settle(sandbox_shop)
    assert receiver.requests == []
    sandbox_client.put(f"/webhooks/{paused['id']}", json={"status": "active"})
    settle(sandbox_shop)
    assert receiver.requests[0][1] == f"webhook_id={paused['id']}".encode()
    assert sandbox_client.delete(f"/webhooks/{paused['id']}").status_code == 501
    assert sandbox_client.delete(f"/webhooks/{paused['id']}", params={"force": True}).status_code == 200


def test_restored_and_customer_deleted_topics(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    hook(sandbox_client, receiver, "order.restored")
    hook(sandbox_client, receiver, "customer.deleted")
    order = sandbox_client.post("/orders", json={}).json()
    sandbox_client.delete(f"/orders/{order['id']}")
    sandbox_client.put(f"/orders/{order['id']}", json={"status": "pending"})
    customer = sandbox_client.post("/customers", json={"email": "gone@example.com"}).json()
    sandbox_client.delete(f"/customers/{customer['id']}", params={"force": True})
    settle(sandbox_shop)
    bodies = {headers["x-wc-webhook-topic"]: json.loads(body) for headers, body in receiver.deliveries()}
    assert bodies["order.restored"]["id"] == order["id"] and bodies["order.restored"]["status"] == "pending"
    assert bodies["customer.deleted"] == {"id": customer["id"]}


def test_delivery_ids_are_per_webhook_and_second_and_delivery_can_wait(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    dispatcher = sandbox_shop.sandbox.webhooks
    assert dispatcher.delivery_id(1, 100.2) == dispatcher.delivery_id(1, 100.9)
    assert dispatcher.delivery_id(1, 100.9) != dispatcher.delivery_id(1, 101.0)
    assert dispatcher.delivery_id(1, 100.2) != dispatcher.delivery_id(2, 100.2)
    assert len(dispatcher.delivery_id(1)) == 32
    hook(sandbox_client, receiver, "coupon.created")
    dispatcher.delay = 0.6  # WooCommerce delivers from a later WP-Cron run
    started = time.monotonic()
    sandbox_client.post("/coupons", json={"code": "later"})
    while not receiver.deliveries() and time.monotonic() - started < 5:
        time.sleep(0.02)
    assert receiver.deliveries() and time.monotonic() - started >= 0.6
