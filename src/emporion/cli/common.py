"""What every `emporion` command shares: the consoles, the common options, loading the configuration,
opening the state database or an engine, running async work, and the exit codes (see `failures`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import anyio
import click
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emporion.cli.failures import (  # the exit codes are imported from here by every command
    NOT_CLEAN,
    OK,
    USAGE,
    ConnectionFailed,
    StateUnusable,
    connection_of,
    leaves,
    options,
    report,
    state_database_problem,
)
from emporion.config import ConfigError, Settings, load_settings
from emporion.connectors.base import ConnectorError
from emporion.logs import configure_logging

if TYPE_CHECKING:
    from emporion.engine.connections import ConnectorPool
    from emporion.engine.worker import Engine
    from emporion.server.secrets import WebhookSecrets
    from emporion.state import StateStore

T = TypeVar("T")
console = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="EMPORION_CONFIG", help="The YAML configuration file."),
]
FlowOption = Annotated[list[str] | None, typer.Option("--flow", "-f", help="Only these flows (repeatable).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Print `message` (Rich markup) to stderr and end the command with `code`."""
    err.print(message)
    raise typer.Exit(code)


def exit_clean(clean: bool) -> NoReturn:
    """End the command: 0 when the work is clean, 1 when it finished but is not."""
    raise typer.Exit(OK if clean else NOT_CLEAN)


def load(path: Path) -> Settings:
    """The configuration at `path`, with logging set up from it; every problem printed, exit 2."""
    try:
        settings = load_settings(path)
    except ConfigError as error:
        err.print(f"[red]configuration error in {error.path or path}[/]")
        for problem in error.problems:
            err.print(f"  - {escape(problem)}", soft_wrap=True)  # one line each, whatever the width
        raise typer.Exit(USAGE) from None
    configure_logging(settings.logging.format, settings.logging.level)
    options.config, options.json_log = str(path), settings.logging.format == "json"
    return settings


def selected_flows(settings: Settings, names: list[str] | None) -> list[str]:
    """The enabled flows named by `--flow`, or all enabled flows; an unknown name exits 2."""
    known = [flow.name for flow in settings.flows if flow.enabled]
    for name in names or []:
        if name not in known:
            fail(f"[red]no enabled flow named {name!r}[/] (known: {', '.join(known) or 'none'})")
    return list(names) if names else known


def run_async(call: Callable[[], Awaitable[T]]) -> T:
    """Run an async function from a command and return its result.

    A connection that cannot be reached or refuses the credentials (inside `with_engine` or
    `naming_connections`) or a state database that cannot be used ends the command with one line and
    its exit code (see `failures`); the traceback only with `--debug` (and in the JSON log). Other
    errors pass to the caller, which may expect them; the `emporion` command reports those left
    uncaught in one line too.
    """
    try:
        return anyio.run(call)
    except click.exceptions.Exit:
        raise
    except Exception as error:
        if (ended := _exit_inside(error)) is not None:
            raise ended from None
        if isinstance(error, ConnectionFailed) or state_database_problem(error) is not None:
            raise typer.Exit(report(err, error)) from None
        raise


def _exit_inside(error: BaseException) -> click.exceptions.Exit | None:
    """The command's own exit when a task group carried it out, else None."""
    if isinstance(error, BaseExceptionGroup):
        exits = [inner for inner in error.exceptions if _exit_inside(inner) is not None]
        return _exit_inside(exits[0]) if exits and len(exits) == len(error.exceptions) else None
    return error if isinstance(error, click.exceptions.Exit) else None


async def open_store(url: str, *, migrate: bool = True) -> StateStore:
    """The state database at `url`; a file or folder that cannot be made is a `StateUnusable`."""
    from emporion.state import StateStore

    try:
        return await StateStore.connect(url, migrate=migrate)
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        raise StateUnusable(f"{error.strerror or error}{where} (state.url in the configuration)") from error


def connection_named(pool: ConnectorPool) -> Callable[[object], str | None]:
    """For a frame's owner: the name of the pool's connection it is the connector of, else None."""

    def named(owner: object) -> str | None:
        name = getattr(owner, "name", None)
        if not isinstance(name, str) or name not in pool.settings.connections:
            return None
        try:
            return name if pool.get(name) is owner else None
        except Exception:  # a connection that cannot even be built is not this frame's owner
            return None

    return named


@asynccontextmanager
async def naming_connections(pool: ConnectorPool) -> AsyncIterator[None]:
    """Raise a failure from inside a connection's connector, or a typed connector error, as
    `ConnectionFailed` naming the connection (when its frames show which)."""
    try:
        yield
    except Exception as error:
        if _exit_inside(error) is not None or isinstance(error, ConnectionFailed):
            raise
        name = connection_of(error, connection_named(pool))
        if name is None and not any(isinstance(leaf, ConnectorError) for leaf in leaves(error)):
            raise
        raise ConnectionFailed(name, error) from error


async def with_engine(settings: Settings, work: Callable[[Engine], Awaitable[T]]) -> T:
    """Run `work` with an engine on a migrated state database; close its connections afterwards."""
    from emporion.alerts.dispatcher import alerts_from_settings
    from emporion.engine.connections import ConnectorPool
    from emporion.engine.worker import Engine

    store = await open_store(settings.state.url)
    pool = ConnectorPool(settings)
    try:
        async with naming_connections(pool):
            return await work(Engine(settings, store, pool, alerts=alerts_from_settings(settings, store)))
    finally:
        await pool.close()
        await store.close()


def with_store(config: Path, work: Callable[[StateStore], Awaitable[T]]) -> T:
    """Run `work` with the (migrated) state database of the configuration at `config`."""
    settings = load(config)

    async def run() -> T:
        store = await open_store(settings.state.url)
        try:
            return await work(store)
        finally:
            await store.close()

    return run_async(run)


def webhook_secrets(settings: Settings, config: Path) -> WebhookSecrets:
    """The webhook secrets of this configuration (generated ones live next to the configuration file)."""
    from emporion.server.secrets import WebhookSecrets, secrets_dir

    return WebhookSecrets(settings, secrets_dir(settings, config.parent))


def print_rows(
    items: Sequence[BaseModel],
    as_json: bool,
    title: str,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[str]],
) -> None:
    """List `items` as JSON, or as a table of `columns` with one `row(item)` each."""
    if as_json:
        print(json.dumps([item.model_dump(mode="json") for item in items], indent=2))
        return
    table = Table(*columns, title=title)
    for item in items:
        table.add_row(*row(item))
    console.print(table)


def when(moment: datetime | None, empty: str = "") -> str:
    """A moment as the tables show it (minutes), or `empty`."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment else empty
