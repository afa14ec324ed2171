"""Sets up the demo (ERP, shop, configuration), syncs, verifies, and keeps syncing until stopped."""

from __future__ import annotations

import secrets
import shutil
from contextlib import ExitStack
from pathlib import Path

import anyio
from rich.console import Console

from emporion.config import load_settings
from emporion.console import render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine

FLOW = "catalogue"
CONFIG_TEMPLATE = """\
# emporion demo configuration: a Tryton ERP feeding a WooCommerce (sandbox) shop.
version: 1
state:
  url: sqlite:///state.db
logging:
  format: pretty
  level: info
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
    }
    return secret_dir, values


def run_demo(directory: Path, *, products: int, once: bool, fresh: bool, console: Console) -> int:
    """Run the demo; returns the exit code (0 when the verification report is clean)."""
    from emporion.erp.tryton_server import TrytonServer
    from emporion.erp.tryton_setup import CatalogueSpec, create_database
    from emporion.sandbox.woocommerce import SandboxShop

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
            ),
            encoding="utf-8",
        )
        console.print(
            f"Tryton ERP at {erp.url} (database {erp.database}), shop API at {shop.base_url}/wp-json/wc/v3"
        )
        return anyio.run(_sync_and_follow, config, shop.base_url, once, console)


async def _sync_and_follow(config: Path, shop_url: str, once: bool, console: Console) -> int:
    from emporion.logs import configure_logging
    from emporion.state import StateStore

    settings = load_settings(config)
    configure_logging(settings.logging.format, "warning" if once else settings.logging.level)
    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    try:
        engine = Engine(settings, store, pool)
        runner = engine.runners[FLOW]
        console.print("syncing the catalogue…")
        report = await sync_flow(runner)
        report = await verify_flow(runner, report)
        render_report(console, report)
        if once:
            return 0 if report.clean else 1
        console.print(
            "\n[bold]emporion is now following Tryton's changes.[/] Try, in another terminal:\n"
            f"  emporion erp price -c {config} --connection erp-admin SKU-00001 19.99\n"
            f"  emporion erp stock -c {config} --connection erp-admin SKU-00001 25   (into warehouse WH)\n"
            f"  emporion erp rename -c {config} --connection erp-admin SKU-00001 'New name'\n"
            f"and watch the shop: {shop_url}/wp-json/wc/v3/products?sku=SKU\n"
            f"(the shop's API keys are in {config.parent}/secrets)\n"
            f"Configuration: {config}   Stop with Ctrl-C."
        )
        await engine.run()
        return 0
    finally:
        await pool.close()
        await store.close()
