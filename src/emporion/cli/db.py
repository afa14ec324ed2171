"""`emporion db ...`: migrate the state database, and prune its history by the retention settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emporion.cli.common import ConfigOption, console, load, open_store, run_async

db_app = typer.Typer(help="The state database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Apply the state database migrations."""
    settings = load(config)

    async def upgrade() -> None:
        store = await open_store(settings.state.url)
        await store.close()

    run_async(upgrade)
    console.print("[green]state database is up to date[/]")


@db_app.command("prune")
def db_prune(
    config: ConfigOption = Path("emporion.yaml"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
) -> None:
    """Forget history older than `state.retention` allows (the engine also does this on its own)."""
    from emporion.state.retention import EXPIRING

    settings = load(config)
    ages = {**settings.state.retention.ages(), **EXPIRING}  # expired console sessions go whatever is kept

    async def prune() -> dict[str, int]:
        store = await open_store(settings.state.url)
        try:
            return await store.prune(ages, dry_run=dry_run)
        finally:
            await store.close()

    removed = run_async(prune)
    table = Table(title="would be removed" if dry_run else "removed")
    for column in ("history", "older than", "rows"):
        table.add_column(column)
    for name, count in removed.items():
        age = "expired" if name in EXPIRING else f"{ages[name].days} days"
        table.add_row(name, age, str(count))
    console.print(table)
