"""A described shop's webhooks: signatures (HMAC per `Signature`), topics, deliveries and registration.

The signature is an HMAC over `signed` (`{body}`, or e.g. `{timestamp}.{body}` with the timestamp
header's value), hex or base64, after an optional prefix, compared in constant time; a timestamp
older (or newer) than the tolerance is refused, so an old delivery cannot be replayed. A delivery is
known by the shop's delivery id and a hash of its body, else by the hash of topic and body.

Registration: this installation's webhooks carry its id and a tag of the secret in the delivery URL
(`?emporion=<installation>.<tag>`), so another installation's webhooks are never taken, and a webhook
registered with another secret reads as outdated. A shop without a `subscribe` call is polled:
`ensure_webhooks` returns nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest import mapping
from emporion.connectors.rest.settings import WebhookSettings
from emporion.connectors.roles import Delivery, WebhookHint

if TYPE_CHECKING:
    from emporion.connectors.rest.client import RestClient
    from emporion.connectors.rest.settings import RestConnection

MARK = "emporion"


def header(headers: Mapping[str, str], name: str | None) -> str | None:
    """A header value by case-insensitive name."""
    if not name:
        return None
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def signature_of(hooks: WebhookSettings, headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """The signature the shop sends for this delivery with `secret` (None: no timestamp to sign)."""
    sign = hooks.signature
    signed = body
    if "{timestamp}" in sign.signed:
        stamp = header(headers, sign.timestamp_header)
        if stamp is None:
            return None
        before, _, after = sign.signed.partition("{body}")
        signed = (
            before.replace("{timestamp}", stamp).encode()
            + body
            + after.replace("{timestamp}", stamp).encode()
        )
    elif sign.signed != "{body}":
        before, _, after = sign.signed.partition("{body}")
        signed = before.encode() + body + after.encode()
    digest = hmac.new(secret.encode(), signed, sign.algorithm).digest()
    text = digest.hex() if sign.encoding == "hex" else base64.b64encode(digest).decode()
    return sign.prefix + text


def fresh(hooks: WebhookSettings, headers: Mapping[str, str], now: float | None = None) -> bool:
    """Whether the delivery's timestamp (if the shop signs one) is within the tolerance."""
    sign = hooks.signature
    if not sign.timestamp_header:
        return True
    stamp = header(headers, sign.timestamp_header)
    try:
        moment = float(stamp or "")
    except ValueError:
        return False
    moment = moment / 1000 if moment > 1e11 else moment  # milliseconds
    return abs((now or time.time()) - moment) <= sign.tolerance_seconds


def secret_tag(secret: str) -> str:
    """A short tag of the secret that tells an outdated registration apart (the secret itself never)."""
    return hashlib.sha256(b"emporion-webhook\x1f" + secret.encode()).hexdigest()[:12]


def marked_url(delivery_url: str, installation: str, secret: str) -> str:
    """The delivery URL this installation registers: its id and the secret's tag in the query."""
    joiner = "&" if "?" in delivery_url else "?"
    return f"{delivery_url}{joiner}{MARK}={installation}.{secret_tag(secret)}"


class WebhookMixin:
    """The WebhookSource role of the declarative connector."""

    name: str
    settings: RestConnection
    client: RestClient

    def _hooks(self) -> WebhookSettings:
        if self.settings.webhooks is None:
            raise Permanent(f"the connection {self.name} takes no webhooks", field="webhooks")
        return self.settings.webhooks

    def webhook_topics(self, entities: Sequence[str]) -> list[str]:
        """The topics that announce changes of `entities`."""
        topics = self.settings.webhooks.topics if self.settings.webhooks else {}
        return [topic for entity in entities for topic in topics.get(entity, [])]

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """The topic the headers name ("" if none or when the topic travels in the body)."""
        hooks = self.settings.webhooks
        return (header(headers, hooks.topic_header) or "") if hooks else ""

    def _topic(self, headers: Mapping[str, str], body: bytes) -> str:
        hooks = self._hooks()
        if hooks.topic_header:
            return header(headers, hooks.topic_header) or ""
        if hooks.topic:
            value = mapping.value_at(_json(body), hooks.topic)
            return "" if value is None else str(value)
        return ""

    def is_ping(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a delivery is the shop's test ping (its topic is the `webhook_ping_topic` option)."""
        ping = self.settings.options.get("webhook_ping_topic")
        return bool(ping) and self._topic(headers, body) == ping

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether the delivery carries the shop's signature of its raw body with `secret`, in time."""
        hooks = self.settings.webhooks
        if hooks is None or not secret:
            return False
        given = header(headers, hooks.signature.header)
        expected = signature_of(hooks, headers, body, secret)
        if not given or expected is None or not fresh(hooks, headers):
            return False
        return hmac.compare_digest(expected.strip().encode(), given.strip().encode())

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        """The delivery id (the shop's id and a body hash, else a hash of topic and body), topic, headers."""
        hooks = self._hooks()
        topic = self._topic(headers, body)
        digest = hashlib.sha256(topic.encode() + b"\x1f" + body).hexdigest()[:32]
        shop_id = (header(headers, hooks.delivery_header) or "").strip()
        ident = f"{shop_id[:128]}/{digest}" if shop_id else f"sha256:{digest}"
        names = {hooks.topic_header, hooks.delivery_header, hooks.signature.timestamp_header} - {None}
        kept = {
            name.lower(): value
            for name, value in headers.items()
            if name.lower() in {n.lower() for n in names if n}
        }
        return Delivery(ident, topic, kept)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
        """The entity and key a delivery names, None for topics nobody follows and pings."""
        hooks = self._hooks()
        topic = self._topic(headers, body)
        entity = next((name for name, topics in hooks.topics.items() if topic in topics), None)
        if entity is None or self.is_ping(headers, body):
            return None
        key = mapping.value_at(_json(body), hooks.key)
        if key is None or str(key) == "":
            raise Permanent("the delivery names no record", record=f"{topic[:100]} delivery", field="key")
        return WebhookHint(entity, [str(key)], topic, self.delivery(headers, body).delivery_id)

    async def _registered(self) -> list[tuple[str, str, str]]:
        """(id, url, topic) of every webhook the shop lists."""
        hooks = self._hooks()
        if hooks.subscriptions is None:
            return []
        answer = await self.client.call(
            hooks.subscriptions, {"option": dict(self.settings.options)}, read=True
        )
        items = (
            mapping.value_at(answer.body, hooks.subscriptions.items)
            if hooks.subscriptions.items
            else answer.body
        )
        found = []
        for item in items if isinstance(items, list) else []:
            url, topic = (
                mapping.value_at(item, hooks.subscription_url),
                mapping.value_at(item, hooks.subscription_topic),
            )
            found.append((str(mapping.value_at(item, "$.id")), str(url or ""), str(topic or "")))
        return found

    async def ensure_webhooks(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> list[str]:
        """One webhook of this installation per topic with this URL and secret; their ids ([] when polled)."""
        hooks = self._hooks()
        if hooks.subscribe is None:
            return []
        url = marked_url(delivery_url, installation, secret)
        existing = await self._registered()
        ids = []
        for topic in topics:
            match = next((ident for ident, at, named in existing if at == url and named == topic), None)
            if match is None:
                values = {"url": url, "topic": topic, "secret": secret, "option": dict(self.settings.options)}
                answer = await self.client.call(hooks.subscribe, values, record=f"webhook {topic}")
                made = (
                    mapping.value_at(answer.body, hooks.subscribe.result)
                    if hooks.subscribe.result
                    else answer.body
                )
                match = str(mapping.value_at(made, "$.id"))
            ids.append(match)
        return ids

    async def webhook_states(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> dict[str, str]:
        """Per topic: active (ours, this URL and secret), outdated (ours, another), or missing."""
        url = marked_url(delivery_url, installation, secret)
        mine = f"{MARK}={installation}."
        existing = await self._registered()
        states = {}
        for topic in topics:
            ours = [at for _, at, named in existing if named == topic and mine in at]
            states[topic] = "active" if url in ours else "outdated" if ours else "missing"
        return states


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Permanent("the delivery body is not JSON", field="body") from None
