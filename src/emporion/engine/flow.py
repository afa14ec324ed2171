"""One catalogue flow at work: read source records, map them, skip what is unchanged, write, and say
what happened.

`FlowRunner.sync_keys` is the one path every sync takes (initial sync, change feed, retries, plan):
it returns the links, journal entries, dead letters and retries for the caller to commit in one
transaction, so that a crash between the target write and the commit is repaired by the
search-before-create of the next attempt.

A flow with a field ownership (one of a two-way pair) takes the same path and hands what it would
write to `two_way.TwoWaySync`, which keeps only the fields its source owns. Customers take the same
path as the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from decimal import Decimal

from emporion.alerts.monitors import stock_levels
from emporion.config import FlowSettings, Ownership
from emporion.connectors.base import Outcome, Permanent, Retryable, Unmappable, WriteItem
from emporion.connectors.roles import CatalogueSource, CatalogueTarget
from emporion.engine.flows import Feed, Flow
from emporion.engine.keys import MATCHED_ON, lookup_key, natural_key
from emporion.engine.mapping import FlowMapper, expand_categories
from emporion.engine.outcomes import BatchResult, OutcomeApplier, PlannedWrite, Written
from emporion.engine.sync import sync_flow
from emporion.engine.two_way import Note, TwoWaySync, set_aside
from emporion.logs import get_logger
from emporion.model import Category, Product, Record, fingerprint
from emporion.state import Link, StateStore

__all__ = [
    "MATCHED_ON",
    "TARGET_REF_PREFIX",
    "BatchResult",
    "FlowRunner",
    "PlannedWrite",
    "lookup_key",
    "natural_key",
]

log = get_logger("emporion.engine")
TARGET_REF_PREFIX = "target:"  # a mapped category value that already names a target category id
UNPUBLISH = frozenset({"active"})  # what a removal by unpublishing writes


class FlowRunner(Flow):
    """Moves records of one catalogue flow from its source connector to its target connector."""

    source: CatalogueSource
    target: CatalogueTarget

    def __init__(
        self,
        flow: FlowSettings,
        source: CatalogueSource,
        target: CatalogueTarget,
        store: StateStore,
        *,
        partner: FlowSettings | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.store = store
        self.partner = partner  # the reverse flow of a two-way pair (writes the owner's value back)
        self.ownership = ownership  # None: one-way, every field the source sends is written
        self.two_way: TwoWaySync | None = None  # the field-by-field comparison of a two-way flow
        if ownership is not None:
            self.two_way = TwoWaySync(flow, ownership, partner, target, store)
        self.mapper = FlowMapper(flow)
        self._prepared = False
        # categories a plan has planned to create or match: its products count them as present
        self.planned_categories: set[str] = set()

    @staticmethod
    def natural_key(record: Record) -> str:
        """The key people and the target know a record by (see the module's `natural_key`)."""
        return natural_key(record)

    def uncompared(self, entity: str) -> frozenset[str]:
        """Fields of `entity` left out of comparisons: the target's own and those it does not keep."""
        return set_aside(self.flow, self.target, entity) | self.not_owned(entity)

    def not_owned(self, entity: str) -> frozenset[str]:
        """The record fields of `entity` the target owns in a two-way flow (none for a one-way flow)."""
        return self.two_way.not_owned(entity) if self.two_way is not None else frozenset()

    def feeds(self) -> list[Feed]:
        """One change feed per entity, categories first (products name them)."""
        return [Feed(entity, self.source, entity) for entity in self.flow.entities]

    async def start(self) -> None:
        """A flow that has never run starts with a full sync, so that nothing before its feed is missed."""
        cursors = [await self.store.get_cursor(self.flow.name, entity) for entity in self.flow.entities]
        if all(cursor is not None for cursor in cursors):
            return
        log.info("initial sync", flow=self.flow.name)
        report = await sync_flow(self)
        for entity in report.entities:
            log.info("initial sync done", flow=self.flow.name, entity=entity.entity, **dict(entity.counts))

    async def catch_up(self) -> int:
        """Nothing beyond the change feed: a catalogue feed never loses what changed meanwhile."""
        return 0

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
        """Bring the target in line with the source for `keys`; with `dry_run`, plan and only read."""
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
                    mapped[key] = target = self.mapper.map(record, reserved)
                    if isinstance(record, Product) and isinstance(target, Product) and self.flow.low_stock:
                        result.stock.update(stock_levels(self.flow, record, target))
                    continue
            except Permanent as error:
                self._dead(result, entity, key, record, error, reason)
                continue
            if link is None or link.state == "removed" or not link.target_ref:
                result.counts["absent"] += 1
                continue
            self._plan_removal(entity, key, link, removals, deletions, result)
        digests: dict[str, str] = {}
        upserts, waiting = await self._resolve_and_skip(
            entity, mapped, links, result, digests, force, dry_run=dry_run
        )
        notes: dict[str, Note] = {}
        if self.two_way is not None and upserts:
            upserts = await self.two_way.writes(
                entity, upserts, links, result, digests, notes, reason, dry_run=dry_run
            )
        if dry_run:
            await self._plan(entity, upserts, waiting, removals, deletions, result)
            return result
        for item, why in waiting:
            result.retry.append((item.key, str(why), None))
            result.counts["waiting"] += 1
        if entity == "category":
            await self._write_categories(upserts, links, result, digests, reason, notes)
        elif upserts or removals or deletions:
            outcomes = await self.target.write(entity, [*upserts, *removals], deletions)
            items = {i.key: i for i in [*upserts, *removals, *deletions]}
            self._record(entity, outcomes, items, links, result, digests, reason, notes)
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
        if entity == "customer":  # a customer account is never deleted nor hidden by a sync
            result.counts["kept"] += 1
        elif policy == "delete":
            gone: Record = (
                Product(key=key, sku=link.natural_key or "", name="")
                if entity == "product"
                else Category(key=key, name=link.natural_key or key)
            )
            deletions.append(WriteItem(key, gone, link.target_ref))
        elif policy == "unpublish" and entity == "product":
            stub = Product(key=key, sku=link.natural_key or "", name="", active=False)
            removals.append(WriteItem(key, stub, link.target_ref, only=UNPUBLISH))
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
        *,
        dry_run: bool = False,
    ) -> tuple[list[WriteItem], list[tuple[WriteItem, Retryable]]]:
        """Swap source references for target ids, then drop what the target already holds.

        Returns what to write, and the products that wait for their categories to reach the target.
        """
        category_links: dict[str, Link] = {}
        if entity == "product":
            wanted = {c for r in mapped.values() if isinstance(r, Product) for c in r.categories}
            source_keys = [c for c in wanted if not c.startswith(TARGET_REF_PREFIX)]
            category_links = await self.store.get_links(self.flow.name, "category", source_keys)
        owned = frozenset(self.flow.target_owns)
        defaults = self.flow.create_defaults
        upserts: list[WriteItem] = []
        waiting: list[tuple[WriteItem, Retryable]] = []
        for key, record in mapped.items():
            link = links.get(key)
            ref = link.target_ref if link and link.target_ref else None
            if isinstance(record, Product):
                try:
                    planned = self.planned_categories if dry_run else set()
                    record = record.model_copy(
                        update={"categories": self._category_ids(record, category_links, planned)}
                    )
                except Retryable as error:
                    waiting.append((WriteItem(key, record, ref, owned, defaults=defaults), error))
                    continue
            digest = fingerprint(record)
            if not force and link and link.state == "synced" and link.fingerprint == digest:
                result.counts["unchanged"] += 1
                continue
            digests[key] = digest
            upserts.append(WriteItem(key, record, ref, owned, defaults=defaults))
        return upserts, waiting

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
                parent = record.parent_key if isinstance(record, Category) else None
                link = parent_links.get(parent) if parent else None
                target_parent = str(link.target_ref["id"]) if link and link.target_ref else None
                mapped[key] = record.model_copy(update={"parent_key": target_parent})
            return mapped
        if entity != "product":  # customers name no other record
            return mapped
        wanted = [c for r in mapped.values() if isinstance(r, Product) for c in r.categories]
        category_links = await self.store.get_links(self.flow.name, "category", wanted)
        resolved: dict[str, Record] = {}
        for key, record in mapped.items():
            if not isinstance(record, Product):
                continue
            try:
                categories = self._category_ids(record, category_links)
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

    def _category_ids(
        self, product: Product, category_links: dict[str, Link], planned: Set[str] = frozenset()
    ) -> list[str]:
        """The target ids of a product's categories; `planned` ones (a plan's) stand for themselves."""
        if "categories" in self.flow.target_owns:
            return []
        ids = []
        for key in product.categories:
            if key.startswith(TARGET_REF_PREFIX):
                ids.append(key.removeprefix(TARGET_REF_PREFIX))
                continue
            link = category_links.get(key)
            if (link is None or not link.target_ref or link.state == "removed") and key in planned:
                ids.append(f"planned:{key}")
                continue
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
        notes: dict[str, Note],
    ) -> None:
        """Write categories parents first, so that each child can name its parent's target id."""
        pending = {item.key: item for item in upserts}
        parents = {item.key: _parent_key(item.record) for item in upserts}
        parent_links = await self.store.get_links(
            self.flow.name, "category", [parent for parent in parents.values() if parent]
        )
        target_ids = {
            k: str(v.target_ref["id"])
            for k, v in parent_links.items()
            if v.target_ref and v.state != "removed"
        }
        # parents this batch linked without writing (a two-way flow's matches) are in the target too
        target_ids.update(
            (link.source_key, str(link.target_ref["id"]))
            for link in result.links
            if link.entity == "category" and link.target_ref and link.state != "removed"
        )
        while pending:
            layer = [item for item in pending.values() if parents[item.key] not in pending]
            ready = []
            for item in layer:
                del pending[item.key]
                parent = parents[item.key]
                if parent is not None and parent not in target_ids:
                    result.retry.append((item.key, f"parent category {parent} is not in the target yet", 5.0))
                    result.counts["waiting"] += 1
                    continue
                record = item.record.model_copy(
                    update={"parent_key": target_ids.get(parent) if parent else None}
                )
                ready.append(
                    WriteItem(item.key, record, item.target_ref, item.keep_on_update, defaults=item.defaults)
                )
            if not ready:
                continue
            outcomes = await self.target.write("category", ready, [])
            items = {i.key: i for i in ready}
            self._record("category", outcomes, items, links, result, digests, reason, notes)
            for outcome in outcomes:
                if outcome.ok and outcome.target_ref:
                    target_ids[outcome.key] = str(outcome.target_ref["id"])

    async def _plan(
        self,
        entity: str,
        upserts: list[WriteItem],
        waiting: list[tuple[WriteItem, Retryable]],
        removals: list[WriteItem],
        deletions: list[WriteItem],
        result: BatchResult,
    ) -> None:
        """Say what a sync would do, asking the target (reads only) which unlinked records it holds."""
        unlinked = [
            lookup_key(item.record)
            for item in [*upserts, *(item for item, _ in waiting)]
            if item.target_ref is None
        ]
        existing = await self.target.lookup(entity, unlinked) if unlinked else {}
        for item in upserts:
            if item.target_ref is not None:
                action = "update"
            else:
                action = "match" if lookup_key(item.record) in existing else "create"
            self._planned(result, item, action)
        for item, error in waiting:
            if item.target_ref is None and lookup_key(item.record) in existing:
                self._planned(result, item, "match")
            else:
                self._planned(result, item, "waiting", str(error))
        for item in removals:
            self._planned(result, item, "unpublish")
        for item in deletions:
            self._planned(result, item, "delete")

    @staticmethod
    def _planned(result: BatchResult, item: WriteItem, action: str, detail: str = "") -> None:
        result.planned.append(PlannedWrite(item.key, action, natural_key(item.record), detail=detail))
        result.counts[action] += 1

    def _record(
        self,
        entity: str,
        outcomes: Sequence[Outcome],
        items: dict[str, WriteItem],
        links: dict[str, Link],
        result: BatchResult,
        digests: dict[str, str],
        reason: str,
        notes: dict[str, Note] | None = None,
    ) -> None:
        applier = OutcomeApplier(self.flow.name, entity, reason, result)
        for outcome in outcomes:
            item = items[outcome.key]
            link = links.get(outcome.key)
            unpublished = item.only == UNPUBLISH
            note = (notes or {}).get(outcome.key)
            written = Written(
                key=outcome.key,
                label=natural_key(item.record) or (link.natural_key if link else None) or outcome.key,
                before=link.fingerprint if link else None,
                after=digests.get(outcome.key),
                target_ref=item.target_ref,
                payload=item.record.model_dump(mode="json"),
                action="unpublished" if unpublished else (note.action if note else None),
                removed=unpublished,
                fields=note.fields if note else None,
                detail=note.detail if note else None,
            )
            applier.apply(outcome, written)

    def _dead(
        self, result: BatchResult, entity: str, key: str, record: Record | None, error: Permanent, reason: str
    ) -> None:
        label = error.record or (natural_key(record) if record else key)
        payload = record.model_dump(mode="json") if record else None
        result.dead_letter(self.flow.name, entity, key, error, reason, label, payload)


def _parent_key(record: Record) -> str | None:
    """The source key of a category's parent (None for a top category or another record)."""
    return record.parent_key if isinstance(record, Category) else None
