"""Commands that installed packages add to `emporion` through the `emporion.cli` entry point group.

Each entry point names a function that takes the `emporion` Typer app and adds its commands and
command groups to it, e.g. `devkit = "emporion_devkit.cli:register"`. A package that is not
installed adds nothing; one that fails to load is reported on stderr and left out.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import typer

from emporion.cli.common import err

GROUP = "emporion.cli"
Register = Callable[[typer.Typer], None]


def add_installed(app: typer.Typer) -> None:
    """Let every installed `emporion.cli` entry point add its commands to `app`."""
    for entry in sorted(entry_points(group=GROUP), key=lambda entry: entry.name):
        try:
            register: Register = entry.load()
            register(app)
        except Exception as error:  # a broken add-on must not take the core commands down with it
            err.print(f"[yellow]commands of {entry.name!r} ({entry.value}) not loaded[/]: {error}")
