"""What every `emporion` command shares: the consoles, the common options, loading the configuration,
opening the state database or an engine, running async work, and the exit codes.

Exit codes: 0 success, 1 the work finished but is not clean (failed checks, drift, dead letters),
2 the configuration or the command line is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import anyio
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emporion.config import ConfigError, Settings, load_settings
from emporion.logs import configure_logging

if TYPE_CHECKING:
    from emporion.engine.worker import Engine
    from emporion.server.secrets import WebhookSecrets
    from emporion.state import StateStore

T = TypeVar("T")
OK, NOT_CLEAN, USAGE = 0, 1, 2
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

    A state database that cannot be reached or opened ends the command with one line and exit 2,
    not a traceback: the configuration (`state.url`) or the database server needs a person.
    """
    try:
        return anyio.run(call)
    except Exception as error:
        problem = state_database_problem(error)
        if problem is None:
            raise
        err.print(f"[red]the state database cannot be used[/]: {escape(problem)}", soft_wrap=True)
        raise typer.Exit(USAGE) from None


def state_database_problem(error: BaseException) -> str | None:
    """The driver's one-line reason when `error` (or one it groups) is the state database failing to
    connect or to work, else None. Programming errors (bad SQL, constraint violations) are not."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(error, OperationalError | InterfaceError):
        reason = str(error.orig or error).strip().splitlines() or ["unknown error"]
        return reason[0][:300]
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := state_database_problem(inner)) is not None:
                return found
    return None


async def with_engine(settings: Settings, work: Callable[[Engine], Awaitable[T]]) -> T:
    """Run `work` with an engine on a migrated state database; close its connections afterwards."""
    from emporion.alerts.dispatcher import alerts_from_settings
    from emporion.engine.connections import ConnectorPool
    from emporion.engine.worker import Engine
    from emporion.state import StateStore

    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    try:
        return await work(Engine(settings, store, pool, alerts=alerts_from_settings(settings, store)))
    finally:
        await pool.close()
        await store.close()


def with_store(config: Path, work: Callable[[StateStore], Awaitable[T]]) -> T:
    """Run `work` with the (migrated) state database of the configuration at `config`."""
    from emporion.state import StateStore

    settings = load(config)

    async def run() -> T:
        store = await StateStore.connect(settings.state.url, migrate=True)
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
