"""The alert table: quiet period, resolutions, several workers deciding once (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from emporion.state import DeadLetter, StateStore

QUIET = 600.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fields(key: str = "sync_lag:shop:shop", message: str = "behind by 400 s", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "kind": key.split(":")[0],
        "subject": key.rsplit(":", 1)[-1],
        "flow": "shop",
        "severity": "warning",
        "message": message,
        "details": {"lag_seconds": 400},
        **extra,
    }


async def test_the_same_alert_is_sent_once_per_quiet_period(state_url: str) -> None:
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        assert await store.alert_fire(fields(), QUIET) is True
        clock.advance(QUIET / 2)
        assert await store.alert_fire(fields(message="behind by 500 s"), QUIET) is False
        clock.advance(QUIET / 2)
        assert await store.alert_fire(fields(message="behind by 700 s"), QUIET) is True  # a reminder
        [row] = await store.list_alerts()
        assert (row.status, row.count, row.message) == ("open", 3, "behind by 700 s")
        assert row.first_seen == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        assert row.last_sent == clock.now and row.details == {"lag_seconds": 400}
    finally:
        await store.close()


async def test_a_resolution_is_sent_only_for_what_was_told(state_url: str) -> None:
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        assert await store.alert_resolve("sync_lag:shop:shop", "back") is False  # never raised
        assert await store.alert_fire(fields(), QUIET) is True
        clock.advance(5)
        assert await store.alert_resolve("sync_lag:shop:shop", "back under") is True
        assert await store.alert_resolve("sync_lag:shop:shop", "back under") is False  # once
        [row] = await store.list_alerts()
        assert (row.status, row.resolved_at, row.message) == ("resolved", clock.now, "back under")
        clock.advance(5)
        # flapping: re-opened right after its resolution waits for the quiet period ...
        assert await store.alert_fire(fields(), QUIET) is False
        # ... and if it ends before anyone was told, its end is not news either
        assert await store.alert_resolve("sync_lag:shop:shop", "back") is False
        assert await store.alert_fire(fields(), QUIET) is False
        clock.advance(QUIET)
        assert await store.alert_fire(fields(), QUIET) is True
        assert (await store.list_alerts())[0].count == 1 + 1  # the episode re-opened twice: counted anew
    finally:
        await store.close()


async def test_several_workers_raising_one_alert_send_it_once(state_url: str) -> None:
    clock = Clock()
    stores = [await StateStore.connect(state_url, clock=clock) for _ in range(4)]
    try:
        decisions = await asyncio.gather(*(s.alert_fire(fields(), QUIET) for s in stores for _ in range(3)))
        assert decisions.count(True) == 1
        [row] = await stores[0].list_alerts()
        assert row.count == 12
    finally:
        for store in stores:
            await store.close()


async def test_recent_alerts_are_listed_newest_first_and_filtered(state_url: str) -> None:
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        await store.alert_fire(fields("low_stock:shop:SKU-1"), QUIET)
        clock.advance(1)
        await store.alert_fire(fields("dead_letter:shop:shop"), QUIET)
        clock.advance(1)
        await store.alert_fire(fields("low_stock:shop:SKU-2"), QUIET)
        await store.alert_resolve("low_stock:shop:SKU-1", "back above")
        assert [a.key for a in await store.list_alerts()] == [
            "low_stock:shop:SKU-1",
            "low_stock:shop:SKU-2",
            "dead_letter:shop:shop",
        ]
        open_low = await store.list_alerts(status="open", kind="low_stock")
        assert [a.subject for a in open_low] == ["SKU-2"]
        assert await store.list_alerts(flow="other") == []
        assert len(await store.list_alerts(limit=1)) == 1
    finally:
        await store.close()


async def test_dead_summary_counts_open_letters_per_flow_newest_first(store: StateStore) -> None:
    letters = [
        DeadLetter("shop", "product", str(n), "invalid price", field="list_price", record=f"SKU-{n}")
        for n in range(7)
    ]
    await store.record(dead=[*letters, DeadLetter("orders", "order", "9", "SKU X is not in the ERP")])
    summary = await store.dead_summary(sample=3)
    count, newest, names = summary["shop"]
    assert count == 7 and names == ["SKU-6 (list_price)", "SKU-5 (list_price)", "SKU-4 (list_price)"]
    assert summary["orders"][0] == 1 and summary["orders"][2] == ["order 9"]  # no record name: entity, key
    assert newest == max(d.id or 0 for d in await store.list_dead(flow="shop"))
    await store.discard_dead([d.id for d in await store.list_dead(flow="orders") if d.id])
    assert set(await store.dead_summary()) == {"shop"}


async def test_waiting_since_counts_due_unclaimed_work_only(state_url: str) -> None:
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        await store.enqueue("a", "product", ["1"])
        await store.enqueue("b", "product", ["1"], delay=3600)  # scheduled later: not lag yet
        clock.advance(30)
        await store.enqueue("a", "product", ["2"])
        await store.enqueue("c", "product", ["1"])
        await store.claim("c", "product", worker="w", limit=10, lease_seconds=60)  # being worked
        assert await store.waiting_since() == {"a": datetime(2026, 11, 23, 12, 0, tzinfo=UTC)}
        clock.advance(3600)  # b is due now (since its due time); c's lease ran out (ready since then)
        waiting = await store.waiting_since()
        assert waiting["b"] == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
        assert waiting["c"] == datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)
    finally:
        await store.close()
