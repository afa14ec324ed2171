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
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion_devkit.demo import erp_changes
from tests.fixtures.tryton import RunningTryton
from tests.fixtures.vendure import RunningVendure, admin, place_order, stock_of, to_minor, variant_by_sku
from tests.integration.engine_support import running_engine
from tests.integration.process_support import EmporionProcess
from tests.integration.shop_e2e_support import (
    configuration_of,
    engine_running,
    erp_products,
    orders_through_kills,
    sales_of,
    sellable,
    settings_of,
    shipped_and_refunded,
    started,
    taken_in_twice,
    tryton_connection,
)

pytestmark = pytest.mark.tryton

POLL_SECONDS = 1.0  # the order flow's
CATALOGUE_POLL_SECONDS = 2.0


def configuration(
    tryton: RunningTryton, vendure: RunningVendure, state_url: str, secrets: Path
) -> dict[str, Any]:
    """Tryton as `erp`, Vendure (the preset) as `shop`: the catalogue into Vendure, its orders back."""
    erp = tryton_connection(tryton, secrets)
    (secrets / "vendure").write_text(vendure.password, encoding="utf-8")
    shop = {
        "type": "graphql",
        "preset": "vendure",
        "url": vendure.admin_url,
        "auth": {"username": vendure.username, "password": f"file:{secrets / 'vendure'}"},
        "headers": {"vendure-token": vendure.channel_token},
        "options": {
            "stock_location_id": vendure.stock_location_id,
            "tax_category_id": vendure.tax_category_id,
        },
    }
    orders = {"reference_prefix": "VEN-", "payment_methods": {"dummy": "Card"}}
    return configuration_of(erp, shop, state_url, orders, (CATALOGUE_POLL_SECONDS, POLL_SECONDS))


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


async def simple_skus(engine: Engine, least: int = 20) -> list[str]:
    """SKUs of Tryton's simple products with at least `least` units in WH (the flow's warehouse)."""
    products = await erp_products(engine)
    stock = sellable(products)
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
    await taken_in_twice(engine, str(placed["id"]))
    reference = f"VEN-{placed['code']}"
    (sale,) = await sales_of(tryton, reference)
    assert Decimal(str(sale["total_amount"])) == Decimal(placed["totalWithTax"]) / 100

    tracking = f"JJD{tag:06d}"
    await shipped_and_refunded(engine, tryton, reference, tracking)
    order = (await admin(vendure).gql(ORDER, {"id": placed["id"]}))["order"]
    assert [f["trackingCode"] for f in order["fulfillments"]] == [tracking]
    assert order["state"] in ("Shipped", "Delivered")
    refunds = [r for payment in order["payments"] for r in payment["refunds"]]
    assert [(r["total"], r["state"]) for r in refunds] == [(500, "Settled")]


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

    async def place(count: int) -> dict[str, Any]:
        email = f"chaos-{seed}-{count}@example.com"
        return await shop_order(vendure, rng.choice(skus), email, rng.randint(1, 2))

    async def sales(order: dict[str, Any]) -> list[dict[str, Any]]:
        return await sales_of(tryton, f"VEN-{order['code']}")

    process = EmporionProcess(path, tmp_path / "emporion.log", sqlite_url)
    placed = await orders_through_kills(process, rng, place, sales, POLL_SECONDS)
    for order in placed:
        found = await sales(order)
        assert len(found) == 1, f"order {order['code']} has {len(found)} sales (seed {seed})"
        assert Decimal(str(found[0]["total_amount"])) == Decimal(order["totalWithTax"]) / 100
