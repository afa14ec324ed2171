"""Turns webhook deliveries kept in the inbox into work items: a delivery names what to re-read.

At-least-once: the work is queued before the delivery is marked processed, so a crash in between
queues it again, which the work queue coalesces. What each delivery named is told to the engine's
`WebhookPulse`, which slows the polls of feeds whose webhooks deliver (see pacing.py).
"""

from __future__ import annotations

from collections import defaultdict

import anyio

from emporion.config import Settings
from emporion.connectors.roles import WebhookHint, WebhookSource
from emporion.engine.connections import ConnectorPool
from emporion.engine.pacing import WebhookPulse
from emporion.logs import CORRELATION_HEADER, get_logger
from emporion.state import InboxDelivery, StateStore

log = get_logger("emporion.inbox")
POLL_SECONDS = 0.5
LEASE_SECONDS = 60.0


class InboxProcessor:
    """Claims inbox deliveries, asks the source connector what they name, and queues it for each flow."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        pool: ConnectorPool,
        worker: str = "inbox",
        *,
        pulse: WebhookPulse | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.pool = pool
        self.worker = worker
        self.pulse = pulse or WebhookPulse()

    def flows_for(self, source: str, entity: str) -> list[str]:
        """Enabled flows that read `entity` from the connection `source`."""
        return [
            flow.name
            for flow in self.settings.flows
            if flow.enabled and flow.source == source and entity in flow.entities
        ]

    def hint(self, delivery: InboxDelivery) -> WebhookHint | None:
        """The connector's reading of a delivery (entity and keys), or None when it names nothing to do."""
        if delivery.source not in self.settings.connections:
            log.warning("delivery for an unknown connection", connection=delivery.source)
            return None
        source = self.pool.get(delivery.source)
        if not isinstance(source, WebhookSource):
            return None
        headers = {name: str(value) for name, value in delivery.headers.items()}
        try:
            return source.parse_webhook(headers, delivery.body)
        except Exception as error:  # an undecodable body must not block the inbox
            log.warning(
                "undecodable delivery",
                connection=delivery.source,
                delivery_id=delivery.delivery_id,
                error=type(error).__name__,
            )
            return None

    async def process_once(self, limit: int = 100) -> int:
        """Queue the work of up to `limit` deliveries, then mark them processed; returns how many."""
        deliveries = await self.store.inbox_claim(
            worker=self.worker, limit=limit, lease_seconds=LEASE_SECONDS
        )
        if not deliveries:
            return 0
        wanted: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for delivery in deliveries:
            correlation = str(delivery.headers.get(CORRELATION_HEADER, ""))
            hint = self.hint(delivery)
            if hint is None:  # a ping, a topic nobody follows, or a body that cannot be read: done
                log.info(
                    "delivery ignored",
                    connection=delivery.source,
                    topic=delivery.topic,
                    delivery_id=delivery.delivery_id,
                )
                continue
            self.pulse.delivered(delivery.source, hint.entity, [str(key) for key in hint.keys])
            flows = self.flows_for(delivery.source, hint.entity)
            for flow in flows:
                wanted[(flow, hint.entity, correlation)].update(str(key) for key in hint.keys)
            log.debug(
                "delivery read",
                connection=delivery.source,
                topic=delivery.topic,
                delivery_id=delivery.delivery_id,
                flows=",".join(flows) or "none",
                correlation_id=correlation or None,
            )
        for (flow, entity, correlation), keys in sorted(wanted.items()):
            await self.store.enqueue(
                flow, entity, sorted(keys), reason="webhook", correlation_id=correlation or None
            )
        await self.store.inbox_mark_processed([delivery.id for delivery in deliveries])
        return len(deliveries)

    async def run(self, stop: anyio.Event) -> None:
        """Process the inbox until `stop` is set, sleeping briefly whenever it is empty."""
        failures = 0
        while not stop.is_set():
            try:
                handled = await self.process_once()
                failures = 0
            except Exception as error:  # the state database may be away for a moment: leases expire
                failures += 1
                handled = 0
                log.warning("inbox processing failed", error=type(error).__name__, failures=failures)
            if not handled:
                with anyio.move_on_after(POLL_SECONDS * min(failures + 1, 10)):
                    await stop.wait()
