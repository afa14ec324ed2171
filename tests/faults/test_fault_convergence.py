"""Faults end to end: a shop failing 30% of its requests and the ERP down for a minute, and still nothing
lost, nothing duplicated, no dead letter, and both circuits opened and closed again.

A real Tryton and the sandbox shop run a catalogue flow (ERP -> shop) and an order flow (shop -> ERP)
in one engine. While the shop answers 30% of requests with a 429 (with Retry-After), a 500/502/503, a
timeout, a dropped connection or a late answer, prices and stock change in Tryton and shoppers place
orders; then Tryton is stopped for a minute (the shop also has a short storm of failures meanwhile)
and started again on the same port and database. Once the faults are off, every shop product must
equal what Tryton says through the flow, every importable shop order must be exactly one Tryton sale,
the queue must drain, and `emporion status` must show each circuit opened and closed again.

The outage lasts EMPORION_FAULT_OUTAGE seconds (default 60). The figures are printed (pytest -s).
The test's Tryton keeps its data in SQLite, where every transaction takes the database's write lock:
the ERP connection sends few requests at a time (`max_concurrency: 4`) and the feeds poll unhurriedly.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from decimal import Decimal
from functools import partial
from typing import Any

import anyio
import pytest
from rich.console import Console

from emporion.config import Settings
from emporion.console import render_report
from emporion.engine.sync import verify_flow
from emporion.engine.worker import Engine
from emporion.model import status_name
from emporion_devkit.demo.erp_changes import receive_stock, set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for

pytestmark = pytest.mark.tryton

OUTAGE_SECONDS = float(os.environ.get("EMPORION_FAULT_OUTAGE", "60"))
STORM_SECONDS = (8.0, 45.0)  # at least, at most; the shop is asked only when a feed polls it
CONVERGE_TIMEOUT = float(os.environ.get("EMPORION_FAULT_CONVERGE", "480"))
PREFIX = "WEB-"

# about 30% of shop requests fail, in every way the injector knows
FAULTS: dict[str, Any] = {
    "rate_drop": 0.06,
    "rate_timeout": 0.06,
    "timeout": 3.0,  # the shop holds the request 3 s; the client gives up after 2 s
    "rate_slow": 0.06,
    "slow": 2.5,  # processed, but answered after the client gave up
    "rate_429": 0.07,
    "retry_after": 1.0,
    "rate_500": 0.03,
    "rate_502": 0.03,
    "rate_503": 0.03,
}

FLOWS = f"""
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    poll_interval: 4.0
  - name: orders
    source: shop
    target: erp
    entities: [order]
    poll_interval: 4.0
    orders:
      reference_prefix: "{PREFIX}"
      shortage: accept
      carriers: {{"*": DHL}}
      payment_methods: {{stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}}
"""


def fault_settings(
    tryton: RunningTryton, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The two flows, a short shop timeout, quick circuits and a short retry cap (the run is short)."""
    settings = settings_for(tryton, {"shop": shop}, state_url, FLOWS, monkeypatch)
    for connection in settings.connections.values():
        connection.circuit.failure_threshold = 5
        connection.circuit.cooldown = 2.0
        connection.circuit.max_cooldown = 8.0
    settings.connections["shop"].timeout = 2.0
    # the test's Tryton keeps its data in SQLite, where every transaction takes the write lock: few
    # requests at a time, and change feeds that leave room for the writes
    erp = settings.connections["erp"]
    erp.max_concurrency = 4  # type: ignore[union-attr]
    erp.overlap_seconds = 10.0  # type: ignore[union-attr]
    settings.retry.base = 0.5
    settings.retry.max = 8.0
    return settings


async def storm_until_the_shop_circuit_opens(engine: Engine) -> None:
    """Keep the storm on for its least time, and on until the shop's circuit has opened (or its most)."""
    started = time.monotonic()
    await anyio.sleep(STORM_SECONDS[0])
    while time.monotonic() - started < STORM_SECONDS[1]:
        circuits = {record.connection: record for record in await engine.store.circuits()}
        if "shop" in circuits and circuits["shop"].opened_count >= 1:
            return
        await anyio.sleep(0.5)


async def catalogue_skus(tryton: RunningTryton) -> list[str]:
    """SKUs of the salable goods in Tryton, in a stable order."""
    rows = await tryton.rpc(
        "product.product",
        "search_read",
        [("template.salable", "=", True), ("template.type", "=", "goods"), ("code", "!=", None)],
        0,
        None,
        [["code", "ASC"]],
        ["code"],
    )
    return [row["code"] for row in rows]


async def sales_per_reference(tryton: RunningTryton) -> Counter[str]:
    """How many Tryton sales carry each shop reference."""
    rows = await tryton.rpc(
        "sale.sale", "search_read", [("reference", "like", f"{PREFIX}%")], 0, None, None, ["reference"]
    )
    return Counter(row["reference"] for row in rows)


async def wait_for_initial_sync(engine: Engine, deadline: float) -> None:
    """Until the catalogue flow's cursors are set (its initial sync is over)."""
    flow = engine.runners["catalogue"].flow
    while time.monotonic() < deadline:
        cursors = [await engine.store.get_cursor(flow.name, entity) for entity in flow.entities]
        if all(cursor is not None for cursor in cursors):
            return
        await anyio.sleep(0.5)
    raise AssertionError("the initial sync did not finish under faults")


async def merchant_changes(tryton: RunningTryton, skus: list[str], round_: int) -> int:
    """A price change and a goods receipt in Tryton, as a merchant would make them."""
    admin = tryton.admin()
    try:
        price_sku = skus[(round_ * 7) % len(skus)]
        stock_sku = skus[(round_ * 11 + 3) % len(skus)]
        await set_list_price(admin, price_sku, Decimal("10.00") + Decimal(round_) + Decimal("0.95"))
        await receive_stock(admin, stock_sku, Decimal(5 + round_))
    finally:
        await admin.close()
    return 2


async def convergence(engine: Engine, tryton: RunningTryton, importable: set[str]) -> dict[str, Any]:
    """Where the systems stand: queue depth, orders without or with several sales, the catalogue report."""
    depth = sum((await engine.store.queue_depth()).values())
    sales = await sales_per_reference(tryton)
    lost = sorted(number for number in importable if sales[PREFIX + number] == 0)
    duplicated = sorted(ref for ref, count in sales.items() if count > 1)
    report = await verify_flow(engine.runners["catalogue"]) if depth == 0 and not lost else None
    return {"queued": depth, "lost": lost, "duplicated": duplicated, "report": report}


async def dump_queue(engine: Engine) -> None:
    """What is still queued, and where every task of the engine waits (to see why it did not drain)."""
    import asyncio

    from sqlalchemy import select

    from emporion.state.tables import work

    async with engine.store._db.engine.connect() as conn:
        rows = await conn.execute(
            select(
                work.c.flow,
                work.c.entity,
                work.c.key,
                work.c.attempts,
                work.c.next_attempt_at,
                work.c.lease_owner,
                work.c.last_error,
            )
        )
        for row in rows:
            print("queued:", tuple(row))
    for task in asyncio.all_tasks():
        print("task:", task.get_name())
        coro: Any = task.get_coro()
        while coro is not None:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
            if frame is not None:
                print(
                    "   ", frame.f_code.co_filename.split("/src/")[-1], frame.f_lineno, frame.f_code.co_name
                )
            coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)


async def test_faults_and_an_erp_outage_converge_with_nothing_lost_or_duplicated(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fault_settings(tryton_server, sandbox_shop, sqlite_url, monkeypatch)
    shop, faults = sandbox_shop, sandbox_shop.faults
    started = time.monotonic()
    skus = await catalogue_skus(tryton_server)
    placed: list[dict[str, Any]] = []
    changes = 0

    async def place(count: int) -> None:
        placed.extend(await anyio.to_thread.run_sync(shop.place_orders, count))

    faults.set(seed=20261123, **FAULTS)
    stop = anyio.Event()
    async with running_engine(settings, worker="w1") as engine:
        async with anyio.create_task_group() as group:
            group.start_soon(partial(engine.run, stop=stop))
            await wait_for_initial_sync(engine, started + 120)
            synced_at = time.monotonic()

            # the shop fails 30% of the time while the merchant works and shoppers buy
            for round_ in range(5):
                changes += await merchant_changes(tryton_server, skus, round_)
                if round_ % 2 == 0:
                    await place(1)
                await anyio.sleep(2.0)

            # the ERP goes away for a minute; the shop has a storm of its own meanwhile
            await anyio.to_thread.run_sync(tryton_server.server.stop)
            outage_started = time.monotonic()
            await place(1)
            before_storm = (faults.seen, sum(faults.injected.values()))
            storm = faults.set(rate_429=0.5, retry_after=1.0, rate_503=1.0)
            await storm_until_the_shop_circuit_opens(engine)
            faults.clear(storm.id)
            after_storm = (faults.seen, sum(faults.injected.values()))
            await place(1)
            await anyio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
            await anyio.to_thread.run_sync(tryton_server.server.restart)
            outage = time.monotonic() - outage_started

            # both systems are back: faults off, the merchant carries on
            faults.clear()
            with_faults = (faults.seen, sum(faults.injected.values()))
            back = time.monotonic()
            changes += await merchant_changes(tryton_server, skus, 5)
            await place(1)

            importable_statuses = set(engine.order_flows["orders"].flow.orders.import_statuses)
            importable = {str(o["number"]) for o in placed if status_name(o["status"]) in importable_statuses}
            state: dict[str, Any] = {}
            while time.monotonic() - back < CONVERGE_TIMEOUT:
                state = await convergence(engine, tryton_server, importable)
                if state["report"] is not None and state["report"].clean and not state["duplicated"]:
                    break
                await anyio.sleep(1.0)
            converged_in = time.monotonic() - back
            if state.get("queued"):
                await dump_queue(engine)
            circuits = {record.connection: record for record in await engine.store.circuits()}
            dead = await engine.store.list_dead(limit=1000)
            breakers = engine.pool.circuits()
            stop.set()

    storm_seen, storm_injected = after_storm[0] - before_storm[0], after_storm[1] - before_storm[1]
    figures = {
        "wall seconds": round(time.monotonic() - started, 1),
        "initial sync seconds (under faults)": round(synced_at - started, 1),
        "erp outage seconds": round(outage, 1),
        "seconds to converge after faults off and erp back": round(converged_in, 1),
        "shop requests (all)": faults.seen,
        "faults injected": dict(sorted(faults.injected.items())),
        "requests while faults were on (30% rule, storm left out)": with_faults[0] - storm_seen,
        "fault share while faults were on (storm left out)": round(
            (with_faults[1] - storm_injected) / max(1, with_faults[0] - storm_seen), 3
        ),
        "storm requests (all failed)": storm_seen,
        "work put back": dict(engine.retried),
        "circuit openings": {name: record.opened_count for name, record in circuits.items()},
        "calls failed fast": {name: breaker.rejected for name, breaker in breakers.items()},
        "merchant changes": changes,
        "orders placed": len(placed),
        "orders importable": len(importable),
        "lost": len(state.get("lost", [])),
        "duplicated": len(state.get("duplicated", [])),
        "dead letters": len(dead),
    }
    print("\nfault convergence figures:")
    for name, value in figures.items():
        print(f"  {name}: {value}")

    report = state.get("report")
    if report is not None and not report.clean:
        render_report(Console(width=200), report)
    assert not dead, [(d.record, d.reason) for d in dead]
    assert state["queued"] == 0, "the queue did not drain"
    assert state["lost"] == [], f"orders without a sale in Tryton: {state['lost']}"
    assert state["duplicated"] == [], f"orders with several sales: {state['duplicated']}"
    assert report is not None and report.clean, "the shop's catalogue differs from Tryton's"
    assert len(importable) >= 4, "too few importable orders to prove anything"
    assert 0.2 <= figures["fault share while faults were on (storm left out)"] <= 0.45
    for connection in ("erp", "shop"):
        assert circuits[connection].opened_count >= 1, f"the {connection} circuit never opened"
        assert circuits[connection].state == "closed", (
            f"the {connection} circuit is still {circuits[connection].state}"
        )
