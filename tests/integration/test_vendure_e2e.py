"""Tryton and a real Vendure 3 through the shipped `vendure` preset, end to end.

The catalogue (products with variants, prices, stock) goes from Tryton into Vendure and stock changes
follow while the engine runs; orders placed through Vendure's Shop API become one Tryton sale each,
also when `emporion run` is SIGKILLed while it takes them in; Tryton's shipments with their tracking
numbers and its refunds go back to Vendure as fulfilments and settled refunds.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from emporion.config import Settings, parse_settings
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import Product
from emporion_devkit.demo import erp_changes, erp_orders
from tests.fixtures.tryton import RunningTryton
from tests.fixtures.vendure import RunningVendure, admin, place_order, stock_of, to_minor, variant_by_sku
from tests.integration.engine_support import running_engine
from tests.integration.process_support import EmporionProcess, free_port

pytestmark = pytest.mark.tryton

POLL_SECONDS = 1.0  # the order flow's
CATALOGUE_POLL_SECONDS = 2.0


def configuration(
    tryton: RunningTryton, vendure: RunningVendure, state_url: str, secrets: Path
) -> dict[str, Any]:
    """Tryton as `erp`, Vendure (the preset) as `shop`: the catalogue into Vendure, its orders back."""
    secrets.mkdir(mode=0o700, exist_ok=True)
    (secrets / "tryton").write_text(tryton.password, encoding="utf-8")
    (secrets / "vendure").write_text(vendure.password, encoding="utf-8")
    port = free_port()
    return {
        "version": 1,
        "state": {"url": state_url},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "connections": {
            "erp": {
                "type": "tryton",
                "url": tryton.url,
                "database": tryton.database,
                "username": tryton.user,
                "password": f"file:{secrets / 'tryton'}",
            },
            "shop": {
                "type": "graphql",
                "preset": "vendure",
                "url": vendure.admin_url,
                "auth": {"username": vendure.username, "password": f"file:{secrets / 'vendure'}"},
                "headers": {"vendure-token": vendure.channel_token},
                "options": {
                    "stock_location_id": vendure.stock_location_id,
                    "tax_category_id": vendure.tax_category_id,
                },
            },
        },
        "flows": [
            {
                "name": "catalogue",
                "source": "erp",
                "target": "shop",
                "entities": ["product"],
                "poll_interval": CATALOGUE_POLL_SECONDS,
                "warehouses": ["WH"],
                # Vendure's collections are not described, and it keeps no weight
                "mapping": {"categories": {"constant": []}, "weight": {"constant": None}},
                "variant_mapping": {"weight": {"constant": None}},
            },
            {
                "name": "orders",
                "source": "shop",
                "target": "erp",
                "entities": ["order"],
                "poll_interval": POLL_SECONDS,
                "orders": {
                    "reference_prefix": "VEN-",
                    "warehouse": "WH",
                    "shortage": "accept",
                    "carriers": {"*": "DHL"},
                    "payment_methods": {"dummy": "Card"},
                },
            },
        ],
    }


def settings_of(config: dict[str, Any]) -> Settings:
    return parse_settings(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def tryton(tryton_server_module: RunningTryton) -> RunningTryton:
    return tryton_server_module


@pytest.fixture
async def engine(
    tryton: RunningTryton, vendure: RunningVendure, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Engine]:
    config = configuration(tryton, vendure, sqlite_url, tmp_path / "secrets")
    async with running_engine(settings_of(config), worker="w1") as running:
        yield running


async def erp_products(engine: Engine) -> list[Product]:
    """Every product Tryton offers, as the catalogue flow reads it."""
    found: list[Product] = []
    async for page in engine.runners["catalogue"].source.scan("product"):
        found += [record for record in page if isinstance(record, Product)]
    return found


def sellable(products: list[Product]) -> dict[str, tuple[Decimal | None, Decimal]]:
    """SKU -> (list price, stock in WH) of every simple product and variant."""
    found: dict[str, tuple[Decimal | None, Decimal]] = {}
    for product in products:
        for item in product.variants or [product]:
            price = item.list_price if item.list_price is not None else product.list_price
            stock = sum((level.quantity for level in item.stock if level.warehouse == "WH"), Decimal(0))
            found[item.sku] = (price, stock)
    return found


VARIANTS = """query($skip: Int!) { productVariants(options: {skip: $skip, take: 1000}) {
  totalItems items { sku price stockLevels { stockOnHand stockAllocated } } } }"""


async def vendure_variants(vendure: RunningVendure) -> dict[str, tuple[int, int]]:
    """SKU -> (price in cents, units it can sell) of every variant in Vendure, as its Admin API reads them."""
    api = admin(vendure)
    found: dict[str, tuple[int, int]] = {}
    while True:
        page = (await api.gql(VARIANTS, {"skip": len(found)}))["productVariants"]
        for item in page["items"]:
            levels = item["stockLevels"]
            found[item["sku"]] = (
                item["price"],
                sum(lv["stockOnHand"] - lv["stockAllocated"] for lv in levels),
            )
        if not page["items"] or len(found) >= page["totalItems"]:
            return found


async def test_the_catalogue_reaches_vendure_and_stock_follows(
    engine: Engine, tryton: RunningTryton, vendure: RunningVendure
) -> None:
    runner = engine.runners["catalogue"]
    await sync_flow(runner)
    products = await erp_products(engine)
    assert any(product.variants for product in products), "the test catalogue has products with variants"
    expected = {
        sku: (to_minor(price or Decimal(0)), int(max(stock, Decimal(0))))
        for sku, (price, stock) in sellable(products).items()
    }
    held = await vendure_variants(vendure)
    assert {sku: held.get(sku) for sku in expected} == expected
    verified = await verify_flow(runner)
    assert verified.clean, [m for entity in verified.entities for m in entity.mismatches][:5]


@asynccontextmanager
async def engine_running(engine: Engine) -> AsyncIterator[None]:
    """`Engine.run` (feeds and work loops) in a task until the block ends."""
    async with anyio.create_task_group() as group:
        stop = anyio.Event()
        group.start_soon(lambda: engine.run(stop=stop))
        try:
            yield
        finally:
            stop.set()


async def started(engine: Engine) -> None:
    """The catalogue in Vendure, the feeds started from now on."""
    await sync_flow(engine.runners["catalogue"])
    await engine.ensure_initial_sync()


async def simple_skus(engine: Engine, least: int = 20) -> list[str]:
    """SKUs of Tryton's simple products with at least `least` units in WH (the flow's warehouse)."""
    stock = sellable(await erp_products(engine))
    products = await erp_products(engine)
    found = [p.sku for p in products if not p.variants and stock[p.sku][1] >= least]
    assert len(found) >= 2, f"the test catalogue has {len(found)} simple products with {least} in WH"
    return found


async def test_a_stock_change_in_tryton_reaches_vendure_within_two_polls(
    engine: Engine, tryton: RunningTryton, vendure: RunningVendure
) -> None:
    await started(engine)
    sku = (await simple_skus(engine))[0]
    before = await stock_of(vendure, sku)
    async with engine_running(engine):
        await anyio.sleep(CATALOGUE_POLL_SECONDS)  # the feeds have polled once
        client = tryton.admin()
        try:
            await erp_changes.receive_stock(client, sku, Decimal(7))
        finally:
            await client.close()
        began = time.monotonic()
        while await stock_of(vendure, sku) != before + 7:
            assert time.monotonic() - began < 30, "the stock change did not reach Vendure"
            await anyio.sleep(0.1)
        took = time.monotonic() - began
    print(f"stock change reached Vendure in {took:.2f} s (poll interval {CATALOGUE_POLL_SECONDS} s)")
    assert took <= 2 * CATALOGUE_POLL_SECONDS  # within two polls


async def sales_of(tryton: RunningTryton, reference: str) -> list[dict[str, Any]]:
    """The Tryton sales with this reference."""
    fields = ["state", "total_amount", "shipments"]
    return await tryton.rpc(
        "sale.sale", "search_read", [("reference", "=", reference)], 0, None, None, fields
    )


async def shop_order(vendure: RunningVendure, sku: str, email: str, quantity: int = 2) -> dict[str, Any]:
    """An order placed through the Shop API for `quantity` of `sku`, paid."""
    variant = await variant_by_sku(vendure, sku)
    return await place_order(vendure, email, [(variant["id"], quantity)])


ORDER = """query($id: ID!) { order(id: $id) { state fulfillments { state trackingCode }
  payments { refunds { total state } } } }"""


async def test_an_order_becomes_one_sale_whose_shipment_and_refund_go_back(
    engine: Engine, tryton: RunningTryton, vendure: RunningVendure
) -> None:
    await started(engine)
    sku = (await simple_skus(engine))[1]
    tag = random.randrange(10**6)
    placed = await shop_order(vendure, sku, f"e2e-{tag}@example.com")
    orders = engine.order_flows["orders"].flow
    await engine.drain(orders)
    await engine.store.enqueue(orders.name, "order", [str(placed["id"])], reason="again")  # seen twice
    await engine.drain(orders)
    reference = f"VEN-{placed['code']}"
    (sale,) = await sales_of(tryton, reference)
    assert Decimal(str(sale["total_amount"])) == Decimal(placed["totalWithTax"]) / 100

    tracking = f"JJD{tag:06d}"
    client = tryton.admin()
    try:
        await erp_orders.ship_sale(client, reference, tracking, None)
        await engine.drain(orders)
        await erp_orders.return_sale(client, reference, None, Decimal("5.00"))
        await engine.drain(orders)
        await engine.drain(orders)
    finally:
        await client.close()
    order = (await admin(vendure).gql(ORDER, {"id": placed["id"]}))["order"]
    assert [f["trackingCode"] for f in order["fulfillments"]] == [tracking]
    assert order["state"] in ("Shipped", "Delivered")
    refunds = [r for payment in order["payments"] for r in payment["refunds"]]
    assert [(r["total"], r["state"]) for r in refunds] == [(500, "Settled")]


KILLS = 4  # runs of `emporion run` SIGKILLed while orders come in; a fifth runs to the end
UPTIME = (0.2, 2.5)  # seconds a run takes orders in before it is killed


async def test_orders_taken_in_while_emporion_is_sigkilled_become_one_sale_each(
    tryton: RunningTryton, vendure: RunningVendure, sqlite_url: str, tmp_path: Path
) -> None:
    config = configuration(tryton, vendure, sqlite_url, tmp_path / "secrets")
    path = tmp_path / "emporion.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    async with running_engine(settings_of(config), worker="w1") as engine:
        await started(engine)
        skus = await simple_skus(engine)
    seed = int(os.environ.get("EMPORION_CHAOS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"chaos seed {seed} (EMPORION_CHAOS_SEED={seed} repeats it)")
    rng = random.Random(seed)
    process = EmporionProcess(path, tmp_path / "emporion.log", sqlite_url)
    placed: list[dict[str, Any]] = []
    try:
        for _ in range(KILLS):
            process.start()
            await process.ready()
            for _ in range(rng.randint(1, 2)):
                email = f"chaos-{seed}-{len(placed)}@example.com"
                placed.append(await shop_order(vendure, rng.choice(skus), email, rng.randint(1, 2)))
                await anyio.sleep(rng.uniform(0.0, UPTIME[1] / 2))
            await anyio.sleep(rng.uniform(*UPTIME))
            process.kill()
        before_last = len([order for order in placed if await sales_of(tryton, f"VEN-{order['code']}")])
        print(f"{before_last} of {len(placed)} orders were taken in by runs that were then killed")
        process.start()
        await process.ready()
        began = time.monotonic()
        while True:
            found = [await sales_of(tryton, f"VEN-{order['code']}") for order in placed]
            if all(found):
                break
            assert time.monotonic() - began < 120, f"orders without a sale after 120 s:\n{process.tail()}"
            await anyio.sleep(0.5)
        await anyio.sleep(3 * POLL_SECONDS)  # later polls make no second sale
        assert process.stop() == 0, process.tail()
    finally:
        process.close()
    for order in placed:
        sales = await sales_of(tryton, f"VEN-{order['code']}")
        assert len(sales) == 1, f"order {order['code']} has {len(sales)} sales (seed {seed})"
        assert Decimal(str(sales[0]["total_amount"])) == Decimal(order["totalWithTax"]) / 100
