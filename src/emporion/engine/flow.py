"""One flow at work: read source records, map them, skip what is unchanged, write, and say what happened.

`FlowRunner.sync_keys` is the one path every sync takes (initial sync, change feed, retries, plan):
it returns the links, journal entries, dead letters and retries for the caller to commit in one
transaction, so that a crash between the target write and the commit is repaired by the
search-before-create of the next attempt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.alerts import Alert
from emporion.alerts.monitors import stock_levels
from emporion.config import FlowSettings
from emporion.connectors.base import (
    Connector,
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    Retryable,
    Unmappable,
    WriteItem,
)
from emporion.engine.mapping import FlowMapper, expand_categories
from emporion.model import Category, Product, Record, fingerprint
from emporion.state import DeadLetter, JournalEntry, Link, StateStore

TARGET_REF_PREFIX = "target:"  # a mapped category value that already names a target category id


@dataclass
class PlannedWrite:
    """What a sync would do to one record (the unit of `emporion plan`)."""

    key: str
    action: str  # create, update, unpublish, delete
    label: str
    fields: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    """Everything one batch produced, for the caller to commit together."""

    links: list[Link] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    retry: list[tuple[str, str, float | None]] = field(default_factory=list)  # key, reason, after
    planned: list[PlannedWrite] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    stock_skus: set[str] = field(default_factory=set)  # reservations made or released: send their stock again
    stock: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # SKU -> available, threshold
    alerts: list[Alert] = field(default_factory=list)  # for the engine's alert sink, after the commit

    def dead_letter(
        self,
        flow: str,
        entity: str,
        key: str,
        error: Permanent,
        reason: str,
        label: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """A record that cannot go on: its dead letter and a journal line.

        The letter names the record (`label`, else the error's record, else `<entity> <key>`) and the field.
        """
        label = label or error.record or f"{entity} {key}"
        self.dead.append(DeadLetter(flow, entity, key, str(error), error.field, label, payload))
        detail = {"error": str(error), "field": error.field, "label": label}
        self.journal.append(JournalEntry(flow, entity, key, "dead", reason, detail=detail))
        self.counts["failed"] += 1

    def merge(self, other: BatchResult) -> None:
        self.links += other.links
        self.journal += other.journal
        self.dead += other.dead
        self.retry += other.retry
        self.planned += other.planned
        self.counts.update(other.counts)
        self.stock.update(other.stock)
        self.alerts += other.alerts


def natural_key(record: Record) -> str:
    """The key people and the target know a record by: SKU for products, name for categories."""
    if isinstance(record, Product):
        return record.sku
    if isinstance(record, Category):
        return record.name
    return record.key


class FlowRunner:
    """Moves records of one flow from its source connector to its target connector."""

    def __init__(self, flow: FlowSettings, source: Connector, target: Connector, store: StateStore) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.store = store
        self.mapper = FlowMapper(flow)
        self._prepared = False

    def feeds(self) -> list[tuple[str, Connector, str]]:
        """(queue entity, connector, connector entity) of each change feed this flow follows."""
        return [(entity, self.source, entity) for entity in self.flow.entities]

    async def prepare(self) -> None:
        """Load what the mapping needs from the source once (the category tree for filters)."""
        if self._prepared:
            return
        if self.flow.filter.categories:
            categories: list[Category] = []
            async for page in self.source.scan("category"):
                categories += [c for c in page if isinstance(c, Category)]
            allowed = expand_categories(self.flow.filter.categories, categories)
            self.mapper = FlowMapper(self.flow, allowed_categories=allowed)
        self._prepared = True

    async def sync_keys(
        self,
        entity: str,
        keys: Sequence[str],
        *,
        reason: str,
        records: Sequence[Record] | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> BatchResult:
        """Bring the target in line with the source for `keys`; nothing is written when `dry_run`."""
        await self.prepare()
        keys = list(dict.fromkeys(keys))
        if records is None:
            records = await self.source.read(entity, keys)
        by_key = {record.key: record for record in records}
        links = await self.store.get_links(self.flow.name, entity, keys)
        reserved = await self.reservations(records)
        result = BatchResult()
        mapped: dict[str, Record] = {}
        removals: list[WriteItem] = []
        deletions: list[WriteItem] = []
        for key in keys:
            record, link = by_key.get(key), links.get(key)
            if isinstance(record, Unmappable):
                self._dead(result, entity, key, None, record.error(), reason)
                continue
            try:
                wanted = record is not None and self.mapper.accepts(record)
                if record is not None and wanted:
                    mapped[key] = self.mapper.map(record, reserved)
                    if isinstance(record, Product) and self.flow.low_stock:
                        result.stock.update(stock_levels(self.flow, record, mapped[key]))  # type: ignore[arg-type]
                    continue
            except Permanent as error:
                self._dead(result, entity, key, record, error, reason)
                continue
            if link is None or link.state == "removed" or not link.target_ref:
                result.counts["absent"] += 1
                continue
            self._plan_removal(entity, key, link, removals, deletions, result)
        digests: dict[str, str] = {}
        upserts = await self._resolve_and_skip(entity, mapped, links, result, digests, force)
        if dry_run:
            await self._plan(entity, upserts, removals, deletions, result)
            return result
        if entity == "category":
            await self._write_categories(upserts, links, result, digests, reason)
        elif upserts or removals or deletions:
            outcomes = await self.target.write(entity, [*upserts, *removals], deletions)
            items = {i.key: i for i in [*upserts, *removals, *deletions]}
            self._record(entity, outcomes, items, links, result, digests, reason)
        return result

    def _plan_removal(
        self,
        entity: str,
        key: str,
        link: Link,
        removals: list[WriteItem],
        deletions: list[WriteItem],
        result: BatchResult,
    ) -> None:
        policy = self.flow.on_remove
        if policy == "delete":
            deletions.append(WriteItem(key, Category(key=key, name=link.natural_key or key), link.target_ref))
        elif policy == "unpublish" and entity == "product":
            stub = Product(key=key, sku=link.natural_key or "", name="", active=False)
            removals.append(WriteItem(key, stub, link.target_ref, only=frozenset({"active"})))
        else:
            result.counts["kept"] += 1

    async def _resolve_and_skip(
        self,
        entity: str,
        mapped: dict[str, Record],
        links: dict[str, Link],
        result: BatchResult,
        digests: dict[str, str],
        force: bool,
    ) -> list[WriteItem]:
        """Swap source references for target ids, then drop what the target already holds."""
        if entity == "product":
            wanted = {c for r in mapped.values() if isinstance(r, Product) for c in r.categories}
            source_keys = [c for c in wanted if not c.startswith(TARGET_REF_PREFIX)]
            category_links = await self.store.get_links(self.flow.name, "category", source_keys)
        owned = frozenset(self.flow.target_owns)
        upserts = []
        for key, record in mapped.items():
            if isinstance(record, Product):
                try:
                    record = record.model_copy(
                        update={"categories": self._category_ids(record, category_links)}
                    )
                except Retryable as error:
                    result.retry.append((key, str(error), None))
                    result.counts["waiting"] += 1
                    continue
            link = links.get(key)
            digest = fingerprint(record)
            if not force and link and link.state == "synced" and link.fingerprint == digest:
                result.counts["unchanged"] += 1
                continue
            digests[key] = digest
            upserts.append(
                WriteItem(key, record, link.target_ref if link and link.target_ref else None, owned)
            )
        return upserts

    async def expected(self, entity: str, records: Sequence[Record]) -> dict[str, Record]:
        """What the target should hold for these source records (mapped, references resolved).

        Records the flow does not send, cannot map, or whose references are not in the target yet
        are left out; the verification reports them through their links and dead letters instead.
        """
        await self.prepare()
        mapped: dict[str, Record] = {}
        reserved = await self.reservations(records)
        for record in records:
            if isinstance(record, Unmappable):
                continue
            try:
                if self.mapper.accepts(record):
                    mapped[record.key] = self.mapper.map(record, reserved)
            except Permanent:
                continue
        if entity == "category":
            parents = [r.parent_key for r in mapped.values() if isinstance(r, Category) and r.parent_key]
            parent_links = await self.store.get_links(self.flow.name, "category", parents)
            for key, record in mapped.items():
                parent = getattr(record, "parent_key", None)
                link = parent_links.get(parent) if parent else None
                target_parent = str(link.target_ref["id"]) if link and link.target_ref else None
                mapped[key] = record.model_copy(update={"parent_key": target_parent})
            return mapped
        wanted = [c for r in mapped.values() if isinstance(r, Product) for c in r.categories]
        category_links = await self.store.get_links(self.flow.name, "category", wanted)
        resolved: dict[str, Record] = {}
        for key, record in mapped.items():
            try:
                categories = self._category_ids(record, category_links)  # type: ignore[arg-type]
            except Retryable:
                continue
            resolved[key] = record.model_copy(update={"categories": categories})
        return resolved

    async def reservations(self, records: Sequence[Record]) -> dict[str, Decimal]:
        """Units reserved by shop orders the source has not taken yet, for these products' SKUs."""
        skus = [
            sku
            for record in records
            if isinstance(record, Product)
            for sku in [record.sku, *(variant.sku for variant in record.variants)]
            if sku
        ]
        return await self.store.reserved(skus) if skus else {}

    def _category_ids(self, product: Product, category_links: dict[str, Link]) -> list[str]:
        if "categories" in self.flow.target_owns:
            return []
        ids = []
        for key in product.categories:
            if key.startswith(TARGET_REF_PREFIX):
                ids.append(key.removeprefix(TARGET_REF_PREFIX))
                continue
            link = category_links.get(key)
            if link is None or not link.target_ref or link.state == "removed":
                raise Retryable(f"category {key} of {product.sku} is not in the target yet", after=5.0)
            ids.append(str(link.target_ref["id"]))
        return sorted(set(ids), key=lambda value: (len(value), value))

    async def _write_categories(
        self,
        upserts: list[WriteItem],
        links: dict[str, Link],
        result: BatchResult,
        digests: dict[str, str],
        reason: str,
    ) -> None:
        """Write categories parents first, so that each child can name its parent's target id."""
        pending = {item.key: item for item in upserts}
        parent_links = await self.store.get_links(
            self.flow.name,
            "category",
            [i.record.parent_key for i in upserts if i.record.parent_key],  # type: ignore[attr-defined]
        )
        target_ids = {
            k: str(v.target_ref["id"])
            for k, v in parent_links.items()
            if v.target_ref and v.state != "removed"
        }
        while pending:
            layer = [
                item
                for item in pending.values()
                if item.record.parent_key is None or item.record.parent_key not in pending  # type: ignore[attr-defined]
            ]
            ready = []
            for item in layer:
                del pending[item.key]
                parent = item.record.parent_key  # type: ignore[attr-defined]
                if parent is not None and parent not in target_ids:
                    result.retry.append((item.key, f"parent category {parent} is not in the target yet", 5.0))
                    result.counts["waiting"] += 1
                    continue
                record = item.record.model_copy(
                    update={"parent_key": target_ids.get(parent) if parent else None}
                )
                ready.append(WriteItem(item.key, record, item.target_ref, item.keep_on_update))
            if not ready:
                continue
            outcomes = await self.target.write("category", ready, [])
            self._record("category", outcomes, {i.key: i for i in ready}, links, result, digests, reason)
            for outcome in outcomes:
                if outcome.ok and outcome.target_ref:
                    target_ids[outcome.key] = str(outcome.target_ref["id"])

    async def _plan(
        self,
        entity: str,
        upserts: list[WriteItem],
        removals: list[WriteItem],
        deletions: list[WriteItem],
        result: BatchResult,
    ) -> None:
        unlinked = [natural_key(i.record) for i in upserts if i.target_ref is None]
        finder = getattr(self.target, "find", None)
        existing = await finder(entity, unlinked) if (finder and unlinked) else {}
        for item in upserts:
            label = natural_key(item.record)
            if item.target_ref is not None:
                action = "update"
            else:
                action = "match" if label in existing else "create"
            result.planned.append(PlannedWrite(item.key, action, label))
            result.counts[action] += 1
        for item in removals:
            result.planned.append(PlannedWrite(item.key, "unpublish", natural_key(item.record)))
            result.counts["unpublish"] += 1
        for item in deletions:
            result.planned.append(PlannedWrite(item.key, "delete", natural_key(item.record)))
            result.counts["delete"] += 1

    def _record(
        self,
        entity: str,
        outcomes: list[Outcome],
        items: dict[str, WriteItem],
        links: dict[str, Link],
        result: BatchResult,
        digests: dict[str, str],
        reason: str,
    ) -> None:
        for outcome in outcomes:
            item = items[outcome.key]
            link = links.get(outcome.key)
            before = link.fingerprint if link else None
            label = natural_key(item.record) or (link.natural_key if link else None) or outcome.key
            if not outcome.ok:
                self._failed(result, entity, item, outcome.error, reason, label)
                continue
            removed = outcome.status is OutcomeStatus.DELETED or item.only == frozenset({"active"})
            after = None if removed else digests.get(outcome.key)
            ref = None if outcome.status is OutcomeStatus.DELETED else (outcome.target_ref or item.target_ref)
            result.links.append(
                Link(
                    flow=self.flow.name,
                    entity=entity,
                    source_key=outcome.key,
                    target_ref=ref,
                    natural_key=label,
                    fingerprint=after,
                    state="removed" if removed else "synced",
                )
            )
            action = "unpublished" if item.only == frozenset({"active"}) else outcome.status.value
            result.journal.append(
                JournalEntry(
                    flow=self.flow.name,
                    entity=entity,
                    key=outcome.key,
                    action=action,
                    reason=reason,
                    before_fingerprint=before,
                    after_fingerprint=after,
                    target_ref=ref,
                    detail={"label": label},
                )
            )
            result.counts[action] += 1

    def _failed(
        self,
        result: BatchResult,
        entity: str,
        item: WriteItem,
        error: ConnectorError | None,
        reason: str,
        label: str,
    ) -> None:
        if isinstance(error, Retryable):
            result.retry.append((item.key, str(error), error.after))
            result.counts["retry"] += 1
            return
        permanent = (
            error if isinstance(error, Permanent) else Permanent(str(error or "write failed"), record=label)
        )
        self._dead(result, entity, item.key, item.record, permanent, reason)

    def _dead(
        self, result: BatchResult, entity: str, key: str, record: Record | None, error: Permanent, reason: str
    ) -> None:
        label = error.record or (natural_key(record) if record else key)
        payload = record.model_dump(mode="json") if record else None
        result.dead_letter(self.flow.name, entity, key, error, reason, label, payload)
