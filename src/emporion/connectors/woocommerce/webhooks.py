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
from urllib.parse import parse_qs

from emporion.connectors.woocommerce.client import WooCommerceClient

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
CATALOGUE_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted")
CUSTOMER_TOPICS = ("customer.created", "customer.updated", "customer.deleted")
NAME_PREFIX = "emporion "

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


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a delivery is the activation ping: no topic header, a form body `webhook_id=<digits>`."""
    if header(headers, TOPIC_HEADER):
        return False
    try:
        form = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    values = form.get("webhook_id", [])
    return set(form) == {"webhook_id"} and len(values) == 1 and values[0].isdigit()


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


def secret_tag(secret: str) -> str:
    """A short one-way tag of a secret, kept in the webhook's name: WooCommerce never shows secrets back."""
    return hashlib.sha256(b"emporion-webhook:" + secret.encode()).hexdigest()[:12]


def webhook_name(topic: str, secret: str) -> str:
    """The name emporion gives its webhook for `topic` with `secret`."""
    return f"{NAME_PREFIX}{topic} #{secret_tag(secret)}"


def _ours(hook: dict[str, Any], topic: str, delivery_url: str) -> bool:
    return hook.get("topic") == topic and (
        hook.get("delivery_url") == delivery_url or str(hook.get("name") or "").startswith(NAME_PREFIX)
    )


async def ensure_webhooks(
    client: WooCommerceClient, delivery_url: str, secret: str, topics: Sequence[str] = CATALOGUE_TOPICS
) -> list[int]:
    """One active webhook per topic towards `delivery_url` with `secret`; their ids.

    A webhook of ours that is disabled or paused is re-activated, one whose URL or secret differs
    (the secret is known by the tag in its name) is updated in place, and a missing one is created.
    """
    existing = await client.get_all("webhooks")
    ids: list[int] = []
    name_of = {topic: webhook_name(topic, secret) for topic in topics}
    for topic in topics:
        candidates = [hook for hook in existing if _ours(hook, topic, delivery_url)]
        candidates.sort(
            key=lambda hook: (
                hook.get("delivery_url") != delivery_url,
                hook.get("name") != name_of[topic],
                hook.get("status") != "active",
            )
        )
        body = {"name": name_of[topic], "topic": topic, "delivery_url": delivery_url, "secret": secret}
        if not candidates:
            match = await client.post("webhooks", body)
        else:
            match = candidates[0]
            current = (match.get("delivery_url"), match.get("name"), match.get("status"))
            if current != (delivery_url, name_of[topic], "active"):
                update = {**body, "status": "active"}
                match = (await client.request("PUT", f"webhooks/{match['id']}", json=update)).json()
        ids.append(int(match["id"]))
    return ids
