"""Reconcile reports, repair queueing and open dead-letter ids in the state store (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from emporion.state import DeadLetter, Link, ReconcileReport, StateStore

F, E = "catalogue", "product"
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _report(flow: str, minutes: int, status: str = "drift", **changes: object) -> ReconcileReport:
    values: dict[str, object] = {
        "flow": flow,
        "started_at": T0 + timedelta(minutes=minutes),
        "finished_at": T0 + timedelta(minutes=minutes, seconds=30),
        "status": status,
        "repair": True,
        "counts": {"different": 1, "compared": 10},
        "items": [
            {
                "entity": E,
                "kind": "different",
                "key": "7",
                "label": "SKU-7",
                "fields": [{"field": "list_price", "expected": "9.90", "actual": "1.00"}],
                "repaired": True,
            }
        ],
    }
    values.update(changes)
    return ReconcileReport(**values)  # type: ignore[arg-type]


async def test_reports_are_kept_and_listed_newest_first(store: StateStore) -> None:
    first = await store.save_report(_report(F, 0))
    second = await store.save_report(_report(F, 60, "clean", counts={"compared": 10}, items=[]))
    other = await store.save_report(_report("orders", 30, "failed", error="shop unreachable", items=[]))
    assert len({first, second, other}) == 3

    recent = await store.list_reports(limit=10)
    assert [r.id for r in recent] == [second, other, first]
    assert all(r.items is None for r in recent)  # the list leaves the items out
    assert recent[1].error == "shop unreachable" and recent[1].status == "failed"

    of_flow = await store.list_reports(F, limit=1, with_items=True)
    assert [r.id for r in of_flow] == [second] and of_flow[0].items == []
    assert of_flow[0].started_at == T0 + timedelta(minutes=60)

    full = await store.get_report(first)
    assert full is not None and full.repair is True and full.counts == {"different": 1, "compared": 10}
    assert full.items and full.items[0]["fields"][0] == {
        "field": "list_price",
        "expected": "9.90",
        "actual": "1.00",
    }
    assert await store.get_report(10_000) is None
    assert [r.id for r in await store.list_reports(F, limit=5, offset=1)] == [first]


async def test_queue_repairs_marks_forgets_and_queues_in_one_go(store: StateStore) -> None:
    links = [Link(F, E, key, {"id": i}, f"SKU-{key}", f"fp-{key}") for i, key in enumerate("abcd", 1)]
    await store.record(links=links)
    await store.enqueue(F, E, ["d"], reason="change")

    queued = await store.queue_repairs(F, E, ["a", "b", "new"], stale=["a"], forget=["b"], priority=20)
    assert queued == 3
    after = await store.get_links(F, E, ["a", "b", "c"])
    assert after["a"].state == "drift" and after["a"].target_ref == {"id": 1}  # rewritten, same target
    assert "b" not in after  # pointed at nothing: forgotten, the next sync creates it again
    assert after["c"].state == "synced"
    assert await store.queued_keys(F, E, ["a", "b", "c", "d", "new"]) == {"a", "b", "d", "new"}

    items = await store.claim(F, E, worker="w", limit=10)
    assert [i.key for i in items[:3]] == ["a", "b", "new"]  # repairs first
    assert {i.reason for i in items[:3]} == {"repair"} and items[0].priority == 20
    assert items[3].key == "d" and items[3].priority == 0


async def test_open_dead_ids_per_flow(store: StateStore) -> None:
    await store.record(
        dead=[
            DeadLetter(F, E, "1", "value 'x' is not in the value map", field="custom.line", payload={"p": 1}),
            DeadLetter(F, E, "2", "bad", payload={"price": str(Decimal("1.5"))}),
            DeadLetter("orders", "order", "9", "no tax for class reduced", field="tax_class"),
        ]
    )
    everything = await store.open_dead_ids()
    assert len(everything) == 3 and everything == sorted(everything)
    mine = await store.open_dead_ids(F)
    assert len(mine) == 2
    await store.discard_dead(mine[:1])
    assert await store.open_dead_ids(F) == mine[1:]


async def test_the_schedule_counts_from_the_last_report(store: StateStore) -> None:
    from emporion.config import FlowSettings
    from emporion.engine.schedule import RETRY_FAILED_AFTER, next_due

    flow = FlowSettings.model_validate(
        {"name": F, "source": "erp", "target": "shop", "reconcile": {"interval": 3600}}
    )
    started = T0 + timedelta(days=1)
    assert await next_due(store, flow, started) == started + timedelta(hours=1)  # never ran: one interval
    await store.save_report(_report(F, 0, "clean"))
    finished = T0 + timedelta(seconds=30)
    assert await next_due(store, flow, started) == finished + timedelta(hours=1)  # a restart does not reset
    await store.save_report(_report(F, 10, "failed", error="shop down"))
    failed = T0 + timedelta(minutes=10, seconds=30)
    assert await next_due(store, flow, started) == failed + timedelta(seconds=RETRY_FAILED_AFTER)
