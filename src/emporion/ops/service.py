"""The console's operations, once: what the API and the pages show and do, over the state and connectors.

Every method returns pydantic models (`console/models.py`); the API hands them out as they are and the
pages render them. Actions take the acting identity's name for the audit log and the pause flags.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import anyio

from emporion.config import FlowSettings, Settings, ownership_of
from emporion.connectors.roles import OrderSource, RecordReader
from emporion.engine import dead_letters
from emporion.engine.connections import ConnectorPool
from emporion.logs import get_logger
from emporion.state import Conflict, DeadLetter, JournalEntry, Link, StateStore, conflict_pair

from .models import (
    ActionResult,
    AlertView,
    CircuitView,
    ConflictView,
    DeadLetterView,
    EntityStatus,
    Event,
    FlowStatus,
    JournalView,
    LinkView,
    PairConflicts,
    RecordView,
    ReportView,
    SearchResult,
)

log = get_logger("emporion.console")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
THROUGHPUT_WINDOW = 300  # seconds of journal the flows overview counts
RESYNC_PRIORITY = 50  # one record an operator asked for goes before the change feed's work
FLOW_RESYNC_PRIORITY = 1


class UnknownFlow(LookupError):
    """A flow name that is not in the configuration (or is disabled)."""


class ConsoleService:
    """Reads and actions of the operations console over one configuration's state and connectors."""

    def __init__(self, settings: Settings, store: StateStore, pool: ConnectorPool | None = None) -> None:
        self.settings = settings
        self.store = store
        self.pool = pool or ConnectorPool(settings)

    # -- flows ---------------------------------------------------------------------------------------

    def flow(self, name: str) -> FlowSettings:
        """The configured flow named `name`, or UnknownFlow."""
        for flow in self.settings.flows:
            if flow.name == name:
                return flow
        raise UnknownFlow(name)

    @staticmethod
    def queue_entities(flow: FlowSettings) -> list[str]:
        """The queue entities of a flow (an order flow also follows its shipments and refunds)."""
        if "order" in flow.entities:
            from emporion.engine.order_flow import SALE

            return ["order", SALE]
        return list(flow.entities)

    async def flows(self) -> list[FlowStatus]:
        """Every configured flow: state, last poll and write, lag, queue, throughput and errors."""
        depth = await self.store.queue_depth()
        paused = await self.store.paused_flows()
        waiting = await self.store.waiting_since()
        activity = await self.store.journal_activity(THROUGHPUT_WINDOW)
        polled, written = await self.store.polled_at(), await self.store.last_write()
        dead = await self.store.dead_summary(sample=0)
        now = datetime.now(UTC)
        result = []
        for flow in self.settings.flows:
            entities = [
                EntityStatus(
                    entity=entity,
                    linked=await self.store.count_links(flow.name, entity),
                    queued=depth.get((flow.name, entity), 0),
                )
                for entity in self.queue_entities(flow)
            ]
            lag = (now - waiting[flow.name]).total_seconds() if flow.name in waiting else 0.0
            throughput = {a: n for (f, a), n in activity.items() if f == flow.name}
            errors = await self._recent_dead(flow.name)
            result.append(
                FlowStatus(
                    name=flow.name,
                    source=flow.source,
                    target=flow.target,
                    enabled=flow.enabled,
                    paused=flow.name in paused,
                    state=self._state(flow, flow.name in paused, lag, errors),
                    last_poll=polled.get(flow.name),
                    last_write=written.get(flow.name),
                    lag_seconds=round(max(lag, 0.0), 3),
                    queued=sum(e.queued for e in entities),
                    entities=entities,
                    throughput=throughput,
                    window_seconds=THROUGHPUT_WINDOW,
                    errors=errors,
                    dead_open=dead.get(flow.name, (0, 0, []))[0],
                )
            )
        return result

    async def _recent_dead(self, flow: str) -> int:
        letters = await self.store.list_dead(flow=flow, status=None, limit=1000)
        now = datetime.now(UTC)
        return sum(
            1 for d in letters if d.failed_at and (now - d.failed_at).total_seconds() <= THROUGHPUT_WINDOW
        )

    def _state(self, flow: FlowSettings, paused: bool, lag: float, errors: int) -> Any:
        if not flow.enabled:
            return "disabled"
        if paused:
            return "paused"
        threshold = flow.lag_threshold or self.settings.alerts.lag_threshold
        if errors:
            return "failing"
        return "lagging" if threshold and lag > threshold else "running"

    async def pause(self, name: str, actor: str) -> ActionResult:
        """Pause a flow: its feed and work loops wait, in every process, until it is resumed."""
        self.flow(name)
        await self.store.set_paused(name, True, actor)
        return ActionResult(done=[name], message=f"flow {name} paused")

    async def resume(self, name: str, actor: str) -> ActionResult:
        """Resume a paused flow."""
        self.flow(name)
        await self.store.set_paused(name, False, actor)
        return ActionResult(done=[name], message=f"flow {name} resumed")

    async def resync_flow(self, name: str, correlation_id: str | None = None) -> ActionResult:
        """Queue every linked record of a flow again (the target is rewritten where it drifted)."""
        flow = self.flow(name)
        queued = 0
        for entity in self.queue_entities(flow):
            async for page in self.store.iter_links(name, entity):
                keys = [li.source_key for li in page if li.state != "removed"]
                queued += await self.store.enqueue(
                    name,
                    entity,
                    keys,
                    reason="resync",
                    priority=FLOW_RESYNC_PRIORITY,
                    correlation_id=correlation_id,
                )
        return ActionResult(queued=queued, message=f"{queued} records of {name} queued")

    async def resync_record(
        self, name: str, entity: str, key: str, correlation_id: str | None = None
    ) -> ActionResult:
        """Queue one record now, before the feed's work."""
        flow = self.flow(name)
        if entity not in self.queue_entities(flow):
            raise UnknownFlow(f"{name}/{entity}")
        queued = await self.store.enqueue(
            name, entity, [key], reason="resync", priority=RESYNC_PRIORITY, correlation_id=correlation_id
        )
        return ActionResult(done=[key], queued=queued, message=f"{name}/{entity}/{key} queued")

    # -- dead letters, reports, alerts, circuits -------------------------------------------------------

    async def dead_letters(
        self, flow: str | None = None, status: str = "open", limit: int = 100
    ) -> list[DeadLetterView]:
        """Dead letters, newest first (status open, retried, discarded or all)."""
        letters = await dead_letters.list_letters(self.store, flow=flow, status=status, limit=limit)
        return [dead_view(letter) for letter in letters]

    async def dead_letter(self, ident: int) -> DeadLetterView | None:
        """One dead letter with its payload (secrets masked)."""
        letter = await self.store.get_dead(ident)
        return dead_view(letter, payload=True) if letter else None

    async def retry_dead(self, ids: list[int], every: bool = False, flow: str | None = None) -> ActionResult:
        """Queue the records of open dead letters again."""
        outcome = await dead_letters.retry(self.store, ids, every=every, flow=flow)
        return ActionResult(done=list(outcome.done), skipped=list(outcome.skipped), queued=len(outcome.done))

    async def discard_dead(
        self, ids: list[int], every: bool = False, flow: str | None = None
    ) -> ActionResult:
        """Close open dead letters without a replay."""
        outcome = await dead_letters.discard(self.store, ids, every=every, flow=flow)
        return ActionResult(done=list(outcome.done), skipped=list(outcome.skipped))

    # -- conflicts on fields both systems edit ------------------------------------------------------------

    async def conflicts(
        self, flow: str | None = None, state: str = "open", limit: int = 100, offset: int = 0
    ) -> list[ConflictView]:
        """Conflicts (of one flow's records, found by it or its reverse), the most recently seen first."""
        pair: str | None = None
        entities: list[str] | None = None
        if flow is not None:
            found = self.flow(flow)
            pair, entities = conflict_pair(found.source, found.target), list(found.entities)
        chosen = None if state == "all" else state
        listed = await self.store.list_conflicts(
            pair=pair, entities=entities, state=chosen, limit=limit, offset=offset
        )
        return [conflict_view(item) for item in listed]

    async def conflict_pairs(self) -> list[PairConflicts]:
        """Per pair of connections with two-way flows (or open conflicts): its flows and open conflicts."""
        counts = await self.store.count_conflicts("open")
        flows: dict[str, list[str]] = {}
        for flow in self.settings.flows:
            pair = conflict_pair(flow.source, flow.target)
            if ownership_of(self.settings, flow) is not None:
                flows.setdefault(pair, []).append(flow.name)
        return [
            PairConflicts(pair=pair, flows=flows.get(pair, []), open=counts.get(pair, 0))
            for pair in sorted(set(flows) | set(counts))
        ]

    async def dismiss_conflict(self, ident: int, actor: str) -> ActionResult:
        """Let a live conflict stand (it stays closed while both sides keep these values)."""
        found = await self.store.get_conflict(ident)
        if found is None:
            raise LookupError(f"no conflict {ident}")
        if await self.store.dismiss_conflict(ident, actor):
            return ActionResult(done=[ident], message=f"conflict {ident} dismissed")
        message = f"conflict {ident} is {found.state}: nothing dismissed"
        return ActionResult(ok=False, skipped=[ident], message=message)

    async def reports(self, flow: str | None = None, limit: int = 20, offset: int = 0) -> list[ReportView]:
        """Reconcile reports, newest first (without their items)."""
        return [report_view(r) for r in await self.store.list_reports(flow, limit, offset)]

    async def report(self, ident: int) -> ReportView | None:
        """One reconcile report with its drift items."""
        found = await self.store.get_report(ident)
        return report_view(found, items=True) if found else None

    async def alerts(
        self, status: str | None = None, flow: str | None = None, limit: int = 50
    ) -> list[AlertView]:
        """Recent alerts, the most recently seen first."""
        found = await self.store.list_alerts(status=status, flow=flow, limit=limit)
        return [AlertView.model_validate(a, from_attributes=True) for a in found]

    async def circuits(self) -> list[CircuitView]:
        """The circuit breaker's state per connection, as last reported; 'closed' where none was kept."""
        kept = {record.connection: record for record in await self.store.circuits()}
        views = []
        for name in sorted(self.settings.connections):
            record = kept.get(name)
            if record is None:
                views.append(CircuitView(connection=name, state="closed"))
                continue
            detail = {
                "since": record.since.isoformat(),
                "failures": str(record.failures),
                "opened_count": str(record.opened_count),
                "last_error": record.last_error or "",
            }
            views.append(CircuitView(connection=name, state=record.state, detail=detail))
        return views

    # -- records ---------------------------------------------------------------------------------------

    async def search(self, term: str) -> SearchResult:
        """The records behind a SKU, an order number or a customer e-mail, on both sides."""
        term = term.strip()
        if EMAIL.match(term):
            links = await self._links_by_email(term)
            kind = "email"
        else:
            links = await self.store.links_matching(term)
            kind = "order" if any(li.entity == "order" for li in links) else "sku" if links else "key"
        records = [await self.record(li.flow, li.entity, li.source_key, li) for li in links]
        return SearchResult(term=term, kind=kind, records=records)

    async def _links_by_email(self, email: str) -> list[Link]:
        """Order links of the shop orders placed with this e-mail (asked of each order flow's shop)."""
        found: list[Link] = []
        for flow in self.settings.flows:
            if "order" not in flow.entities:
                continue
            shop = self.pool.get(flow.source)
            if not isinstance(shop, OrderSource):
                continue
            try:
                keys = await shop.orders_by_email(email, limit=20)
            except Exception as error:  # the shop is away: say nothing was found there
                log.warning("e-mail search failed", flow=flow.name, error=type(error).__name__)
                continue
            found += (await self.store.get_links(flow.name, "order", keys)).values()
        return found

    async def record(self, flow_name: str, entity: str, key: str, link: Link | None = None) -> RecordView:
        """One record on both sides, its link and its journal."""
        flow = self.flow(flow_name)
        if link is None:
            link = (await self.store.get_links(flow_name, entity, [key])).get(key)
        errors: list[str] = []
        source = await self._read(flow.source, entity, key, errors)
        target = None
        target_key = _target_key(link)
        if target_key is not None:
            target = await self._read(flow.target, entity, target_key, errors)
        journal = await self.store.journal_for(flow_name, entity, key)
        return RecordView(
            flow=flow_name,
            entity=entity,
            key=key,
            link=LinkView.model_validate(link, from_attributes=True) if link else None,
            source=source,
            target=target,
            read_errors=errors,
            journal=[journal_view(entry) for entry in journal],
        )

    async def _read(self, connection: str, entity: str, key: str, errors: list[str]) -> dict[str, Any] | None:
        connector = self.pool.get(connection)
        if not isinstance(connector, RecordReader):
            errors.append(f"{connection}: its connector does not read records")
            return None
        try:
            with anyio.fail_after(30):
                found = await connector.read(entity, [key])
        except Exception as error:  # one side away: show the other, say why
            errors.append(f"{connection}: {type(error).__name__}: {str(error)[:200]}")
            return None
        return found[0].model_dump(mode="json") if found else None

    # -- events ----------------------------------------------------------------------------------------

    async def last_event(self) -> int:
        """The newest journal line's id: a stream started after it sends only what comes next."""
        return await self.store.last_journal_id()

    async def recent_journal(self, limit: int = 10) -> list[JournalView]:
        """The newest journal lines of every flow, newest first (the overview's event tail)."""
        last = await self.store.last_journal_id()
        lines = await self.store.journal_after(max(last - limit, 0), limit)
        return [journal_view(entry, ident) for ident, entry in reversed(lines)]

    async def events(
        self, after: int | None = None, poll: float = 1.0, closing: Callable[[], bool] | None = None
    ) -> AsyncIterator[Event]:
        """Journal lines (and alerts as they are seen) as they come, from journal id `after` on.

        Ends when `closing()` says so (checked every `poll` seconds).
        """
        last = await self.store.last_journal_id() if after is None else after
        alerts_seen: dict[str, datetime] = {
            a.key: a.last_seen for a in await self.store.list_alerts(limit=50)
        }
        while not (closing and closing()):
            for ident, entry in await self.store.journal_after(last, 200):
                last = ident
                yield Event(
                    id=f"j{ident}", type="journal", data=journal_view(entry, ident).model_dump(mode="json")
                )
            for alert in await self.store.list_alerts(limit=50):
                if alerts_seen.get(alert.key) != alert.last_seen:
                    alerts_seen[alert.key] = alert.last_seen
                    view = AlertView.model_validate(alert, from_attributes=True)
                    yield Event(id=f"j{last}", type="alert", data=view.model_dump(mode="json"))
            await anyio.sleep(poll)


def _target_key(link: Link | None) -> str | None:
    """The key the target connector reads a linked record by (its id in the target)."""
    if link is None or not link.target_ref:
        return None
    for name in ("id", "sale", "key"):
        if link.target_ref.get(name) is not None:
            return str(link.target_ref[name])
    return None


def dead_view(letter: DeadLetter, *, payload: bool = False) -> DeadLetterView:
    """A dead letter for the console (payload masked, on request)."""
    return DeadLetterView.model_validate(dead_letters.as_json(letter, payload=payload))


def conflict_view(item: Conflict) -> ConflictView:
    """A conflict for the console (its values are shown to operators, never logged)."""
    return ConflictView.model_validate(item, from_attributes=True)


def report_view(report: Any, *, items: bool = False) -> ReportView:
    """A reconcile report for the console."""
    return ReportView(
        id=report.id,
        flow=report.flow,
        started_at=report.started_at,
        finished_at=report.finished_at,
        status=report.status,
        repair=report.repair,
        counts=dict(report.counts or {}),
        items=list(report.items or []) if items else None,
        error=report.error,
    )


def journal_view(entry: JournalEntry, ident: int | None = None) -> JournalView:
    """A journal line for the console."""
    return JournalView(
        id=ident,
        at=entry.at,
        flow=entry.flow,
        entity=entry.entity,
        key=entry.key,
        action=entry.action,
        reason=entry.reason,
        before=entry.before_fingerprint,
        after=entry.after_fingerprint,
        target_ref=entry.target_ref,
        detail=entry.detail,
    )


class Reconciles:
    """Reconcile runs asked for from the console (an engine over the same pool, built on first use)."""

    def __init__(self, service: ConsoleService) -> None:
        self.service = service
        self._reconciler: Any = None

    async def run(self, name: str, *, repair: bool) -> ReportView:
        """Compare both sides of one flow now (queueing the repairs when asked); returns its report."""
        from emporion.engine.reconcile import Reconciler
        from emporion.engine.worker import Engine

        flow = self.service.flow(name)
        if not flow.enabled:
            raise UnknownFlow(name)
        if self._reconciler is None:
            from emporion.alerts.dispatcher import alerts_from_settings

            settings, store = self.service.settings, self.service.store
            engine = Engine(settings, store, self.service.pool, alerts=alerts_from_settings(settings, store))
            self._reconciler = Reconciler(engine)
        result = await self._reconciler.reconcile(name, repair=repair)
        found = await self.service.report(result.report_id)
        if found is None:
            raise LookupError(f"reconcile report {result.report_id} not found")
        return found
