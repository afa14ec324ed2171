"""Helpers for end-to-end tests: an engine on a real state database, and a client for a sandbox shop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from emporion.config import Settings, parse_settings
from emporion.engine.worker import Engine
from emporion.state import StateStore
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton


@asynccontextmanager
async def running_engine(settings: Settings, worker: str | None = None) -> AsyncIterator[Engine]:
    """An engine on the configured state database, closed (connections and store) afterwards."""
    store = await StateStore.connect(settings.state.url, migrate=True)
    engine = Engine(settings, store, worker=worker)
    try:
        yield engine
    finally:
        await engine.pool.close()
        await store.close()


def shop_api(shop: SandboxShop) -> httpx.Client:
    """A REST client for the sandbox shop, authenticated as WooCommerce allows behind a TLS proxy."""
    return httpx.Client(
        base_url=f"{shop.base_url}/wp-json/wc/v3",
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    )


def settings_for(
    tryton: RunningTryton,
    shops: dict[str, SandboxShop],
    state_url: str,
    flows: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """A configuration with the Tryton server as `erp`, each shop under its name, and `flows` (YAML)."""
    monkeypatch.setenv("TEST_TRYTON_PASSWORD", tryton.password)
    shop_blocks = ""
    for name, shop in shops.items():
        monkeypatch.setenv(f"TEST_{name.upper()}_KEY", shop.consumer_key)
        monkeypatch.setenv(f"TEST_{name.upper()}_SECRET", shop.consumer_secret)
        shop_blocks += f"""
  {name}:
    type: woocommerce
    url: {shop.base_url}
    consumer_key: env:TEST_{name.upper()}_KEY
    consumer_secret: env:TEST_{name.upper()}_SECRET
"""
    return parse_settings(
        f"""
state:
  url: {state_url}
connections:
  erp:
    type: tryton
    url: {tryton.url}
    database: {tryton.database}
    username: {tryton.user}
    password: env:TEST_TRYTON_PASSWORD
    price_lists: [Wholesale]
    sale_price_list: Promotions
    custom_fields: {{ean: product.ean}}
{shop_blocks}
flows:
{flows}
"""
    )


def place_order(
    shop: httpx.Client, email: str, product_id: int, quantity: int, **fields: Any
) -> dict[str, Any]:
    """An order placed through the shop's API for one product, by a customer known by e-mail.

    `fields` go into the order's body as they are (and replace the short default billing address).
    """
    billing = {"first_name": "Test", "last_name": "Customer", "email": email, "country": "DE"}
    body = {"billing": billing, "line_items": [{"product_id": product_id, "quantity": quantity}], **fields}
    response = shop.post("/orders", json=body)
    response.raise_for_status()
    return response.json()


def file_connections(
    directory: Path,
    tryton: RunningTryton,
    shop: SandboxShop,
    *,
    key: str | None = None,
    secret: str | None = None,
    webhook_secret: str | None = None,
) -> str:
    """The `connections:` YAML for Tryton as `erp` and the shop as `shop`, their secrets in files.

    `key` and `secret` default to the shop's own API key; the files go to `directory/secrets`.
    """
    secrets = directory / "secrets"
    secrets.mkdir(exist_ok=True)
    values = {"erp": tryton.password, "ck": key or shop.consumer_key, "cs": secret or shop.consumer_secret}
    if webhook_secret:
        values["wh"] = webhook_secret
    for name, value in values.items():
        (secrets / name).write_text(value)
    webhook = f"    webhook_secret: file:{secrets}/wh\n" if webhook_secret else ""
    return f"""connections:
  erp:
    type: tryton
    url: {tryton.url}
    database: {tryton.database}
    username: {tryton.user}
    password: file:{secrets}/erp
  shop:
    type: woocommerce
    url: {shop.base_url}
    consumer_key: file:{secrets}/ck
    consumer_secret: file:{secrets}/cs
{webhook}"""
