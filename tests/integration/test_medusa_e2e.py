"""Tryton and a real Medusa v2 through the shipped `medusa` preset, end to end.

The catalogue (products with variants, prices, stock) goes from Tryton into Medusa and stock changes
follow while the engine runs; orders placed through Medusa's Store API become one Tryton sale each
with the total Medusa shows (to the cent), also when `emporion run` is SIGKILLed while it takes them
in; Tryton's shipments with their tracking numbers and its refunds go back to Medusa as fulfilments
with shipments and payment refunds.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion_devkit.demo import erp_changes
from tests.fixtures.medusa import RunningMedusa, admin, get, place_order, stock_of, variant_by_sku
from tests.fixtures.tryton import RunningTryton
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
    simple_skus,
    started,
    taken_in_twice,
    tryton_connection,
)

pytestmark = pytest.mark.tryton

POLL_SECONDS = 1.0
CENT = Decimal("0.01")
ORDER_FIELDS = "+display_id,*fulfillments,*fulfillments.labels,*payment_collections.payments.refunds"


def configuration(
    tryton: RunningTryton, medusa: RunningMedusa, state_url: str, secrets: Path
) -> dict[str, Any]:
    """Tryton as `erp`, Medusa (the preset) as `shop`: the catalogue into Medusa, its orders back."""
    erp = tryton_connection(tryton, secrets)
    (secrets / "medusa").write_text(medusa.secret_key, encoding="utf-8")
    shop = {
        "type": "rest",
        "preset": "medusa",
        "url": medusa.url,
        "auth": {"kind": "basic", "username": f"file:{secrets / 'medusa'}"},
        "options": {
            "currency": medusa.currency,
            "stock_location_id": medusa.stock_location_id,
            "sales_channel_id": medusa.sales_channel_id,
        },
    }
    orders = {"reference_prefix": "MED-", "payment_methods": {"pp_system_default": "Card"}}
    return configuration_of(erp, shop, state_url, orders, (POLL_SECONDS, POLL_SECONDS))


@pytest.fixture(scope="module")
def tryton(tryton_server_module: RunningTryton) -> RunningTryton:
    return tryton_server_module


@pytest.fixture
async def engine(
    tryton: RunningTryton, medusa: RunningMedusa, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Engine]:
    config = configuration(tryton, medusa, sqlite_url, tmp_path / "secrets")
    async with running_engine(settings_of(config), worker="w1") as running:
        yield running


async def medusa_variants(medusa: RunningMedusa) -> dict[str, tuple[Decimal | None, Decimal]]:
    """SKU -> (price in the currency, units it can sell at the location) of every variant in Medusa."""
    fields = "sku,*prices,*inventory_items.inventory.location_levels"
    found: dict[str, tuple[Decimal | None, Decimal]] = {}
    async with admin(medusa) as client:
        while True:
            page = await get(client, "/admin/product-variants", fields=fields, limit=500, offset=len(found))
            for variant in page["variants"]:
                prices = [p["amount"] for p in variant["prices"] if p["currency_code"] == medusa.currency]
                levels = [
                    Decimal(str(level["stocked_quantity"])) - Decimal(str(level["reserved_quantity"]))
                    for link in variant["inventory_items"]
                    for level in link["inventory"]["location_levels"]
                    if level["location_id"] == medusa.stock_location_id
                ]
                found[variant["sku"]] = (
                    Decimal(str(prices[0])) if prices else None,
                    sum(levels, Decimal(0)),
                )
            if not page["variants"] or len(found) >= page["count"]:
                return found


def shown_total(order: dict[str, Any]) -> Decimal:
    """The total Medusa shows the shopper: its unrounded total to the cent."""
    return Decimal(str(order["total"])).quantize(CENT, ROUND_HALF_UP)


async def test_the_catalogue_reaches_medusa(engine: Engine, medusa: RunningMedusa) -> None:
    runner = engine.runners["catalogue"]
    began = time.monotonic()
    await sync_flow(runner)
    print(f"catalogue synced into Medusa in {time.monotonic() - began:.2f} s")
    products = await erp_products(engine)
    assert any(product.variants for product in products), "the test catalogue has products with variants"
    expected = {sku: (price, max(stock, Decimal(0))) for sku, (price, stock) in sellable(products).items()}
    held = await medusa_variants(medusa)
    assert {sku: held.get(sku) for sku in expected} == expected
    verified = await verify_flow(runner)
    assert verified.clean, [m for entity in verified.entities for m in entity.mismatches][:5]


async def test_a_stock_change_in_tryton_reaches_medusa_within_two_polls(
    engine: Engine, tryton: RunningTryton, medusa: RunningMedusa
) -> None:
    await started(engine)
    sku = (await simple_skus(engine))[0]
    before = await stock_of(medusa, sku)
    async with engine_running(engine):
        await anyio.sleep(POLL_SECONDS)  # the feeds have polled once
        client = tryton.admin()
        try:
            await erp_changes.receive_stock(client, sku, Decimal(7))
        finally:
            await client.close()
        began = time.monotonic()
        while await stock_of(medusa, sku) != before + 7:
            assert time.monotonic() - began < 30, "the stock change did not reach Medusa"
            await anyio.sleep(0.1)
        took = time.monotonic() - began
    print(f"stock change reached Medusa in {took:.2f} s (poll interval {POLL_SECONDS} s)")
    assert took <= 2 * POLL_SECONDS + 1.0  # two polls, and the write itself


async def shop_order(medusa: RunningMedusa, sku: str, email: str, quantity: int = 2) -> dict[str, Any]:
    """An order placed through the Store API for `quantity` of `sku`."""
    variant = await variant_by_sku(medusa, sku)
    return await place_order(medusa, email, [(variant["id"], quantity)])


async def test_an_order_becomes_one_sale_whose_shipment_and_refund_go_back(
    engine: Engine, tryton: RunningTryton, medusa: RunningMedusa
) -> None:
    await started(engine)
    sku = (await simple_skus(engine))[1]
    tag = random.randrange(10**6)
    placed = await shop_order(medusa, sku, f"e2e-{tag}@example.com", quantity=3)
    await taken_in_twice(engine, str(placed["id"]))
    reference = f"MED-{placed['display_id']}"
    (sale,) = await sales_of(tryton, reference)
    assert Decimal(str(sale["total_amount"])) == shown_total(placed)

    tracking = f"JJD{tag:06d}"
    await shipped_and_refunded(engine, tryton, reference, tracking)
    async with admin(medusa) as api:
        order = (await get(api, f"/admin/orders/{placed['id']}", fields=ORDER_FIELDS))["order"]
    labels = [label["tracking_number"] for f in order["fulfillments"] for label in f["labels"]]
    assert labels == [tracking] and all(f["shipped_at"] for f in order["fulfillments"])
    refunds = [
        Decimal(str(refund["amount"]))
        for collection in order["payment_collections"]
        for payment in collection["payments"]
        for refund in payment["refunds"]
    ]
    assert refunds == [Decimal("5.00")]


async def test_orders_taken_in_while_emporion_is_sigkilled_become_one_sale_each(
    tryton: RunningTryton, medusa: RunningMedusa, sqlite_url: str, tmp_path: Path
) -> None:
    config = configuration(tryton, medusa, sqlite_url, tmp_path / "secrets")
    path = tmp_path / "emporion.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    async with running_engine(settings_of(config), worker="w1") as engine:
        await started(engine)
        skus = await simple_skus(engine)
    held = await medusa_variants(medusa)
    skus = sorted(skus, key=lambda sku: held[sku][1], reverse=True)[:5]  # the best stocked: no shortage
    seed = random.SystemRandom().randrange(10**6)
    print(f"chaos seed {seed}")
    rng = random.Random(seed)

    async def place(count: int) -> dict[str, Any]:
        email = f"chaos-{seed}-{count}@example.com"
        return await shop_order(medusa, rng.choice(skus), email, rng.randint(1, 3))

    async def sales(order: dict[str, Any]) -> list[dict[str, Any]]:
        return await sales_of(tryton, f"MED-{order['display_id']}")

    process = EmporionProcess(path, tmp_path / "emporion.log", sqlite_url)
    placed = await orders_through_kills(process, rng, place, sales, POLL_SECONDS)
    for order in placed:
        found = await sales(order)
        assert len(found) == 1, f"order {order['display_id']} has {len(found)} sales (seed {seed})"
        assert Decimal(str(found[0]["total_amount"])) == shown_total(order)
