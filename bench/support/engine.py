"""An emporion engine wired for benchmarks: a catalogue flow from a source to the sandbox shop."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.support.sandbox import SandboxProcess
from emporion.config import Settings, parse_settings
from emporion.connectors.roles import CatalogueSource
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.settings import WooCommerceConnection
from emporion.engine.connections import ConnectorPool
from emporion.engine.flow import FlowRunner
from emporion.engine.worker import Engine
from emporion.logs import configure_logging
from emporion.state import StateStore

FLOW = "catalogue"
UNUSED_ERP = "http://127.0.0.1:9"  # the synthetic source replaces the configured ERP connection

FLOW_YAML = """
  - name: catalogue
    source: erp
    target: shop
    entities: [category, product]
    poll_interval: {poll_interval}
    warehouses: [WH]
    safety_stock: 1
{options}"""


def catalogue_settings(
    shop: SandboxProcess,
    state_url: str,
    *,
    erp: dict[str, Any] | None = None,
    poll_interval: float = 1.0,
    extra_flows: str = "",
    flow_options: str = "",
    shop_options: str = "",
    server_port: int | None = None,
) -> Settings:
    """A configuration with the ERP (`erp`: url, database, user, password), the shop and the flow.

    `flow_options` are more YAML lines of the catalogue flow (indented by four), `extra_flows` more flows.
    """
    os.environ["BENCH_SHOP_KEY"], os.environ["BENCH_SHOP_SECRET"] = shop.consumer_key, shop.consumer_secret
    erp = erp or {"url": UNUSED_ERP, "database": "unused", "user": "unused", "password": "unused"}
    os.environ["BENCH_ERP_PASSWORD"] = erp["password"]
    server = (
        f"server:\n  host: 127.0.0.1\n  port: {server_port}\n  public_url: http://127.0.0.1:{server_port}\n"
        if server_port
        else ""
    )
    return parse_settings(
        f"""
version: 1
{server}state:
  url: {state_url}
logging:
  level: warning
connections:
  erp:
    type: tryton
    url: {erp["url"]}
    database: {erp["database"]}
    username: {erp["user"]}
    password: env:BENCH_ERP_PASSWORD
    price_lists: [Wholesale]
    sale_price_list: Promotions
  shop:
    type: woocommerce
    url: {shop.base_url}
    consumer_key: env:BENCH_SHOP_KEY
    consumer_secret: env:BENCH_SHOP_SECRET
{shop_options}
flows:
{FLOW_YAML.format(poll_interval=poll_interval, options=flow_options)}{extra_flows}
"""
    )


def sqlite_url(path: Path) -> str:
    """A SQLite state database URL for a file."""
    return f"sqlite:///{path}"


def shop_over_tls_proxy(settings: Settings) -> WooCommerceConnector:
    """The shop connection as a real store is reached: HTTPS with Basic auth (here, a TLS proxy's header).

    Over plain HTTP emporion signs each request with OAuth 1.0a, which a production shop never needs.
    """
    shop = settings.connections["shop"]
    assert isinstance(shop, WooCommerceConnection)
    return WooCommerceConnector(
        "shop",
        shop.url,
        shop.consumer_key.get_secret_value(),
        shop.consumer_secret.get_secret_value(),
        timeout=shop.timeout,
        max_rps=shop.max_requests_per_second,
        max_concurrency=shop.max_concurrency,
        batch_size=shop.batch_size,
        auth_mode="basic",
        headers={"X-Forwarded-Proto": "https"},
    )


@asynccontextmanager
async def bench_engine(
    settings: Settings, source: CatalogueSource | None = None, *, auth: str = "basic"
) -> AsyncIterator[Engine]:
    """An Engine on the configured state database; `source` (if given) stands in for the `erp` connection.

    `auth="basic"` reaches the shop as over HTTPS; "oauth" signs every request as over plain HTTP.
    """
    configure_logging(settings.logging.format, settings.logging.level)
    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    if source is not None:
        pool._connectors["erp"] = source  # the one connection the benchmark brings itself
    if auth == "basic":
        pool._connectors["shop"] = shop_over_tls_proxy(settings)
    engine = Engine(settings, store, pool)
    try:
        yield engine
    finally:
        await pool.close()
        await store.close()


class RequestCounter:
    """Counts the HTTP requests a connector's httpx client sends (through its event hooks)."""

    def __init__(self, connector: Any) -> None:
        self.count = 0
        client = getattr(connector, "client", None)
        http = getattr(client, "_http", None)
        if http is not None:
            http.event_hooks["request"].append(self._seen)

    async def _seen(self, request: Any) -> None:
        """Count one request."""
        self.count += 1


def runner_of(engine: Engine) -> FlowRunner:
    """The benchmark flow's runner."""
    return engine.runners[FLOW]
