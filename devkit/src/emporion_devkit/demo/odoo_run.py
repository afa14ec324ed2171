"""`emporion demo --erp odoo`: the demo's story with the dev kit's Odoo sandbox (17, 18 or 19) as the ERP.

The sandbox holds the sample catalogue (the Tryton demo's plan: categories, templates with variants,
the Wholesale pricelist, dated promotions, stock in WH and WH2) and an integration user with an API
key (on 19 with an expiry date, as Odoo 19 keys have). The catalogue goes to the WooCommerce sandbox;
shoppers' orders become sale.orders; the merchant receives stock, ships one order with a tracking
number and invoices it, and all of it reaches the shop. `--once` runs the story once and exits 0 only
when the catalogue verifies clean, every order is exactly one sale.order, the receipt reached the shop
and the tracking number and invoice reached the shop order. Without `--once` emporion keeps following
Odoo; the merchant changes data as the sandbox's administrator over Odoo's own JSON-RPC.
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from rich.console import Console

from emporion import runtime
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import load_settings
from emporion.console import render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import status_name
from emporion_devkit.demo import odoo_config
from emporion_devkit.demo.run import ONCE_ORDERS, SERVER_PORT, _console_user, _secret, prepare
from emporion_devkit.sandbox.odoo import OdooSandbox
from emporion_devkit.sandbox.woocommerce import SandboxShop

SANDBOX_PORT = 8802  # the shop sandbox is on 8801, emporion's server on 8800
KEY_DAYS = 90  # Odoo 19 lets an internal user make a key for at most 90 days
TRACKING = "JJD0001234"
RECEIVED = 25  # units the merchant receives into WH2 during the story
FEEDBACK_ROUNDS = 15


def run_odoo_demo(
    directory: Path,
    *,
    version: int,
    products: int,
    once: bool,
    fresh: bool,
    console: Console,
    simulate_orders: float = 0.2,
) -> int:
    """Run the Odoo demo; returns the exit code (0 when everything came out clean)."""
    directory = directory.resolve()
    secret_dir, values = prepare(directory, products=products, fresh=fresh)
    api_key = _secret(secret_dir, "odoo-api-key", secrets.token_urlsafe(24))
    console.print(f"[bold]emporion demo[/] (Odoo {version} sandbox) in {directory}")
    with ExitStack() as stack:
        expires = datetime.now(UTC) + timedelta(days=KEY_DAYS) if version >= 19 else None
        odoo = OdooSandbox(
            directory / f"odoo-{version}.sqlite",
            version=version,
            api_key=api_key,
            key_expires=expires,
            products=products,
            port=0 if once else SANDBOX_PORT,
        )
        odoo.start()
        stack.callback(odoo.stop)
        shop = stack.enter_context(
            SandboxShop.serve(
                db=str(directory / "shop.sqlite"),
                port=0 if once else 8801,
                consumer_key=values["shop-consumer-key"],
                consumer_secret=values["shop-consumer-secret"],
            )
        )
        config = directory / "emporion.yaml"
        erp = odoo_config.odoo_connection(odoo.base_url, odoo.database, f"file:{secret_dir}/odoo-api-key")
        shop_connection = odoo_config.shop_connection(
            shop.base_url,
            f"file:{secret_dir}/shop-consumer-key",
            f"file:{secret_dir}/shop-consumer-secret",
            webhooks=not once,
        )
        document = odoo_config.document(erp, shop_connection, server_port=0 if once else SERVER_PORT)
        comment = (
            f"emporion demo configuration: an Odoo {version} (the dev kit's sandbox) feeding a WooCommerce"
            " (sandbox) shop, and its orders back."
        )
        config.write_text(odoo_config.as_yaml(document, comment), encoding="utf-8")
        api = "JSON-2" if version >= 19 else "JSON-RPC"
        console.print(
            f"Odoo {version} sandbox at {odoo.base_url} (database {odoo.database}, {api}),"
            f" shop API at {shop.base_url}/wp-json/wc/v3"
        )
        return anyio.run(
            _follow, config, odoo, shop, once, simulate_orders, console, values["console-password"]
        )


async def _check(engine: Engine, console: Console) -> bool:
    """`emporion check` on the Odoo connection, printed: login, access, warehouses, pricelists, key."""
    results = await engine.pool.get("erp").check()
    for result in results:
        mark = "[green]ok[/]" if result.ok else "[red]FAIL[/]"
        console.print(f"{mark} erp: {result.name} — {result.detail}")
    return all(result.ok for result in results)


def _shop_get(shop: SandboxShop, path: str, **params: str) -> Any:
    """One GET on the shop's REST API (Basic authentication, as behind a TLS proxy)."""
    with httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    ) as client:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.json()


def _shop_stock(shop: SandboxShop, sku: str) -> int | None:
    """The shop's stock figure of the product with this SKU (None: not there or not managed)."""
    found = _shop_get(shop, "/products", sku=sku)
    quantity = found[0].get("stock_quantity") if found else None
    return int(quantity) if quantity is not None else None


async def _stock_once(engine: Engine, odoo: OdooSandbox, shop: SandboxShop, console: Console) -> bool:
    """The merchant receives stock into WH2; the catalogue flow carries it to the shop."""
    runner = engine.runners[odoo_config.CATALOGUE_FLOW]
    simple = await asyncio.to_thread(
        odoo.search_read,
        "product.template",
        [("sale_ok", "=", True), ("default_code", "!=", False), ("type", "!=", "service")],
        ["default_code"],
    )
    if not simple:
        console.print("[red]stock: the sample has no product without variants[/]")
        return False
    sku = str(simple[0]["default_code"])
    before = await asyncio.to_thread(_shop_stock, shop, sku)
    await asyncio.to_thread(odoo.receive_stock, sku, RECEIVED, "WH2")
    after = before
    for _round in range(FEEDBACK_ROUNDS):
        await engine.drain(runner.flow)
        after = await asyncio.to_thread(_shop_stock, shop, sku)
        if before is not None and after == before + RECEIVED:
            console.print(f"stock: {RECEIVED} x {sku} received into WH2; the shop shows {before} -> {after}")
            return True
        await asyncio.sleep(1)
    console.print(f"[red]stock: the receipt of {sku} did not reach the shop ({before} -> {after})[/]")
    return False


def _sales_of(odoo: OdooSandbox, references: list[str]) -> list[dict[str, Any]]:
    """The sale.orders whose customer reference is one of `references` (as the merchant sees them)."""
    return odoo.search_read(
        "sale.order",
        [("client_order_ref", "in", references)],
        ["name", "client_order_ref", "state", "partner_id"],
        {"active_test": False},
    )


async def _orders_once(engine: Engine, odoo: OdooSandbox, shop: SandboxShop, console: Console) -> bool:
    """Shoppers order; each order becomes exactly one sale.order in Odoo; one ships and is invoiced."""
    order_flow = engine.order_flows[odoo_config.ORDER_FLOW]
    placed = [
        o
        for o in shop.place_orders(ONCE_ORDERS)
        if status_name(o["status"]) in order_flow.flow.orders.import_statuses
    ]
    await engine.drain(order_flow.flow)
    references = [f"{odoo_config.REFERENCE_PREFIX}{o['number']}" for o in placed]
    sales = await asyncio.to_thread(_sales_of, odoo, references)
    made = sorted(str(s["client_order_ref"]) for s in sales)
    partners = {s["partner_id"][0] for s in sales if s["partner_id"]}
    dead = await engine.store.list_dead(flow=odoo_config.ORDER_FLOW)
    named = ", ".join(f"{s['name']} = {s['client_order_ref']}" for s in sales) or "none"
    console.print(
        f"orders: {len(placed)} placed in the shop, {len(sales)} sale orders in Odoo ({named}),"
        f" {len(partners)} customers, {len(dead)} dead letters"
    )
    for letter in dead:
        console.print(f"  [red]dead letter[/] {letter.record}: {letter.reason}")
    once_each = made == sorted(references) and len(set(made)) == len(made)
    return (
        bool(placed)
        and once_each
        and not dead
        and await _shipment_once(engine, odoo, shop, placed[0], console)
    )


async def _shipment_once(
    engine: Engine, odoo: OdooSandbox, shop: SandboxShop, order: dict[str, Any], console: Console
) -> bool:
    """Ship one sale in Odoo with a tracking number and invoice it; wait until the shop order shows both."""
    order_flow = engine.order_flows[odoo_config.ORDER_FLOW]
    reference = f"{odoo_config.REFERENCE_PREFIX}{order['number']}"
    (sale,) = await asyncio.to_thread(_sales_of, odoo, [reference])
    await asyncio.to_thread(odoo.ship, int(sale["id"]), TRACKING)
    invoice = await asyncio.to_thread(odoo.invoice, int(sale["id"]))
    (move,) = await asyncio.to_thread(odoo.search_read, "account.move", [("id", "=", invoice)], ["name"])
    for _round in range(FEEDBACK_ROUNDS):
        await engine.drain(order_flow.flow)
        shop_order = await asyncio.to_thread(_shop_get, shop, f"/orders/{order['id']}")
        meta = {m["key"]: m["value"] for m in shop_order.get("meta_data", [])}
        if meta.get("tracking_number") == TRACKING and meta.get("invoice_number") == move["name"]:
            console.print(
                f"shipment: {sale['name']} ({reference}) shipped with {odoo_config.CARRIER} {TRACKING}"
                f" and invoiced as {move['name']}; the shop order is {shop_order['status']}"
                " with its tracking number and invoice number"
            )
            return True
        await asyncio.sleep(1)
    console.print(f"[red]shipment: the tracking or invoice number of {reference} did not reach the shop[/]")
    return False


async def _follow(
    config: Path,
    odoo: OdooSandbox,
    shop: SandboxShop,
    once: bool,
    simulate_orders: float,
    console: Console,
    console_password: str,
) -> int:
    """Check, sync and verify the catalogue; then the story once (`once`) or emporion following Odoo."""
    from emporion.logs import configure_logging
    from emporion.state import StateStore

    settings = load_settings(config)
    configure_logging(settings.logging.format, "warning" if once else settings.logging.level)
    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    try:
        await _console_user(store, console_password)
        engine = Engine(settings, store, pool, alerts=alerts_from_settings(settings, store))
        checked = await _check(engine, console)
        runner = engine.runners[odoo_config.CATALOGUE_FLOW]
        console.print("syncing the catalogue…")
        report = await sync_flow(runner)
        report = await verify_flow(runner, report)
        render_report(console, report)
        await engine.ensure_initial_sync()
        if once:
            stock_ok = await _stock_once(engine, odoo, shop, console)
            orders_ok = await _orders_once(engine, odoo, shop, console)
            return 0 if checked and report.clean and stock_ok and orders_ok else 1
        _print_help(console, config, odoo, shop, simulate_orders, settings.server.public_url)
        if simulate_orders > 0:
            shop.simulate_orders(simulate_orders)
        await runtime.run(engine, serve=True)
        return 0
    finally:
        await pool.close()
        await store.close()


def _print_help(
    console: Console, config: Path, odoo: OdooSandbox, shop: SandboxShop, rate: float, public_url: str
) -> None:
    """What to try while the demo runs."""
    console.print(
        "\n[bold]emporion is now following Odoo.[/] Change data in Odoo as its administrator"
        f" (login admin, password admin) over JSON-RPC at {odoo.base_url}/jsonrpc"
        f" (database {odoo.database}), e.g. a product's list_price or a stock receipt,\n"
        f"and watch the shop: {shop.base_url}/wp-json/wc/v3/products?sku=SKU\n"
        f"Simulated shoppers place {rate:g} orders/s; they reach Odoo as sale orders whose customer"
        " reference is WEB-<order number>.\n"
        f"Check the connection (access rights, API key lifetime): emporion check -c {config}\n"
        f"Dashboard: {public_url}/ (user demo, password in {config.parent}/secrets/console-password)\n"
        f"Configuration: {config}   Stop with Ctrl-C."
    )
