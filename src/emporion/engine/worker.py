"""The running engine: change feeds fill the work queue, workers drain it into the targets."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial

import anyio

from emporion.alerts import Alert, AlertKind, AlertSink, LogAlerts, Severity
from emporion.alerts.credentials import watch_credentials
from emporion.alerts.monitors import Monitors
from emporion.config import FlowSettings, Settings, ownership_of, reverse_flow
from emporion.connectors.base import ConnectorError, Retryable
from emporion.connectors.circuit import CircuitOpen, CircuitSnapshot, CircuitState
from emporion.connectors.roles import (
    CatalogueSource,
    CatalogueTarget,
    Connection,
    OrderSource,
    Role,
    SalesTarget,
    WebhookSource,
    flow_roles,
)
from emporion.engine.budgets import share_rate_budgets
from emporion.engine.connections import ConnectorPool
from emporion.engine.flow import FlowRunner
from emporion.engine.flows import Flow, MissingRole
from emporion.engine.order_flow import OrderFlow
from emporion.engine.pacing import FeedPacer, WebhookPulse
from emporion.engine.recovery import release_dead_workers
from emporion.engine.retry import RetryPolicy
from emporion.engine.singletons import Singletons
from emporion.logs import bind_correlation, get_logger
from emporion.metrics import observe_batch
from emporion.state import CircuitRecord, StateStore, WorkItem

log = get_logger("emporion.engine")
IDLE_SECONDS = 0.25
FEED_BACKOFF_CAP = 60.0  # a failing change feed is asked again at least this often (the breaker guards)
PAUSE_CHECK_SECONDS = 1.0  # how often a paused flow's loops look whether it was resumed


def worker_id() -> str:
    """A name for this worker that is unique across machines and processes."""
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_after(error: Exception) -> float | None:
    """The seconds a transient failure asks to wait before the next attempt (None: no wish)."""
    return error.after if isinstance(error, Retryable) else None


def catalogue_flow(
    flow: FlowSettings,
    source: Connection,
    target: Connection,
    store: StateStore,
    settings: Settings | None = None,
) -> FlowRunner:
    """A catalogue (or customer) flow; MissingRole when a connection cannot play its part in it.

    With `settings`, a flow that has a reverse flow and a field ownership runs two-way.
    """
    source_role, target_role = flow_roles(flow.entities)
    if not isinstance(source, CatalogueSource):
        raise MissingRole(flow.name, flow.source, source_role)
    if not isinstance(target, CatalogueTarget):
        raise MissingRole(flow.name, flow.target, target_role)
    partner = reverse_flow(settings, flow) if settings else None
    ownership = ownership_of(settings, flow) if settings else None
    return FlowRunner(flow, source, target, store, partner=partner, ownership=ownership)


def order_flow(
    flow: FlowSettings, source: Connection, target: Connection, store: StateStore, worker: str
) -> OrderFlow:
    """An order flow; MissingRole when a connection cannot play its part in it."""
    if not isinstance(source, OrderSource):
        raise MissingRole(flow.name, flow.source, Role.ORDER_SOURCE)
    if not isinstance(target, SalesTarget):
        raise MissingRole(flow.name, flow.target, Role.SALES_TARGET)
    return OrderFlow(flow, source, target, store, worker)


class Engine:
    """Runs the flows of one configuration against one state database."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        pool: ConnectorPool | None = None,
        worker: str | None = None,
        alerts: AlertSink | None = None,
    ) -> None:
        self.settings = settings
        self.alerts: AlertSink = alerts or LogAlerts()
        self.store = store
        self.pool = pool or ConnectorPool(settings)
        self.worker = worker or worker_id()
        self.retry = RetryPolicy(settings.retry.base, settings.retry.max)
        self.pool.watch_circuits(self.circuit_changed)
        self.flows: dict[str, Flow] = {}  # every enabled flow, whatever it moves
        self.runners: dict[str, FlowRunner] = {}  # the catalogue flows among them
        self.order_flows: dict[str, OrderFlow] = {}  # and the order flows
        for flow in settings.flows:
            if not flow.enabled:
                continue
            source, target = self.pool.get(flow.source), self.pool.get(flow.target)
            if flow_roles(flow.entities)[0] is Role.ORDER_SOURCE:
                orders = order_flow(flow, source, target, store, self.worker)
                self.flows[flow.name] = self.order_flows[flow.name] = orders
            else:
                catalogue = catalogue_flow(flow, source, target, store, settings)
                self.flows[flow.name] = self.runners[flow.name] = catalogue
        self.processed: Counter[str] = Counter()
        self._paused: set[str] = set()  # flows an operator paused, as last read (see `paused`)
        self._paused_read_at = float("-inf")
        self.monitors = Monitors(settings, store)
        used = {name for flow in settings.flows if flow.enabled for name in (flow.source, flow.target)}
        self.used_connections = sorted(used)
        share_rate_budgets(self.pool, store, used)
        self.lease_seconds = settings.state.work_lease_seconds
        self.singletons = Singletons(store, self.worker, settings.state.lease_seconds)
        self.retried: Counter[str] = Counter()  # why work was put back: "retry", "postponed", "error"
        self.pulse = WebhookPulse()  # what the webhooks delivered: feeds they cover are polled slowly
        self.feed_pacers: dict[str, dict[str, FeedPacer]] = {}  # per flow and feed, while its feed runs

    async def circuit_changed(self, circuit: CircuitSnapshot, before: CircuitState) -> None:
        """Keep a circuit transition in the state database; alert when it opens and when it closes."""
        opened = circuit.state is CircuitState.OPEN
        await self.store.record_circuit(
            CircuitRecord(
                circuit.connection,
                str(circuit.state),
                circuit.since,
                circuit.failures,
                circuit.last_error,
                worker=self.worker,
            ),
            opened=opened,
        )
        if opened and before is CircuitState.CLOSED:
            await self.alerts.notify(
                Alert(
                    AlertKind.CIRCUIT_OPEN,
                    circuit.connection,
                    f"connection {circuit.connection} is failing ({circuit.failures} transient failures"
                    f" in a row, last: {circuit.last_error}); calls pause for {circuit.cooldown:.0f}s"
                    " between probes",
                    Severity.CRITICAL,
                    details={"failures": circuit.failures, "cooldown": circuit.cooldown},
                )
            )
        elif circuit.state is CircuitState.CLOSED:
            await self.alerts.notify(
                Alert(
                    AlertKind.CIRCUIT_OPEN,
                    circuit.connection,
                    f"connection {circuit.connection} answers again",
                    Severity.INFO,
                    resolved=True,
                )
            )

    async def ensure_initial_sync(self) -> None:
        """A flow that has never run starts with a full sync, so that nothing before its feed is missed.

        Work a killed predecessor on this machine still leases is freed first (see recovery.py).
        """
        await release_dead_workers(self.store)
        for runner in [*self.order_flows.values(), *self.runners.values()]:  # order feeds start first
            await runner.start()

    async def started(self, runner: Flow) -> bool:
        """Whether a flow has had its start (initial sync, first cursor): its feeds all have a cursor."""
        for entity in self.queue_entities(runner.flow):
            if await self.store.get_cursor(runner.flow.name, entity) is None:
                return False
        return True

    def flow_runner(self, name: str) -> Flow:
        """The runner of a flow, whatever its kind."""
        return self.flows[name]

    def queue_entities(self, flow: FlowSettings) -> list[str]:
        """The work-queue entities of a flow, in the order they are worked."""
        return [entity for entity, _, _ in self.flow_runner(flow.name).feeds()]

    async def poll(self, flow: FlowSettings) -> int:
        """Ask the source what changed and queue it; the cursor moves in the same transaction."""
        return sum(len(keys) for keys in (await self.poll_feeds(flow)).values())

    async def poll_feeds(self, flow: FlowSettings, entities: set[str] | None = None) -> dict[str, list[str]]:
        """Poll the flow's feeds (those of `entities`, or all); the keys each queued."""
        runner = self.flow_runner(flow.name)
        found: dict[str, list[str]] = {}
        for entity, connector, connector_entity in runner.feeds():
            if entities is not None and entity not in entities:
                continue
            cursor = await self.store.get_cursor(flow.name, entity)
            found[entity] = []
            while True:
                batch = await connector.changes(connector_entity, cursor)
                if batch.keys or batch.cursor is not None:  # the cursor's time shows the feed is read
                    await self.store.enqueue(
                        flow.name, entity, batch.keys, reason="change", cursor=batch.cursor
                    )
                found[entity] += [str(key) for key in batch.keys]
                cursor = batch.cursor
                if not batch.more:
                    break
        return found

    def pacers(self, flow: FlowSettings) -> dict[str, FeedPacer]:
        """A pacer per feed of the flow: slow while webhooks cover the feed and deliver, else fast."""
        runner = self.flow_runner(flow.name)
        paced: dict[str, FeedPacer] = {}
        for entity, connector, connector_entity in runner.feeds():
            name = flow.source if connector is self.pool.get(flow.source) else flow.target
            connection = self.settings.connections.get(name)
            covered = (
                connection is not None
                and connection.takes_webhooks()
                and isinstance(connector, WebhookSource)
                and bool(connector.webhook_topics([connector_entity]))
            )
            paced[entity] = FeedPacer(
                flow.poll_interval,
                flow.webhook_poll_interval,
                self.pulse,
                name if covered else None,
                connector_entity,
            )
        return paced

    async def work(self, flow: FlowSettings) -> int:
        """Claim one batch per entity (categories first) and sync it; returns how many items were handled."""
        runner = self.flow_runner(flow.name)
        handled = 0
        for entity in self.queue_entities(flow):
            items = await self.store.claim(
                flow.name, entity, worker=self.worker, limit=flow.batch_size, lease_seconds=self.lease_seconds
            )
            if items:
                async with anyio.create_task_group() as group:  # a slow batch keeps its claim
                    group.start_soon(self._renew_claims, items)
                    await self._process(runner, entity, items)
                    group.cancel_scope.cancel()
                handled += len(items)
        return handled

    async def _renew_claims(self, items: list[WorkItem]) -> None:
        """Renew the claim on a batch every third of its lease, so that nobody else takes it meanwhile."""
        while True:
            await anyio.sleep(self.lease_seconds / 3)
            try:
                await self.store.extend_claims(items, self.worker, self.lease_seconds)
            except Exception as error:  # the lease may run out: the batch is then done again, idempotently
                log.warning("claim renewal failed", entity=items[0].entity, error=str(error))

    async def _process(self, runner: Flow, entity: str, items: list[WorkItem]) -> None:
        correlations = sorted({item.correlation_id for item in items if item.correlation_id})
        bind_correlation(",".join(correlations)[:400] or None)  # the logs of this batch, and outbound headers
        try:
            await self._process_batch(runner, entity, items)
        finally:
            bind_correlation(None)

    async def _process_batch(self, runner: Flow, entity: str, items: list[WorkItem]) -> None:
        reasons = ",".join(sorted({item.reason for item in items}))
        flow, connection = runner.flow.name, runner.flow.target
        try:
            result = await runner.sync_keys(entity, [item.key for item in items], reason=reasons)
        except CircuitOpen as error:
            # the system is known to be down: wait for the breaker's probe, without counting an attempt
            delay = self.retry.delay(0, error.after)
            log.info("work waits for the circuit", flow=runner.flow.name, entity=entity, items=len(items))
            await self.store.postpone(items, delay, str(error))
            self.retried["postponed"] += len(items)
            return
        except ConnectorError as error:
            # the whole batch failed (system unwell, credentials refused): retry it later, lose nothing
            after = retry_after(error)
            log.warning("batch failed, will retry", flow=runner.flow.name, entity=entity, error=str(error))
            await self.store.finish(
                [], retry=[(item, str(error), self.retry.delay(item.attempts, after)) for item in items]
            )
            self.retried["retry"] += len(items)
            observe_batch(flow, entity, connection, {"retry": len(items)}, len(items), [])
            return
        except Exception as error:  # a bug or an unforeseen answer: keep the work, say so loudly
            log.exception("batch crashed, will retry", flow=runner.flow.name, entity=entity)
            reason = f"{type(error).__name__}: {error}"[:500]
            await self.store.finish(
                [], retry=[(item, reason, self.retry.delay(item.attempts)) for item in items]
            )
            self.retried["error"] += len(items)
            observe_batch(flow, entity, connection, {"retry": len(items)}, len(items), [])
            return
        by_key = {item.key: item for item in items}
        retry = [
            (by_key[key], reason, self.retry.delay(by_key[key].attempts, after))
            for key, reason, after in result.retry
        ]
        self.retried["retry"] += len(retry)
        dead_keys = {dead.key for dead in result.dead}
        retry_keys = {key for key, _, _ in result.retry}
        done = [item for item in items if item.key not in dead_keys | retry_keys]
        if result.stock_skus:  # queued before the items finish: a crash in between replays the orders
            await self.resend_stock(result.stock_skus)
        await self.store.finish(
            done,
            links=result.links,
            journal=result.journal,
            dead=result.dead,
            retry=retry,
            conflicts=result.conflicts,
            reverts=result.reverts,
        )
        self.processed.update(result.counts)
        observe_batch(
            flow,
            entity,
            connection,
            result.counts,
            len(result.dead) + len(result.retry),
            [item.enqueued_at for item in done],
        )
        for alert in result.alerts:
            await self.alerts.notify(alert)
        await self.monitors.check_stock(self.alerts, runner.flow.name, result.stock)
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
        """Have every catalogue flow write these SKUs' products again, stock included, even if unchanged.

        Orders move stock on both sides: the shop lowers or restores its own figure as an order is
        placed, paid or cancelled, the ERP when it takes or cancels the sale, and reservations bridge the
        time between. The shop's figure may then differ from the last one emporion wrote, so the
        products are marked stale (written even if their fingerprint did not change) and queued.
        """
        for runner in self.runners.values():
            erp = runner.source
            if "product" not in runner.flow.entities or not isinstance(erp, SalesTarget):
                continue
            keys = sorted(set((await erp.product_keys(sorted(skus))).values()))
            if keys:
                await self.store.queue_repairs(
                    runner.flow.name,
                    "product",
                    keys,
                    stale=keys,
                    priority=10,
                    reason="order stock",
                    replay=False,
                )

    async def run(self, *, stop: anyio.Event | None = None) -> None:
        """Poll and work every flow and the inbox until `stop` is set (the HTTP server: emporion.runtime).

        Work is claimed by every process; a flow's start (initial sync), its change feed and the
        order reconcile run under leases, in one process of the fleet at a time (see singletons.py).
        """
        from emporion.engine.inbox import InboxProcessor
        from emporion.engine.retention import prune_loop
        from emporion.engine.schedule import reconcile_schedule

        stop = stop or anyio.Event()
        await release_dead_workers(self.store)
        async with anyio.create_task_group() as group:
            inbox = InboxProcessor(self.settings, self.store, self.pool, self.worker, pulse=self.pulse)
            group.start_soon(inbox.run, stop)
            for runner in [*self.runners.values(), *self.order_flows.values()]:
                lead = partial(self._lead_flow, runner, stop)
                group.start_soon(self.singletons.run, f"feed:{runner.flow.name}", lead, stop)
                group.start_soon(self._work_loop, runner.flow, stop)
            for order_flow in self.order_flows.values():
                reconcile = partial(self._reconcile_loop, order_flow, stop)
                group.start_soon(self.singletons.run, f"reconcile:{order_flow.flow.name}", reconcile, stop)
            monitors = partial(self.monitors.run, self.alerts, stop)
            group.start_soon(self.singletons.run, "monitors", monitors, stop)
            credentials = partial(watch_credentials, self.alerts, self.connections, stop)
            group.start_soon(self.singletons.run, "credentials", credentials, stop)
            schedule = partial(reconcile_schedule, self, stop)
            group.start_soon(self.singletons.run, "reconcile-schedule", schedule, stop)
            prune = partial(prune_loop, self.store, self.settings.state.retention, stop)
            group.start_soon(self.singletons.run, "retention", prune, stop)
            await stop.wait()
            group.cancel_scope.cancel()

    def connections(self) -> dict[str, Connection]:
        """The connectors of the connections the enabled flows use, by name."""
        return {name: self.pool.get(name) for name in self.used_connections}

    async def _lead_flow(self, runner: Flow, stop: anyio.Event) -> None:
        """The singleton side of a flow: its start if it never ran, then its change feed."""
        if await self._until_done(runner.start, stop, f"start of flow {runner.flow.name}"):
            await self._feed_loop(runner.flow, stop)

    async def catch_up(self, connection: str) -> int:
        """Poll the flows fed by `connection` now and re-check its open orders (its webhooks were broken)."""
        self.pulse.broken(connection)  # its feeds are polled fast until a delivery arrives again
        fed = [runner for runner in self.flows.values() if runner.flow.source == connection]
        queued = 0
        for runner in fed:
            queued += await self.poll(runner.flow)
        for runner in fed:
            queued += await runner.catch_up()
        return queued

    async def _until_done(self, call: Callable[[], Awaitable[None]], stop: anyio.Event, what: str) -> bool:
        """Run `call` until it succeeds, backing off between transient failures; False when stopped."""
        failures = 0
        while not stop.is_set():
            try:
                await call()
                return True
            except ConnectorError as error:
                if not isinstance(error, CircuitOpen):
                    failures += 1
                delay = min(FEED_BACKOFF_CAP, self.retry.delay(failures, retry_after(error)))
                log.warning(f"{what} failed, will retry", error=str(error), retry_in=round(delay, 1))
            with anyio.move_on_after(delay):
                await stop.wait()
        return False

    async def paused(self, flow: FlowSettings) -> bool:
        """Whether an operator paused this flow (a flag in the state database, seen by every process).

        Read at most once per PAUSE_CHECK_SECONDS for all flows, so busy work loops cost no extra query.
        """
        now = anyio.current_time()
        if now - self._paused_read_at >= PAUSE_CHECK_SECONDS:
            try:
                self._paused = await self.store.paused_flows()
            except Exception as error:  # the state database away for a moment: the loops retry anyway
                log.warning("pause flags unreadable", error=type(error).__name__)
            self._paused_read_at = now
        return flow.name in self._paused

    async def _feed_loop(self, flow: FlowSettings, stop: anyio.Event) -> None:
        """Poll each feed when it is due: webhook-covered feeds slowly while their webhooks deliver.

        Times are `time.monotonic()`, the clock the inbox tells deliveries by (see pacing.py).
        """
        failures = 0
        pacers = self.feed_pacers[flow.name] = self.pacers(flow)
        due = dict.fromkeys(pacers, float("-inf"))
        while not stop.is_set():
            if await self.paused(flow):
                with anyio.move_on_after(PAUSE_CHECK_SECONDS):
                    await stop.wait()
                continue
            now = time.monotonic()
            try:
                found = await self.poll_feeds(flow, {entity for entity, at in due.items() if at <= now})
                failures = 0
                now = time.monotonic()
                for entity, keys in found.items():
                    pacers[entity].found(keys, now)
                for entity, pacer in pacers.items():
                    wait = now + pacer.interval(now)
                    # a feed polled now waits its interval; one not polled may be due sooner (turned fast)
                    due[entity] = wait if entity in found else min(due[entity], wait)
                delay = max(0.0, min(due.values()) - now)
            except Exception as error:
                after = retry_after(error)
                if not isinstance(error, CircuitOpen):  # a fail-fast says nothing new about the system
                    failures += 1
                delay = max(flow.poll_interval, min(FEED_BACKOFF_CAP, self.retry.delay(failures, after)))
                due = dict.fromkeys(due, time.monotonic() + delay)
                if isinstance(error, ConnectorError):
                    log.warning(
                        "change feed failed", flow=flow.name, error=str(error), retry_in=round(delay, 1)
                    )
                else:
                    log.exception("change feed crashed", flow=flow.name, retry_in=round(delay, 1))
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
            except Exception:
                log.exception("order reconcile crashed", flow=order_flow.flow.name)

    async def _work_loop(self, flow: FlowSettings, stop: anyio.Event) -> None:
        runner = self.flow_runner(flow.name)
        while not stop.is_set() and not await self.started(runner):  # its leader is still starting it
            with anyio.move_on_after(IDLE_SECONDS):
                await stop.wait()
        failures = 0
        while not stop.is_set():
            if await self.paused(flow):
                with anyio.move_on_after(PAUSE_CHECK_SECONDS):
                    await stop.wait()
                continue
            try:
                handled = await self.work(flow)
                failures = 0
            except Exception:  # the state database away for a moment: leases expire, nothing is lost
                failures += 1
                handled = 0
                log.exception("work round failed", flow=flow.name, failures=failures)
            if not handled:
                pause = IDLE_SECONDS if not failures else min(FEED_BACKOFF_CAP, self.retry.delay(failures))
                with anyio.move_on_after(pause):
                    await stop.wait()

    async def drain(self, flow: FlowSettings, *, max_rounds: int = 1000, poll: bool = True) -> int:
        """Poll once (unless `poll` is false) and work until nothing is due (`run --once` and tests)."""
        if poll:
            await self.poll(flow)
        total = 0
        for _ in range(max_rounds):
            handled = await self.work(flow)
            total += handled
            if not handled:
                break
        return total
