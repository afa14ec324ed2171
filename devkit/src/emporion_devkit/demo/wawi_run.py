"""`emporion demo --erp sql|files`: the Tryton demo's story with the sample Warenwirtschaft as the ERP.

The catalogue goes from the Warenwirtschaft's database (or its file drop) to the WooCommerce sandbox;
shoppers' orders land in its import tables (or as openTRANS files), the Warenwirtschaft takes them;
one is shipped with a tracking number, which comes back to the shop. `--once` runs the story once
and exits 0 only when the catalogue verifies clean, every order landed and was taken exactly once,
and the tracking number reached the shop. Without `--once` the Warenwirtschaft keeps taking orders
(and, as a file drop, exporting) every few seconds while emporion runs.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

import anyio
import sqlalchemy as sa
from rich.console import Console

from emporion import runtime
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import load_settings
from emporion.console import render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import Order, OrderStatus, status_name
from emporion_devkit.demo.run import ONCE_ORDERS, SERVER_PORT, _console_user, prepare
from emporion_devkit.demo.wawi_setup import Warenwirtschaft, database_url, files_erp, sql_erp
from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.wawi import config as wawi_config
from emporion_devkit.wawi import erp, schema
from emporion_devkit.wawi.sample import SampleSpec

ErpKind = Literal["sql", "files"]
TRACKING = "JJD0001234"
ERP_INTERVAL = 2.0  # seconds between the Warenwirtschaft's own import/export jobs
FEEDBACK_ROUNDS = 15


def run_wawi_demo(
    directory: Path,
    *,
    kind: ErpKind,
    products: int,
    once: bool,
    fresh: bool,
    console: Console,
    simulate_orders: float = 0.2,
    database: str | None = None,
    drop: Path | None = None,
    articles_as_xml: bool = False,
) -> int:
    """Run the Warenwirtschaft demo; returns the exit code (0 when everything came out clean)."""
    directory = directory.resolve()
    secret_dir, values = prepare(directory, products=products, fresh=fresh)
    spec = SampleSpec(products=products)
    console.print(f"[bold]emporion demo[/] ({kind} Warenwirtschaft) in {directory}")
    with ExitStack() as stack:
        if kind == "sql":
            wawi = sql_erp(secret_dir, database_url(database), spec, fresh=fresh)
        else:
            wawi = files_erp(directory, spec, stack, drop=drop, fresh=fresh, articles_as_xml=articles_as_xml)
        stack.callback(wawi.engine.dispose)
        if wawi.drop is not None:
            wawi.drop.export_catalogue()
        shop = stack.enter_context(
            SandboxShop.serve(
                db=str(directory / "shop.sqlite"),
                port=0 if once else 8801,
                consumer_key=values["shop-consumer-key"],
                consumer_secret=values["shop-consumer-secret"],
            )
        )
        config = directory / "emporion.yaml"
        shop_settings = wawi_config.ShopConnection(shop.base_url, secret_dir, webhooks=not once)
        config.write_text(
            wawi_config.document(
                wawi.connection,
                shop_settings,
                server_port=0 if once else SERVER_PORT,
                comment=f"emporion demo configuration: the sample Warenwirtschaft ({kind}) feeding a"
                " WooCommerce (sandbox) shop, and its orders back.",
            ),
            encoding="utf-8",
        )
        console.print(f"{wawi.where}, shop API at {shop.base_url}/wp-json/wc/v3")
        return anyio.run(
            _follow, config, wawi, shop, once, simulate_orders, console, values["console-password"]
        )


async def _erp_jobs(wawi: Warenwirtschaft) -> None:
    """What the Warenwirtschaft does by itself: take staged orders; as a file drop, export and import."""
    if wawi.drop is not None:
        await asyncio.to_thread(wawi.drop.cycle)
    else:
        await asyncio.to_thread(erp.take_orders, wawi.engine)


def _count(engine: sa.Engine, table: sa.Table, where: sa.ColumnElement[bool] | None = None) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return int(conn.execute(query if where is None else query.where(where)).scalar_one())


async def _orders_once(engine: Engine, wawi: Warenwirtschaft, shop: SandboxShop, console: Console) -> bool:
    """Shoppers order; each order lands once in the Warenwirtschaft, which takes it; one ships."""
    order_flow = engine.order_flows[wawi_config.ORDER_FLOW]
    placed = [
        o
        for o in shop.place_orders(ONCE_ORDERS)
        if status_name(o["status"]) in order_flow.flow.orders.import_statuses
    ]
    await engine.drain(order_flow.flow)
    await _erp_jobs(wawi)
    references = [f"WEB-{o['number']}" for o in placed]
    staged = await asyncio.to_thread(
        _count, wawi.engine, schema.import_auftrag, schema.import_auftrag.c.shop_referenz.in_(references)
    )
    taken = await asyncio.to_thread(
        _count, wawi.engine, schema.auftrag, schema.auftrag.c.shop_referenz.in_(references)
    )
    dead = await engine.store.list_dead(flow=wawi_config.ORDER_FLOW)
    console.print(
        f"orders: {len(placed)} placed in the shop, {staged} in the Warenwirtschaft's import,"
        f" {taken} taken as orders ({', '.join(references) or 'none'}), {len(dead)} dead letters"
    )
    for letter in dead:
        console.print(f"  [red]dead letter[/] {letter.record}: {letter.reason}")
    landed = len(placed) == staged == taken and bool(placed) and not dead
    return landed and await _tracking_once(engine, wawi, placed[0], console)


async def _tracking_once(
    engine: Engine, wawi: Warenwirtschaft, order: dict[str, object], console: Console
) -> bool:
    """Ship and invoice one order in the Warenwirtschaft and wait until the shop order is completed
    with its tracking number (the shipment and the status may come back in different polls)."""
    order_flow = engine.order_flows[wawi_config.ORDER_FLOW]
    reference = f"WEB-{order['number']}"
    await asyncio.to_thread(erp.ship, wawi.engine, reference, TRACKING, "DHL")
    await asyncio.to_thread(erp.invoice, wawi.engine, reference)
    seen: Order | None = None
    for _round in range(FEEDBACK_ROUNDS):
        await _erp_jobs(wawi)
        await engine.drain(order_flow.flow)
        for shop_order in await order_flow.source.read("order", [str(order["id"])]):
            if isinstance(shop_order, Order) and any(
                TRACKING in s.tracking_numbers for s in shop_order.shipments
            ):
                seen = shop_order
        if seen is not None and seen.status is OrderStatus.COMPLETED:
            break
        await asyncio.sleep(1)
    if seen is None:
        console.print(f"[red]shipment: the tracking number of {reference} did not reach the shop[/]")
        return False
    console.print(
        f"shipment: {reference} shipped with DHL {TRACKING};"
        f" the shop order is {seen.status.value} with its tracking number"
    )
    return True


async def _erp_loop(wawi: Warenwirtschaft) -> None:
    """The Warenwirtschaft's jobs every few seconds while the demo runs."""
    while True:
        await _erp_jobs(wawi)
        await asyncio.sleep(ERP_INTERVAL)


async def _follow(
    config: Path,
    wawi: Warenwirtschaft,
    shop: SandboxShop,
    once: bool,
    simulate_orders: float,
    console: Console,
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
        runner = engine.runners[wawi_config.CATALOGUE_FLOW]
        console.print("syncing the catalogue…")
        report = await sync_flow(runner)
        report = await verify_flow(runner, report)
        render_report(console, report)
        await engine.ensure_initial_sync()
        if once:
            orders_ok = await _orders_once(engine, wawi, shop, console)
            return 0 if report.clean and orders_ok else 1
        _print_help(console, config, shop, simulate_orders, settings.server.public_url)
        if simulate_orders > 0:
            shop.simulate_orders(simulate_orders)
        async with anyio.create_task_group() as group:
            group.start_soon(_erp_loop, wawi)
            await runtime.run(engine, serve=True)
            group.cancel_scope.cancel()
        return 0
    finally:
        await pool.close()
        await store.close()


def _print_help(console: Console, config: Path, shop: SandboxShop, rate: float, public_url: str) -> None:
    """What to try while the demo runs."""
    console.print(
        "\n[bold]emporion is now following the Warenwirtschaft.[/] Try, in another terminal:\n"
        f"  emporion wawi price -c {config} SKU-00001 19.99\n"
        f"  emporion wawi stock -c {config} SKU-00001 25   (into warehouse HL)\n"
        f"  emporion wawi rename -c {config} SKU-00001 'Neuer Name'\n"
        f"and watch the shop: {shop.base_url}/wp-json/wc/v3/products?sku=SKU\n"
        f"Simulated shoppers place {rate:g} orders/s; the Warenwirtschaft takes them as WEB-<order number>.\n"
        "Ship one and watch the shop order complete with its tracking number:\n"
        f"  emporion wawi ship -c {config} WEB-<order number> JJD0001234\n"
        f"Dashboard: {public_url}/ (user demo, password in {config.parent}/secrets/console-password)\n"
        f"Configuration: {config}   Stop with Ctrl-C."
    )
