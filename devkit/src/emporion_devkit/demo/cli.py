"""`emporion demo`, and `emporion erp ...`: change data in the demo's Tryton ERP as a merchant would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from emporion.cli.common import NOT_CLEAN, ConfigOption, console, err, fail, load, run_async
from emporion.connectors.base import ConnectorError
from emporion.connectors.tryton.client import TrytonClient


class ErpChoice(StrEnum):
    """The ERPs the demo can run."""

    TRYTON = "tryton"
    SQL = "sql"
    FILES = "files"
    ODOO = "odoo"


erp_app = typer.Typer(
    help="Change data in a configured Tryton ERP, as a merchant would.", no_args_is_help=True
)
ConnectionOption = Annotated[
    str | None, typer.Option("--connection", help="The Tryton connection (default: the first one).")
]


def demo(
    once: Annotated[bool, typer.Option("--once", help="Sync, verify and exit (0 only if clean).")] = False,
    products: Annotated[int, typer.Option(help="Products in the sample catalogue.")] = 500,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Where the demo keeps its files"
            " (default: var/demo, var/demo-sql, var/demo-files, var/demo-odoo).",
        ),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from a new ERP, shop and state.")] = False,
    simulate_orders: Annotated[float, typer.Option(help="Orders per second from simulated shoppers.")] = 0.2,
    erp: Annotated[
        ErpChoice,
        typer.Option(
            "--erp",
            help="The ERP: tryton (a real Tryton), sql (the sample Warenwirtschaft's MariaDB database),"
            " files (its file drop, served over SFTP) or odoo (the dev kit's Odoo sandbox).",
        ),
    ] = ErpChoice.TRYTON,
    odoo_version: Annotated[
        int,
        typer.Option(
            "--odoo-version",
            min=17,
            max=19,
            help="--erp odoo: the Odoo version the sandbox plays (17 and 18 over JSON-RPC, 19 over JSON-2).",
        ),
    ] = 19,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="--erp sql: the server (and database) for the Warenwirtschaft"
            " (default: $EMPORION_DEMO_DATABASE_URL, else mysql+pymysql://root@127.0.0.1:3306/emporion_demo_wawi).",
        ),
    ] = None,
    drop: Annotated[
        Path | None,
        typer.Option("--drop", help="--erp files: a local drop folder instead of a private SFTP server."),
    ] = None,
    xml: Annotated[
        bool, typer.Option("--xml", help="--erp files: articles exported as XML, not CSV.")
    ] = False,
) -> None:
    """Start an ERP with a sample catalogue and a WooCommerce sandbox, sync them, and take orders."""
    directory = directory or Path("var/demo" if erp is ErpChoice.TRYTON else f"var/demo-{erp.value}")
    if erp is ErpChoice.TRYTON:
        from emporion_devkit.demo import run_demo

        code = run_demo(
            directory,
            products=products,
            once=once,
            fresh=fresh,
            console=console,
            simulate_orders=simulate_orders,
        )
    elif erp is ErpChoice.ODOO:
        from emporion_devkit.demo.odoo_run import run_odoo_demo

        code = run_odoo_demo(
            directory,
            version=odoo_version,
            products=products,
            once=once,
            fresh=fresh,
            console=console,
            simulate_orders=simulate_orders,
        )
    else:
        from emporion_devkit.demo.wawi_run import run_wawi_demo

        code = run_wawi_demo(
            directory,
            kind="sql" if erp is ErpChoice.SQL else "files",
            products=products,
            once=once,
            fresh=fresh,
            console=console,
            simulate_orders=simulate_orders,
            database=database_url,
            drop=drop,
            articles_as_xml=xml,
        )
    raise typer.Exit(code)


def _erp_client(config: Path, connection: str | None) -> TrytonClient:
    """A client of the configuration's Tryton connection (by name, else the first); exit 2 if none."""
    from emporion.connectors.tryton.settings import TrytonConnection

    settings = load(config)
    names = [n for n, c in settings.connections.items() if isinstance(c, TrytonConnection)]
    name = connection or (names[0] if names else None)
    if name is None or name not in names:
        fail(f"[red]no Tryton connection {name!r} in {config}[/] (known: {', '.join(names) or 'none'})")
    erp = settings.connections[name]
    assert isinstance(erp, TrytonConnection)
    return TrytonClient(
        erp.url, erp.database, erp.username, erp.password.get_secret_value(), verify=erp.tls.httpx_verify()
    )


def _erp_action(
    config: Path, connection: str | None, action: Callable[[TrytonClient], Awaitable[None]]
) -> None:
    """Run `action` with a Tryton client; a missing record or a refusal is printed, exit 1."""

    async def work() -> None:
        client = _erp_client(config, connection)
        try:
            await action(client)
        finally:
            await client.close()

    try:
        run_async(work)
    except LookupError as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(NOT_CLEAN) from None
    except ConnectorError as error:
        err.print(f"[red]the ERP refused: {error}[/]")
        raise typer.Exit(NOT_CLEAN) from None


@erp_app.command("price")
def erp_price(
    sku: str,
    price: Decimal,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Set the list price of the product with this SKU."""
    from emporion_devkit.demo.erp_changes import set_list_price

    _erp_action(config, connection, lambda client: set_list_price(client, sku, price))
    console.print(f"list price of {sku} is now {price}")


@erp_app.command("stock")
def erp_stock(
    sku: str,
    quantity: Decimal,
    warehouse: Annotated[str, typer.Option(help="Warehouse code.")] = "WH",
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Book QUANTITY units of SKU into the warehouse (negative: out of it)."""
    from emporion_devkit.demo.erp_changes import receive_stock

    _erp_action(config, connection, lambda client: receive_stock(client, sku, quantity, warehouse))
    console.print(f"booked {quantity} x {sku} in {warehouse}")


@erp_app.command("rename")
def erp_rename(
    sku: str,
    name: str,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Rename the product with this SKU."""
    from emporion_devkit.demo.erp_changes import rename

    _erp_action(config, connection, lambda client: rename(client, sku, name))
    console.print(f"{sku} is now called {name!r}")


@erp_app.command("ship")
def erp_ship(
    reference: str,
    tracking: str,
    carrier: Annotated[str | None, typer.Option(help="Carrier name (default: the sale's).")] = None,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Ship the sale with this reference (e.g. WEB-1042) with a tracking number, and post its invoice."""
    from emporion_devkit.demo.erp_orders import post_invoices, ship_sale

    async def action(client: TrytonClient) -> None:
        await ship_sale(client, reference, tracking, carrier)
        await post_invoices(client, reference)

    _erp_action(config, connection, action)
    console.print(f"sale {reference} shipped with tracking number {tracking}")


@erp_app.command("cancel")
def erp_cancel(
    reference: str, config: ConfigOption = Path("emporion.yaml"), connection: ConnectionOption = None
) -> None:
    """Cancel the sale with this reference."""
    from emporion_devkit.demo.erp_orders import cancel_sale

    _erp_action(config, connection, lambda client: cancel_sale(client, reference))
    console.print(f"sale {reference} cancelled")
