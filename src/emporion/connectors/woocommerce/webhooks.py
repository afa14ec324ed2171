"""WooCommerce webhook deliveries: signature check (HMAC-SHA256, base64) and keys to re-read.

A delivery is a hint: it names the record that changed and the worker re-reads it through the API.
The creation ping is a form-encoded `webhook_id=<id>` body that only needs a 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emporion.connectors.woocommerce.client import WooCommerceClient

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
CATALOGUE_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")

_RESOURCE_ENTITIES = {"product": "product", "order": "order", "customer": "customer", "coupon": "coupon"}


@dataclass(frozen=True)
class WebhookHint:
    """What one delivery says changed: the entity, the keys to re-read, and the delivery id."""

    entity: str
    keys: list[str]
    topic: str
    delivery_id: str | None = None


def sign(body: bytes, secret: str) -> str:
    """The signature WooCommerce sends for `body`: base64(HMAC-SHA256(body, secret))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook(body: bytes, signature: str | None, secret: str) -> bool:
    """True when `signature` is WooCommerce's signature of the raw `body` (constant-time compare)."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_webhook(headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
    """The keys a delivery names, or None for the creation ping and topics emporion does not follow."""
    topic = header(headers, TOPIC_HEADER) or ""
    resource = topic.split(".", 1)[0]
    entity = _RESOURCE_ENTITIES.get(resource)
    if entity is None:
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None  # the ping is form-encoded
    if not isinstance(data, dict) or "id" not in data:
        return None
    # A variation's change concerns its product: re-read the parent.
    ident = data.get("parent_id") if data.get("type") == "variation" and data.get("parent_id") else data["id"]
    return WebhookHint(entity, [str(ident)], topic, header(headers, DELIVERY_HEADER))


async def ensure_webhooks(
    client: WooCommerceClient, delivery_url: str, secret: str, topics: Sequence[str] = CATALOGUE_TOPICS
) -> list[int]:
    """Create the missing active webhooks for `topics` towards `delivery_url`; return all their ids."""
    existing = await client.get_all("webhooks")
    ids: list[int] = []
    for topic in topics:
        match = next(
            (
                hook
                for hook in existing
                if hook.get("topic") == topic
                and hook.get("delivery_url") == delivery_url
                and hook.get("status") == "active"
            ),
            None,
        )
        if match is None:
            body = {
                "name": f"emporion {topic}",
                "topic": topic,
                "delivery_url": delivery_url,
                "secret": secret,
            }
            match = await client.post("webhooks", body)
        ids.append(int(match["id"]))
    return ids
