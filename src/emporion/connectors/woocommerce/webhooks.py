"""WooCommerce webhook deliveries: signature check (HMAC-SHA256, base64), delivery ids, keys to re-read.

A delivery is a hint: it names the record that changed and the worker re-reads it through the API,
in edit context. Its body is never mapped: WooCommerce builds it as a GET in view context shows the
record (descriptions rendered to HTML, `&` as `&amp;`), which is not what was written.
The creation ping is a form-encoded `webhook_id=<id>` body that only needs a 200.

WooCommerce's `X-WC-Webhook-Delivery-ID` is `wp_hash(webhook id . time())`: every delivery of one
webhook within one second carries the same id, whatever order it is about. A delivery is therefore
known by that id together with a hash of its body (`<id>/<32 hex>`; the body names topic, record
and modification time): two orders updated in one second are two deliveries, and the same body sent
again is one. A delivery without an id is known by the SHA-256 of its body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emporion.connectors.base import Permanent
from emporion.connectors.roles import Delivery, WebhookHint
from emporion.connectors.woocommerce.client import WooCommerceClient

log = logging.getLogger("emporion.woocommerce")
# WordPress sends webhooks with wp_safe_remote_post: other ports fail every delivery with "A valid
# URL was not provided." (seen on WooCommerce 10.0.2; a site can widen it: filter http_allowed_safe_ports)
SAFE_PORTS = (80, 443, 8080)

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
KEPT_HEADER_PREFIX = "x-wc-"
CATALOGUE_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted")
CUSTOMER_TOPICS = ("customer.created", "customer.updated", "customer.deleted")
NAME_PREFIX = "emporion "
_INSTALLATION_IN_NAME = re.compile(r"emporion \S+ @([0-9A-Za-z_-]{1,64})(?: #[0-9a-f]+)?$")

_RESOURCE_ENTITIES = {"product": "product", "order": "order", "customer": "customer", "coupon": "coupon"}


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


def topic_of(headers: Mapping[str, str]) -> str:
    """The topic a delivery's headers name (`order.created`), "" for the ping and strangers."""
    return header(headers, TOPIC_HEADER) or ""


def topics_for(entities: Sequence[str]) -> list[str]:
    """The topics a shop sends for flows reading `entities` from it: orders for an order flow, customers
    for a customer flow (`customer.deleted` comes only for users of the role customer: the feed finds
    the others)."""
    topics = list(ORDER_TOPICS) if "order" in entities else []
    return topics + list(CUSTOMER_TOPICS) if "customer" in entities else topics


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The X-WC-* headers worth keeping with a delivery (the signature is checked, not stored)."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith(KEPT_HEADER_PREFIX) and lowered != SIGNATURE_HEADER.lower():
            kept[lowered] = value
    return kept


def delivery_key(headers: Mapping[str, str], body: bytes) -> str:
    """What a delivery is known by: the shop's delivery id and a hash of the body it carries.

    `sha256:<body hash>` when the shop sent no id. The shop's id alone is not unique (see above);
    the hash tells apart the orders (and changes) one id covers, and names nothing from the body.
    """
    digest = hashlib.sha256(body).hexdigest()
    shop_id = (header(headers, DELIVERY_HEADER) or "").strip()
    return f"{shop_id[:128]}/{digest[:32]}" if shop_id else "sha256:" + digest


def delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """A delivery's key (see `delivery_key`), topic and kept headers (the shop's own id among them)."""
    return Delivery(delivery_key(headers, body), topic_of(headers), kept_headers(headers))


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a delivery is the activation ping: no topic header, a form body `webhook_id=<digits>`."""
    return not header(headers, TOPIC_HEADER) and is_ping_body(body)


def is_ping_body(body: bytes) -> bool:
    """Whether a body is the ping's form `webhook_id=<digits>`."""
    try:
        form = parse_qs(body.decode("ascii").strip(), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    values = form.get("webhook_id", [])
    return set(form) == {"webhook_id"} and len(values) == 1 and values[0].isdigit()


def parse_webhook(headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
    """The keys a delivery names, or None for the creation ping and topics emporion does not follow.

    A delivery of a followed topic that names no record raises Permanent (the inbox logs and drops it).
    """
    topic = topic_of(headers)
    resource = topic.split(".", 1)[0]
    entity = _RESOURCE_ENTITIES.get(resource)
    if entity is None:
        return None
    if is_ping_body(body):
        return None
    label = f"{topic[:100]} delivery"
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        raise Permanent("delivery body is not JSON", record=label, field="body") from None
    if not isinstance(data, dict):
        raise Permanent("delivery body is not a JSON object", record=label, field="body")
    # A variation's change concerns its product: re-read the parent.
    variation = data.get("type") == "variation" and data.get("parent_id")
    field = "parent_id" if variation else "id"
    ident = record_id(data.get(field))
    if ident is None:
        raise Permanent("delivery names no record id", record=label, field=field)
    return WebhookHint(entity, [ident], topic, header(headers, DELIVERY_HEADER))


def record_id(value: Any) -> str | None:
    """A WooCommerce record id (a positive whole number, or its digits) as a string, else None."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) <= 0:
        return None
    return str(int(text))


def secret_tag(secret: str) -> str:
    """A short one-way tag of a secret, kept in the webhook's name: WooCommerce never shows secrets back."""
    return hashlib.sha256(b"emporion-webhook:" + secret.encode()).hexdigest()[:12]


def webhook_name(topic: str, secret: str, installation: str) -> str:
    """The name emporion gives its webhook for `topic`: the installation's id and a tag of `secret`."""
    return f"{NAME_PREFIX}{topic} @{installation} #{secret_tag(secret)}"


def installation_of(name: str) -> str | None:
    """The installation id an emporion webhook's name carries; None for older names and other hooks."""
    found = _INSTALLATION_IN_NAME.match(name)
    return found.group(1) if found else None


def _ours(hook: dict[str, Any], topic: str, delivery_url: str, installation: str) -> bool:
    """Whether `hook` is this installation's webhook for `topic`.

    A name carrying an installation id decides: ours only with our id. A webhook without one (named
    before installations had ids, or made by hand) is taken when it delivers to our own URL, and then
    renamed with our id, so it is adopted once and no other installation takes it afterwards.
    """
    if hook.get("topic") != topic:
        return False
    owner = installation_of(str(hook.get("name") or ""))
    return owner == installation if owner is not None else hook.get("delivery_url") == delivery_url


def _best(
    existing: list[dict[str, Any]], topic: str, delivery_url: str, name: str, installation: str
) -> dict[str, Any] | None:
    """Our webhook for `topic`: the right URL first, then the right name (secret), then active."""
    candidates = [hook for hook in existing if _ours(hook, topic, delivery_url, installation)]
    candidates.sort(
        key=lambda hook: (
            hook.get("delivery_url") != delivery_url,
            hook.get("name") != name,
            hook.get("status") != "active",
        )
    )
    return candidates[0] if candidates else None


async def webhook_states(
    client: WooCommerceClient, delivery_url: str, secret: str, topics: Sequence[str], installation: str
) -> dict[str, str]:
    """Per topic, the state of our webhook: active, disabled, paused, missing, or outdated (URL/secret)."""
    existing = await client.get_all("webhooks")
    states: dict[str, str] = {}
    for topic in topics:
        name = webhook_name(topic, secret, installation)
        hook = _best(existing, topic, delivery_url, name, installation)
        if hook is None:
            states[topic] = "missing"
        elif hook.get("status") != "active":
            states[topic] = str(hook.get("status") or "unknown")
        elif (hook.get("delivery_url"), hook.get("name")) != (delivery_url, name):
            states[topic] = "outdated"
        else:
            states[topic] = "active"
    return states


async def ensure_webhooks(
    client: WooCommerceClient,
    delivery_url: str,
    secret: str,
    topics: Sequence[str],
    installation: str,
) -> list[str]:
    """One active webhook of this installation per topic towards `delivery_url` with `secret`; their ids.

    A webhook of ours that is disabled or paused is re-activated, one whose URL or secret differs
    (the secret is known by the tag in its name) is updated in place, and a missing one is created.
    Another installation's webhooks are left as they are.
    """
    port = delivery_port(delivery_url)
    if port not in SAFE_PORTS:
        log.warning(
            "WordPress delivers webhooks only to ports 80, 443 and 8080 unless the site allows more"
            " (filter http_allowed_safe_ports): deliveries to port %s will fail; serve emporion's"
            " public_url on one of them (a reverse proxy)",
            port,
        )
    existing = await client.get_all("webhooks")
    ids: list[str] = []
    for topic in topics:
        name = webhook_name(topic, secret, installation)
        found = _best(existing, topic, delivery_url, name, installation)
        body = {"name": name, "topic": topic, "delivery_url": delivery_url, "secret": secret}
        if found is None:
            match = await client.post("webhooks", body)
        else:
            match = found
            current = (match.get("delivery_url"), match.get("name"), match.get("status"))
            if current != (delivery_url, name, "active"):
                update = {**body, "status": "active"}
                match = (await client.request("PUT", f"webhooks/{match['id']}", json=update)).json()
        ids.append(str(int(match["id"])))
    return ids


def delivery_port(url: str) -> int | None:
    """The port a delivery URL names or implies (None: not a URL WordPress could call)."""
    parts = urlsplit(url)
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
