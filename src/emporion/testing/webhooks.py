"""Webhooks of the memory system: deliveries signed with HMAC-SHA256 of the raw body, and registration.

A delivery carries a topic (`<entity>.<event>`), a delivery id and the hex HMAC-SHA256 of its body
under the webhook's secret; its JSON body names the record (`{"key": "..."}`) to re-read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence

from emporion.connectors.base import Permanent
from emporion.connectors.roles import Delivery, WebhookHint
from emporion.testing.system import MemorySystem, Webhook

SIGNATURE_HEADER = "X-Memory-Signature"
TOPIC_HEADER = "X-Memory-Topic"
DELIVERY_HEADER = "X-Memory-Delivery"
PING_TOPIC = "ping"
EVENTS = ("created", "updated", "deleted")
FOLLOWED = frozenset({"category", "product", "customer", "order"})


def sign(body: bytes, secret: str) -> str:
    """The signature of `body` under `secret`: hex HMAC-SHA256."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether the delivery's signature is the HMAC of its raw body under `secret` (constant-time)."""
    signature = header(headers, SIGNATURE_HEADER)
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


def signed_delivery(
    entity: str, key: str, secret: str, event: str = "updated", delivery_id: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a delivery saying record `key` of `entity` changed, as the system sends it."""
    body = json.dumps({"key": key}).encode()
    headers = {
        TOPIC_HEADER: f"{entity}.{event}",
        DELIVERY_HEADER: delivery_id or uuid.uuid4().hex,
        SIGNATURE_HEADER: sign(body, secret),
    }
    return headers, body


def is_ping(headers: Mapping[str, str]) -> bool:
    """Whether a delivery is the activation ping sent when a webhook is registered."""
    return header(headers, TOPIC_HEADER) == PING_TOPIC


def delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """Id, topic and kept headers of a delivery (a body hash stands in for a missing id)."""
    topic = header(headers, TOPIC_HEADER) or ""
    ident = header(headers, DELIVERY_HEADER) or hashlib.sha256(body).hexdigest()
    return Delivery(ident, topic, {TOPIC_HEADER: topic, DELIVERY_HEADER: ident})


def parse(headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
    """The record a delivery names, or None for pings and topics nobody follows."""
    topic = header(headers, TOPIC_HEADER) or ""
    entity = topic.split(".", 1)[0]
    if entity not in FOLLOWED:
        return None
    where = f"{topic[:60]} delivery"
    try:
        data = json.loads(body)
    except ValueError:
        raise Permanent("delivery body is not JSON", record=where, field="body") from None
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        raise Permanent("delivery names no record", record=where, field="key")
    return WebhookHint(entity, [key], topic, header(headers, DELIVERY_HEADER))


def topics(entities: Sequence[str]) -> list[str]:
    """The topics a flow reading `entities` follows."""
    return [f"{entity}.{event}" for entity in entities if entity in FOLLOWED for event in EVENTS]


def secret_tag(secret: str) -> str:
    """A one-way tag of a secret: the system never shows a secret back, so states compare tags."""
    return hashlib.sha256(b"memory-webhook:" + secret.encode()).hexdigest()[:12]


def ensure(
    system: MemorySystem, url: str, secret: str, wanted: Sequence[str], installation: str
) -> list[str]:
    """One active webhook of `installation` per topic towards `url` with `secret` (made, re-activated
    or updated); other installations' webhooks are left alone."""
    ids = []
    for topic in wanted:
        hook = system.webhooks.get((installation, topic))
        if hook is None:
            hook = Webhook(id=system.new_key(), topic=topic, url=url, secret_tag=secret_tag(secret))
            system.webhooks[installation, topic] = hook
        hook.url, hook.secret_tag, hook.status = url, secret_tag(secret), "active"
        ids.append(hook.id)
    return ids


def states(
    system: MemorySystem, url: str, secret: str, wanted: Sequence[str], installation: str
) -> dict[str, str]:
    """Per topic, the webhook of `installation`: active, disabled or paused as the system says, missing,
    or outdated (URL or secret)."""
    found: dict[str, str] = {}
    for topic in wanted:
        hook = system.webhooks.get((installation, topic))
        if hook is None:
            found[topic] = "missing"
        elif hook.status != "active":
            found[topic] = hook.status
        elif (hook.url, hook.secret_tag) != (url, secret_tag(secret)):
            found[topic] = "outdated"
        else:
            found[topic] = "active"
    return found
