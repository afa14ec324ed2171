"""The running engine: change feeds fill the work queue, workers drain it into the targets."""

from __future__ import annotations

import os
import socket
from collections import Counter
from typing import TYPE_CHECKING

import anyio

from emporion.config import FlowSettings, Settings
from emporion.connectors.base import ConnectorError, Permanent, Retryable
from emporion.engine.connections import ConnectorPool
from emporion.engine.flow import FlowRunner
from emporion.engine.order_flow import OrderFlow
from emporion.engine.retry import backoff
from emporion.engine.sync import sync_flow
from emporion.logs import get_logger
from emporion.state import StateStore, WorkItem

if TYPE_CHECKING:
    from emporion.server.secrets import WebhookSecrets

log = get_logger("emporion.engine")
LEASE_SECONDS = 120.0
IDLE_SECONDS = 0.25


def worker_id() -> str:
    """A name for this worker that is unique across machines and processes."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Engine:
    """Runs the flows of one configuration against one state database."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        pool: ConnectorPool | None = None,
        worker: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.pool = pool or ConnectorPool(settings)
        self.worker = worker or worker_id()
        self.runners: dict[str, FlowRunner] = {}
        self.order_flows: dict[str, OrderFlow] = {}
        for flow in settings.flows:
            if not flow.enabled:
                continue
            source, target = self.pool.get(flow.source), self.pool.get(flow.target)
            if "order" in flow.entities:
                self.order_flows[flow.name] = OrderFlow(flow, source, target, store, self.worker)
            else:
                self.runners[flow.name] = FlowRunner(flow, source, target, store)
        self.processed: Counter[str] = Counter()

    async def ensure_initial_sync(self) -> None:
        """A flow that has never run starts with a full sync, so that nothing before its feed is missed."""
        for order_flow in self.order_flows.values():
            await self._start_order_flow(order_flow)
        for runner in self.runners.values():
            flow = runner.flow
            cursors = [await self.store.get_cursor(flow.name, entity) for entity in flow.entities]
            if any(cursor is None for cursor in cursors):
                log.info("initial sync", flow=flow.name)
                report = await sync_flow(runner)
                for entity in report.entities:
                    log.info("initial sync done", flow=flow.name, entity=entity.entity, **dict(entity.counts))

    async def _start_order_flow(self, order_flow: OrderFlow) -> None:
        """Orders are never bulk-imported: feeds start now, and the sliding window catches recent ones."""
        flow = order_flow.flow
        for entity, connector, connector_entity in order_flow.feeds():
            if await self.store.get_cursor(flow.name, entity) is None:
                start = await connector.changes(connector_entity, None)
                await self.store.enqueue(flow.name, entity, [], cursor=start.cursor)
                if entity == "order":
                    queued = await order_flow.reconcile_window()
                    log.info("order flow started", flow=flow.name, recent_orders=queued)

    def flow_runner(self, name: str) -> FlowRunner | OrderFlow:
        """The runner of a flow, whatever its kind."""
        return self.order_flows.get(name) or self.runners[name]

    def queue_entities(self, flow: FlowSettings) -> list[str]:
        """The work-queue entities of a flow, in the order they are worked."""
        return [entity for entity, _, _ in self.flow_runner(flow.name).feeds()]

    async def poll(self, flow: FlowSettings) -> int:
        """Ask the source what changed and queue it; the cursor moves in the same transaction."""
        runner = self.flow_runner(flow.name)
        queued = 0
        for entity, connector, connector_entity in runner.feeds():
            cursor = await self.store.get_cursor(flow.name, entity)
            while True:
                batch = await connector.changes(connector_entity, cursor)
                if batch.keys or batch.cursor != cursor:
                    await self.store.enqueue(
                        flow.name, entity, batch.keys, reason="change", cursor=batch.cursor
                    )
                queued += len(batch.keys)
                cursor = batch.cursor
                if not batch.more:
                    break
        return queued

    async def work(self, flow: FlowSettings) -> int:
        """Claim one batch per entity (categories first) and sync it; returns how many items were handled."""
        runner = self.flow_runner(flow.name)
        handled = 0
        for entity in self.queue_entities(flow):
            items = await self.store.claim(
                flow.name, entity, worker=self.worker, limit=flow.batch_size, lease_seconds=LEASE_SECONDS
            )
            if items:
                await self._process(runner, entity, items)
                handled += len(items)
        return handled

    async def _process(self, runner: FlowRunner | OrderFlow, entity: str, items: list[WorkItem]) -> None:
        reasons = ",".join(sorted({item.reason for item in items}))
        try:
            result = await runner.sync_keys(entity, [item.key for item in items], reason=reasons)
        except (Retryable, Permanent, ConnectorError) as error:
            # the whole batch failed (system down, credentials refused): retry it later, lose nothing
            after = getattr(error, "after", None)
            log.warning("batch failed, will retry", flow=runner.flow.name, entity=entity, error=str(error))
            await self.store.finish(
                [], retry=[(item, str(error), backoff(item.attempts, after)) for item in items]
            )
            return
        by_key = {item.key: item for item in items}
        retry = [
            (by_key[key], reason, backoff(by_key[key].attempts, after)) for key, reason, after in result.retry
        ]
        dead_keys = {dead.key for dead in result.dead}
        retry_keys = {key for key, _, _ in result.retry}
        done = [item for item in items if item.key not in dead_keys | retry_keys]
        await self.store.finish(
            done, links=result.links, journal=result.journal, dead=result.dead, retry=retry
        )
        self.processed.update(result.counts)
        if result.reserved_skus:
            await self.resend_stock(result.reserved_skus)
        written = {k: v for k, v in result.counts.items() if k != "unchanged"}
        if written:
            log.info("synced", flow=runner.flow.name, entity=entity, **written)
        for dead in result.dead:
            log.error(
                "dead letter",
                flow=runner.flow.name,
                entity=entity,
                record=dead.record,
                field=dead.field,
                reason=dead.reason,
            )

    async def resend_stock(self, skus: set[str]) -> None:
        """Queue the products behind these SKUs in every catalogue flow, so shops get the lower stock now."""
        for runner in self.runners.values():
            finder = getattr(runner.source, "product_keys", None)
            if "product" not in runner.flow.entities or finder is None:
                continue
            keys = await finder(sorted(skus))
            if keys:
                await self.store.enqueue(
                    runner.flow.name, "product", sorted(set(keys.values())), reason="reservation", priority=10
                )

    async def run(
        self, *, stop: anyio.Event | None = None, serve: bool = False, secrets: WebhookSecrets | None = None
    ) -> None:
        """Poll and work every flow and the inbox until `stop` is set; `serve` adds the HTTP server."""
        from emporion.engine.inbox import InboxProcessor
        from emporion.server.app import run_server

        stop = stop or anyio.Event()
        async with anyio.create_task_group() as group:
            if serve:  # up before the initial sync, so that no delivery meanwhile is refused
                await group.start(run_server, self.settings, self.store, self.pool, stop, secrets)
            inbox = InboxProcessor(self.settings, self.store, self.pool, self.worker)
            group.start_soon(inbox.run, stop)
            await self.ensure_initial_sync()
            for runner in [*self.runners.values(), *self.order_flows.values()]:
                group.start_soon(self._feed_loop, runner.flow, stop)
                group.start_soon(self._work_loop, runner.flow, stop)
            for order_flow in self.order_flows.values():
                group.start_soon(self._reconcile_loop, order_flow, stop)
            await stop.wait()
            group.cancel_scope.cancel()

    async def _feed_loop(self, flow: FlowSettings, stop: anyio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self.poll(flow)
                failures = 0
                delay = flow.poll_interval
            except ConnectorError as error:
                failures += 1
                delay = max(flow.poll_interval, backoff(failures, getattr(error, "after", None)))
                log.warning("change feed failed", flow=flow.name, error=str(error), retry_in=round(delay, 1))
            with anyio.move_on_after(delay):
                await stop.wait()

    async def _reconcile_loop(self, order_flow: OrderFlow, stop: anyio.Event) -> None:
        """The sliding-window reconcile: open and recent orders are checked again now and then."""
        interval = order_flow.flow.orders.reconcile_interval
        while not stop.is_set():
            with anyio.move_on_after(interval):
                await stop.wait()
            if stop.is_set():
                return
            try:
                await order_flow.reconcile_window()
            except ConnectorError as error:
                log.warning("order reconcile failed", flow=order_flow.flow.name, error=str(error))

    async def _work_loop(self, flow: FlowSettings, stop: anyio.Event) -> None:
        while not stop.is_set():
            handled = await self.work(flow)
            if not handled:
                with anyio.move_on_after(IDLE_SECONDS):
                    await stop.wait()

    async def drain(self, flow: FlowSettings, *, max_rounds: int = 1000) -> int:
        """Poll once and work until nothing is due (used by `run --once` and tests)."""
        await self.poll(flow)
        total = 0
        for _ in range(max_rounds):
            handled = await self.work(flow)
            total += handled
            if not handled:
                break
        return total
