"""Sets up the demo (ERP, shop, configuration), syncs, verifies, and keeps syncing until stopped."""

from __future__ import annotations

import secrets
import shutil
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from rich.console import Console

from emporion import runtime
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import load_settings
from emporion.console import render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import status_name
from emporion_devkit.sandbox.woocommerce import SandboxShop

if TYPE_CHECKING:
    from emporion.state import StateStore

FLOW = "catalogue"
SERVER_PORT = 8800
ORDERS = "orders"
ONCE_ORDERS = 5
CONSOLE_USER = "demo"
CONFIG_TEMPLATE = """\
# emporion demo configuration: a Tryton ERP feeding a WooCommerce (sandbox) shop, and its orders back.
version: 1
state:
  url: sqlite:///state.db
logging:
  format: pretty
  level: info
server:
  host: 127.0.0.1
  port: {server_port}
  public_url: http://127.0.0.1:{server_port}
  console:
    secure_cookies: false  # plain http on loopback; behind TLS in production (docs/deploy.md)
connections:
  erp:
    type: tryton
    url: {erp_url}
    database: {erp_database}
    username: {erp_user}
    password: file:{secrets}/tryton-password
    price_lists: [Wholesale]
    sale_price_list: Promotions
    custom_fields:
      ean: product.ean
  # the merchant's own login, used only by `emporion erp ...` to change data as a person would;
  # emporion's login above may read the catalogue but not change it
  erp-admin:
    type: tryton
    url: {erp_url}
    database: {erp_database}
    username: admin
    password: file:{secrets}/tryton-admin-password
  shop:
    type: woocommerce
    url: {shop_url}
    consumer_key: file:{secrets}/shop-consumer-key
    consumer_secret: file:{secrets}/shop-consumer-secret
    webhooks: {webhooks}
flows:
  - name: {flow}
    source: erp
    target: shop
    entities: [category, product]
    poll_interval: 2
    warehouses: [WH]
    safety_stock: 1
    mapping:
      short_description:
        template: "{{{{ name }}}} (SKU {{{{ sku }}}})"
      custom.source:
        constant: tryton
  - name: {orders}
    source: shop
    target: erp
    entities: [order]
    poll_interval: 2
    orders:
      reference_prefix: WEB-
      warehouse: WH
      carriers: {{"*": DHL}}
      payment_methods: {{stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}}
      shortage: hold
"""


def _secret(directory: Path, name: str, make: str) -> str:
    """Read a demo secret from its file, creating it (mode 0600) the first time."""
    path = directory / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(make, encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def prepare(directory: Path, *, products: int, fresh: bool) -> tuple[Path, dict[str, str]]:
    """The demo's folder with its secrets; the ERP database is created (or found) there."""
    if fresh and directory.exists():
        shutil.rmtree(directory)
    secret_dir = directory / "secrets"
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    values = {
        "tryton-password": _secret(secret_dir, "tryton-password", secrets.token_urlsafe(18)),
        "tryton-admin-password": _secret(secret_dir, "tryton-admin-password", secrets.token_urlsafe(18)),
        "shop-consumer-key": _secret(secret_dir, "shop-consumer-key", "ck_" + secrets.token_hex(20)),
        "shop-consumer-secret": _secret(secret_dir, "shop-consumer-secret", "cs_" + secrets.token_hex(20)),
        "console-password": _secret(secret_dir, "console-password", secrets.token_urlsafe(15)),
    }
    return secret_dir, values


def run_demo(
    directory: Path, *, products: int, once: bool, fresh: bool, console: Console, simulate_orders: float = 0.2
) -> int:
    """Run the demo; returns the exit code (0 when the verification report is clean)."""
    from emporion_devkit.erp.tryton_server import TrytonServer
    from emporion_devkit.erp.tryton_setup import CatalogueSpec, create_database

    directory = directory.resolve()
    secret_dir, values = prepare(directory, products=products, fresh=fresh)
    console.print(f"[bold]emporion demo[/] in {directory}")
    console.print(
        f"creating the Tryton database with {products} sample products (cached after the first run)…"
    )
    database = create_database(
        directory / "tryton",
        "demo",
        admin_password=values["tryton-admin-password"],
        emporion_password=values["tryton-password"],
        catalogue=CatalogueSpec(products=products),
    )
    with ExitStack() as stack:
        erp = stack.enter_context(TrytonServer(database))
        shop = stack.enter_context(
            SandboxShop.serve(
                db=str(directory / "shop.sqlite"),
                port=0 if once else 8801,
                consumer_key=values["shop-consumer-key"],
                consumer_secret=values["shop-consumer-secret"],
            )
        )
        config = directory / "emporion.yaml"
        config.write_text(
            CONFIG_TEMPLATE.format(
                erp_url=erp.url,
                erp_database=erp.database,
                erp_user=erp.user,
                shop_url=shop.base_url,
                secrets=secret_dir,
                flow=FLOW,
                orders=ORDERS,
                server_port=0 if once else SERVER_PORT,
                webhooks="false" if once else "true",
            ),
            encoding="utf-8",
        )
        console.print(
            f"Tryton ERP at {erp.url} (database {erp.database}), shop API at {shop.base_url}/wp-json/wc/v3"
        )
        sync = partial(_sync_and_follow, console_password=values["console-password"])
        return anyio.run(sync, config, shop, once, simulate_orders, console)


async def _console_user(store: StateStore, password: str) -> None:
    """The demo's dashboard login (an admin), created once with the password from the demo's secrets."""
    from emporion.ops.auth import Accounts

    if await store.get_user(CONSOLE_USER) is None:
        await Accounts(store).add_user(CONSOLE_USER, "admin", password, actor="cli:demo")


async def _orders_once(engine: Engine, shop: SandboxShop, console: Console) -> bool:
    """Simulated shoppers place a few orders; each must become exactly one sale in Tryton."""
    order_flow = engine.order_flows[ORDERS]
    placed = [
        o
        for o in shop.place_orders(ONCE_ORDERS)
        if status_name(o["status"]) in order_flow.flow.orders.import_statuses
    ]
    await engine.drain(order_flow.flow)
    links = await engine.store.get_links(ORDERS, "order", [str(o["id"]) for o in placed])
    sales = [link.target_ref["id"] for link in links.values() if link.state == "synced" and link.target_ref]
    found = await order_flow.target.read("order", [str(sale) for sale in sales])
    references = sorted(sale.reference or "" for sale in found)
    dead = await engine.store.list_dead(flow=ORDERS)
    console.print(
        f"orders: {len(placed)} placed in the shop, {len(found)} sales in Tryton "
        f"({', '.join(references) or 'none'}), {len(dead)} dead letters"
    )
    for letter in dead:
        console.print(f"  [red]dead letter[/] {letter.record}: {letter.reason}")
    return len(found) == len(placed) == len(set(references)) and not dead


async def _sync_and_follow(
    config: Path,
    shop: SandboxShop,
    once: bool,
    simulate_orders: float,
    console: Console,
    *,
    console_password: str,
) -> int:
    from emporion.logs import configure_logging
    from emporion.state import StateStore

    settings = load_settings(config)
    configure_logging(settings.logging.format, "warning" if once else settings.logging.level)
    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    try:
        await _console_user(store, console_password)
        engine = Engine(settings, store, pool, alerts=alerts_from_settings(settings, store))
        runner = engine.runners[FLOW]
        console.print("syncing the catalogue…")
        report = await sync_flow(runner)
        report = await verify_flow(runner, report)
        render_report(console, report)
        await engine.ensure_initial_sync()
        if once:
            orders_ok = await _orders_once(engine, shop, console)
            return 0 if report.clean and orders_ok else 1
        console.print(
            "\n[bold]emporion is now following Tryton's changes.[/] Try, in another terminal:\n"
            f"  emporion erp price -c {config} --connection erp-admin SKU-00001 19.99\n"
            f"  emporion erp stock -c {config} --connection erp-admin SKU-00001 25   (into warehouse WH)\n"
            f"  emporion erp rename -c {config} --connection erp-admin SKU-00001 'New name'\n"
            f"and watch the shop: {shop.base_url}/wp-json/wc/v3/products?sku=SKU\n"
            f"(the shop's API keys are in {config.parent}/secrets)\n"
            f"Simulated shoppers place {simulate_orders:g} orders/s;"
            " they reach Tryton as sales WEB-<order number>.\n"
            f"Ship one in Tryton and watch the shop order complete with its tracking number:\n"
            f"  emporion erp ship -c {config} --connection erp-admin WEB-<order number> JJD0001234\n"
            f"Dashboard: {settings.server.public_url}/ (user {CONSOLE_USER},"
            f" password in {config.parent}/secrets/console-password)\n"
            f"Configuration: {config}   Stop with Ctrl-C."
        )
        if simulate_orders > 0:
            shop.simulate_orders(simulate_orders)
        await runtime.run(engine, serve=True)
        return 0
    finally:
        await pool.close()
        await store.close()
