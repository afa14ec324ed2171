"""`emporion conflicts`: fields both systems edit that they hold differently, left for a person or reverted.

A conflict's values may be personal data (a customer's address): they are shown here, never logged.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emporion.cli.common import (
    NOT_CLEAN,
    USAGE,
    ConfigOption,
    JsonOption,
    console,
    err,
    load,
    open_store,
    run_async,
    selected_flows,
)
from emporion.config import Settings, ownership_of
from emporion.state import Conflict, StateStore, conflict_pair

SHORT = 40  # characters of a value in a table; --json has them whole
STATES = ("open", "reverted", "resolved", "dismissed")

conflicts_app = typer.Typer(
    help="Conflicts: fields both systems edit, changed on the side that does not own them.",
)


def short(value: Any) -> str:
    """A value in a few characters: numbers and text as they are, anything else as JSON."""
    plain = isinstance(value, str | Decimal | int | float) and not isinstance(value, bool)
    text = str(value) if plain else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def scopes(settings: Settings, names: Sequence[str]) -> dict[str, list[str]]:
    """The pairs of connections these flows move records between, with the entities they move."""
    found: dict[str, set[str]] = {}
    for flow in settings.flows:
        if flow.name in names:
            found.setdefault(conflict_pair(flow.source, flow.target), set()).update(flow.entities)
    return {pair: sorted(entities) for pair, entities in sorted(found.items())}


def two_way(settings: Settings, names: Sequence[str]) -> bool:
    """Whether any of these flows has field owners (it, or its reverse flow, names them)."""
    return any(ownership_of(settings, flow) is not None for flow in settings.flows if flow.name in names)


async def flow_conflicts(
    store: StateStore,
    settings: Settings,
    names: Sequence[str],
    *,
    state: str | None = "open",
    limit: int = 100,
) -> list[Conflict]:
    """The conflicts of these flows' pairs and entities (found by either direction), newest first."""
    found: dict[int | None, Conflict] = {}
    for pair, entities in scopes(settings, names).items():
        for item in await store.list_conflicts(pair=pair, entities=entities, state=state, limit=limit):
            found[item.id] = item
    newest = sorted(found.values(), key=lambda c: (c.last_seen or datetime.min, c.id or 0), reverse=True)
    return newest[:limit]


def render_conflicts(
    out: Console,
    conflicts: Sequence[Conflict],
    *,
    title: str = "open conflicts",
    shown: int | None = None,
    limit: int | None = None,
) -> None:
    """One row per conflict (the first `shown`): the record, the field, its owner and policy, each value.

    Values and names are escaped: a shop's text may hold what reads as markup ([b], say).

    The title counts them, `limit`+ when the list was cut at `limit`.
    """
    count = f"{limit}+" if limit is not None and len(conflicts) >= limit else str(len(conflicts))
    table = Table(title=f"{title}: {count}")
    every = any(item.state != "open" for item in conflicts)
    table.add_column("id", no_wrap=True)
    table.add_column("record", overflow="fold")
    for column in ("field", "owner", "policy"):
        table.add_column(column, no_wrap=True)
    table.add_column("values", overflow="fold", ratio=1)  # the rest of the width
    if every:
        table.add_column("state", no_wrap=True)
    for item in conflicts[:shown]:
        values = "\n".join(f"{name}: {short(value)}" for name, value in sorted(item.values.items()))
        record = f"{escape(item.natural_key)}\n[dim]{item.entity}[/]"
        cells = [str(item.id), record, escape(item.field), item.owner, item.policy, escape(values)]
        table.add_row(*cells, *([item.state] if every else []))
    out.print(table)
    if shown is not None and len(conflicts) > shown:
        out.print(f"  ... and {len(conflicts) - shown} more: `emporion conflicts` lists them all")


def in_flow(settings: Settings, name: str, conflicts: Sequence[Conflict]) -> list[Conflict]:
    """The conflicts of one flow's pair and entities."""
    scope = scopes(settings, [name])
    return [item for item in conflicts if item.entity in scope.get(item.pair, [])]


def as_json(item: Conflict) -> dict[str, Any]:
    """A conflict as JSON (values whole)."""
    found = asdict(item)
    for name in ("first_seen", "last_seen", "resolved_at"):
        moment = found[name]
        found[name] = moment.isoformat() if moment else None
    return found


@conflicts_app.callback(invoke_without_command=True)
def conflicts(
    ctx: typer.Context,
    config: ConfigOption = Path("emporion.yaml"),
    flow: Annotated[str | None, typer.Option("--flow", "-f", help="Only this flow's records.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every state (reverted, resolved, dismissed too), not only open.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, the most recently seen first.")] = 100,
    as_json_: JsonOption = False,
) -> None:
    """List the open conflicts of every flow (or one); `emporion conflicts dismiss ID` closes one."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load(config)
    names = selected_flows(settings, [flow]) if flow else None
    state = None if every else "open"

    async def work() -> list[Conflict]:
        store = await open_store(settings.state.url)
        try:
            if names is None:  # every conflict kept, a flow since removed from the configuration's too
                return await store.list_conflicts(state=state, limit=limit)
            return await flow_conflicts(store, settings, names, state=state, limit=limit)
        finally:
            await store.close()

    found = run_async(work)
    if as_json_:
        print(json.dumps([as_json(item) for item in found], indent=2, ensure_ascii=False, default=str))
    else:
        render_conflicts(console, found, title="conflicts" if every else "open conflicts", limit=limit)


@conflicts_app.command("dismiss")
def dismiss(
    ident: Annotated[int, typer.Argument(help="The conflict's id (see `emporion conflicts`).")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Let a conflict stand: it stays closed while both sides keep these values."""
    settings = load(config)
    actor = f"cli:{getpass.getuser()}"

    async def work() -> tuple[Conflict | None, bool]:
        store = await open_store(settings.state.url)
        try:
            found = await store.get_conflict(ident)
            done = found is not None and await store.dismiss_conflict(ident, actor)
            await store.audit(
                actor, "conflict.dismiss", target=str(ident), outcome="ok" if done else "failed"
            )
            return found, done
        finally:
            await store.close()

    found, done = run_async(work)
    if found is None:
        err.print(f"[red]no conflict {ident}[/]")
        raise typer.Exit(USAGE)
    if not done:
        err.print(f"[yellow]conflict {ident} is {found.state} already: nothing dismissed[/]")
        raise typer.Exit(NOT_CLEAN)
    console.print(
        f"dismissed conflict {ident} ({found.entity} {found.natural_key}, {found.field})", markup=False
    )
