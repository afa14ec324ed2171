"""The work queue on SQLite and PostgreSQL: coalescing, cursors, leases, retries and finishing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from emporion.state import StateStore

F, E = "erp-to-shop", "product"


async def test_enqueue_coalesces_one_row_per_key(store: StateStore) -> None:
    for _ in range(10):
        assert await store.enqueue(F, E, ["SKU-1", "SKU-2", "SKU-1"]) == 2
    assert await store.queue_depth() == {(F, E): 2}
    items = await store.claim(F, E, worker="w", limit=10)
    assert sorted(i.key for i in items) == ["SKU-1", "SKU-2"]
    assert {i.generation for i in items} == {10}


async def test_enqueue_moves_cursor_in_the_same_transaction(store: StateStore) -> None:
    assert await store.get_cursor(F, E) is None
    await store.enqueue(F, E, ["a"], cursor="2026-01-01T00:00:00Z")
    assert await store.get_cursor(F, E) == "2026-01-01T00:00:00Z"
    # a cursor that cannot be stored rolls the whole enqueue back: no cursor without its work
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error type differs per dialect
        await store.enqueue(F, E, ["b"], cursor=object())  # type: ignore[arg-type]
    assert await store.get_cursor(F, E) == "2026-01-01T00:00:00Z"
    assert await store.queue_depth(F) == {(F, E): 1}
    await store.enqueue(F, E, [], cursor="next")
    assert await store.get_cursor(F, E) == "next"


async def test_claim_takes_due_items_by_priority_and_leases_them(store: StateStore) -> None:
    await store.enqueue(F, E, [f"low-{i}" for i in range(5)])
    await store.enqueue(F, E, ["urgent"], priority=5)
    await store.enqueue(F, E, ["later"], delay=3600)
    first = await store.claim(F, E, worker="w1", limit=3)
    assert first[0].key == "urgent" and first[0].priority == 5
    assert len(first) == 3 and all(i.lease_owner == "w1" for i in first)
    second = await store.claim(F, E, worker="w2", limit=10)
    assert {i.key for i in second}.isdisjoint(i.key for i in first)
    assert len(second) == 3  # the delayed one is not due yet
    assert await store.claim(F, E, worker="w3", limit=10) == []
    assert await store.claim(F, "other", worker="w3", limit=10) == []


async def test_finish_deletes_done_items(store: StateStore) -> None:
    await store.enqueue(F, E, ["a", "b"])
    items = await store.claim(F, E, worker="w", limit=10)
    await store.finish(items)
    assert await store.queue_depth() == {}
    assert await store.next_due(F, E) is None


async def test_change_while_leased_is_kept_and_processed_again(store: StateStore) -> None:
    await store.enqueue(F, E, ["a"], reason="stock")
    [item] = await store.claim(F, E, worker="w", limit=10)
    await store.enqueue(F, E, ["a"], reason="price")  # a newer change arrives while "a" is being written
    assert await store.claim(F, E, worker="other", limit=10) == []  # still leased
    await store.finish([item])
    [again] = await store.claim(F, E, worker="other", limit=10)
    assert again.key == "a" and again.generation == item.generation + 1 and again.reason == "price"
    await store.finish([again])
    assert await store.queue_depth() == {}


async def test_expired_lease_makes_work_claimable_and_the_late_worker_cannot_finish_it(
    store: StateStore,
) -> None:
    await store.enqueue(F, E, ["a"])
    [lost] = await store.claim(F, E, worker="killed", limit=1, lease_seconds=0.2)
    assert await store.claim(F, E, worker="w2", limit=1) == []
    await asyncio.sleep(0.3)
    [taken] = await store.claim(F, E, worker="w2", limit=1)
    assert taken.key == "a" and taken.lease_owner == "w2"
    await store.finish([lost])  # the first worker woke up late: its lease is gone, the row stays
    assert await store.queue_depth() == {(F, E): 1}
    await store.finish([taken])
    assert await store.queue_depth() == {}


async def test_retry_backs_off_and_counts_attempts(store: StateStore) -> None:
    await store.enqueue(F, E, ["a", "b"])
    items = await store.claim(F, E, worker="w", limit=10)
    before = datetime.now(UTC)
    await store.finish([], retry=[(i, "HTTP 503", 3600.0) for i in items])
    assert await store.claim(F, E, worker="w", limit=10) == []
    due = await store.next_due(F, E)
    assert due is not None and due.tzinfo is not None
    assert before + timedelta(seconds=3590) < due < before + timedelta(seconds=3700)
    # a new change does not cut the backoff short (the target is still failing) but is kept
    await store.enqueue(F, E, ["a"])
    assert await store.claim(F, E, worker="w", limit=10) == []
    await store.finish([], retry=[])  # nothing to do is fine


async def test_retry_then_due_again_counts_attempts(store: StateStore) -> None:
    await store.enqueue(F, E, ["a"])
    [item] = await store.claim(F, E, worker="w", limit=1)
    await store.finish([], retry=[(item, "timeout", 0.0)])
    [again] = await store.claim(F, E, worker="w", limit=1)
    assert again.attempts == 1
    await store.finish([], retry=[(again, "timeout", 0.0)])
    [third] = await store.claim(F, E, worker="w", limit=1)
    assert third.attempts == 2


async def test_release_gives_leases_back_without_an_attempt(store: StateStore) -> None:
    await store.enqueue(F, E, ["a", "b"])
    items = await store.claim(F, E, worker="w", limit=10)
    await store.release(items)
    again = await store.claim(F, E, worker="w2", limit=10)
    assert sorted(i.key for i in again) == ["a", "b"]
    assert all(i.attempts == 0 for i in again)


async def test_next_due_reports_lease_expiry_and_delays(store: StateStore) -> None:
    now = datetime.now(UTC)
    await store.enqueue(F, E, ["later"], delay=600)
    due = await store.next_due(F, E)
    assert due is not None and now + timedelta(seconds=590) < due < now + timedelta(seconds=700)
    await store.enqueue(F, E, ["now"])
    [held] = await store.claim(F, E, worker="w", limit=1, lease_seconds=60)
    assert held.key == "now"
    due = await store.next_due(F, E)
    assert due is not None and now + timedelta(seconds=50) < due < now + timedelta(seconds=120)


async def test_queue_depth_per_flow(store: StateStore) -> None:
    await store.enqueue(F, E, ["a", "b"])
    await store.enqueue(F, "stock", ["a"])
    await store.enqueue("shop-to-erp", "order", ["1001"])
    assert await store.queue_depth() == {(F, E): 2, (F, "stock"): 1, ("shop-to-erp", "order"): 1}
    assert await store.queue_depth(F) == {(F, E): 2, (F, "stock"): 1}


async def test_large_batches_cross_statement_chunks(store: StateStore) -> None:
    keys = [f"SKU-{i:05d}" for i in range(2500)]
    assert await store.enqueue(F, E, keys) == 2500
    items = await store.claim(F, E, worker="w", limit=2500)
    assert len(items) == 2500
    await store.finish(items)
    assert await store.queue_depth() == {}
