"""The development kit's commands, added to `emporion` through the `emporion.cli` entry point group."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `emporion demo`, `emporion erp`, `emporion wawi`, `emporion sandbox` and `emporion tryton`."""
    from emporion_devkit.demo.cli import demo, erp_app
    from emporion_devkit.demo.wawi_cli import wawi_app
    from emporion_devkit.erp.cli import tryton_app
    from emporion_devkit.sandbox.cli import sandbox_app

    app.command()(demo)
    app.add_typer(erp_app, name="erp")
    app.add_typer(wawi_app, name="wawi")
    app.add_typer(sandbox_app, name="sandbox", help="Local stand-ins for shops that cannot run here.")
    app.add_typer(tryton_app, name="tryton", help="Create and serve a Tryton ERP for the demo and tests.")
