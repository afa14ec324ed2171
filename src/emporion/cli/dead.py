"""`emporion dead`: list, show, retry and discard dead letters (records that failed permanently)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emporion.cli.common import NOT_CLEAN, USAGE, ConfigOption, JsonOption, console, err, with_store
from emporion.engine import dead_letters

dead_app = typer.Typer(help="Dead letters: records that failed permanently.", no_args_is_help=True)
FlowFilter = Annotated[str | None, typer.Option("--flow", "-f", help="Only this flow.")]
IdsArgument = Annotated[list[int] | None, typer.Argument(help="Dead-letter ids (see `emporion dead list`).")]
AllOption = Annotated[bool, typer.Option("--all", help="Every open dead letter (of --flow).")]


@dead_app.command("list")
def dead_list(
    config: ConfigOption = Path("emporion.yaml"),
    flow: FlowFilter = None,
    status: Annotated[str, typer.Option(help="open, retried, resolved, discarded or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List dead letters, newest first."""
    if status not in dead_letters.STATUSES:
        err.print(f"[red]--status must be one of {', '.join(dead_letters.STATUSES)}[/]")
        raise typer.Exit(USAGE)
    letters = with_store(
        config, lambda store: dead_letters.list_letters(store, flow=flow, status=status, limit=limit)
    )
    if as_json:
        print(json.dumps([dead_letters.as_json(letter) for letter in letters], indent=2))
        return
    table = Table(title=f"dead letters ({status})")
    for column in ("id", "flow", "entity", "record", "field"):
        table.add_column(column, no_wrap=True)  # names stay whole; the reason takes what is left
    table.add_column("reason", overflow="fold", ratio=1)
    table.add_column("attempts", no_wrap=True)
    table.add_column("when", overflow="fold")
    for letter in letters:
        when = letter.failed_at.strftime("%Y-%m-%d %H:%M:%S") if letter.failed_at else ""
        table.add_row(
            str(letter.id),
            letter.flow,
            letter.entity,
            letter.record or letter.key,
            letter.field or "",
            letter.reason,
            str(letter.attempts),
            when,
        )
    console.print(table)


@dead_app.command("show")
def dead_show(
    ident: Annotated[int, typer.Argument(help="The dead letter's id.")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Everything about one dead letter, its payload included (secrets masked)."""
    letter = with_store(config, lambda store: store.get_dead(ident))
    if letter is None:
        err.print(f"[red]no dead letter {ident}[/]")
        raise typer.Exit(USAGE)
    print(json.dumps(dead_letters.as_json(letter, payload=True), indent=2, ensure_ascii=False, default=str))


def _act(
    action: Callable[..., Awaitable[dead_letters.Outcome]],
    verb: str,
    config: Path,
    ids: list[int] | None,
    every: bool,
    flow: str | None,
) -> None:
    if bool(ids) == every:
        err.print(f"[red]give dead-letter ids or --all[/] (to {verb} every open one, of --flow if given)")
        raise typer.Exit(USAGE)
    outcome = with_store(config, lambda store: action(store, ids or [], every=every, flow=flow))
    console.print(
        f"{verb} {len(outcome.done)} dead letters"
        + (f": {', '.join(map(str, outcome.done))}" if outcome.done else "")
    )
    if outcome.skipped:
        err.print(
            "[yellow]not open (unknown, already retried or discarded):[/] "
            + ", ".join(map(str, outcome.skipped))
        )
        raise typer.Exit(NOT_CLEAN)


@dead_app.command("retry")
def dead_retry(
    ids: IdsArgument = None,
    every: AllOption = False,
    flow: FlowFilter = None,
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Queue the records again (after a fix of the configuration or data); the engine picks them up."""
    _act(dead_letters.retry, "retried", config, ids, every, flow)


@dead_app.command("discard")
def dead_discard(
    ids: IdsArgument = None,
    every: AllOption = False,
    flow: FlowFilter = None,
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Close dead letters without replaying them."""
    _act(dead_letters.discard, "discarded", config, ids, every, flow)
