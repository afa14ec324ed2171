"""Field baselines on links and conflicts on fields both systems edit (SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from emporion.state import Conflict, ConflictCheck, JournalEntry, Link, StateStore, conflict_pair
from emporion.state.db import Database
from emporion.state.migrate import upgrade_connection

SHOP_TO_ERP, ERP_TO_SHOP = "shop-to-erp", "erp-to-shop"
PAIR = conflict_pair("tryton", "shop")
P = "product"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def conflict(key: str, field: str = "name", **changes: Any) -> Conflict:
    """A report-policy conflict found by the shop -> ERP flow, the ERP owning the field."""
    values: dict[str, Any] = {
        "pair": PAIR,
        "entity": P,
        "natural_key": key,
        "field": field,
        "owner": "tryton",
        "policy": "report",
        "values": {"tryton": "Chair", "shop": "Stool"},
        "flow": SHOP_TO_ERP,
        "source_key": f"wc-{key}",
    }
    values.update(changes)
    return Conflict(**values)


def check(key: str, *found: Conflict, entity: str = P) -> ConflictCheck:
    return ConflictCheck(PAIR, entity, key, tuple(found))


@pytest.fixture
async def timed(state_url: str) -> Any:
    """A migrated store on a clock the test moves."""
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        yield store, clock
    finally:
        await store.close()


def test_the_pair_is_the_same_from_both_sides() -> None:
    assert conflict_pair("tryton", "shop") == conflict_pair("shop", "tryton") == "shop <> tryton"


async def test_link_field_baselines_are_kept_until_replaced(store: StateStore) -> None:
    baseline = {"name": "h-name-1", "list_price": "h-price-1"}
    await store.record(links=[Link(ERP_TO_SHOP, P, "7", {"id": 70}, "SKU-7", "fp-1", fields=baseline)])
    assert (await store.get_links(ERP_TO_SHOP, P, ["7"]))["7"].fields == baseline

    # a failed write knows no baseline: None keeps the stored one, like the fingerprint
    failed = Link(ERP_TO_SHOP, P, "7", None, None, None, state="failed", last_error="HTTP 400")
    await store.record(links=[failed])
    [after] = (await store.get_links(ERP_TO_SHOP, P, ["7"])).values()
    assert after.state == "failed" and after.fields == baseline and after.fingerprint == "fp-1"

    newer = {"name": "h-name-2", "list_price": "h-price-1"}
    await store.record(links=[Link(ERP_TO_SHOP, P, "7", {"id": 70}, "SKU-7", "fp-2", fields=newer)])
    assert (await store.find_links_by_natural_key(ERP_TO_SHOP, P, ["SKU-7"]))["SKU-7"].fields == newer
    pages = [page async for page in store.iter_links(ERP_TO_SHOP, P)]
    assert [li.fields for page in pages for li in page] == [newer]
    assert [li.fields for li in await store.links_matching("SKU-7")] == [newer]


async def test_links_of_one_way_flows_have_no_baselines(store: StateStore) -> None:
    await store.record(links=[Link(ERP_TO_SHOP, P, "1", {"id": 1}, "SKU-1", "fp")])
    assert (await store.get_links(ERP_TO_SHOP, P, ["1"]))["1"].fields is None


async def test_a_conflict_found_again_keeps_one_row_and_resolves_when_both_agree(timed: Any) -> None:
    store, clock = timed
    start = clock.now
    await store.record(conflicts=[check("SKU-1", conflict("SKU-1"), conflict("SKU-1", "description"))])
    first = await store.list_conflicts()
    assert {(c.natural_key, c.field, c.state) for c in first} == {
        ("SKU-1", "name", "open"),
        ("SKU-1", "description", "open"),
    }
    assert all(c.first_seen == c.last_seen == start and c.id for c in first)

    # the other flow of the pair finds the name again, with other values: the same row, updated
    clock.now += timedelta(minutes=5)
    again = conflict("SKU-1", flow=ERP_TO_SHOP, source_key="7", values={"tryton": "Chair", "shop": "Seat"})
    await store.record(conflicts=[check("SKU-1", again)])
    [name] = await store.list_conflicts()
    assert name.id == next(c.id for c in first if c.field == "name")
    assert name.values == {"tryton": "Chair", "shop": "Seat"} and name.flow == ERP_TO_SHOP
    assert name.source_key == "7" and name.first_seen == start and name.last_seen == clock.now
    [description] = await store.list_conflicts(state="resolved")  # not found now: both sides agree
    assert description.field == "description" and description.resolved_at == clock.now
    assert description.resolved_by is None

    # a record checked with nothing found: every live conflict of it is resolved
    clock.now += timedelta(minutes=5)
    await store.record(conflicts=[check("SKU-1")])
    assert await store.list_conflicts() == []
    assert len(await store.list_conflicts(state="resolved")) == 2

    # the same field differing again later is a new conflict
    await store.record(conflicts=[check("SKU-1", conflict("SKU-1"))])
    [reopened] = await store.list_conflicts()
    assert reopened.id not in {c.id for c in first} and reopened.first_seen == clock.now


async def test_reverted_conflicts_are_live_until_both_sides_agree(store: StateStore) -> None:
    reverted = conflict("SKU-2", "list_price", policy="revert", state="reverted", values={"tryton": "9.90"})
    await store.record(conflicts=[check("SKU-2", reverted)])
    assert await store.list_conflicts() == []  # the owner's value is on its way: nothing to do
    [row] = await store.list_conflicts(state="reverted")
    assert row.policy == "revert" and row.values == {"tryton": "9.90"}
    # found again before the revert landed: still one row
    await store.record(conflicts=[check("SKU-2", reverted)])
    assert [c.id for c in await store.list_conflicts(state=None)] == [row.id]
    await store.record(conflicts=[check("SKU-2")])
    [resolved] = await store.list_conflicts(state=None)
    assert resolved.id == row.id and resolved.state == "resolved"


async def test_money_and_personal_data_are_stored_as_found(store: StateStore) -> None:
    values = {"tryton": Decimal("9.90"), "shop": {"city": "Köln", "street": "Ring 1"}}
    await store.record(
        conflicts=[check("a@example.org", conflict("a@example.org", "billing", values=values))]
    )
    [row] = await store.list_conflicts()
    assert row.values == {"tryton": "9.90", "shop": {"city": "Köln", "street": "Ring 1"}}


async def test_a_dismissed_conflict_stays_dismissed_while_the_values_stay(timed: Any) -> None:
    store, clock = timed
    await store.record(conflicts=[check("SKU-3", conflict("SKU-3"))])
    [row] = await store.list_conflicts()
    clock.now += timedelta(minutes=1)
    assert await store.dismiss_conflict(row.id, "user:mia") is True
    assert await store.dismiss_conflict(row.id, "user:mia") is False  # not live any more
    assert await store.dismiss_conflict(10_000, "user:mia") is False
    dismissed = await store.get_conflict(row.id)
    assert dismissed is not None and dismissed.state == "dismissed"
    assert dismissed.resolved_by == "user:mia" and dismissed.resolved_at == clock.now

    clock.now += timedelta(minutes=1)
    await store.record(conflicts=[check("SKU-3", conflict("SKU-3"))])  # the same difference: let stand
    assert await store.list_conflicts() == []
    seen = await store.get_conflict(row.id)
    assert seen is not None and seen.state == "dismissed" and seen.last_seen == clock.now

    other = conflict("SKU-3", values={"tryton": "Chair", "shop": "Bench"})
    await store.record(conflicts=[check("SKU-3", other)])  # a new difference: a person looks again
    [new] = await store.list_conflicts()
    assert new.id != row.id and new.values == other.values


async def test_list_filters_and_counts_per_pair(store: StateStore) -> None:
    other_pair = conflict_pair("odoo", "shop")
    await store.record(
        conflicts=[
            check("SKU-1", conflict("SKU-1")),
            check("SKU-2", conflict("SKU-2"), conflict("SKU-2", "images", owner="shop")),
            check("a@example.org", conflict("a@example.org", "phone", entity="customer"), entity="customer"),
            ConflictCheck(other_pair, P, "SKU-9", (conflict("SKU-9", pair=other_pair, flow="odoo-shop"),)),
        ]
    )
    assert await store.count_conflicts() == {PAIR: 4, other_pair: 1}
    assert await store.count_conflicts("resolved") == {}
    assert len(await store.list_conflicts(pair=PAIR)) == 4
    assert [c.natural_key for c in await store.list_conflicts(flow="odoo-shop")] == ["SKU-9"]
    customers = await store.list_conflicts(pair=PAIR, entities=["customer"])
    assert [(c.entity, c.field) for c in customers] == [("customer", "phone")]
    products = await store.list_conflicts(pair=PAIR, entities=["category", "product"])
    assert len(products) == 3
    page = await store.list_conflicts(pair=PAIR, limit=2, offset=1)
    assert [c.id for c in page] == [c.id for c in (await store.list_conflicts(pair=PAIR))[1:3]]


async def test_finish_keeps_conflicts_and_queues_reverts_with_the_batch(store: StateStore) -> None:
    await store.record(links=[Link(ERP_TO_SHOP, P, "7", {"id": 70}, "SKU-7", "fp-7")])
    await store.enqueue(SHOP_TO_ERP, P, ["70"])
    [item] = await store.claim(SHOP_TO_ERP, P, worker="w", limit=5)
    found = conflict("SKU-7", "list_price", policy="revert", state="reverted", source_key="70")
    done = Link(SHOP_TO_ERP, P, "70", {"id": 7}, "SKU-7", "fp-70", fields={"name": "h1"})
    await store.finish(
        [item],
        links=[done],
        journal=[JournalEntry(SHOP_TO_ERP, P, "70", "update")],
        conflicts=[check("SKU-7", found)],
        reverts=[(ERP_TO_SHOP, P, "7")],
    )
    assert (await store.get_links(SHOP_TO_ERP, P, ["70"]))["70"].fields == {"name": "h1"}
    assert [c.field for c in await store.list_conflicts(state="reverted")] == ["list_price"]
    # the owner's value goes back: the partner flow's link is marked drift and its key queued first
    assert (await store.get_links(ERP_TO_SHOP, P, ["7"]))["7"].state == "drift"
    [revert] = await store.claim(ERP_TO_SHOP, P, worker="w", limit=5)
    assert (revert.key, revert.reason, revert.priority) == ("7", "revert", 20)
    assert await store.queue_depth(SHOP_TO_ERP) == {}


async def test_a_failing_batch_writes_neither_links_nor_conflicts(store: StateStore) -> None:
    bad = conflict("SKU-8", state="resolved")  # a flow finds open or reverted conflicts only
    link = Link(SHOP_TO_ERP, P, "80", {"id": 8}, "SKU-8", "fp")
    with pytest.raises(ValueError, match=r"SKU-8.*'name'.*open or reverted"):
        await store.record(links=[link], conflicts=[check("SKU-9", conflict("SKU-9")), check("SKU-8", bad)])
    assert await store.get_links(SHOP_TO_ERP, P, ["80"]) == {}
    assert await store.list_conflicts(state=None) == []


async def test_the_last_check_of_a_record_in_one_batch_wins(store: StateStore) -> None:
    later = replace(conflict("SKU-5"), values={"tryton": "Chair", "shop": "Throne"})
    await store.record(conflicts=[check("SKU-5", conflict("SKU-5")), check("SKU-5", later)])
    [row] = await store.list_conflicts()
    assert row.values == later.values


async def test_resolved_and_dismissed_conflicts_are_pruned_open_ones_stay(timed: Any) -> None:
    store, clock = timed
    await store.record(conflicts=[check(k, conflict(k)) for k in ("open", "fixed", "let")])
    await store.record(conflicts=[check("fixed")])
    [let] = [c for c in await store.list_conflicts() if c.natural_key == "let"]
    await store.dismiss_conflict(let.id, "user:mia")
    clock.now += timedelta(days=31)
    assert await store.prune({"conflicts": timedelta(days=30)}, dry_run=True) == {"conflicts": 2}
    assert await store.prune({"conflicts": timedelta(days=30)}) == {"conflicts": 2}
    assert [(c.natural_key, c.state) for c in await store.list_conflicts(state=None)] == [("open", "open")]


async def test_migration_0010_keeps_existing_links(state_url: str) -> None:
    database = Database.open(state_url)
    try:
        await database.write(lambda conn: conn.run_sync(upgrade_connection, "0009"))
        insert = text(
            "INSERT INTO link (flow, entity, source_key, natural_key, state, updated_at)"
            " VALUES ('f', 'product', '1', 'SKU-1', 'synced', CURRENT_TIMESTAMP)"
        )
        await database.write(lambda conn: conn.execute(insert))
    finally:
        await database.dispose()
    store = await StateStore.connect(state_url, migrate=True)
    try:
        [kept] = (await store.get_links("f", P, ["1"])).values()
        assert kept.natural_key == "SKU-1" and kept.fields is None
        await store.record(conflicts=[check("SKU-1", conflict("SKU-1"))])
        assert len(await store.list_conflicts()) == 1
    finally:
        await store.close()
