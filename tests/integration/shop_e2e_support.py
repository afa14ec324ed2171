"""What the end-to-end tests of a shop preset against a real Tryton share: Tryton's connection, the
two flows, the catalogue as the flow reads it, the engine running in a task, the Tryton sales of an
order, its shipment and refund, and orders taken in while `emporion run` is SIGKILLed."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import yaml

from emporion.config import Settings, parse_settings
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine
from emporion.model import Product
from emporion_devkit.demo import erp_orders
from tests.fixtures.tryton import RunningTryton
from tests.integration.process_support import EmporionProcess, free_port


def tryton_connection(tryton: RunningTryton, secrets: Path) -> dict[str, Any]:
    """Tryton as a connection of the configuration, its password in a file under `secrets`."""
    secrets.mkdir(mode=0o700, exist_ok=True)
    (secrets / "tryton").write_text(tryton.password, encoding="utf-8")
    return {
        "type": "tryton",
        "url": tryton.url,
        "database": tryton.database,
        "username": tryton.user,
        "password": f"file:{secrets / 'tryton'}",
    }


def configuration_of(
    erp: dict[str, Any],
    shop: dict[str, Any],
    state_url: str,
    orders: dict[str, Any],
    polls: tuple[float, float],
) -> dict[str, Any]:
    """Tryton as `erp` and the shop: the catalogue into the shop (polled every `polls[0]` s), its
    orders back (every `polls[1]` s, with the `orders` settings); categories and weight not written."""
    port = free_port()
    return {
        "version": 1,
        "state": {"url": state_url},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "connections": {"erp": erp, "shop": shop},
        "flows": [
            {
                "name": "catalogue",
                "source": "erp",
                "target": "shop",
                "entities": ["product"],
                "poll_interval": polls[0],
                "warehouses": ["WH"],
                "mapping": {"categories": {"constant": []}, "weight": {"constant": None}},
                "variant_mapping": {"weight": {"constant": None}},
            },
            {
                "name": "orders",
                "source": "shop",
                "target": "erp",
                "entities": ["order"],
                "poll_interval": polls[1],
                "orders": {"warehouse": "WH", "shortage": "accept", "carriers": {"*": "DHL"}} | orders,
            },
        ],
    }


def settings_of(config: dict[str, Any]) -> Settings:
    """The configuration parsed as `emporion` parses its YAML file."""
    return parse_settings(yaml.safe_dump(config, sort_keys=False))


async def erp_products(engine: Engine, flow: str = "catalogue") -> list[Product]:
    """Every product Tryton offers, as the catalogue flow reads it."""
    found: list[Product] = []
    async for page in engine.runners[flow].source.scan("product"):
        found += [record for record in page if isinstance(record, Product)]
    return found


def sellable(products: list[Product], warehouse: str = "WH") -> dict[str, tuple[Decimal | None, Decimal]]:
    """SKU -> (list price, stock in `warehouse`) of every simple product and variant."""
    found: dict[str, tuple[Decimal | None, Decimal]] = {}
    for product in products:
        for item in product.variants or [product]:
            price = item.list_price if item.list_price is not None else product.list_price
            stock = sum((level.quantity for level in item.stock if level.warehouse == warehouse), Decimal(0))
            found[item.sku] = (price, stock)
    return found


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


async def started(engine: Engine, flow: str = "catalogue") -> None:
    """The catalogue in the shop, the feeds started from now on."""
    await sync_flow(engine.runners[flow])
    await engine.ensure_initial_sync()


async def simple_skus(engine: Engine, flow: str = "catalogue") -> list[str]:
    """SKUs of Tryton's simple products that are in stock."""
    products = await erp_products(engine, flow)
    return [p.sku for p in products if not p.variants and sum(s.quantity for s in p.stock) > 5]


async def sales_of(tryton: RunningTryton, reference: str) -> list[dict[str, Any]]:
    """The Tryton sales with this reference."""
    fields = ["state", "total_amount", "shipments"]
    return await tryton.rpc(
        "sale.sale", "search_read", [("reference", "=", reference)], 0, None, None, fields
    )


async def taken_in_twice(engine: Engine, order_id: str) -> None:
    """The order flow drained, then the order queued again and drained: one sale all the same."""
    orders = engine.order_flows["orders"].flow
    await engine.drain(orders)
    await engine.store.enqueue(orders.name, "order", [order_id], reason="again")
    await engine.drain(orders)


async def shipped_and_refunded(engine: Engine, tryton: RunningTryton, reference: str, tracking: str) -> None:
    """The sale shipped with `tracking` and 5.00 returned in Tryton, each taken back to the shop."""
    orders = engine.order_flows["orders"].flow
    client = tryton.admin()
    try:
        await erp_orders.ship_sale(client, reference, tracking, None)
        await engine.drain(orders)
        await erp_orders.return_sale(client, reference, None, Decimal("5.00"))
        await engine.drain(orders)
        await engine.drain(orders)
    finally:
        await client.close()


async def orders_through_kills(
    process: EmporionProcess,
    rng: random.Random,
    place: Callable[[int], Awaitable[dict[str, Any]]],
    sales: Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]],
    poll_seconds: float,
    kills: int = 4,
    uptime: tuple[float, float] = (0.2, 2.5),
) -> list[dict[str, Any]]:
    """Orders placed (`place(n)`) while `emporion run` is started and SIGKILLed `kills` times, then one
    run until every order has a sale (`sales(order)`) and three polls more; the orders placed."""
    placed: list[dict[str, Any]] = []
    try:
        for _ in range(kills):
            process.start()
            await process.ready()
            for _ in range(rng.randint(1, 2)):
                placed.append(await place(len(placed)))
                await anyio.sleep(rng.uniform(0.0, uptime[1] / 2))
            await anyio.sleep(rng.uniform(*uptime))
            process.kill()
        before_last = len([order for order in placed if await sales(order)])
        print(f"{before_last} of {len(placed)} orders were taken in by runs that were then killed")
        process.start()
        await process.ready()
        began = time.monotonic()
        while not all([await sales(order) for order in placed]):
            assert time.monotonic() - began < 120, f"orders without a sale after 120 s:\n{process.tail()}"
            await anyio.sleep(0.5)
        await anyio.sleep(3 * poll_seconds)  # later polls make no second sale
        assert process.stop() == 0, process.tail()
    finally:
        process.close()
    return placed
