"""`emporion wawi ...`: change data in the sample Warenwirtschaft as its merchant would, and let it work.

The database is the configuration's SQL connection (`--connection`, default the first), or, for a
file-drop demo, the Warenwirtschaft's own SQLite file next to the configuration; `--database-url`
names another. While the demo runs, its Warenwirtschaft takes orders (and, as a file drop, exports
what changed) every few seconds; `take` does it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import sqlalchemy as sa
import typer

from emporion.cli.common import NOT_CLEAN, ConfigOption, console, err, fail, load

wawi_app = typer.Typer(
    help="Change data in the sample Warenwirtschaft (the demo's SQL or file ERP), as a merchant would.",
    no_args_is_help=True,
)
ConnectionOption = Annotated[
    str | None, typer.Option("--connection", help="The SQL connection (default: the first one).")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="The Warenwirtschaft's database (default: from the config)."),
]
WAWI_SQLITE = "wawi.sqlite"


def _database(
    config: Path, connection: str | None, database_url: str | None
) -> tuple[sa.Engine, Path | None]:
    """The Warenwirtschaft's database, and its drop folder when it is a file-drop ERP."""
    from emporion.connectors.files.settings import FilesConnection
    from emporion.connectors.sql.settings import SqlConnection

    if database_url:
        return sa.create_engine(database_url), None
    settings = load(config)
    sql = {n: c for n, c in settings.connections.items() if isinstance(c, SqlConnection)}
    files = [c for c in settings.connections.values() if isinstance(c, FilesConnection)]
    name = connection or next(iter(sql), None)
    if name is not None and name in sql:
        url, password = sa.make_url(sql[name].url), sql[name].password
        if password is not None:
            url = url.set(password=password.get_secret_value())
        return sa.create_engine(url), None
    local = config.parent / WAWI_SQLITE
    if files and local.exists():
        location = files[0].location
        drop = Path(urlsplit(location).path if location.startswith("sftp://") else location)
        return sa.create_engine(f"sqlite:///{local}"), drop
    return fail(f"[red]no Warenwirtschaft database for {config}[/] ({local} missing): give --database-url")


def _act(
    config: Path,
    connection: str | None,
    database_url: str | None,
    action: Callable[[sa.Engine, Path | None], str | None],
    done: str = "",
) -> None:
    """Run a merchant action (with the drop folder of a file-drop ERP); a refusal is printed, exit 1."""
    engine, drop = _database(config, connection, database_url)
    try:
        console.print(action(engine, drop) or done)
    except (LookupError, ValueError) as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(NOT_CLEAN) from None
    finally:
        engine.dispose()


@wawi_app.command("price")
def wawi_price(
    sku: str,
    price: Decimal,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Set the net sales price of an article or variant."""
    from emporion_devkit.wawi import erp

    _act(
        config,
        connection,
        database_url,
        lambda e, _drop: erp.set_price(e, sku, price),
        f"{sku} costs {price}",
    )


@wawi_app.command("stock")
def wawi_stock(
    sku: str,
    quantity: Decimal,
    warehouse: Annotated[str, typer.Option(help="Warehouse code (HL, AL).")] = "HL",
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Book QUANTITY units of SKU into the warehouse (negative: out of it)."""
    from emporion_devkit.wawi import erp

    def action(engine: sa.Engine, _drop: Path | None) -> str:
        erp.receive_stock(engine, sku, quantity, warehouse)
        return f"booked {quantity} x {sku} in {warehouse}"

    _act(config, connection, database_url, action)


@wawi_app.command("rename")
def wawi_rename(
    sku: str,
    name: str,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Rename an article."""
    from emporion_devkit.wawi import erp

    _act(
        config, connection, database_url, lambda e, _drop: erp.rename(e, sku, name), f"{sku} is now {name!r}"
    )


@wawi_app.command("deactivate")
def wawi_deactivate(
    sku: str,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Take an article out of the range (aktiv = false)."""
    from emporion_devkit.wawi import erp

    _act(
        config,
        connection,
        database_url,
        lambda e, _drop: erp.deactivate(e, sku),
        f"{sku} is no longer active",
    )


@wawi_app.command("take")
def wawi_take(
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Take the staged orders, customers and cancellations now (a file drop's order files first)."""
    from emporion_devkit.wawi import erp

    def action(engine: sa.Engine, drop: Path | None) -> str:
        from emporion_devkit.wawi.files import FileDrop

        taken = FileDrop(engine, drop).import_orders() if drop is not None else erp.take_orders(engine)
        return (
            f"took {len(taken.orders)} orders, {len(taken.cancelled)} cancellations,"
            f" {taken.customers} customers"
        )

    _act(config, connection, database_url, action)


@wawi_app.command("ship")
def wawi_ship(
    reference: str,
    tracking: str,
    carrier: Annotated[str, typer.Option(help="The carrier.")] = "DHL",
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Ship the order with this shop reference (e.g. WEB-1042) with a tracking number, and invoice it."""
    from emporion_devkit.wawi import erp

    def action(engine: sa.Engine, _drop: Path | None) -> str:
        note = erp.ship(engine, reference, tracking, carrier)
        bill = erp.invoice(engine, reference)
        return f"order {reference} shipped ({note}, {carrier} {tracking}) and invoiced ({bill})"

    _act(config, connection, database_url, action)


@wawi_app.command("cancel")
def wawi_cancel(
    reference: str,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Cancel the order with this shop reference (goods back into stock; a credit note if invoiced)."""
    from emporion_devkit.wawi import erp

    _act(
        config,
        connection,
        database_url,
        lambda e, _drop: erp.cancel(e, reference),
        f"order {reference} cancelled",
    )
