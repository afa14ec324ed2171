"""WooCommerce webhook deliveries: signature check and the keys they name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

from emporion.connectors.woocommerce.webhooks import parse_webhook, sign, verify_webhook

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
