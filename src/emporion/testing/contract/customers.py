"""The customer parts of the contract: a source of customer accounts and a target that keeps them.

A source's test class says how a customer registers in the system itself and how one moves house
(`seed`, `move`); a target's says how a customer is made there behind emporion's back (`seed`) and,
where the connector's own read is not the whole truth, how to read what the system holds (`stored`).
Customers are known by their e-mail in lower case: never two records for one customer.
"""

from __future__ import annotations

from typing import ClassVar

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import CustomerSource, CustomerTarget
from emporion.model import Address, Customer, Record
from emporion.testing.contract.base import ContractPart, by_key, drain, one, scan_keys

MISSING_KEY = "987654321"  # a key no test system hands out


def address(city: str, tag: str = "") -> Address:
    """A postal address in `city` (its street carries `tag`, so that each test's is its own)."""
    return Address(street=f"Hauptstr. 1 {tag}".strip(), city=city, postcode="10115", country="DE")


def customer_of(record: Record) -> Customer:
    """A record read back as a Customer."""
    assert isinstance(record, Customer), type(record).__name__
    return record


class CustomerSourceContract(ContractPart):
    """A customer source: every customer once across scan pages, reads by key, a feed of changes.

    The connector fixture should page by `page_size` records, so that the seeded customers span pages.
    """

    page_size: ClassVar[int] = 3

    def email(self, tag: str, n: int) -> str:
        """The e-mail of the `n`th customer a test seeds (in mixed case, as people type them)."""
        return f"Contract.{tag}.{n}@Example.com"

    async def seed(self, connector: CustomerSource, count: int, tag: str) -> list[str]:
        """Register `count` customers in the system itself, with e-mails `self.email(tag, n)`; their keys."""
        raise NotImplementedError

    async def move(self, connector: CustomerSource, key: str, to: Address) -> None:
        """Change customer `key`'s billing address to `to` in the system itself."""
        raise NotImplementedError

    async def test_scan_returns_every_customer_once_across_pages(
        self, connector: CustomerSource, tag: str
    ) -> None:
        """Paging neither skips nor repeats: seeded customers all appear, each key once, over pages."""
        seeded = await self.seed(connector, 2 * self.page_size + 1, tag)
        keys, pages = await scan_keys(connector, "customer")
        assert len(keys) == len(set(keys)), "a customer was scanned twice"
        assert set(seeded) <= set(keys)
        assert pages >= 3

    async def test_read_gives_customers_by_key_and_leaves_out_missing_ones(
        self, connector: CustomerSource, tag: str
    ) -> None:
        """`read` answers with the customers that exist, under their keys, with their e-mails."""
        seeded = await self.seed(connector, 2, tag)
        records = [customer_of(r) for r in await connector.read("customer", [*seeded, MISSING_KEY])]
        assert sorted(record.key for record in records) == sorted(seeded)
        emails = {record.email.lower() for record in records}
        assert emails == {self.email(tag, n).lower() for n in range(2)}

    async def test_feed_from_now_reports_nothing_old(self, connector: CustomerSource, tag: str) -> None:
        """A feed started with no cursor reports what changes from then on, not who was there before."""
        await self.seed(connector, 1, tag)
        start = await connector.changes("customer", None)
        assert start.keys == [] and start.cursor
        assert (await drain(connector, "customer", start.cursor)).keys == []

    async def test_a_registration_is_reported_by_the_next_poll_once(
        self, connector: CustomerSource, tag: str
    ) -> None:
        """A customer registered after the feed started is reported by the next poll, not again after."""
        start = await connector.changes("customer", None)
        (key,) = await self.seed(connector, 1, tag)
        await self.settle()
        first = await drain(connector, "customer", start.cursor)
        assert key in first.keys
        assert key not in (await drain(connector, "customer", first.cursor)).keys

    async def test_an_address_change_is_reported_and_read_back(
        self, connector: CustomerSource, tag: str
    ) -> None:
        """Moving house is a change of the customer: the feed reports it, `read` gives the new address."""
        (key,) = await self.seed(connector, 1, tag)
        start = await connector.changes("customer", None)
        await self.move(connector, key, address("Potsdam", tag))
        await self.settle()
        polled = await drain(connector, "customer", start.cursor)
        assert key in polled.keys
        moved = customer_of(one(await connector.read("customer", [key])))
        assert moved.billing is not None and moved.billing.city == "Potsdam"


class CustomerTargetContract(ContractPart):
    """A customer target: lookup by e-mail, one customer per e-mail whatever its case, field-wise updates."""

    def record(self, tag: str, n: int = 0) -> Customer:
        """A valid customer whose e-mail is unique to this test."""
        return Customer(
            key=f"src-{tag}-{n}",
            email=f"target.{tag}.{n}@example.com".lower(),
            first_name="Ada",
            last_name=f"Lovelace-{n}",
            phone="+49 30 1234",
            billing=address("Berlin", tag),
        )

    def bad_record(self, tag: str) -> tuple[Customer, str]:
        """A customer the system refuses for good, and the field its error must name."""
        return Customer(key=f"bad-{tag}", email=f"not-an-e-mail-{tag}", first_name="Bad"), "email"

    async def seed(self, connector: CustomerTarget, customer: Customer) -> str:
        """Make `customer` in the system itself, behind emporion's back; its id there."""
        raise NotImplementedError

    async def stored(self, connector: CustomerTarget, ident: str) -> Customer:
        """The customer `ident` as the system holds it (by default the connector's own read)."""
        return customer_of(one(await connector.read("customer", [ident])))

    async def test_write_creates_and_answers_with_a_reference(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """An unlinked new customer is created; its reference reads it back with name and e-mail."""
        record = self.record(tag)
        (outcome,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        assert outcome.status is OutcomeStatus.CREATED and outcome.key == record.key
        assert outcome.target_ref and outcome.target_ref.get("id")
        back = await self.stored(connector, str(outcome.target_ref["id"]))
        assert back.email == record.email and back.last_name == record.last_name
        assert back.billing is not None and back.billing.city == "Berlin"

    async def test_writing_the_same_item_twice_makes_one_customer(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """The answer to a create was lost: writing it again unlinked finds the first, makes no second."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        count = await connector.count("customer")
        (again,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        assert again.ok and again.status is not OutcomeStatus.CREATED
        assert first.target_ref and again.target_ref and again.target_ref["id"] == first.target_ref["id"]
        assert await connector.count("customer") == count

    async def test_unlinked_write_matches_an_email_in_another_case(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """A customer made outside under `Ada@…` is the one an unlinked `ADA@…` write finds: never two."""
        record = self.record(tag)
        made = await self.seed(connector, record.model_copy(update={"email": record.email.title()}))
        count = await connector.count("customer")
        shouting = record.model_copy(update={"email": record.email.upper()})
        (outcome,) = await connector.write("customer", [WriteItem(record.key, shouting)], [])
        assert outcome.ok and outcome.status is not OutcomeStatus.CREATED
        assert outcome.target_ref and str(outcome.target_ref["id"]) == made
        assert await connector.count("customer") == count

    async def test_lookup_finds_customers_by_email_in_any_case_and_only_reads(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """`lookup` answers under the lower-cased e-mail, leaves out unknown ones and writes nothing."""
        record = self.record(tag)
        made = await self.seed(connector, record)
        count = await connector.count("customer")
        found = await connector.lookup("customer", [record.email.upper(), f"nobody.{tag}@example.com"])
        assert set(found) == {record.email}
        assert str(found[record.email]["id"]) == made
        assert await connector.count("customer") == count

    async def test_linked_write_updates_in_place(self, connector: CustomerTarget, tag: str) -> None:
        """A write with the link's reference changes that customer (name, address) and makes no other."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        count = await connector.count("customer")
        changed = record.model_copy(update={"last_name": "Byron", "billing": address("Potsdam", tag)})
        (update,) = await connector.write("customer", [WriteItem(record.key, changed, first.target_ref)], [])
        assert update.status is OutcomeStatus.UPDATED
        assert first.target_ref and update.target_ref and update.target_ref["id"] == first.target_ref["id"]
        back = await self.stored(connector, str(first.target_ref["id"]))
        assert back.last_name == "Byron" and back.billing is not None and back.billing.city == "Potsdam"
        assert await connector.count("customer") == count

    async def test_an_unchanged_linked_write_changes_nothing(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """Writing what the customer already holds is UNCHANGED (no echo for the other direction)."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        (again,) = await connector.write("customer", [WriteItem(record.key, record, first.target_ref)], [])
        assert again.status is OutcomeStatus.UNCHANGED

    async def test_only_writes_the_named_fields(self, connector: CustomerTarget, tag: str) -> None:
        """`only` limits the write: the fields it does not name keep their values."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        stub = record.model_copy(update={"last_name": "Not this name", "phone": "+49 30 9999"})
        item = WriteItem(record.key, stub, first.target_ref, only=frozenset({"phone"}))
        (outcome,) = await connector.write("customer", [item], [])
        assert outcome.ok and first.target_ref
        back = await self.stored(connector, str(first.target_ref["id"]))
        assert back.last_name == record.last_name and back.phone == "+49 30 9999"

    async def test_keep_on_update_fields_are_sent_on_create_only(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """Fields the target owns are set when the customer is made and never overwritten afterwards."""
        record = self.record(tag)
        owned = frozenset({"last_name", "billing"})
        (first,) = await connector.write(
            "customer", [WriteItem(record.key, record, keep_on_update=owned)], []
        )
        changed = record.model_copy(update={"last_name": "Overwritten", "billing": address("Bonn", tag)})
        item = WriteItem(record.key, changed, first.target_ref, keep_on_update=owned)
        (outcome,) = await connector.write("customer", [item], [])
        assert outcome.ok and first.target_ref
        back = await self.stored(connector, str(first.target_ref["id"]))
        assert back.last_name == record.last_name
        assert back.billing is not None and back.billing.city == "Berlin"

    async def test_a_bad_customer_fails_alone_with_a_permanent_error(
        self, connector: CustomerTarget, tag: str
    ) -> None:
        """A customer the system refuses is a FAILED outcome naming record and field; the rest is written."""
        good = self.record(tag)
        bad, field = self.bad_record(tag)
        outcomes = by_key(
            await connector.write("customer", [WriteItem(good.key, good), WriteItem(bad.key, bad)], [])
        )
        assert outcomes[good.key].status is OutcomeStatus.CREATED
        failure = outcomes[bad.key]
        assert failure.status is OutcomeStatus.FAILED and isinstance(failure.error, Permanent)
        assert failure.error.field == field and failure.error.record

    async def test_count_follows_creates(self, connector: CustomerTarget, tag: str) -> None:
        """`count` is the number of customers the system holds."""
        before = await connector.count("customer")
        records = [self.record(tag, n) for n in range(2)]
        await connector.write("customer", [WriteItem(r.key, r) for r in records], [])
        assert await connector.count("customer") == before + 2

    async def test_delete_removes_a_linked_customer(self, connector: CustomerTarget, tag: str) -> None:
        """A delete of a linked customer removes (or deactivates) it: reading it leaves it out."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        (gone,) = await connector.write("customer", [], [WriteItem(record.key, record, first.target_ref)])
        assert gone.status is OutcomeStatus.DELETED and first.target_ref
        assert await connector.read("customer", [str(first.target_ref["id"])]) == []
