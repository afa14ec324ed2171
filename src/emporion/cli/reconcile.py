"""`emporion reconcile`: compare each flow's records on both sides, report drift, and queue repairs.

After the drift, the open conflicts of two-way flows (fields changed on the side that does not own them).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Annotated

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
from emporion.cli.conflicts import as_json as conflict_json
from emporion.cli.conflicts import flow_conflicts, in_flow, render_conflicts, short, two_way
from emporion.cli.sync import target_answers
from emporion.engine.drift import DriftItem
from emporion.engine.reconcile import DRIFT_KINDS, Reconciler, ReconcileResult
from emporion.engine.worker import Engine
from emporion.state import Conflict

FIELDS_SHOWN = 6  # per record in the full table; --json has them all
EXAMPLES = 3  # records named per kind in the summary
FIELDS_COUNTED = 5  # most frequent differing fields named in the summary
CONFLICTS_SHOWN = 20  # open conflicts listed after the drift (all with --full)
CONFLICTS_READ = 1000  # open conflicts counted at most
ADVICE = {
    "missing": "`emporion reconcile --repair` queues them to be created (or run `emporion sync`)",
    "unlinked": "in the target already: `emporion sync` (or a repair) links them without writing twice",
    "extra": "removed on `--repair` only when the flow's reconcile.extras is unpublish or delete",
    "different": "`emporion reconcile --repair` queues the source's values to be written again",
}


def _example(item: DriftItem) -> str:
    """One drifted record in a few words: its label and its first differing fields."""
    if not item.fields:
        return item.label
    shown = ", ".join(f"{d.field} {short(d.expected)} -> {short(d.actual)}" for d in item.fields[:2])
    more = f", +{len(item.fields) - 2} fields" if len(item.fields) > 2 else ""
    return f"{item.label} ({shown}{more})"


def _field_counts(items: list[DriftItem]) -> str:
    """The fields that differ most often, with how many records each (variants folded together)."""
    counted: Counter[str] = Counter()
    for item in items:
        counted.update({re.sub(r"^variants\[[^]]*\]", "variants[]", d.field) for d in item.fields})
    return ", ".join(f"{name} {count}" for name, count in counted.most_common(FIELDS_COUNTED))


def render_reconcile(out: Console, result: ReconcileResult, *, full: bool = False) -> None:
    """A reconcile report: per kind of drift its count, a few examples and what to do; all with `full`."""
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
    for kind in DRIFT_KINDS:
        if not counts[kind]:
            continue
        items = [item for item in result.items if item.kind == kind]
        out.print(f"  [bold]{kind}[/] {counts[kind]}: {ADVICE[kind]}", highlight=False)
        if kind == "different" and (fields := _field_counts(items)):
            out.print(f"    fields: {fields}", highlight=False)
        for item in items[:EXAMPLES]:
            out.print(f"    {item.entity} {_example(item)}", markup=False, highlight=False)
        if counts[kind] > EXAMPLES:
            out.print(f"    ... and {counts[kind] - EXAMPLES} more", highlight=False)
    if full:
        _table(out, result)
    else:
        flow = f" --flow {result.flow}"
        out.print(f"  every record: `emporion reconcile{flow} --full` (or --json)", highlight=False)
    if result.repair and counts["repaired"]:
        out.print("repairs are queued: a running `emporion run` applies them, or `emporion run --once`")


def _table(out: Console, result: ReconcileResult) -> None:
    """Every drifted record kept in the report, one row each with its fields."""
    table = Table()
    for column in ("entity", "kind", "record", "target id", "fields: expected -> actual", "repaired"):
        table.add_column(column, overflow="fold")
    for item in result.items:
        fields = [f"{d.field}: {short(d.expected)} -> {short(d.actual)}" for d in item.fields[:FIELDS_SHOWN]]
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
    if result.counts["items_left_out"]:
        out.print(f"({result.counts['items_left_out']} more records drifted; the counts include them)")


def reconcile(
    config: ConfigOption = Path("emporion.yaml"),
    flow: FlowOption = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Queue the fixes (a running engine applies them).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="List every drifted record, not only a few per kind.")
    ] = False,
) -> None:
    """Compare the flows' records on both sides and report drift (exit 1 when drift is left unrepaired).

    Two-way flows' open conflicts are listed after the drift; they leave the exit code alone.
    """
    settings = load(config)
    names = selected_flows(settings, flow)

    async def work(engine: Engine) -> tuple[list[ReconcileResult], list[Conflict]]:
        for name in names:  # a target that is down or refuses ends the command in one line (exit 3/4)
            if name in engine.runners:
                await target_answers(engine.runners[name])
        reconciler = Reconciler(engine)
        results = [await reconciler.reconcile(name, repair=repair) for name in names]
        return results, await flow_conflicts(engine.store, settings, names, limit=CONFLICTS_READ)

    results, conflicts = run_async(lambda: with_engine(settings, work))
    if as_json:
        documents = [result.as_json() for result in results]
        for document, name in zip(documents, names, strict=True):
            if two_way(settings, [name]):  # one-way flows' reports stay as they were
                document["conflicts"] = [conflict_json(c) for c in in_flow(settings, name, conflicts)]
        print(json.dumps(documents, indent=2, ensure_ascii=False, default=str))
    else:
        for result in results:
            render_reconcile(console, result, full=full)
        if conflicts or two_way(settings, names):
            render_conflicts(
                console, conflicts, shown=None if full else CONFLICTS_SHOWN, limit=CONFLICTS_READ
            )
            if conflicts:
                console.print("  to let one stand: `emporion conflicts dismiss ID`", highlight=False)
    exit_clean(all(result.status in ("clean", "repaired") for result in results))
