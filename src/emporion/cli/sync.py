"""`emporion check`, `plan`, `sync` and `verify`: connect, preview, sync in bulk, compare both sides."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from emporion.cli.common import (
    ConfigOption,
    FlowOption,
    console,
    err,
    exit_clean,
    load,
    open_store,
    run_async,
    selected_flows,
    with_engine,
)
from emporion.config import Settings
from emporion.console import render_checks, render_plan, render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.sync import FlowReport, sync_flow, verify_flow
from emporion.engine.worker import Engine

if TYPE_CHECKING:
    from emporion.engine.flow import FlowRunner


def check(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Validate the configuration, connect to each system and check its permissions."""
    settings = load(config)
    console.print(f"[green]configuration {config} is valid[/]")
    exit_clean(run_async(lambda: _check_all(settings)))


async def _check_all(settings: Settings) -> bool:
    """Every connection's checks and the state database's, printed; whether all passed."""
    from emporion.connectors.base import CheckResult
    from emporion.state import SchemaNotCurrent

    ok = True
    pool = ConnectorPool(settings)
    try:
        for name in settings.connections:
            try:
                results = await pool.get(name).check()
            except Exception as error:  # a broken connector must not hide the other checks
                results = [CheckResult("connect", False, str(error))]
            render_checks(console, name, results)
            ok = ok and all(result.ok for result in results)
    finally:
        await pool.close()
    try:
        store = await open_store(settings.state.url, migrate=False)
        await store.close()
        console.print("  [green]ok[/] state database: reachable and up to date")
    except SchemaNotCurrent:
        console.print("  [green]ok[/] state database: reachable; tables are created on the first sync")
    except Exception as error:
        console.print(f"  [red]FAIL[/] state database: {error}")
        ok = False
    return ok


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # a bar is for a person: a log or a pipe gets no blank line from it
    )


async def target_answers(runner: FlowRunner) -> None:
    """One cheap read of the flow's target (a count), so that a target that is down, in maintenance or
    refusing the credentials ends the command at once, before batches wait and retry (the source's
    first read, its change feed's start, comes first in every sync anyway)."""
    for entity in runner.flow.entities[:1]:
        await runner.target.count(entity)


async def _linked(engine: Engine, report: FlowReport) -> None:
    """Count each entity's synced links after a sync without verification (it counts them itself), so
    that "not linked yet" and the exit code tell what the sync did."""
    for entity_report in report.entities:
        entity_report.linked = 0
        async for links in engine.store.iter_links(report.flow, entity_report.entity):
            entity_report.linked += sum(1 for link in links if link.state == "synced" and link.target_ref)


async def _sync_all(engine: Engine, flows: list[str], *, dry_run: bool, verify: bool) -> list[FlowReport]:
    """Sync (or plan, with `dry_run`) the catalogue flows among `flows`, with a progress bar per entity."""
    reports = []
    with _progress() as progress:
        tasks: dict[tuple[str, str], TaskID] = {}
        for name in flows:
            if name not in engine.runners:
                continue  # order flows have no bulk sync: their feeds and sliding window bring orders
            runner = engine.runners[name]
            await target_answers(runner)

            def advance(entity: str, count: int, name: str = name) -> None:
                if (name, entity) not in tasks:
                    tasks[(name, entity)] = progress.add_task(f"{name} {entity}", total=None)
                progress.advance(tasks[(name, entity)], count)

            report = await sync_flow(runner, dry_run=dry_run, progress=advance)
            if verify and not dry_run:
                report = await verify_flow(runner, report)
            elif not dry_run:
                await _linked(engine, report)
            reports.append(report)
    return reports


def say_order_flows(settings: Settings, names: list[str]) -> None:
    """One line per order flow among `names`: they have no bulk sync, `run` takes their orders."""
    for name in names:
        if "order" in settings.flow(name).entities:
            console.print(
                f"flow {name}: orders come with `emporion run` (webhooks, change feed and the sliding"
                " window; `run --once` for one pass), not with plan, sync or verify"
            )


def plan(config: ConfigOption = Path("emporion.yaml"), flow: FlowOption = None) -> None:
    """Show what a sync would create, update and remove per entity, without writing anything."""
    settings = load(config)
    names = selected_flows(settings, flow)
    reports = run_async(
        lambda: with_engine(settings, lambda e: _sync_all(e, names, dry_run=True, verify=False))
    )
    for report in reports:
        render_plan(console, report)
    say_order_flows(settings, names)


def sync(
    config: ConfigOption = Path("emporion.yaml"),
    flow: FlowOption = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Compare both sides afterwards.")
    ] = True,
) -> None:
    """Sync every record of the flows now, then report what differs (exit 1 if anything does, or, with
    --no-verify, if a record failed or is not linked)."""
    settings = load(config)
    names = selected_flows(settings, flow)
    reports = run_async(
        lambda: with_engine(settings, lambda e: _sync_all(e, names, dry_run=False, verify=verify))
    )
    for report in reports:
        render_report(console, report, verified=verify)
    say_order_flows(settings, names)
    exit_clean(all(r.clean for r in reports))


def verify(config: ConfigOption = Path("emporion.yaml"), flow: FlowOption = None) -> None:
    """Compare the flows' records on both sides, field by field, without writing."""
    settings = load(config)
    names = selected_flows(settings, flow)

    async def work(engine: Engine) -> list[FlowReport]:
        runners = [engine.runners[name] for name in names if name in engine.runners]
        for runner in runners:
            await target_answers(runner)
        return [await verify_flow(runner) for runner in runners]

    reports = run_async(lambda: with_engine(settings, work))
    for report in reports:
        render_report(console, report)
    say_order_flows(settings, names)
    exit_clean(all(r.clean for r in reports))
