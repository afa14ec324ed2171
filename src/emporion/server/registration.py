"""Registers emporion's webhooks in the shops (and re-activates those a shop disabled after failures)."""

from __future__ import annotations

from typing import Any

import anyio

from emporion.config import Settings
from emporion.connectors.base import ConnectorError
from emporion.engine.connections import ConnectorPool
from emporion.logs import get_logger
from emporion.server.ingress import webhook_connection
from emporion.server.secrets import WebhookSecrets

log = get_logger("emporion.server")
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted")
ENSURE_INTERVAL = 600.0  # WooCommerce disables a webhook after repeated failures: check again now and then
RETRY_INTERVAL = 30.0


def webhook_topics(settings: Settings, connection: str) -> list[str]:
    """The topics a connection's shop should send: orders when it is the source of an order flow."""
    topics: list[str] = []
    for flow in settings.flows:
        if flow.enabled and flow.source == connection and "order" in flow.entities:
            topics += [topic for topic in ORDER_TOPICS if topic not in topics]
    return topics


def delivery_url(settings: Settings, connection: str) -> str:
    """Where the shop of `connection` delivers: `<server.public_url>/webhooks/<connection>`."""
    if not settings.server.public_url:
        raise ValueError("server.public_url is not set: the shops cannot reach this server")
    return f"{settings.server.public_url.rstrip('/')}/webhooks/{connection}"


async def ensure_all(
    settings: Settings, pool: ConnectorPool, secrets: WebhookSecrets
) -> dict[str, list[int]]:
    """Make sure each connection taking webhooks has active ones for its topics; ids per connection."""
    registered: dict[str, list[int]] = {}
    for name in settings.connections:
        topics = webhook_topics(settings, name)
        if webhook_connection(settings, name) is None or not topics:
            continue
        connector: Any = pool.get(name)
        url = delivery_url(settings, name)
        registered[name] = list(await connector.ensure_webhooks(url, secrets.get(name), topics))
        log.info("webhooks registered", connection=name, topics=",".join(topics), ids=registered[name])
    return registered


async def keep_registered(
    settings: Settings, pool: ConnectorPool, secrets: WebhookSecrets, stop: anyio.Event
) -> None:
    """Register the webhooks now and again every few minutes; a shop that is down is retried sooner."""
    while not stop.is_set():
        delay = ENSURE_INTERVAL
        try:
            await ensure_all(settings, pool, secrets)
        except (ConnectorError, OSError) as error:
            delay = RETRY_INTERVAL
            log.warning("webhook registration failed", error=str(error), retry_in=delay)
        with anyio.move_on_after(delay):
            await stop.wait()
