"""The `emporion` command: one module per command group, shared helpers in `common`.

Exit codes: 0 success, 1 the work finished but is not clean (failed checks, drift, dead letters),
2 the configuration or the command line is wrong. Installed packages add commands through the
`emporion.cli` entry point group (see `plugins`), e.g. the development kit's demo and sandbox.
"""

from __future__ import annotations

from typing import Annotated

import typer

from emporion import __version__
from emporion.cli import plugins
from emporion.cli.accounts import token_app, user_app
from emporion.cli.alerts import alerts_app
from emporion.cli.common import console
from emporion.cli.config import config_app
from emporion.cli.db import db_app
from emporion.cli.dead import dead_app
from emporion.cli.processes import run, serve, worker
from emporion.cli.reconcile import reconcile
from emporion.cli.status import status
from emporion.cli.sync import check, plan, sync, verify
from emporion.cli.webhooks import webhooks_app

app = typer.Typer(help="Keeps an ERP and online shops in sync.", no_args_is_help=True, add_completion=False)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """emporion keeps a merchant's ERP and their online shops in sync."""
    if version:
        console.print(f"emporion {__version__}")
        raise typer.Exit(0)


app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
for command in (check, plan, sync, verify, run, serve):
    app.command()(command)
app.add_typer(webhooks_app, name="webhooks")
app.command()(status)
app.add_typer(alerts_app, name="alerts", help="Alerts: what was raised, and a test through the channels.")
app.add_typer(dead_app, name="dead")
app.command("reconcile")(reconcile)
app.command()(worker)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
plugins.add_installed(app)

__all__ = ["app"]
