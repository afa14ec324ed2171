"""Crash safety: `emporion run` is SIGKILLed again and again while it works, and nothing is lost or doubled.

The real CLI runs as a subprocess against a real Tryton and the WooCommerce sandbox (webhooks to its
own server). It is killed at random moments during (a) the initial sync of the catalogue, (b) live
stock and price changes in Tryton and (c) shop orders arriving by webhook and poll, and restarted
after a short random pause. Then it runs clean until idle, stops, and both systems are compared from
outside: every shop record equals Tryton through the flow's mapping, every shop order is exactly one
Tryton sale, no customer, product or category twice, no work, lease, delivery or claim left behind.

Reproduce a run with `EMPORION_CHAOS_SEED=<seed>` (the seed is printed).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path

import anyio
import pytest

from emporion.config import load_settings
from emporion.state import StateStore
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.chaos.harness import (
    EmporionProcess,
    Merchant,
    catalogue_links,
    check_convergence,
    idle,
    initial_sync_done,
    shop_orders,
    template_skus,
    wait_until,
    webhooks_active,
    write_config,
)
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine

pytestmark = [pytest.mark.chaos, pytest.mark.tryton]

KILLS = {"initial sync": 8, "live changes": 6, "orders": 8}
PAUSE = (0.05, 0.6)  # seconds between a kill and the restart
UPTIME = {"initial sync": (0.5, 5.0), "live changes": (0.3, 3.0), "orders": (0.3, 3.0)}  # after startup
SHOP_LATENCY = (0.03, 0.12)  # seconds per shop request while the catalogue syncs: a longer initial sync
ORDERS_PER_RUN = (1, 1)  # orders placed while the engine runs, between two kills (Tryton takes seconds each)
ORDER_WHILE_DOWN = 0.4  # the chance that a shopper orders while the engine is down (the webhook is lost)
SETTLE_SECONDS = 240.0
IDLE_HOLD_SECONDS = 8.0  # idle this long on end: eight feed polls (poll_interval 1 s) found nothing new


def chaos_seed() -> int:
    """The seed of this run: EMPORION_CHAOS_SEED, or a fresh one (printed either way)."""
    given = os.environ.get("EMPORION_CHAOS_SEED")
    return int(given) if given else random.SystemRandom().randrange(1_000_000)


async def kill_loop(
    process: EmporionProcess,
    rng: random.Random,
    phase: str,
    kills: Counter[str],
    mid_sync: list[int],
    shop: SandboxShop | None = None,
) -> None:
    """Let the engine run a random while, SIGKILL it, pause, start it again; KILLS[phase] times.

    With `shop`, shoppers place a few orders while the engine runs and one while it is down.
    """
    for round_ in range(KILLS[phase]):
        await process.ready()
        uptime = rng.uniform(*UPTIME[phase])
        if phase == "initial sync" and round_ == 0:
            await first_links(process)  # the first kill lands for sure while the catalogue is half written
        elif shop is None:
            await anyio.sleep(uptime)
        else:
            orders = rng.randint(*ORDERS_PER_RUN)
            for _ in range(orders):
                await anyio.sleep(uptime / orders * rng.random())
                await anyio.to_thread.run_sync(shop.place_orders, 1)
            await anyio.sleep(uptime / max(orders, 1) * rng.random())
        if phase == "initial sync" and not initial_sync_done(process.state_url):
            mid_sync[0] += 1
        process.kill()
        kills[phase] += 1
        if shop is not None and rng.random() < ORDER_WHILE_DOWN:
            await anyio.to_thread.run_sync(shop.place_orders, 1)  # its webhook finds nobody
        await anyio.sleep(rng.uniform(*PAUSE))
        process.start()


async def first_links(process: EmporionProcess, seconds: float = 120.0) -> None:
    """Return as soon as the engine has linked its first catalogue records."""
    start = time.monotonic()
    while await anyio.to_thread.run_sync(catalogue_links, process.state_url) == 0:
        assert time.monotonic() - start < seconds, f"no catalogue record linked:\n{process.tail()}"
        assert process.alive(), f"emporion exited on its own:\n{process.tail()}"
        await anyio.sleep(0.02)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_sigkill_during_sync_changes_and_orders_loses_and_doubles_nothing(
    dialect: str,
    request: pytest.FixtureRequest,
    tryton_server: RunningTryton,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    seed = chaos_seed()
    rng = random.Random(seed)
    state_url = request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "pg_url")
    await StateStore.migrate(state_url)
    kills: Counter[str] = Counter()
    mid_sync = [0]
    skus = await template_skus(tryton_server)
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0, seed=seed) as shop:
        config = write_config(tmp_path, tryton_server, shop, state_url)
        process = EmporionProcess(config, tmp_path / "emporion.log", state_url)
        try:
            # (a) the initial sync, stretched by a slow shop, killed in the middle again and again
            latency = shop.faults.set(latency=SHOP_LATENCY[0], latency_max=SHOP_LATENCY[1])
            process.start()
            await kill_loop(process, rng, "initial sync", kills, mid_sync)
            await wait_until(lambda: initial_sync_done(state_url), 120, "initial sync", process)
            shop.faults.clear(latency.id)

            # (b) the merchant changes prices and stock in Tryton while emporion keeps dying
            merchant = Merchant(tryton_server, skus, random.Random(rng.random()))
            async with anyio.create_task_group() as group:
                done = anyio.Event()

                async def change() -> None:
                    while not done.is_set():
                        await merchant.change_one()
                        await anyio.sleep(rng.uniform(0.05, 0.3))

                group.start_soon(change)
                await kill_loop(process, rng, "live changes", kills, mid_sync)
                done.set()

            # (c) shoppers order (webhooks + polls bring the orders) while emporion keeps dying
            await kill_loop(process, rng, "orders", kills, mid_sync, shop)

            # clean run until idle for several poll rounds on end (the echoes of emporion's own writes
            # to the shop orders come back by webhook and poll); the last start's webhook check may
            # re-register the webhooks the shop disabled and queue a catch-up
            await process.ready()
            await wait_until(lambda: webhooks_active(shop), SETTLE_SECONDS, "webhooks active", process)
            placed = len(await anyio.to_thread.run_sync(shop_orders, shop))
            await wait_until(
                lambda: idle(state_url, placed), SETTLE_SECONDS, "idle", process, hold=IDLE_HOLD_SECONDS
            )
            assert process.alive(), process.tail()
            process.stop()
        finally:
            process.close()

        settings = load_settings(config)
        async with running_engine(settings, worker="chaos-check") as engine:
            findings = await check_convergence(engine, tryton_server, shop, state_url)

    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nchaos [{dialect}] seed={seed} kills={kills.total()}"
            f" ({', '.join(f'{phase}: {n}' for phase, n in kills.items())};"
            f" {mid_sync[0]} before the initial sync finished) starts={process.starts}"
            f" merchant changes={dict(merchant.changes)} orders placed={findings.orders_placed}"
            f" records checked={findings.records_checked} lost={len(findings.lost)}"
            f" duplicated={len(findings.duplicated)} other problems={len(findings.problems)}"
            f" time={elapsed:.0f}s"
        )
        for line in [*findings.lost, *findings.duplicated, *findings.problems][:40]:
            print(f"  {line}")
    assert kills.total() >= 20
    assert mid_sync[0] >= 1, "no kill landed in the middle of the initial sync"
    assert findings.orders_placed >= KILLS["orders"] * ORDERS_PER_RUN[0]
    assert findings.lost == [] and findings.duplicated == [], f"seed {seed}"
    assert findings.problems == [], f"seed {seed}"
