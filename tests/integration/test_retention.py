"""Old history is forgotten after `state.retention` days, work still to do never (SQLite, PostgreSQL).

By the store, by `emporion db prune` (with `--dry-run`), and by a running engine on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from emporion.cli import app
from emporion.config import RetentionSettings, Settings
from emporion.engine.worker import Engine
from emporion.state import (
    Conflict,
    ConflictCheck,
    DeadLetter,
    JournalEntry,
    ReconcileReport,
    StateStore,
    retention,
)
from tests.fixtures.offline import offline_shop, write_state_config

DEFAULT_AGES = RetentionSettings().ages()


class Clock:
    """The real time, shifted by `offset` (to write history in the past)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def line(key: str) -> JournalEntry:
    return JournalEntry("catalogue", "product", key, "update", reason="change")


def report(at: datetime) -> ReconcileReport:
    return ReconcileReport(
        flow="catalogue", started_at=at, finished_at=at, status="clean", counts={"compared": 1}, items=[]
    )


def alert(key: str) -> dict[str, str]:
    return {"key": key, "kind": "sync_lag", "subject": key, "flow": "catalogue", "severity": "warning"} | {
        "message": "behind"
    }


async def write_history(store: StateStore, tag: str, *, journal_lines: int) -> None:
    """Journal lines, deliveries (one left unprocessed), audit lines, alerts, a report, dead letters."""
    await store.record(journal=[line(f"{tag}-{n}") for n in range(journal_lines)])
    for n in range(3):
        await store.inbox_add("shop", f"{tag}-d{n}", "order.created", {}, b"{}")
    claimed = await store.inbox_claim(worker="w", source="shop", lease_seconds=0.001)
    # the last one stays unprocessed (its worker died, say)
    await store.inbox_mark_processed([d.id for d in claimed if not d.delivery_id.endswith("d2")])
    await store.audit("user:mia", "login")
    await store.alert_fire(alert(f"resolved:{tag}"), 600)
    await store.alert_resolve(f"resolved:{tag}", "caught up")
    await store.alert_fire(alert(f"open:{tag}"), 600)
    await store.save_report(report(store._now()))
    letters = [DeadLetter("catalogue", "product", f"{tag}-{state}", "bad price") for state in ("o", "r", "x")]
    await store.record(dead=letters)
    found = {letter.key: letter.id for letter in await store.list_dead(status="open", limit=1000)}
    await store.retry_dead([found[f"{tag}-r"]])
    await store.discard_dead([found[f"{tag}-x"]])
    pair, values = "shop <> tryton", {"shop": "Stool", "tryton": "Chair"}
    differ = [
        Conflict(pair, "product", f"{tag}-{s}", "name", "tryton", "report", values, "c", "1") for s in "orx"
    ]
    await store.record(conflicts=[ConflictCheck(pair, "product", c.natural_key, (c,)) for c in differ])
    await store.record(conflicts=[ConflictCheck(pair, "product", f"{tag}-r")])  # both agree: resolved
    [dismissed] = [c.id for c in await store.list_conflicts() if c.natural_key == f"{tag}-x"]
    assert dismissed is not None and await store.dismiss_conflict(dismissed, "user:mia")


async def remaining(store: StateStore) -> dict[str, object]:
    """What is left of each kind of history, by key or count."""
    pending = await store.inbox_claim(worker="check", lease_seconds=0.001, limit=100)
    journal_lines = 0
    for tag in ("old", "new"):
        for n in range(7):
            journal_lines += len(await store.journal_for("catalogue", "product", f"{tag}-{n}"))
    return {
        "journal": journal_lines,
        "inbox_pending": sorted(d.delivery_id for d in pending),
        "audit": len(await store.list_audit()),
        "alerts": sorted(a.key for a in await store.list_alerts(limit=100)),
        "reports": len(await store.list_reports()),
        "dead": sorted((d.key, d.status) for d in await store.list_dead(status=None, limit=100)),
        "conflicts": sorted((c.natural_key, c.state) for c in await store.list_conflicts(state=None)),
    }


async def test_old_history_goes_and_work_still_to_do_stays(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)  # several batches for the 7 old journal lines
    clock = Clock()
    store = await StateStore.connect(state_url, clock=clock)
    try:
        clock.offset = -timedelta(days=400)  # older than every default age
        await write_history(store, "old", journal_lines=7)
        clock.offset = timedelta()
        await write_history(store, "new", journal_lines=1)
        before = await remaining(store)

        counted = await store.prune(DEFAULT_AGES, dry_run=True)
        expected = {"journal": 7, "inbox": 2, "audit": 1, "alerts": 1, "reports": 1, "dead_letters": 2}
        expected["conflicts"] = 2  # resolved and dismissed, with the alerts' age
        assert counted == expected
        assert await remaining(store) == before  # a dry run removes nothing

        assert await store.prune(DEFAULT_AGES) == expected
        after = await remaining(store)
        assert after["journal"] == 1
        assert after["inbox_pending"] == ["new-d2", "old-d2"]  # unprocessed deliveries stay, however old
        assert after["audit"] == 1 and after["reports"] == 1
        assert after["alerts"] == ["open:new", "open:old", "resolved:new"]
        assert after["dead"] == [
            ("new-o", "open"),
            ("new-r", "retried"),
            ("new-x", "discarded"),
            ("old-o", "open"),
        ]
        assert after["conflicts"] == [
            ("new-o", "open"),
            ("new-r", "resolved"),
            ("new-x", "dismissed"),
            ("old-o", "open"),
        ]
        assert await store.prune(DEFAULT_AGES) == dict.fromkeys(expected, 0)

        kept = RetentionSettings(journal_days=0, audit_days=0).ages()  # 0 days: kept forever
        assert "journal" not in kept and "audit" not in kept and kept["inbox"] == timedelta(days=14)
    finally:
        await store.close()


async def test_db_prune_counts_with_dry_run_then_removes(tmp_path: Path) -> None:
    config = write_state_config(tmp_path, retention={"journal_days": 2, "audit_days": 0})
    clock = Clock()
    store = await StateStore.connect(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    try:
        clock.offset = -timedelta(days=3)
        await write_history(store, "old", journal_lines=4)
    finally:
        await store.close()
    cli = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = cli.invoke(app, ["db", "prune", "-c", str(config), *args])
        return result.exit_code, result.output

    code, output = await anyio.to_thread.run_sync(invoke, "--dry-run")
    assert code == 0, output
    assert "would be removed" in output and "audit" not in output  # 0 days: never pruned
    rows = {cells[0]: cells[1:] for cells in (row.split("│")[1:-1] for row in output.splitlines()) if cells}
    table = {name.strip(): [cell.strip() for cell in cells] for name, cells in rows.items()}
    assert table["journal"] == ["2 days", "4"] and table["inbox"] == ["14 days", "0"]
    assert table["sessions"] == ["expired", "0"]  # expired console sessions go whatever is kept
    code, output = await anyio.to_thread.run_sync(invoke)
    assert code == 0 and "removed" in output, output
    store = await StateStore.connect(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert await store.journal_for("catalogue", "product", "old-0") == []
        assert len(await store.list_audit()) == 1  # kept forever
    finally:
        await store.close()
    code, output = await anyio.to_thread.run_sync(invoke, "--help")
    assert code == 0 and "--dry-run" in output


async def test_a_running_engine_prunes_under_its_lease(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}", "retention": {"journal_days": 1}},
            "connections": {"shop": offline_shop()},
        }
    )
    clock = Clock()
    store = await StateStore.connect(settings.state.url, clock=clock)
    engine = Engine(settings, store)
    try:
        clock.offset = -timedelta(days=2)
        await store.record(journal=[line("old-0"), line("old-1")])
        clock.offset = timedelta()
        await store.record(journal=[line("new-0")])
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: engine.run(stop=stop))
            with anyio.fail_after(20):
                while await store.journal_for("catalogue", "product", "old-0"):  # noqa: ASYNC110
                    await anyio.sleep(0.1)
            assert [lease.name for lease in await store.leases("retention")] == ["retention"]
            stop.set()
        assert await store.journal_for("catalogue", "product", "old-1") == []
        assert len(await store.journal_for("catalogue", "product", "new-0")) == 1
    finally:
        await engine.pool.close()
        await store.close()
