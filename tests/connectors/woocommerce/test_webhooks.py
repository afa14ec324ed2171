"""WooCommerce webhook deliveries: signature check and the keys they name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

from emporion.connectors.woocommerce.webhooks import delivery, parse_webhook, sign, verify_webhook

PAYLOADS = Path("/work/shared/payloads/woocommerce")
SECRET = "whsec-test"


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = (PAYLOADS / "product-simple.json").read_bytes()
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert sign(body, SECRET) == expected
    assert verify_webhook(body, expected, SECRET)
    assert not verify_webhook(body + b" ", expected, SECRET)
    assert not verify_webhook(body, expected, "other")
    assert not verify_webhook(body, None, SECRET)
    assert not verify_webhook(body, expected, "")


def test_product_delivery_names_the_product() -> None:
    body = (PAYLOADS / "product-simple.json").read_bytes()
    hint = parse_webhook({"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Delivery-ID": "d1"}, body)
    assert hint is not None
    assert (hint.entity, hint.keys, hint.topic, hint.delivery_id) == (
        "product",
        ["794"],
        "product.updated",
        "d1",
    )


def test_variation_delivery_names_its_parent() -> None:
    body = json.dumps({"id": 732, "type": "variation", "parent_id": 799}).encode()
    hint = parse_webhook({"x-wc-webhook-topic": "product.updated"}, body)
    assert hint is not None and hint.keys == ["799"]


def test_deleted_delivery_carries_only_the_id() -> None:
    hint = parse_webhook({"x-wc-webhook-topic": "product.deleted"}, b'{"id": 12}')
    assert hint is not None and hint.keys == ["12"]


def test_ping_and_unknown_topics_give_nothing() -> None:
    assert parse_webhook({}, b"webhook_id=142") is None
    assert parse_webhook({"x-wc-webhook-topic": "product.updated"}, b"webhook_id=142") is None
    assert parse_webhook({"x-wc-webhook-topic": "action.woocommerce_something"}, b'{"id": 1}') is None


RECORDED = Path(__file__).parents[2] / "data" / "woocommerce-10.0.2" / "webhooks-order-updated.json"


def recorded_deliveries() -> tuple[str, list[tuple[dict[str, str], bytes]]]:
    """The recorded secret and the order deliveries (headers, raw body as signed), asynchronous mode."""
    data = json.loads(RECORDED.read_text())
    found = [
        (entry["headers"], entry["body_raw"].encode())
        for entry in data["deliveries_async"]
        if "X-WC-Webhook-Topic" in entry["headers"]
    ]
    return data["webhook_secret_used"], found


def test_two_orders_updated_in_one_second_are_two_deliveries_though_the_shop_gives_one_id() -> None:
    secret, deliveries = recorded_deliveries()
    assert len(deliveries) == 2
    (shop_id,) = {headers["X-WC-Webhook-Delivery-ID"] for headers, _ in deliveries}  # one id for both
    keys = []
    for headers, body in deliveries:
        assert verify_webhook(body, headers["X-WC-Webhook-Signature"], secret)
        hint = parse_webhook(headers, body)
        assert hint is not None and hint.entity == "order"
        key = delivery(headers, body).delivery_id
        assert key == f"{shop_id}/{hashlib.sha256(body).hexdigest()[:32]}"
        keys.append(key)
    assert keys[0] != keys[1]
    headers, body = deliveries[0]
    assert delivery(dict(headers), bytes(body)).delivery_id == keys[0]  # the same delivery again: one key


def test_one_order_changed_twice_in_one_second_is_two_deliveries() -> None:
    _, [(headers, body), _] = recorded_deliveries()
    changed = body.replace(b'"status":"', b'"status":"x', 1)
    assert changed != body
    assert delivery(headers, body).delivery_id != delivery(headers, changed).delivery_id


def test_a_delivery_without_an_id_is_known_by_its_body_hash() -> None:
    body = b'{"id": 12}'
    key = delivery({"X-WC-Webhook-Topic": "order.updated"}, body).delivery_id
    assert key == "sha256:" + hashlib.sha256(body).hexdigest()
