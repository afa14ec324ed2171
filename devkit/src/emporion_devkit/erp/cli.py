"""`emporion tryton ...`: create a demo Tryton database with a sample catalogue and serve it locally."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from emporion_devkit.erp.tryton_setup import DEFAULT_CACHE_DIR, CatalogueSpec, TrytonDatabase, create_database

tryton_app = typer.Typer(help="A local Tryton ERP for demos and tests.", no_args_is_help=True)

Location = Annotated[str, typer.Argument(help="Directory for SQLite, or a postgresql:// server URL.")]
Name = Annotated[str, typer.Option("--name", help="Database name.")]
AdminPassword = Annotated[
    str,
    typer.Option("--admin-password", envvar="EMPORION_TRYTON_ADMIN_PASSWORD", help="Password of 'admin'."),
]
UserPassword = Annotated[
    str, typer.Option("--password", envvar="EMPORION_TRYTON_PASSWORD", help="Password of emporion's login.")
]
User = Annotated[str, typer.Option("--user", help="emporion's login in Tryton.")]
CacheDir = Annotated[Path, typer.Option("--cache-dir", help="Where built databases are kept as templates.")]


def _database(
    location: str,
    name: str,
    admin_password: str,
    user: str,
    password: str,
    products: int,
    seed: int,
    cache_dir: Path,
) -> TrytonDatabase:
    catalogue = CatalogueSpec(products=products, seed=seed) if products else None
    started = time.monotonic()
    db = create_database(
        location,
        name,
        admin_password=admin_password,
        emporion_password=password,
        emporion_user=user,
        catalogue=catalogue,
        cache_dir=cache_dir,
    )
    typer.echo(f"database {db.name} ready in {time.monotonic() - started:.1f}s ({db.config_file})")
    return db


@tryton_app.command()
def init(
    location: Location,
    admin_password: AdminPassword,
    password: UserPassword,
    name: Name = "emporion",
    user: User = "emporion",
    products: Annotated[int, typer.Option(help="Sample products to load (0: none).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the sample catalogue.")] = 1,
    cache_dir: CacheDir = DEFAULT_CACHE_DIR,
) -> None:
    """Create (or find) a provisioned database, with a sample catalogue."""
    _database(location, name, admin_password, user, password, products, seed, cache_dir)


@tryton_app.command()
def serve(
    location: Location,
    admin_password: AdminPassword,
    password: UserPassword,
    name: Name = "emporion",
    user: User = "emporion",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    products: Annotated[int, typer.Option(help="Sample products if the database is new.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the sample catalogue.")] = 1,
    cache_dir: CacheDir = DEFAULT_CACHE_DIR,
) -> None:
    """Create the database if needed and run trytond on 127.0.0.1 until interrupted."""
    from emporion_devkit.erp.tryton_server import TrytonServer

    db = _database(location, name, admin_password, user, password, products, seed, cache_dir)
    stop = {"now": False}

    def _stop(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    with TrytonServer(db, port=port) as server:
        typer.echo(f"Tryton serves {server.url}/{server.database}/ (login {server.user}); Ctrl-C stops it")
        try:
            while not stop["now"]:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    typer.echo("stopped")


def main() -> None:
    """Run the Tryton commands on their own (`python -m emporion_devkit.erp.cli`)."""
    tryton_app(prog_name="emporion-tryton")


if __name__ == "__main__":
    main()
