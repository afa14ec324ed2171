"""`emporion config ...`: the JSON Schema, validation without connecting, the connection types installed."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from emporion.cli.common import ConfigOption, JsonOption, console, load
from emporion.config import json_schema
from emporion.connectors.registry import plugins

config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file."""
    print(json.dumps(json_schema(), indent=2))


@config_app.command("validate")
def config_validate(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Validate the configuration file without connecting to anything."""
    settings = load(config)
    console.print(
        f"[green]{config} is valid[/]: {len(settings.connections)} connections, {len(settings.flows)} flows"
    )


@config_app.command("connectors")
def config_connectors(as_json: JsonOption = False) -> None:
    """List the connection types installed (built in or from packages), the roles each plays, its docs."""
    rows = [
        {"type": p.type, "title": p.title, "roles": sorted(p.roles), "docs": p.docs}
        for p in sorted(plugins().values(), key=lambda p: p.type)
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("type", "system", "roles", "documentation")
    for row in rows:
        table.add_row(row["type"], row["title"], ", ".join(row["roles"]), row["docs"])
    console.print(table)
