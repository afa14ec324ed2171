"""`emporion reconcile`: compare each flow's records on both sides, report drift, and queue repairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from emporion.cli.common import (
    ConfigOption,
    FlowOption,
    console,
    exit_clean,
    load,
    run_async,
    selected_flows,
    with_engine,
)
from emporion.engine.reconcile import DRIFT_KINDS, Reconciler, ReconcileResult
from emporion.engine.worker import Engine

FIELDS_SHOWN = 6  # per record in the table; --json has them all


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def render_reconcile(out: Console, result: ReconcileResult) -> None:
    """A reconcile report: a summary line, then one row per drifted record with its fields."""
    counts = result.counts
    if result.error:
        out.print(f"[red]reconcile {result.flow}: failed[/] ({result.error})")
        return
    if result.clean:
        out.print(f"[green]reconcile {result.flow}: clean[/] ({counts['compared']} records compared)")
        return
    kinds = ", ".join(f"{counts[kind]} {kind}" for kind in DRIFT_KINDS if counts[kind])
    repaired = f", {counts['repaired']} repairs queued" if result.repair else ""
    out.print(f"[yellow]reconcile {result.flow}: {result.drift} records drifted[/] ({kinds}{repaired})")
    table = Table()
    for column in ("entity", "kind", "record", "target id", "fields: expected -> actual", "repaired"):
        table.add_column(column, overflow="fold")
    for item in result.items:
        fields = [
            f"{d.field}: {_value(d.expected)} -> {_value(d.actual)}" for d in item.fields[:FIELDS_SHOWN]
        ]
        if len(item.fields) > FIELDS_SHOWN:
            fields.append(f"... {len(item.fields) - FIELDS_SHOWN} more")
        table.add_row(
            item.entity,
            item.kind,
            item.label,
            item.target_id or "",
            "\n".join(fields) or item.detail,
            "yes" if item.repaired else "no",
        )
    out.print(table)
    if counts["items_left_out"]:
        out.print(f"({counts['items_left_out']} more records drifted; the counts include them)")
    if result.repair and counts["repaired"]:
        out.print("repairs are queued: a running `emporion run` applies them, or `emporion run --once`")


def reconcile(
    config: ConfigOption = Path("emporion.yaml"),
    flow: FlowOption = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Queue the fixes (a running engine applies them).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Compare the flows' records on both sides and report drift (exit 1 when drift is left unrepaired)."""
    settings = load(config)
    names = selected_flows(settings, flow)

    async def work(engine: Engine) -> list[ReconcileResult]:
        reconciler = Reconciler(engine)
        return [await reconciler.reconcile(name, repair=repair) for name in names]

    results = run_async(lambda: with_engine(settings, work))
    if as_json:
        print(json.dumps([result.as_json() for result in results], indent=2, ensure_ascii=False))
    else:
        for result in results:
            render_reconcile(console, result)
    exit_clean(all(result.status in ("clean", "repaired") for result in results))
