"""Helpers for end-to-end tests: an engine on a real state database, and a client for a sandbox shop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from emporion.config import Settings
from emporion.engine.worker import Engine
from emporion.sandbox.woocommerce import SandboxShop
from emporion.state import StateStore


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
