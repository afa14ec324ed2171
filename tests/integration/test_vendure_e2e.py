"""Tryton and a real Vendure 3 through the shipped `vendure` preset, end to end.

The catalogue (products with variants, prices, stock) goes from Tryton into Vendure and stock changes
follow while the engine runs; orders placed through Vendure's Shop API become one Tryton sale each,
also when `emporion run` is SIGKILLed while it takes them in; Tryton's shipments with their tracking
numbers and its refunds go back to Vendure as fulfilments and settled refunds.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
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

POLL_SECONDS = 1.0


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
                "poll_interval": POLL_SECONDS,
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
  totalItems items { sku price stockLevels { stockOnHand } } } }"""


async def vendure_variants(vendure: RunningVendure) -> dict[str, tuple[int, int]]:
    """SKU -> (price in cents, stock on hand) of every variant in Vendure, as its Admin API reads them."""
    api = admin(vendure)
    found: dict[str, tuple[int, int]] = {}
    while True:
        page = (await api.gql(VARIANTS, {"skip": len(found)}))["productVariants"]
        for item in page["items"]:
            found[item["sku"]] = (item["price"], sum(level["stockOnHand"] for level in item["stockLevels"]))
        if not page["items"] or len(found) >= page["totalItems"]:
            return found


async def test_the_catalogue_reaches_vendure_and_stock_follows(
    engine: Engine, tryton: RunningTryton, vendure: RunningVendure
) -> None:
    runner = engine.runners["catalogue"]
    report = await sync_flow(runner)
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
