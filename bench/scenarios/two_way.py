"""A two-way catalogue pair against the one-way flow: K Tryton prices and K shop descriptions changed."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import anyio
import httpx

from bench.support.engine import FLOW, bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import Meter, peak_rss_mb, target
from bench.support.sandbox import SandboxProcess, sandbox_process
from bench.support.tryton import BenchTryton, bench_tryton
from bench.support.workdir import scratch
from emporion.config import Settings
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine

DEFAULT_SIZE = 60  # products in the Tryton catalogue (the tests' cached one)
DEFAULT_CHANGES = 50
BACK = "catalogue-back"
# the configuration guide's worked example ("Directions and field ownership")
OWNERSHIP = "    ownership: {default: erp, fields: {description: shop, images: shop}}\n"
BACK_FLOW = f"""
  - name: {BACK}
    source: shop
    target: erp
    entities: [category, product]
    poll_interval: 1.0
    create_defaults: {{unit: u, account_category: Goods}}
"""
# what the journal calls a write to a system (a record found unchanged writes no line)
WRITES = frozenset({"created", "updated", "matched", "unpublished", "deleted", "reverted"})
QUIET_ROUNDS = 2  # an echo comes back through the other flow's feed one round after the write
SETTLE_LIMIT_S = 300.0
RETRY_WAIT_S = 0.5  # between rounds while records wait for a retry that is not due yet
WRITES_PER_CHANGE = 1.0


class Requests:
    """Counts the requests a connection sends, by HTTP method (a connector's request observer)."""

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()

    async def before(self, headers: Any) -> None:
        """Nothing to add to the request."""

    async def after(self, method: str, status: int) -> None:
        """Count one answered request."""
        self.methods[method] += 1

    @property
    def count(self) -> int:
        """All requests so far."""
        return sum(self.methods.values())


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """One-way, then the first run of the pair on both full systems, then two-way; K edits each."""
    changes = int(options.get("changes", DEFAULT_CHANGES))
    with scratch("two-way") as folder, sandbox_process(folder / "shop.sqlite") as shop:
        with bench_tryton(size, folder / "tryton") as erp:
            one_way = catalogue_settings(shop, sqlite_url(folder / "one-way.db"), erp=erp.login())
            two_way = catalogue_settings(
                shop,
                sqlite_url(folder / "two-way.db"),
                erp=erp.login(),
                flow_options=OWNERSHIP,
                extra_flows=BACK_FLOW,
            )
            result: dict[str, Any] = {"size": size, "changes_asked": changes}
            result["one_way"] = anyio.run(_one_way, one_way, erp, changes)
            result.update(anyio.run(_two_way, two_way, erp, shop, changes))
            result["tryton_prepare_s"] = erp.prepare_seconds
    one, two, first = result["one_way"], result["two_way"], result["first_run"]
    # a first run matches what both systems hold: neither gains a product
    grown = sum(first["after"][name] - first["before"][name] for name in first["before"])
    result["targets"] = {
        "one_way_writes_per_change": _exact(one["writes_per_change"]),
        "two_way_writes_per_change": _exact(two["writes_per_change"]),
        "two_way_written_twice": target(two["written_twice"], 0, two["written_twice"] == 0),
        "first_run_failed": target(first["failed"], 0, first["failed"] == 0),
        "first_run_duplicates": target(grown, 0, grown == 0),
    }
    return result


def _exact(value: float | None) -> dict[str, Any]:
    """Exactly one journal write per edit: the echo of emporion's own write is never written."""
    return target(value, WRITES_PER_CHANGE, value == WRITES_PER_CHANGE)


async def _one_way(settings: Settings, erp: BenchTryton, changes: int) -> dict[str, Any]:
    """The ERP -> shop flow alone: initial sync, then K price edits in Tryton until idle."""
    async with bench_engine(settings) as engine:
        meter = Meter().start()
        report = await sync_flow(engine.runners[FLOW])
        meter.stop()
        await _settle(engine, [FLOW])  # the first poll after the initial sync settles the cursor
        edited = (await _linked(engine))[:changes]
        counters = _observe(engine)
        began = time.perf_counter()
        await _change_prices(erp, [key for key, _ in edited])
        edit_s = time.perf_counter() - began
        figures = await _measure(engine, [FLOW], counters, len(edited))
        return {
            "initial_sync_s": round(meter.wall, 2),
            "initial_counts": _counts([report]),
            "price_edits": len(edited),
            "description_edits": 0,
            "edit_s": round(edit_s, 2),
            **figures,
        }


async def _two_way(
    settings: Settings, erp: BenchTryton, shop: SandboxProcess, changes: int
) -> dict[str, Any]:
    """The pair's first run on two full systems (plan, sync), then K prices in Tryton and K shop
    descriptions changed, until idle."""
    async with bench_engine(settings) as engine:
        names = [FLOW, BACK]
        counters = _observe(engine)
        first: dict[str, Any] = {"before": await _holdings(erp, shop)}
        for dry_run, phase in ((True, "plan"), (False, "sync")):
            before = _snapshot(counters)
            meter = Meter().start()
            reports = [await sync_flow(engine.runners[name], dry_run=dry_run) for name in names]
            meter.stop()
            first[phase] = {
                "wall_s": round(meter.wall, 2),
                "cpu_s": round(meter.cpu, 2),
                "requests": _since(counters, before),
                "counts": _counts(reports),
            }
            if not dry_run:
                first["failed"] = sum(len(e.failed) for r in reports for e in r.entities)
        first["queued_after_sync"] = await _queued(engine, names)
        before, start = _snapshot(counters), await engine.store.last_journal_id()
        meter = Meter().start()
        settled = await _settle(engine, names)  # what the sync left waiting (for a retry) is done
        meter.stop()
        lines = await _writes_since(engine, start)
        first["settle"] = {
            "wall_s": round(meter.wall, 2),
            "requests": _since(counters, before),
            "writes": dict(Counter(f"{e.flow}.{e.entity}.{e.action}" for e in lines)),
            **settled,
        }
        first["after"] = await _holdings(erp, shop)
        first["total_s"] = round(sum(first[phase]["wall_s"] for phase in ("plan", "sync", "settle")), 2)
        edited = (await _linked(engine))[:changes]
        counters = _observe(engine)  # the edits' requests only (the first run's counters go on apart)
        began = time.perf_counter()
        await _change_prices(erp, [key for key, _ in edited])
        await _change_descriptions(shop, [shop_id for _, shop_id in edited])
        edit_s = time.perf_counter() - began
        figures = await _measure(engine, names, counters, 2 * len(edited))
        return {
            "first_run": first,
            "two_way": {
                "price_edits": len(edited),
                "description_edits": len(edited),
                "edit_s": round(edit_s, 2),
                **figures,
            },
        }


async def _holdings(erp: BenchTryton, shop: SandboxProcess) -> dict[str, int]:
    """How many products each system holds (a first run matches them: the counts must not grow)."""
    client = erp.admin()
    try:
        templates = await client.model("product.template", "search_count", [])
    finally:
        await client.close()
    shop_products = await anyio.to_thread.run_sync(shop.count, "/products")
    return {"tryton_templates": int(templates), "shop_products": shop_products}


def _observe(engine: Engine) -> dict[str, Requests]:
    """A fresh request counter on each system's connection (both flows share each connection)."""
    counters = {"erp": Requests(), "shop": Requests()}
    for name, counter in counters.items():
        engine.pool.get(name).observe_requests(counter)  # type: ignore[attr-defined]
    return counters


def _snapshot(counters: dict[str, Requests]) -> dict[str, Counter[str]]:
    """The counts so far, to subtract later."""
    return {name: Counter(counter.methods) for name, counter in counters.items()}


def _since(counters: dict[str, Requests], before: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    """Requests per system and method since a snapshot."""
    return {name: dict(counter.methods - before[name]) for name, counter in counters.items()}


def _counts(reports: list[Any]) -> dict[str, int]:
    """A sync's or plan's counts per flow, entity and outcome."""
    return {
        f"{report.flow}.{entity.entity}.{name}": value
        for report in reports
        for entity in report.entities
        for name, value in entity.counts.items()
        if value
    }


async def _linked(engine: Engine) -> list[tuple[str, int]]:
    """The products the ERP -> shop flow links: (Tryton template id, shop product id), by template id."""
    pairs: list[tuple[str, int]] = []
    async for links in engine.store.iter_links(FLOW, "product"):
        pairs += [(link.source_key, int(link.target_ref["id"])) for link in links if link.target_ref]
    return sorted(pairs, key=lambda pair: int(pair[0]))


async def _change_prices(erp: BenchTryton, templates: list[str]) -> None:
    """A merchant raises each template's list price in Tryton by 1.00."""
    client = erp.admin()
    try:
        ids = [int(key) for key in templates]
        rows = await client.model("product.template", "read", ids, ["list_price"])
        for row in rows:
            price = Decimal(str(row["list_price"])) + Decimal("1.00")
            await client.model("product.template", "write", [row["id"]], {"list_price": price})
    finally:
        await client.close()


async def _change_descriptions(shop: SandboxProcess, ids: list[int]) -> None:
    """Marketing rewrites each product's description in the shop."""
    async with httpx.AsyncClient(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=120,
    ) as http:
        for number, shop_id in enumerate(ids):
            text = f"Rewritten by marketing ({number}): softer, warmer, longer lasting."
            answer = await http.put(f"/products/{shop_id}", json={"description": text})
            answer.raise_for_status()


async def _measure(
    engine: Engine, names: list[str], counters: dict[str, Requests], edits: int
) -> dict[str, Any]:
    """Run the flows until idle after the edits: time, requests and journal writes per edit."""
    start = await engine.store.last_journal_id()
    meter = Meter().start()
    settled = await _settle(engine, names)
    meter.stop()
    lines = await _writes_since(engine, start)
    per_flow = Counter(entry.flow for entry in lines)
    # a record edited on both sides is written once by each flow, never twice by one (no ping-pong)
    per_record = Counter((entry.flow, entry.entity, entry.key) for entry in lines)
    erp, shop = counters["erp"].count, counters["shop"].count
    return {
        "settle_s": round(meter.wall, 2),
        "last_write_s": settled["last_write_s"],
        "rounds": settled["rounds"],
        "handled": settled["handled"],
        "writes": len(lines),
        "writes_by_flow": dict(per_flow),
        "writes_by_action": dict(Counter(entry.action for entry in lines)),
        "writes_per_change": round(len(lines) / edits, 3) if edits else None,
        # records a feed reported again after emporion's own write, compared and left alone
        "echoes_unchanged": sum(settled["handled"].values()) - len(lines) if len(names) > 1 else None,
        "written_twice": sum(1 for count in per_record.values() if count > 1),
        "erp_requests": dict(counters["erp"].methods),
        "shop_requests": dict(counters["shop"].methods),
        "erp_requests_per_change": round(erp / edits, 2) if edits else None,
        "shop_requests_per_change": round(shop / edits, 2) if edits else None,
        "cpu_s": round(meter.cpu, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


async def _settle(engine: Engine, names: list[str]) -> dict[str, Any]:
    """Poll and work the flows round after round until the queue is empty and two rounds on end wrote
    nothing; records waiting for a retry (a category not in the target yet) are waited for."""
    began = time.perf_counter()
    handled: Counter[str] = Counter()
    last_write, quiet, rounds = 0.0, 0, 0
    while quiet < QUIET_ROUNDS:
        if time.perf_counter() - began > SETTLE_LIMIT_S:
            raise RuntimeError(f"the flows {names} did not settle in {SETTLE_LIMIT_S} s")
        rounds += 1
        before = await engine.store.last_journal_id()
        for name in names:
            handled[name] += await engine.drain(engine.runners[name].flow)
        if await _writes_since(engine, before):
            last_write, quiet = time.perf_counter() - began, 0
        elif await _queued(engine, names):
            quiet = 0
            await anyio.sleep(RETRY_WAIT_S)
        else:
            quiet += 1
    return {"rounds": rounds, "last_write_s": round(last_write, 2), "handled": dict(handled)}


async def _queued(engine: Engine, names: list[str]) -> int:
    """Records queued in the flows (due or waiting for a retry)."""
    return sum([sum((await engine.store.queue_depth(name)).values()) for name in names])


async def _writes_since(engine: Engine, after_id: int) -> list[Any]:
    """Journal lines newer than `after_id` that wrote to a system."""
    lines: list[Any] = []
    while True:
        page = await engine.store.journal_after(after_id, limit=500)
        lines += [entry for _, entry in page if entry.action in WRITES]
        if len(page) < 500:
            return lines
        after_id = page[-1][0]
