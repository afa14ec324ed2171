"""`emporion config ...`: the configuration file's JSON Schema, and validation without connecting."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from emporion.cli.common import ConfigOption, console, load
from emporion.config import json_schema

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
