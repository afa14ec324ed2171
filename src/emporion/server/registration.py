"""Registers emporion's webhooks in the systems that send them and keeps them healthy.

A system may disable a webhook after repeated delivery failures, and a person may delete one. Every
`alerts.webhook_check_interval` seconds each connection's webhooks are checked; one found disabled,
paused or missing is re-registered (re-activated), the deliveries missed meanwhile are caught up by
polling the connection's feeds and re-checking its open orders, and a WEBHOOK_DISABLED alert goes out.
Which topics a connection needs is its connector's answer for the entities its flows read from it.

Each installation (one state database) has its own id (`StateStore.installation_id`), and its webhooks
carry it: a second installation pointed at the same shop registers its own webhooks and never takes,
moves or re-keys the first one's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import anyio

from emporion.alerts import Alert, AlertKind, AlertSink, LogAlerts
from emporion.config import Settings
from emporion.connectors.base import ConnectorError
from emporion.connectors.roles import WebhookSource
from emporion.engine.connections import ConnectorPool
from emporion.logs import get_logger
from emporion.server.ingress import webhook_source
from emporion.server.secrets import WebhookSecrets

log = get_logger("emporion.server")
RETRY_INTERVAL = 30.0
BROKEN = ("disabled", "paused", "missing")
CatchUp = Callable[[str], Awaitable[int]]  # poll a connection's flows now; returns how many were queued


def read_entities(settings: Settings, connection: str) -> list[str]:
    """The entities the enabled flows read from `connection`, each once, in the order flows name them."""
    entities: list[str] = []
    for flow in settings.flows:
        if flow.enabled and flow.source == connection:
            entities += [entity for entity in flow.entities if entity not in entities]
    return entities


def webhook_topics(settings: Settings, source: WebhookSource, connection: str) -> list[str]:
    """The topics `connection` should send: its connector's for the entities its flows read from it."""
    entities = read_entities(settings, connection)
    return source.webhook_topics(entities) if entities else []


def webhook_sources(
    settings: Settings, pool: ConnectorPool
) -> Iterator[tuple[str, WebhookSource, list[str]]]:
    """Each connection taking webhooks that has topics to register: name, connector and topics."""
    for name in settings.connections:
        source = webhook_source(settings, pool, name)
        topics = webhook_topics(settings, source, name) if source is not None else []
        if source is not None and topics:
            yield name, source, topics


def delivery_url(settings: Settings, connection: str) -> str:
    """Where the system of `connection` delivers: `<server.public_url>/webhooks/<connection>`."""
    if not settings.server.public_url:
        raise ValueError("server.public_url is not set: the connections cannot reach this server")
    return f"{settings.server.public_url.rstrip('/')}/webhooks/{connection}"


async def ensure_all(
    settings: Settings, pool: ConnectorPool, secrets: WebhookSecrets, installation: str
) -> dict[str, list[str]]:
    """Make sure each connection taking webhooks has active ones of `installation` for its topics."""
    registered: dict[str, list[str]] = {}
    for name, source, topics in webhook_sources(settings, pool):
        url = delivery_url(settings, name)
        ids = await source.ensure_webhooks(url, secrets.get(name), topics, installation=installation)
        registered[name] = list(ids)
        log.info("webhooks registered", connection=name, topics=",".join(topics), ids=registered[name])
    return registered


async def repair_all(
    settings: Settings,
    pool: ConnectorPool,
    secrets: WebhookSecrets,
    installation: str,
    *,
    first: bool = False,
) -> dict[str, dict[str, str]]:
    """Check every connection's webhooks and re-register what is not right.

    Returns, per connection, the topics whose webhook was broken (disabled, paused, missing) and
    their state before the repair. On the `first` check a missing webhook is the first registration,
    not news; one whose URL or secret changed is updated without an alert.
    """
    repaired: dict[str, dict[str, str]] = {}
    for name, source, topics in webhook_sources(settings, pool):
        url, secret = delivery_url(settings, name), secrets.get(name)
        states = await source.webhook_states(url, secret, topics, installation=installation)
        if all(state == "active" for state in states.values()):
            continue
        ids = await source.ensure_webhooks(url, secret, topics, installation=installation)
        log.info("webhooks registered", connection=name, topics=",".join(topics), ids=ids)
        broken = {
            topic: state
            for topic, state in states.items()
            if state in BROKEN and not (first and state == "missing")
        }
        if broken:
            repaired[name] = broken
    return repaired


async def after_repair(
    connection: str, broken: dict[str, str], alerts: AlertSink, catch_up: CatchUp | None
) -> None:
    """Catch up what the broken webhooks did not deliver, then tell a person."""
    queued: int | None = None
    if catch_up is not None:
        try:
            queued = await catch_up(connection)
        except ConnectorError as error:
            log.warning("catch-up poll failed", connection=connection, error=str(error))
    found = ", ".join(f"{topic} {state}" for topic, state in sorted(broken.items()))
    caught = (
        f"; caught up by polling ({queued} records queued)"
        if queued is not None
        else "; the change feeds catch up what was missed"
    )
    log.warning("webhooks were broken and are registered again", connection=connection, found=found)
    await alerts.notify(
        Alert(
            AlertKind.WEBHOOK_DISABLED,
            connection,
            f"the shop of connection {connection} had webhooks not delivering ({found}); "
            f"they are registered again{caught}",
            details={"webhooks": broken, **({"queued": queued} if queued is not None else {})},
        )
    )


async def keep_registered(
    settings: Settings,
    pool: ConnectorPool,
    secrets: WebhookSecrets,
    installation: str,
    stop: anyio.Event,
    *,
    alerts: AlertSink | None = None,
    catch_up: CatchUp | None = None,
) -> None:
    """Register the webhooks now, then check and repair them every few minutes until `stop`.

    A shop that is down is retried sooner. Repairs are caught up with `catch_up` and alerted.
    """
    sink = alerts or LogAlerts()
    first = True
    while not stop.is_set():
        delay = settings.alerts.webhook_check_interval
        try:
            repaired = await repair_all(settings, pool, secrets, installation, first=first)
            first = False
            for name, broken in repaired.items():
                await after_repair(name, broken, sink, catch_up)
        except (ConnectorError, OSError) as error:
            delay = min(delay, RETRY_INTERVAL)
            log.warning("webhook registration failed", error=str(error), retry_in=delay)
        with anyio.move_on_after(delay):
            await stop.wait()
