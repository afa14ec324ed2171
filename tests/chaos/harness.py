"""The pieces of the SIGKILL chaos test: the emporion process, merchant and shopper traffic, the checks.

The engine runs as the real `emporion run` command in its own process group (`EmporionProcess`, shared
with the browser tests in tests/integration/process_support.py), so that a SIGKILL takes it down at once
with everything it started, exactly as a power cut or the OOM killer would.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio
import httpx
from sqlalchemy import create_engine, func, select

from emporion.engine.sync import FlowReport, verify_flow
from emporion.engine.worker import Engine
from emporion.state import tables
from emporion_devkit.demo import erp_changes
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import shop_api
from tests.integration.process_support import (
    CATALOGUE,
    ORDERS,
    REFERENCE_PREFIX,
    EmporionProcess,
    free_port,
    write_config,
)

__all__ = ["CATALOGUE", "ORDERS", "REFERENCE_PREFIX", "EmporionProcess", "free_port", "write_config"]


@dataclass
class Merchant:
    """Stock and price changes in Tryton, as a merchant makes them, on random SKUs."""

    tryton: RunningTryton
    skus: list[str]
    rng: random.Random
    changes: Counter[str] = field(default_factory=Counter)

    async def change_one(self) -> None:
        """A new list price or a goods receipt for one random SKU."""
        client = self.tryton.admin()
        try:
            sku = self.rng.choice(self.skus)
            if self.rng.random() < 0.5:
                price = Decimal(self.rng.randint(500, 9999)) / 100
                await erp_changes.set_list_price(client, sku, price)
                self.changes["price"] += 1
            else:
                quantity = Decimal(self.rng.choice([1, 3, 5, 10, 20]))
                await erp_changes.receive_stock(client, sku, quantity)
                self.changes["stock"] += 1
        finally:
            await client.close()


async def template_skus(tryton: RunningTryton) -> list[str]:
    """The SKUs of products (not variants) that have a code, can be sold and are kept in stock.

    Carriers' shipping services are salable too, but a goods receipt of a service is refused by Tryton.
    """
    domain = [("code", "!=", None), ("salable", "=", True), ("type", "!=", "service")]
    rows = await tryton.rpc("product.product", "search_read", domain, 0, None, None, ["code"])
    return sorted(row["code"] for row in rows if row["code"])


def shop_records(shop: SandboxShop, path: str) -> list[dict[str, Any]]:
    """Every record under an API path, all pages, any status."""
    records: list[dict[str, Any]] = []
    with shop_api(shop) as client:
        page = 1
        while True:
            response = client.get(path, params={"per_page": 100, "page": page, "status": "any"})
            response.raise_for_status()
            batch = response.json()
            records += batch
            if len(batch) < 100:
                return records
            page += 1


def shop_orders(shop: SandboxShop) -> list[dict[str, Any]]:
    """All orders in the shop, whatever their status."""
    return shop_records(shop, "/orders")


def webhooks_active(shop: SandboxShop) -> bool:
    """The shop has webhooks and every one is active (a start's webhook check and catch-up are done)."""
    hooks = shop_records(shop, "/webhooks")
    return bool(hooks) and all(hook["status"] == "active" for hook in hooks)


def duplicates(values: list[str]) -> dict[str, int]:
    """Values seen more than once, with how often."""
    return {value: n for value, n in Counter(values).items() if n > 1}


@dataclass
class Findings:
    """What the final check counted; `lost` and `duplicated` must both be zero."""

    records_checked: int = 0
    orders_placed: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.problems)


def catalogue_findings(report: FlowReport, findings: Findings) -> None:
    """Links to nothing, records that differ from the ERP through the mapping, records never sent."""
    for entity in report.entities:
        findings.records_checked += entity.linked
        findings.lost += [f"{entity.entity} {label}: linked but not in the shop" for label in entity.missing]
        findings.lost += [
            f"{entity.entity} {label}: {reason}" for label, reason in entity.failed
        ]  # a record the ERP has and the shop never got
        if entity.linked < entity.source_count:
            findings.lost.append(
                f"{entity.entity}: {entity.source_count} in the ERP, only {entity.linked} synced to the shop"
            )
        if entity.target_count is not None and entity.target_count > entity.linked:
            findings.duplicated.append(
                f"{entity.entity}: {entity.target_count} in the shop for {entity.linked} linked records"
            )
        for mismatch in entity.mismatches:
            fields = ", ".join(f"{d.field}: shop {d.actual!r} != ERP {d.expected!r}" for d in mismatch.diffs)
            findings.problems.append(f"{entity.entity} {mismatch.label} differs: {fields}")


async def check_convergence(
    engine: Engine, tryton: RunningTryton, shop: SandboxShop, state_url: str
) -> Findings:
    """Compare both systems from outside once emporion is idle (see the module docstring of the test)."""
    findings = Findings()
    report = await verify_flow(engine.runners[CATALOGUE])
    catalogue_findings(report, findings)

    products = shop_records(shop, "/products")
    skus = [p["sku"] for p in products if p.get("sku")]
    for product in products:
        if product.get("type") == "variable":
            variations = shop_records(shop, f"/products/{product['id']}/variations")
            findings.records_checked += len(variations)
            skus += [v["sku"] for v in variations if v.get("sku")]
    findings.duplicated += [f"SKU {sku} {n} times in the shop" for sku, n in duplicates(skus).items()]
    categories = shop_records(shop, "/products/categories")
    names = [f"{c['parent']}/{c['name']}" for c in categories if c["slug"] != "uncategorized"]
    findings.duplicated += [f"category {name} {n} times" for name, n in duplicates(names).items()]

    orders = shop_orders(shop)
    findings.orders_placed = len(orders)
    findings.records_checked += len(orders)
    sales = await tryton.rpc(
        "sale.sale", "search_read", [("reference", "like", f"{REFERENCE_PREFIX}%")], 0, None, None,
        ["reference", "party"],
    )  # fmt: skip
    by_reference = Counter(sale["reference"] for sale in sales)
    for order in orders:
        reference = REFERENCE_PREFIX + str(order["number"])
        count = by_reference.pop(reference, 0)
        if count == 0:
            findings.lost.append(f"order {order['number']} ({order['status']}) has no sale in Tryton")
        elif count > 1:
            findings.duplicated.append(f"order {order['number']} has {count} sales in Tryton")
    findings.duplicated += [f"sale {ref} matches no shop order" for ref in by_reference]
    emails = await tryton.rpc(
        "party.contact_mechanism", "search_read", [("type", "=", "email")], 0, None, None, ["value", "party"]
    )
    per_email: dict[str, set[int]] = {}
    for row in emails:
        per_email.setdefault(row["value"].strip().lower(), set()).add(row["party"])
    findings.duplicated += [
        f"customer {n} parties share one e-mail" for n in (len(p) for p in per_email.values()) if n > 1
    ]
    findings.problems += state_findings(engine, state_url)
    return findings


def state_findings(engine: Engine, state_url: str) -> list[str]:
    """The queue is empty, no lease is held, every delivery is processed, no dead letter, no claim left."""
    problems = []
    database = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with database.connect() as conn:
            work = conn.execute(select(tables.work.c.flow, tables.work.c.entity, tables.work.c.key)).all()
            problems += [f"work item left: {row.flow}/{row.entity}/{row.key}" for row in work]
            inbox = conn.execute(
                select(func.count()).select_from(tables.inbox).where(tables.inbox.c.processed_at.is_(None))
            ).scalar_one()
            if inbox:
                problems.append(f"{inbox} webhook deliveries never processed")
            dead = conn.execute(select(tables.dead.c.key, tables.dead.c.reason)).all()
            problems += [f"dead letter {row.key}: {row.reason}" for row in dead]
            pending = conn.execute(
                select(tables.link.c.entity, tables.link.c.source_key).where(tables.link.c.state != "synced")
            ).all()
            problems += [f"link {row.entity}/{row.source_key} left unsynced" for row in pending]
            reserved = conn.execute(select(func.count()).select_from(tables.reservation)).scalar_one()
            if reserved:
                problems.append(f"{reserved} stock reservations left for orders Tryton has")
    finally:
        database.dispose()
    return problems


def idle(state_url: str, orders_placed: int) -> bool:
    """No work queued or leased, no delivery unprocessed, and a synced link for every shop order."""
    database = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with database.connect() as conn:
            work = conn.execute(select(func.count()).select_from(tables.work)).scalar_one()
            inbox = conn.execute(
                select(func.count()).select_from(tables.inbox).where(tables.inbox.c.processed_at.is_(None))
            ).scalar_one()
            linked = conn.execute(
                select(func.count())
                .select_from(tables.link)
                .where(
                    tables.link.c.flow == ORDERS,
                    tables.link.c.entity == "order",
                    tables.link.c.state == "synced",
                )
            ).scalar_one()
            cursors = conn.execute(
                select(func.count()).select_from(tables.cursor).where(tables.cursor.c.flow == CATALOGUE)
            ).scalar_one()
    finally:
        database.dispose()
    return work == 0 and inbox == 0 and linked >= orders_placed and cursors == 2


def catalogue_links(state_url: str) -> int:
    """How many catalogue records the engine has linked so far."""
    database = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with database.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(tables.link).where(tables.link.c.flow == CATALOGUE)
            ).scalar_one()
    finally:
        database.dispose()


def initial_sync_done(state_url: str) -> bool:
    """Both catalogue cursors are set: the initial sync finished."""
    database = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with database.connect() as conn:
            return (
                conn.execute(
                    select(func.count()).select_from(tables.cursor).where(tables.cursor.c.flow == CATALOGUE)
                ).scalar_one()
                == 2
            )
    finally:
        database.dispose()


async def wait_until(
    check: Any, seconds: float, what: str, process: EmporionProcess, *, hold: float = 0.0
) -> float:
    """Poll `check()` (blocking, run in a thread) until true; the seconds it took, or fail with the log.

    With `hold`, `check()` must stay true for that many seconds on end: the engine's own writes come
    back as webhooks and feed entries a poll interval or two later, and are work again until read.
    """
    start = time.monotonic()
    true_since: float | None = None
    while time.monotonic() - start < seconds:
        if await anyio.to_thread.run_sync(check):
            true_since = true_since if true_since is not None else time.monotonic()
            if time.monotonic() - true_since >= hold:
                return time.monotonic() - start
        else:
            true_since = None
        assert process.process is None or process.alive(), f"emporion died:\n{process.tail()}"
        await anyio.sleep(0.25)
    queue = queue_dump(process.state_url)
    raise AssertionError(f"{what} not reached in {seconds:.0f} s\n{queue}\n{process.tail()}")


def queue_dump(state_url: str) -> str:
    """The work queue, for failure messages."""
    database = create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with database.connect() as conn:
            rows = conn.execute(select(tables.work)).all()
    finally:
        database.dispose()
    return "\n".join(str(tuple(row)) for row in rows[:30]) + f"\n({len(rows)} work items)"


def shop_client(shop: SandboxShop) -> httpx.Client:
    """The shop's API client."""
    return shop_api(shop)
