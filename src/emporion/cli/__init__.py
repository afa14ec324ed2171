"""The `emporion` command: one module per command group, shared helpers in `common`.

Exit codes (`failures` says how each failure is reported): 0 clean, 1 finished but not clean,
2 configuration or state database, 3 a system unreachable or unavailable, 4 credentials or a
permission refused, 5 unexpected. Installed packages add commands through the `emporion.cli` entry
point group (see `plugins`), e.g. the development kit's demo and sandbox.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from emporion import __version__
from emporion.cli import plugins
from emporion.cli.accounts import token_app, user_app
from emporion.cli.alerts import alerts_app
from emporion.cli.common import console, err
from emporion.cli.config import config_app
from emporion.cli.conflicts import conflicts_app
from emporion.cli.db import db_app
from emporion.cli.dead import dead_app
from emporion.cli.failures import EXIT_CODES, options, report
from emporion.cli.processes import run, serve, worker
from emporion.cli.reconcile import reconcile
from emporion.cli.status import status
from emporion.cli.sync import check, plan, sync, verify
from emporion.cli.webhooks import webhooks_app


class _App(typer.Typer):
    """The `emporion` command: whatever a command leaves uncaught also ends in one line and exit 5."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            sys.exit(report(err, error))


app = _App(
    help="Keeps an ERP and online shops in sync.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # failures end in one line; --debug prints the plain traceback
)


@app.callback(invoke_without_command=True, epilog=EXIT_CODES)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="EMPORION_DEBUG",
            help="On a failure, print the traceback as well as the one-line reason.",
        ),
    ] = False,
) -> None:
    """emporion keeps a merchant's ERP and their online shops in sync."""
    options.debug = debug
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
app.add_typer(conflicts_app, name="conflicts")
app.command()(worker)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
plugins.add_installed(app)

__all__ = ["app"]
