"""Order webhook deliveries: the ping is told apart, order bodies name the order, names tag the secret."""

from __future__ import annotations

from pathlib import Path

from emporion.connectors.woocommerce.webhooks import (
    ORDER_TOPICS,
    is_ping,
    parse_webhook,
    secret_tag,
    webhook_name,
)

PAYLOADS = Path("/work/shared/payloads/woocommerce")


def test_ping_is_recognised_and_names_nothing() -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4 Hookshot"}
    assert is_ping(headers, b"webhook_id=17")
    assert parse_webhook(headers, b"webhook_id=17") is None
    assert not is_ping(headers, b"webhook_id=abc")
    assert not is_ping(headers, b"webhook_id=17&x=1")
    assert not is_ping(headers, b'{"id": 17}')
    assert not is_ping(headers, b"\xff\xfe")
    assert not is_ping({"X-WC-Webhook-Topic": "order.created"}, b"webhook_id=17")


def test_order_delivery_names_the_order() -> None:
    body = (PAYLOADS / "order.json").read_bytes()
    for topic in ORDER_TOPICS:
        hint = parse_webhook({"x-wc-webhook-topic": topic, "X-WC-Webhook-Delivery-ID": "abc"}, body)
        assert hint is not None
        assert (hint.entity, hint.keys, hint.topic, hint.delivery_id) == ("order", ["727"], topic, "abc")
    deleted = parse_webhook({"X-WC-Webhook-Topic": "order.deleted"}, b'{"id":727}')
    assert deleted is not None and deleted.keys == ["727"]


def test_webhook_name_tags_the_secret_without_showing_it() -> None:
    name = webhook_name("order.updated", "s3cret-value", "install1")
    assert name == f"emporion order.updated @install1 #{secret_tag('s3cret-value')}" and "s3cret" not in name
    assert secret_tag("s3cret-value") != secret_tag("other") and len(secret_tag("x")) == 12
