"""The catalogue parts of the contract: a source (paging, reads, a change feed) and a target (upserts).

A source's test class says how to make and change records in the system itself (`seed`, `touch`);
a target's says how to make a record there behind emporion's back (`seed`), which records are good
and which one the system refuses (`record`, `bad_record`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import ClassVar

from emporion.connectors.base import OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.roles import CatalogueSource, CatalogueTarget
from emporion.model import Product, Record
from emporion.testing.contract.base import ContractPart, by_key, drain, one, scan_keys

Commit = Callable[[], Awaitable[None]]
MISSING_KEY = "987654321"  # a key no test system hands out


class CatalogueSourceContract(ContractPart):
    """A catalogue source: every record once across scan pages, reads by key, a feed that loses nothing.

    The connector fixture should page by `page_size` records, so that the seeded records span pages.
    """

    entity: ClassVar[str] = "product"
    page_size: ClassVar[int] = 3

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        """Make `count` new records of `entity` in the system itself; their keys."""
        raise NotImplementedError

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        """Change record `key` in the system itself, so that the feed must report it."""
        raise NotImplementedError

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """Start a change of `key` that stays in flight (uncommitted) until the returned call commits it.

        A system whose transactions cannot be held open from outside makes the change at commit time
        and gives it the stamp it would have carried (an ERP test restamps the row it wrote).
        """
        raise NotImplementedError

    async def test_scan_returns_every_record_once_across_pages(
        self, connector: CatalogueSource, tag: str
    ) -> None:
        """Paging neither skips nor repeats: seeded records all appear, each key once, over several pages."""
        seeded = await self.seed(connector, 2 * self.page_size + 1, tag)
        keys, pages = await scan_keys(connector, self.entity)
        assert len(keys) == len(set(keys)), "a record was scanned twice"
        assert set(seeded) <= set(keys)
        assert pages >= 3

    async def test_read_gives_records_by_key_and_leaves_out_missing_ones(
        self, connector: CatalogueSource, tag: str
    ) -> None:
        """`read` answers with the records that exist, under the keys asked for."""
        seeded = await self.seed(connector, 2, tag)
        records = await connector.read(self.entity, [*seeded, MISSING_KEY])
        assert sorted(record.key for record in records) == sorted(seeded)

    async def test_feed_from_now_reports_nothing_old(self, connector: CatalogueSource, tag: str) -> None:
        """A feed started with no cursor reports what changes from then on, not what was there before."""
        await self.seed(connector, 1, tag)
        start = await connector.changes(self.entity, None)
        assert start.keys == [] and start.cursor
        assert (await drain(connector, self.entity, start.cursor)).keys == []

    async def test_change_is_reported_once(self, connector: CatalogueSource, tag: str) -> None:
        """A changed record is reported by the next poll, and not again by the one after."""
        (key,) = await self.seed(connector, 1, tag)
        start = await connector.changes(self.entity, None)
        await self.touch(connector, key)
        await self.settle()
        first = await drain(connector, self.entity, start.cursor)
        assert key in first.keys
        assert key not in (await drain(connector, self.entity, first.cursor)).keys

    async def test_change_at_the_cursor_boundary_is_reported_by_the_next_poll(
        self, connector: CatalogueSource, tag: str
    ) -> None:
        """Changes made right after a poll, as close to its cursor as they can be, are never passed."""
        first, second = await self.seed(connector, 2, tag)
        start = await connector.changes(self.entity, None)
        await self.touch(connector, first)
        polled = await drain(connector, self.entity, start.cursor)
        await self.touch(connector, first)  # the same record again, at once
        await self.touch(connector, second)
        after = await drain(connector, self.entity, polled.cursor)
        assert {first, second} <= set(after.keys)

    async def test_change_in_flight_during_a_poll_is_reported_once_it_commits(
        self, connector: CatalogueSource, tag: str
    ) -> None:
        """A change that began before a poll but committed after it (a late commit) is not lost."""
        late, early = await self.seed(connector, 2, tag)
        start = await connector.changes(self.entity, None)
        commit = await self.begin_change(connector, late)
        await self.touch(connector, early)  # begun after `late`, committed before it
        await self.settle()  # `early` is reported once only when its stamp is settled
        polled = await drain(connector, self.entity, start.cursor)
        assert early in polled.keys and late not in polled.keys
        await commit()
        after = await drain(connector, self.entity, polled.cursor)
        assert late in after.keys and early not in after.keys


class CatalogueTargetContract(ContractPart):
    """A catalogue target: lookup by natural key, idempotent upserts, typed per-item failures, count."""

    entity: ClassVar[str] = "product"

    def record(self, tag: str, n: int = 0) -> Record:
        """A valid record of `entity` whose natural key is unique to this test."""
        return Product(
            key=f"src-{tag}-{n}", sku=f"CT-{tag}-{n}", name=f"Contract {n}", list_price=Decimal(10)
        )

    def natural_key(self, record: Record) -> str:
        """The natural key the target knows `record` by (Capabilities.natural_keys)."""
        assert isinstance(record, Product)
        return record.sku

    def renamed(self, record: Record, name: str) -> Record:
        """`record` with another name (a change every target writes)."""
        return record.model_copy(update={"name": name})

    def name_of(self, record: Record) -> str:
        """The name a record read back from the target carries."""
        assert isinstance(record, Product)
        return record.name

    def published(self, record: Record) -> bool:
        """Whether a record read back from the target is shown to shoppers (unpublished: not)."""
        assert isinstance(record, Product)
        return record.active and record.salable

    def bad_record(self, tag: str) -> tuple[Record, str]:
        """A record the system refuses for good, and the field its error must name."""
        product = Product(key=f"bad-{tag}", sku=f"BAD-{tag}", name="Bad", categories=["no-such-category"])
        return product, "categories"

    async def seed(self, connector: CatalogueTarget, record: Record) -> str:
        """Make `record` in the system itself, behind emporion's back; its id there."""
        raise NotImplementedError

    async def fail_transiently(self, connector: CatalogueTarget) -> None:
        """Make the next write fail as a system that is briefly unwell would (timeout, 503, lock)."""
        raise NotImplementedError

    async def read_unpublished(self, connector: CatalogueTarget, key: str) -> Record:
        """Record `key`, unpublished, as the target holds it. A target whose reads leave unpublished
        records out (an ERP's catalogue keeps only what it sells) reads it its own way."""
        return one(await connector.read(self.entity, [key]))

    async def test_write_creates_and_answers_with_a_reference(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """An unlinked new record is created; its reference reads it back."""
        record = self.record(tag)
        (outcome,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        assert outcome.status is OutcomeStatus.CREATED and outcome.key == record.key
        assert outcome.target_ref and outcome.target_ref.get("id")
        back = one(await connector.read(self.entity, [str(outcome.target_ref["id"])]))
        assert self.name_of(back) == self.name_of(record)

    async def test_writing_the_same_item_twice_makes_one_record(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """The answer to a create was lost: writing it again unlinked finds the first, it makes no second."""
        record = self.record(tag)
        (first,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        count = await connector.count(self.entity)
        (again,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        assert again.ok and again.status is not OutcomeStatus.CREATED
        assert first.target_ref and again.target_ref and again.target_ref["id"] == first.target_ref["id"]
        assert await connector.count(self.entity) == count

    async def test_linked_write_updates_in_place(self, connector: CatalogueTarget, tag: str) -> None:
        """A write with the link's reference changes that record and makes no other."""
        record = self.record(tag)
        (first,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        count = await connector.count(self.entity)
        changed = self.renamed(record, f"Renamed {tag}")
        (update,) = await connector.write(self.entity, [WriteItem(record.key, changed, first.target_ref)], [])
        assert update.status in (OutcomeStatus.UPDATED, OutcomeStatus.MATCHED)
        assert first.target_ref and update.target_ref and update.target_ref["id"] == first.target_ref["id"]
        back = one(await connector.read(self.entity, [str(first.target_ref["id"])]))
        assert self.name_of(back) == f"Renamed {tag}"
        assert await connector.count(self.entity) == count

    async def test_lookup_finds_existing_records_by_natural_key(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """`lookup` finds a record made behind emporion's back, leaves out unknown keys, writes nothing."""
        record = self.record(tag)
        made = await self.seed(connector, record)
        count = await connector.count(self.entity)
        found = await connector.lookup(self.entity, [self.natural_key(record), f"NOPE-{tag}"])
        assert set(found) == {self.natural_key(record)}
        assert str(found[self.natural_key(record)]["id"]) == made
        assert await connector.count(self.entity) == count

    async def test_unlinked_write_matches_a_record_made_outside(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """Search before create: an unlinked item whose natural key exists updates that record."""
        record = self.record(tag)
        made = await self.seed(connector, record)
        count = await connector.count(self.entity)
        changed = self.renamed(record, f"Matched {tag}")
        (outcome,) = await connector.write(self.entity, [WriteItem(record.key, changed)], [])
        assert outcome.ok and outcome.status is not OutcomeStatus.CREATED
        assert outcome.target_ref and str(outcome.target_ref["id"]) == made
        assert await connector.count(self.entity) == count
        assert self.name_of(one(await connector.read(self.entity, [made]))) == f"Matched {tag}"

    async def test_only_writes_the_named_fields(self, connector: CatalogueTarget, tag: str) -> None:
        """`only` limits the write (unpublishing sends `active` alone): other fields keep their values."""
        record = self.record(tag)
        (first,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        stub = self.renamed(record, "Not this name").model_copy(update={"active": False})
        item = WriteItem(record.key, stub, first.target_ref, only=frozenset({"active"}))
        (outcome,) = await connector.write(self.entity, [item], [])
        assert outcome.ok and first.target_ref
        back = await self.read_unpublished(connector, str(first.target_ref["id"]))
        assert self.name_of(back) == self.name_of(record)
        assert not self.published(back)

    async def test_keep_on_update_fields_are_sent_on_create_only(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """Fields the target owns are set when the record is made and never overwritten afterwards."""
        record = self.record(tag)
        owned = frozenset({"name"})
        (first,) = await connector.write(
            self.entity, [WriteItem(record.key, record, keep_on_update=owned)], []
        )
        changed = self.renamed(record, "Overwritten")
        item = WriteItem(record.key, changed, first.target_ref, keep_on_update=owned)
        (outcome,) = await connector.write(self.entity, [item], [])
        assert outcome.ok and first.target_ref
        back = one(await connector.read(self.entity, [str(first.target_ref["id"])]))
        assert self.name_of(back) == self.name_of(record)

    async def test_a_bad_record_fails_alone_with_a_permanent_error(
        self, connector: CatalogueTarget, tag: str
    ) -> None:
        """A record the system refuses is a FAILED outcome naming record and field; the rest is written."""
        good = self.record(tag)
        bad, field = self.bad_record(tag)
        outcomes = by_key(
            await connector.write(self.entity, [WriteItem(good.key, good), WriteItem(bad.key, bad)], [])
        )
        assert outcomes[good.key].status is OutcomeStatus.CREATED
        failure = outcomes[bad.key]
        assert failure.status is OutcomeStatus.FAILED and isinstance(failure.error, Permanent)
        assert failure.error.field == field and failure.error.record

    async def test_a_transient_failure_is_retryable(self, connector: CatalogueTarget, tag: str) -> None:
        """A system that is briefly unwell gives `Retryable`: raised for the call, or per item."""
        record = self.record(tag)
        await self.fail_transiently(connector)
        try:
            outcomes = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        except Retryable:
            return
        (outcome,) = outcomes
        assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Retryable)

    async def test_count_follows_creates(self, connector: CatalogueTarget, tag: str) -> None:
        """`count` is the number of records the system holds."""
        before = await connector.count(self.entity)
        records = [self.record(tag, n) for n in range(2)]
        await connector.write(self.entity, [WriteItem(r.key, r) for r in records], [])
        assert await connector.count(self.entity) == before + 2

    async def test_delete_removes_a_linked_record(self, connector: CatalogueTarget, tag: str) -> None:
        """A delete of a linked record removes it; reading it leaves it out."""
        record = self.record(tag)
        (first,) = await connector.write(self.entity, [WriteItem(record.key, record)], [])
        (gone,) = await connector.write(self.entity, [], [WriteItem(record.key, record, first.target_ref)])
        assert gone.status is OutcomeStatus.DELETED and first.target_ref
        assert await connector.read(self.entity, [str(first.target_ref["id"])]) == []
