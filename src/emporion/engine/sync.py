"""Initial sync, plan and verification: the whole catalogue of a flow, page by page in flat memory.

A plan is a sync with `dry_run`: it reads both sides (the target only through its lookup by natural
key) and reports per entity what a sync would create, match, update, leave unchanged or keep
waiting for its categories, without writing anything. A sync writes categories before products, so
a plan counts the categories it plans to create or match as present: on an empty shop the products
are planned as creates (or matches, when the shop holds their SKU), not as waiting.

A two-way flow (one with a field ownership) also reports, per entity, what it matched and on which
key, the fields that differ and whose value wins, the conflicts, and what the target holds that no
source record names ("only in the target"): the first run on two systems that both hold data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import anyio

from emporion.connectors.base import Retryable, Unmappable
from emporion.engine.compare import FieldDiff, diff_records, unreadable_diff
from emporion.engine.outcomes import BatchResult, PlannedWrite
from emporion.engine.retry import backoff
from emporion.model import Record
from emporion.state.drift import DRIFT_STATE

if TYPE_CHECKING:
    from emporion.engine.flow import FlowRunner

ProgressCallback = Callable[[str, int], None]  # entity, records just handled
INITIAL_ATTEMPTS = 5
PRESENT = frozenset({"create", "match", "update"})  # planned actions after which a record is in the target
PARALLEL_BATCHES = 4  # batches in flight during a full sync (the shop connection's budget limits requests)
SAMPLE = 10  # natural keys kept of the records only in the target

LINKED_STATES = ("synced", DRIFT_STATE)  # drift: linked, found to differ, written again soon


@dataclass
class Mismatch:
    """A linked record whose target differs from what the flow says it should be."""

    key: str
    label: str
    diffs: list[FieldDiff]


@dataclass
class EntityReport:
    """Counts on both sides and what is wrong, for one entity of one flow."""

    entity: str
    source_count: int = 0
    target_count: int | None = None
    linked: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[str, str]] = field(default_factory=list)  # label, reason
    missing: list[str] = field(default_factory=list)  # labels linked but absent in the target
    mismatches: list[Mismatch] = field(default_factory=list)
    planned: list[PlannedWrite] = field(default_factory=list)
    # two-way flows: (field, the connection whose value wins, or "conflict") -> records
    differs: Counter[tuple[str, str]] = field(default_factory=Counter)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # natural key, field
    only_in_target: int | None = None  # records whose natural key no source record has
    only_in_target_sample: list[str] = field(default_factory=list)
    source_keys: set[str] = field(default_factory=set, repr=False)  # natural keys seen in the source

    @property
    def clean(self) -> bool:
        return not (self.failed or self.missing or self.mismatches) and self.linked >= self.source_count


@dataclass
class FlowReport:
    flow: str
    entities: list[EntityReport] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(entity.clean for entity in self.entities)


def chunked(items: Sequence[Record], size: int) -> list[Sequence[Record]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _attempt(call: Callable[[], Awaitable[BatchResult]]) -> BatchResult | Retryable:
    """Run a batch, retrying transient failures a few times; the last failure is returned."""
    for attempt in range(INITIAL_ATTEMPTS):
        try:
            return await call()
        except Retryable as error:
            if attempt == INITIAL_ATTEMPTS - 1:
                return error
            await anyio.sleep(min(backoff(attempt, error.after), 30.0))
    raise AssertionError("unreachable")


async def sync_flow(
    runner: FlowRunner, *, dry_run: bool = False, progress: ProgressCallback | None = None
) -> FlowReport:
    """Sync (or, with dry_run, plan) every record of a flow; leaves the change-feed cursor at the start.

    Up to PARALLEL_BATCHES batches of products are in flight at once (one at a time for categories,
    and for a plan, so that it lists records in source order): a slow shop answers several batches
    in the time of one, while memory stays flat because the next page is read only when a slot is free.
    """
    store, flow = runner.store, runner.flow
    report = FlowReport(flow.name)
    try:
        for entity in flow.entities:
            entity_report = EntityReport(entity)
            report.entities.append(entity_report)
            start = await runner.source.changes(entity, None)
            await _sync_entity(runner, entity, entity_report, dry_run=dry_run, progress=progress)
            if runner.ownership is not None:
                await _only_in_target(runner, entity, entity_report)
            if dry_run and entity == "category":
                runner.planned_categories = {p.key for p in entity_report.planned if p.action in PRESENT}
            if not dry_run:
                await store.enqueue(flow.name, entity, [], cursor=start.cursor)
    finally:
        runner.planned_categories = set()
    return report


async def _sync_entity(
    runner: FlowRunner,
    entity: str,
    entity_report: EntityReport,
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
) -> None:
    """Scan one entity and sync it batch by batch, a few batches at a time; re-raise the first failure."""
    # categories go one batch at a time: a child's parent must be linked by an earlier batch
    sequential = dry_run or entity == "category"
    slots = anyio.Semaphore(1 if sequential else PARALLEL_BATCHES)
    errors: list[Exception] = []

    async def one_batch(chunk: Sequence[Record]) -> None:
        """Sync one batch in its slot; the first failure cancels the others."""
        try:
            await _sync_batch(runner, entity, chunk, entity_report, dry_run=dry_run, progress=progress)
        except Exception as error:  # the first failure stops the sync, as a sequential run would
            errors.append(error)
            group.cancel_scope.cancel()
        finally:
            slots.release()

    async with anyio.create_task_group() as group:
        try:
            async for page in runner.source.scan(entity):
                for chunk in chunked(page, runner.flow.batch_size):
                    await slots.acquire()
                    group.start_soon(one_batch, chunk)
        except Exception as error:  # the source failed: stop the batches, raise it as it is
            errors.append(error)
            group.cancel_scope.cancel()
    if errors:
        raise errors[0]


async def _sync_batch(
    runner: FlowRunner,
    entity: str,
    chunk: Sequence[Record],
    entity_report: EntityReport,
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
) -> None:
    """Sync one batch of scanned records and add what happened to the entity's report."""
    store, flow = runner.store, runner.flow
    keys = [record.key for record in chunk]
    entity_report.source_count += sum(1 for r in chunk if _accepted(runner, r))
    outcome = await _attempt(
        partial(runner.sync_keys, entity, keys, reason="initial sync", records=chunk, dry_run=dry_run)
    )
    if isinstance(outcome, Retryable):
        # the target is unwell: leave the batch in the work queue, nothing is lost
        if not dry_run:
            await store.enqueue(flow.name, entity, keys, reason="initial sync", delay=30.0)
        entity_report.counts["queued"] += len(keys)
        entity_report.failed += [(key, f"queued for retry: {outcome}") for key in keys]
        return
    entity_report.counts.update(outcome.counts)
    entity_report.planned += outcome.planned
    entity_report.failed += [(d.record or d.key, d.reason) for d in outcome.dead]
    entity_report.differs.update(outcome.differs)
    entity_report.conflicts += [(c.natural_key, c.field) for check in outcome.conflicts for c in check.found]
    if runner.ownership is not None:
        entity_report.source_keys.update(
            runner.natural_key(r) for r in chunk if not isinstance(r, Unmappable)
        )
    if not dry_run:
        await store.record(
            links=outcome.links,
            journal=outcome.journal,
            dead=outcome.dead,
            conflicts=outcome.conflicts,
            reverts=outcome.reverts,
        )
        if outcome.retry:
            retry_keys = [key for key, _, _ in outcome.retry]
            await store.enqueue(flow.name, entity, retry_keys, reason="retry", delay=5.0)
    if progress:
        progress(entity, len(chunk))


async def _only_in_target(runner: FlowRunner, entity: str, entity_report: EntityReport) -> None:
    """Count (and sample) the target's records whose natural key no source record had (reads only)."""
    count, sample = 0, list[str]()
    async for page in runner.target.scan(entity):
        for record in page:
            if isinstance(record, Unmappable):
                continue
            key = runner.natural_key(record)
            if key and key not in entity_report.source_keys:
                count += 1
                if len(sample) < SAMPLE:
                    sample.append(key)
    entity_report.only_in_target, entity_report.only_in_target_sample = count, sample
    entity_report.source_keys = set()


def _accepted(runner: FlowRunner, record: Record) -> bool:
    try:
        return runner.mapper.accepts(record)
    except Exception:  # a filter that fails is reported by sync_keys as a dead letter
        return True


async def verify_flow(runner: FlowRunner, report: FlowReport | None = None) -> FlowReport:
    """Compare every linked record on both sides, field by field, and count both sides."""
    flow, store = runner.flow, runner.store
    report = report or FlowReport(flow.name)
    by_entity = {e.entity: e for e in report.entities}
    for entity in flow.entities:
        # a two-way flow answers only for the fields its source owns: the others are the reverse flow's
        ignore = runner.uncompared(entity)
        entity_report = by_entity.get(entity) or EntityReport(entity)
        if entity not in by_entity:
            report.entities.append(entity_report)
            async for page in runner.source.scan(entity):
                entity_report.source_count += sum(1 for r in page if _accepted(runner, r))
        entity_report.target_count = await runner.target.count(entity)
        entity_report.linked = 0
        async for links in store.iter_links(flow.name, entity):
            synced = {
                link.source_key: (link, str(link.target_ref["id"]))
                for link in links
                if link.state in LINKED_STATES and link.target_ref
            }
            entity_report.linked += len(synced)
            if not synced:
                continue
            sources = await runner.source.read(entity, list(synced))
            expected = await runner.expected(entity, sources)
            targets = {r.key: r for r in await runner.target.read(entity, [i for _, i in synced.values()])}
            for link, target_id in synced.values():
                label = link.natural_key or link.source_key
                actual = targets.get(target_id)
                if actual is None:
                    entity_report.missing.append(label)
                    continue
                wanted = expected.get(link.source_key)
                if wanted is None:
                    continue  # no longer sent: the change feed removes it
                diffs = unreadable_diff(actual) or diff_records(wanted, actual, ignore)
                if diffs:
                    entity_report.mismatches.append(Mismatch(link.source_key, label, diffs))
    return report
