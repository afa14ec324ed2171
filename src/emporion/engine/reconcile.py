"""Reconciliation: compare a flow's records on both sides, report the drift, and queue the repairs.

A catalogue flow is compared page by page in flat memory: each page of the source scan is mapped to
what the target should hold (`FlowRunner.expected`) and compared with the target's records its links
point at, by fingerprint first and field by field only on a mismatch; then the target is scanned for
products no link claims. An order flow's sliding window is checked for shop orders without a sale.

Drift comes in four kinds: `missing` (the target should hold the record and does not), `unlinked` (the
target holds it, found by its natural key, but no link says so: a sync matches it), `extra` (the target
holds a product no source record backs) and `different` (with the fields, expected and actual).
A repair queues the fixes into the work queue (reason "repair", ahead of ordinary changes); extras
follow the flow's `reconcile.extras` policy. Every run is saved as a report and drift raises an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from emporion.alerts import Alert, AlertKind
from emporion.config import FlowSettings
from emporion.connectors.base import ConnectorError, Permanent, Unmappable, WriteItem
from emporion.engine.compare import FieldDiff, comparable, diff_records, published, unreadable_diff
from emporion.engine.drift import DRIFT_KINDS, DriftItem, ReconcileResult
from emporion.engine.flow import FlowRunner, lookup_key, natural_key
from emporion.engine.order_flow import OrderFlow
from emporion.logs import get_logger
from emporion.model import Order, Product, Record, fingerprint
from emporion.state import JournalEntry, Link, ReconcileReport, StateStore, utc_now

if TYPE_CHECKING:
    from emporion.engine.worker import Engine

log = get_logger("emporion.reconcile")
REPAIR_REASON = "repair"
REPAIR_PRIORITY = 20  # ahead of ordinary changes (0) and stock reservations (10)
ALERT_SAMPLE = 10  # labels named in an alert


def _accepted(runner: FlowRunner, record: Record) -> bool | None:
    """Whether the flow sends the record; None when its filter cannot tell (a dead letter says why)."""
    try:
        return runner.mapper.accepts(record)
    except Exception:  # a failing filter is reported as a dead letter by the sync, not as drift
        return None


def _target_id(link: Link | None) -> str | None:
    if link is None or not link.target_ref or link.target_ref.get("id") is None:
        return None
    return str(link.target_ref["id"])


class CatalogueReconcile:
    """Compares one catalogue flow's source and target, entity by entity."""

    def __init__(self, runner: FlowRunner, store: StateStore, sibling_flows: Sequence[str]) -> None:
        self.runner = runner
        self.flow = runner.flow
        self.store = store
        self.sibling_flows = list(sibling_flows)  # flows writing to the same target: their links count too
        # a two-way flow answers only for the fields its source owns (the reverse flow for the others)
        self.ignore = frozenset().union(*map(runner.uncompared, self.flow.entities))
        self.unlinked_labels: set[str] = set()  # missing records the repair will find in the target by label

    async def run(self, result: ReconcileResult, *, repair: bool) -> None:
        """Both sides of every entity; extras are looked for among products."""
        await self.runner.prepare()
        for entity in self.flow.entities:
            async for page in self.runner.source.scan(entity):
                await self._source_page(entity, page, result, repair)
            if entity == "product":
                async for page in self.runner.target.scan(entity):
                    await self._target_page(entity, page, result, repair)

    async def _source_page(
        self, entity: str, page: Sequence[Record], result: ReconcileResult, repair: bool
    ) -> None:
        """Compare one page of source records with what their links point at in the target."""
        keys = [record.key for record in page]
        expected = await self.runner.expected(entity, page)
        links = await self.store.get_links(self.flow.name, entity, keys)
        queued = await self.store.queued_keys(self.flow.name, entity, keys)
        drift: list[DriftItem] = []
        forget: list[str] = []
        to_read: dict[str, tuple[Record | None, Link, str]] = {}  # source key -> (expected, link, target id)
        unlinked: dict[str, Record] = {}  # source key -> expected, for records without a link
        for record in page:
            key, link = record.key, links.get(record.key)
            target_id = _target_id(link)
            result.counts[f"{entity}.source"] += 1
            if key in queued:
                result.counts["pending"] += 1  # a change is on its way: not drift
                continue
            if isinstance(record, Unmappable):
                result.counts["unreadable"] += 1  # a dead letter names it; not a removal
                continue
            wanted = expected.get(key)
            if wanted is None:
                sends = _accepted(self.runner, record)
                if sends is False and self.flow.on_remove != "ignore" and link and target_id:
                    to_read[key] = (None, link, target_id)  # the target must no longer show it
                elif sends and target_id is None and (waiting := self._unresolved(record)) is not None:
                    # sent, but its references (categories) are not in the target yet: unlinked all the same
                    self.unlinked_labels.add(natural_key(waiting))
                    unlinked[key] = waiting
                continue
            if link is None or target_id is None:
                self.unlinked_labels.add(natural_key(wanted))
                unlinked[key] = wanted
                continue
            to_read[key] = (wanted, link, target_id)
        drift += await self._unlinked_drift(entity, unlinked)
        actual = await self._read_targets(entity, [target_id for _, _, target_id in to_read.values()])
        for key, (wanted, link, target_id) in to_read.items():
            found = actual.get(target_id)
            label = link.natural_key or key
            if wanted is None:
                item = self._removal_drift(entity, key, label, target_id, found)
                if item:
                    drift.append(item)
                continue
            if found is None:
                forget.append(key)
                self.unlinked_labels.add(natural_key(wanted))
                detail = "its link points at a record the target no longer has"
                drift.append(DriftItem(entity, "missing", key, label, target_id, detail=detail))
                continue
            result.counts["compared"] += 1
            diffs = unreadable_diff(found) or self._differences(wanted, found)
            if diffs:
                drift.append(DriftItem(entity, "different", key, label, target_id, diffs))
        for item in drift:
            result.add(item)
        if repair and drift:
            stale = [item.key for item in drift if item.kind == "different"]
            await self.store.queue_repairs(
                self.flow.name,
                entity,
                [item.key for item in drift],
                stale=stale,
                forget=forget,
                priority=REPAIR_PRIORITY,
                reason=REPAIR_REASON,
            )
            result.mark_repaired(drift)

    def _unresolved(self, record: Record) -> Record | None:
        """The record as the flow maps it, before its references are resolved (None: it cannot be mapped)."""
        try:
            return self.runner.mapper.map(record, {})
        except Permanent:
            return None  # a dead letter names it

    async def _unlinked_drift(self, entity: str, unlinked: dict[str, Record]) -> list[DriftItem]:
        """Records without a link: `unlinked` when the target holds them (by natural key), else `missing`."""
        if not unlinked:
            return []
        wanted = [lookup_key(record) for record in unlinked.values()]
        held = await self.runner.target.lookup(entity, [key for key in wanted if key])
        drift = []
        for key, record in unlinked.items():
            label, found = natural_key(record), held.get(lookup_key(record))
            if found is None:
                drift.append(DriftItem(entity, "missing", key, label, detail="not in the target"))
                continue
            detail = "in the target but not linked: a sync matches it"
            drift.append(DriftItem(entity, "unlinked", key, label, str(found.get("id", "")), detail=detail))
        return drift

    def _differences(self, wanted: Record, found: Record) -> list[FieldDiff]:
        """Fields that differ; fingerprints first, so that records in sync cost one hash each."""
        want = fingerprint(comparable(wanted, self.ignore))
        if want == fingerprint(comparable(found, self.ignore, wanted)):
            return []
        return diff_records(wanted, found, self.ignore)

    def _removal_drift(
        self, entity: str, key: str, label: str, target_id: str | None, found: Record | None
    ) -> DriftItem | None:
        """A record the flow no longer sends that the target still shows (unpublish) or holds (delete)."""
        if found is None:
            return None
        if self.flow.on_remove == "delete":
            fields = [FieldDiff("present", False, True)]
        elif published(found) and entity == "product":
            fields = [FieldDiff("published", False, True)]
        else:
            return None
        return DriftItem(entity, "different", key, label, target_id, fields, detail="no longer sent")

    async def _read_targets(self, entity: str, ids: Sequence[str]) -> dict[str, Record]:
        """Target records by id, in the connector's batches."""
        found: dict[str, Record] = {}
        wanted = [ident for ident in dict.fromkeys(ids) if ident]
        size = self.runner.target.capabilities().batch_size
        for start in range(0, len(wanted), size):
            for record in await self.runner.target.read(entity, wanted[start : start + size]):
                found[record.key] = record
        return found

    async def _target_page(
        self, entity: str, page: Sequence[Record], result: ReconcileResult, repair: bool
    ) -> None:
        """Report (and per policy remove) target products that no link of any flow into this target claims."""
        result.counts[f"{entity}.target"] += len(page)
        labels = [natural_key(record) for record in page if natural_key(record)]
        claimed: set[str] = set()
        for flow in self.sibling_flows:
            links = await self.store.find_links_by_natural_key(flow, entity, labels)
            claimed.update(ident for link in links.values() if (ident := _target_id(link)))
        policy = self.flow.reconcile.extras
        extras = []
        for record in page:
            if isinstance(record, Unmappable):
                continue  # the target cannot be read back as a record: it is compared through its link
            label = natural_key(record)
            if record.key in claimed or (label and label in self.unlinked_labels):
                continue  # linked, or the repair of a missing record will match it by its label
            if policy == "unpublish" and not published(record):
                continue  # already out of sight: what the policy asks for
            extras.append(
                DriftItem(
                    entity,
                    "extra",
                    record.key,
                    label or (record.name if isinstance(record, Product) else "") or record.key,
                    record.key,
                    detail="no source record is linked to it",
                )
            )
        for item in extras:
            result.add(item)
        if repair and extras and policy != "report":
            await self._remove_extras(entity, extras, result)

    async def _remove_extras(self, entity: str, extras: list[DriftItem], result: ReconcileResult) -> None:
        """Unpublish or delete extras through the connector (they have no source key to queue work by)."""
        items = [
            WriteItem(
                f"extra:{item.key}",
                Product(key=item.key, sku=item.label, name="", active=False),
                {"id": int(item.key) if item.key.isdigit() else item.key},
                only=frozenset({"active"}) if self.flow.reconcile.extras == "unpublish" else None,
            )
            for item in extras
        ]
        if self.flow.reconcile.extras == "delete":
            outcomes = await self.runner.target.write(entity, [], items)
        else:
            outcomes = await self.runner.target.write(entity, items, [])
        by_key = {f"extra:{item.key}": item for item in extras}
        done = [by_key[outcome.key] for outcome in outcomes if outcome.ok]
        action = "deleted" if self.flow.reconcile.extras == "delete" else "unpublished"
        await self.store.record(
            journal=[
                JournalEntry(
                    flow=self.flow.name,
                    entity=entity,
                    key=f"extra:{item.key}",
                    action=action,
                    reason=REPAIR_REASON,
                    target_ref={"id": item.key},
                    detail={"label": item.label},
                )
                for item in done
            ]
        )
        for outcome in outcomes:
            if not outcome.ok:
                log.warning(
                    "extra not removed", flow=self.flow.name, target=outcome.key, error=str(outcome.error)
                )
        result.mark_repaired(done)


class OrderReconcile:
    """Finds shop orders of the sliding window that have no sale in the ERP."""

    def __init__(self, order_flow: OrderFlow, store: StateStore) -> None:
        self.order_flow = order_flow
        self.flow = order_flow.flow
        self.store = store

    async def run(self, result: ReconcileResult, *, repair: bool) -> None:
        """Read the window's orders in batches and compare them with the order links."""
        shop = self.order_flow.source
        keys = await shop.window(self.flow.orders.window_days)
        size = shop.capabilities().batch_size
        for start in range(0, len(keys), size):
            await self._batch(keys[start : start + size], result, repair)

    async def _batch(self, keys: Sequence[str], result: ReconcileResult, repair: bool) -> None:
        orders = await self.order_flow.source.read("order", keys)
        links = await self.store.get_links(self.flow.name, "order", keys)
        queued = await self.store.queued_keys(self.flow.name, "order", keys)
        missing = []
        for order in orders:
            result.counts["order.source"] += 1
            link = links.get(order.key)
            if isinstance(order, Unmappable):
                result.counts["unreadable"] += 1  # the intake dead-letters it with record and field
            elif order.key in queued:
                result.counts["pending"] += 1
            elif not isinstance(order, Order) or not self.order_flow.intake.importable(order):
                result.counts["waiting"] += 1  # e.g. pending payment: not for the ERP yet
            elif link is not None and (link.target_ref or link.state == "rejected"):
                result.counts["compared"] += 1
            else:
                label = order.number or order.key
                detail = "no sale in the ERP"
                missing.append(DriftItem("order", "missing", order.key, label, detail=detail))
        for item in missing:
            result.add(item)
        if repair and missing:
            await self.store.queue_repairs(
                self.flow.name,
                "order",
                [item.key for item in missing],
                priority=REPAIR_PRIORITY,
                reason=REPAIR_REASON,
            )
            result.mark_repaired(missing)


class Reconciler:
    """Runs reconciles for an engine's flows, saves their reports and raises drift alerts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def flows(self) -> list[str]:
        """The flows that can be reconciled (every enabled flow)."""
        return [*self.engine.runners, *self.engine.order_flows]

    async def reconcile(self, name: str, *, repair: bool = False) -> ReconcileResult:
        """Compare both sides of one flow, queue the repairs when asked, save and return the report."""
        result = ReconcileResult(name, repair)
        previous = await self.store.list_reports(name, limit=1)
        try:
            if name in self.engine.order_flows:
                await OrderReconcile(self.engine.order_flows[name], self.store).run(result, repair=repair)
            else:
                runner = self.engine.runners[name]
                await CatalogueReconcile(runner, self.store, self._siblings(runner.flow)).run(
                    result, repair=repair
                )
        except ConnectorError as error:
            result.error = str(error)
            log.warning("reconcile failed", flow=name, error=str(error))
        result.finished_at = utc_now()
        result.report_id = await self.store.save_report(result.to_report())
        log.info("reconciled", flow=name, status=result.status, **{k: v for k, v in result.counts.items()})
        await self._alert(result, previous[0] if previous else None)
        return result

    def _siblings(self, flow: FlowSettings) -> list[str]:
        """Catalogue flows into the same target (their links claim target records too)."""
        return [
            other.name
            for other in self.engine.settings.flows
            if other.target == flow.target and "order" not in other.entities
        ]

    async def _alert(self, result: ReconcileResult, previous: ReconcileReport | None) -> None:
        """Drift raises an alert; a clean run after a run with drift resolves it."""
        if result.drift:
            kinds = ", ".join(f"{result.counts[k]} {k}" for k in DRIFT_KINDS if result.counts[k])
            labels = [item.label for item in result.items[:ALERT_SAMPLE]]
            repaired = "; repairs queued" if result.repair and result.counts["repaired"] else ""
            await self.engine.alerts.notify(
                Alert(
                    kind=AlertKind.DRIFT,
                    subject=result.flow,
                    flow=result.flow,
                    message=f"flow {result.flow}: {result.drift} records drifted ({kinds}){repaired}",
                    details={"counts": dict(result.counts), "records": labels, "report": result.report_id},
                )
            )
        elif result.clean and previous is not None and previous.status in ("drift", "repaired"):
            await self.engine.alerts.notify(
                Alert(
                    kind=AlertKind.DRIFT,
                    subject=result.flow,
                    flow=result.flow,
                    message=f"flow {result.flow}: both sides agree again",
                    resolved=True,
                )
            )
