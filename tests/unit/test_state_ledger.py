"""Links, journal and dead letters on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from emporion.state import DeadLetter, JournalEntry, Link, StateStore

F, E = "erp-to-shop", "product"


def _link(key: str, **changes: object) -> Link:
    values: dict[str, object] = {
        "flow": F,
        "entity": E,
        "source_key": key,
        "target_ref": {"id": int(key.split("-")[-1])},
        "natural_key": key,
        "fingerprint": f"fp-{key}",
    }
    values.update(changes)
    return Link(**values)  # type: ignore[arg-type]


async def test_links_upsert_by_source_key(store: StateStore) -> None:
    await store.record(links=[_link("P-1"), _link("P-2")])
    await store.record(links=[_link("P-1", fingerprint="new", target_ref={"id": 99})])
    links = await store.get_links(F, E, ["P-1", "P-2", "P-404"])
    assert set(links) == {"P-1", "P-2"}
    assert links["P-1"].fingerprint == "new" and links["P-1"].target_ref == {"id": 99}
    assert links["P-1"].synced_at is not None and links["P-1"].synced_at.tzinfo is not None
    assert await store.count_links(F, E) == 2
    assert await store.count_links(F, "stock") == 0


async def test_failed_link_keeps_what_the_target_knows(store: StateStore) -> None:
    await store.record(links=[_link("P-1")])
    [ok] = (await store.get_links(F, E, ["P-1"])).values()
    failed = Link(F, E, "P-1", None, None, None, state="failed", last_error="HTTP 400 invalid price")
    await store.record(links=[failed])
    [after] = (await store.get_links(F, E, ["P-1"])).values()
    assert after.state == "failed" and after.last_error == "HTTP 400 invalid price"
    assert (after.target_ref, after.natural_key, after.fingerprint) == (
        ok.target_ref,
        ok.natural_key,
        ok.fingerprint,
    )
    assert after.synced_at == ok.synced_at
    await store.record(links=[_link("P-1", fingerprint="fp-2")])
    [healed] = (await store.get_links(F, E, ["P-1"])).values()
    assert healed.state == "synced" and healed.last_error is None and healed.fingerprint == "fp-2"


async def test_same_key_twice_in_one_batch_keeps_the_last(store: StateStore) -> None:
    await store.record(links=[_link("P-1", fingerprint="first"), _link("P-1", fingerprint="second")])
    assert (await store.get_links(F, E, ["P-1"]))["P-1"].fingerprint == "second"


async def test_find_links_by_natural_key(store: StateStore) -> None:
    await store.record(links=[_link("P-1", natural_key="SKU-A"), _link("P-2", natural_key="SKU-B")])
    found = await store.find_links_by_natural_key(F, E, ["SKU-A", "SKU-Z"])
    assert list(found) == ["SKU-A"] and found["SKU-A"].source_key == "P-1"


async def test_iter_links_pages_through_everything_once(store: StateStore) -> None:
    await store.record(links=[_link(f"P-{i}") for i in range(2345)])
    pages = [page async for page in store.iter_links(F, E, page_size=1000)]
    assert [len(p) for p in pages] == [1000, 1000, 345]
    keys = [li.source_key for page in pages for li in page]
    assert len(set(keys)) == 2345
    assert [page async for page in store.iter_links(F, "nothing")] == []


async def test_journal_newest_first_with_json_detail(store: StateStore) -> None:
    earlier = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    await store.record(
        journal=[
            JournalEntry(F, E, "P-1", "created", "new in ERP", None, "fp1", {"id": 7}, at=earlier),
            JournalEntry(
                F, E, "P-1", "updated", "price", "fp1", "fp2", {"id": 7}, {"price": Decimal("9.90")}
            ),
            JournalEntry(F, E, "P-2", "skipped", "unchanged"),
        ]
    )
    entries = await store.journal_for(F, E, "P-1")
    assert [e.action for e in entries] == ["updated", "created"]
    assert entries[0].detail == {"price": "9.90"} and entries[0].target_ref == {"id": 7}
    assert entries[1].at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC) and entries[1].at.tzinfo == UTC
    assert len(await store.journal_for(F, E, "P-1", limit=1)) == 1


async def test_naive_datetimes_are_refused(store: StateStore) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await store.record(journal=[JournalEntry(F, E, "P-1", "created", at=datetime(2026, 1, 1))])


async def test_dead_letter_from_finish_removes_work_and_stays_single_while_open(store: StateStore) -> None:
    await store.enqueue(F, E, ["P-1"])
    [item] = await store.claim(F, E, worker="w", limit=1)
    letter = DeadLetter(
        F, E, "P-1", "price must be positive", field="price", record="SKU-1", payload={"p": -1}
    )
    await store.finish([item], dead=[letter], journal=[JournalEntry(F, E, "P-1", "dead", "price")])
    assert await store.queue_depth() == {}
    await store.record(dead=[DeadLetter(F, E, "P-1", "still negative", field="price", attempts=2)])
    [open_letter] = await store.list_dead()
    assert (
        open_letter.reason == "still negative" and open_letter.attempts == 2 and open_letter.status == "open"
    )
    assert open_letter.failed_at is not None and open_letter.failed_at.tzinfo is not None
    assert await store.get_dead(open_letter.id or 0) == open_letter
    assert await store.get_dead(123456) is None


async def test_dead_letter_keeps_a_change_that_came_in_meanwhile(store: StateStore) -> None:
    await store.enqueue(F, E, ["P-1"])
    [item] = await store.claim(F, E, worker="w", limit=1)
    await store.enqueue(F, E, ["P-1"])  # someone fixed the record in the ERP while we failed on it
    await store.finish([item], dead=[DeadLetter(F, E, "P-1", "bad")])
    [again] = await store.claim(F, E, worker="w", limit=1)
    assert again.generation == item.generation + 1


async def test_retry_and_discard_dead_letters(store: StateStore) -> None:
    await store.record(dead=[DeadLetter(F, E, f"P-{i}", "bad", attempts=3) for i in range(3)])
    letters = await store.list_dead(flow=F)
    assert len(letters) == 3
    first, second, third = sorted(letters, key=lambda d: d.key)
    assert await store.retry_dead([first.id or 0, second.id or 0]) == 2
    assert await store.retry_dead([first.id or 0]) == 0  # no longer open
    items = await store.claim(F, E, worker="w", limit=10)
    assert sorted(i.key for i in items) == ["P-0", "P-1"] and all(i.reason == "replay" for i in items)
    assert await store.discard_dead([third.id or 0]) == 1
    assert await store.list_dead() == []
    statuses = {d.key: d.status for d in await store.list_dead(status=None)}
    assert statuses == {"P-0": "retried", "P-1": "retried", "P-2": "discarded"}
    # a key can fail again after a replay: a new open letter beside the retried one
    await store.finish(items, dead=[DeadLetter(F, E, "P-0", "bad again")])
    assert [d.key for d in await store.list_dead()] == ["P-0"]
    assert len(await store.list_dead(status=None, limit=2)) == 2
    assert len(await store.list_dead(status=None, limit=10, offset=3)) == 1


async def test_record_is_one_transaction(store: StateStore) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the driver's error type differs per dialect
        await store.record(
            links=[_link("P-1")],
            journal=[JournalEntry(F, E, "P-1", "created", detail={"bad": object()})],
        )
    assert await store.count_links(F, E) == 0


async def test_dead_letter_without_its_item_in_done_still_keeps_a_newer_change(store: StateStore) -> None:
    await store.enqueue(F, E, ["P-1", "P-2"])
    items = await store.claim(F, E, worker="w", limit=2)
    await store.enqueue(F, E, ["P-1"])  # P-1 changed while we failed on it; P-2 did not
    await store.finish([], dead=[DeadLetter(F, E, "P-1", "bad"), DeadLetter(F, E, "P-2", "bad")])
    [again] = await store.claim(F, E, worker="w2", limit=10)  # freed at once, not after the lease
    assert again.key == "P-1" and again.generation == items[0].generation + 1
    assert await store.queue_depth() == {(F, E): 1}
