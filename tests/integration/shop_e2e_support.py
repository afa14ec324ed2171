"""What the end-to-end tests of a shop preset against a real Tryton share: Tryton's connection, the
catalogue as the flow reads it, the engine running in a task, and the Tryton sales of an order."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from tests.fixtures.tryton import RunningTryton


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
