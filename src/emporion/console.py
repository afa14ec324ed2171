"""Rich rendering of reports for the terminal: plans, sync and verification reports, checks."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from emporion.connectors.base import CheckResult
from emporion.engine.sync import FlowReport
from emporion.state import CircuitRecord

SHOWN = 10


def render_checks(console: Console, name: str, results: list[CheckResult]) -> None:
    for result in results:
        mark = "[green]ok[/]" if result.ok else "[red]FAIL[/]"
        detail = f" — {result.detail}" if result.detail else ""
        console.print(f"  {mark} {name}: {result.name}{detail}")


PLAN_ACTIONS = ("create", "match", "update", "unchanged", "waiting", "unpublish", "delete")


def render_plan(console: Console, report: FlowReport) -> None:
    """Per entity, how many records a sync would create, match, update, leave, hold back or remove."""
    table = Table(title=f"plan for flow {report.flow}")
    for column in ("entity", *PLAN_ACTIONS, "invalid"):
        table.add_column(column, justify="right" if column != "entity" else "left")
    for entity in report.entities:
        c = entity.counts
        table.add_row(entity.entity, *(str(c.get(k, 0)) for k in PLAN_ACTIONS), str(len(entity.failed)))
    console.print(table)
    for entity in report.entities:
        for item in entity.planned[:SHOWN]:
            detail = f" ({item.detail})" if item.detail else ""
            console.print(f"  {entity.entity} {item.action:9} {item.label}{detail}")
        if len(entity.planned) > SHOWN:
            console.print(f"  … and {len(entity.planned) - SHOWN} more {entity.entity} changes")
        for label, reason in entity.failed[:SHOWN]:
            console.print(f"  [red]invalid[/] {entity.entity} {label}: {reason}")


def render_report(console: Console, report: FlowReport, *, verified: bool = True) -> None:
    """The report of a verify, or of a sync (`verified=False`: nothing compared, so no missing or differ)."""
    title = (
        f"verification of flow {report.flow}" if verified else f"sync of flow {report.flow} (not verified)"
    )
    table = Table(title=title)
    for column in (
        "entity",
        "source",
        "target",
        "linked",
        "written",
        "unchanged",
        "failed",
        "missing",
        "differ",
    ):
        table.add_column(column, justify="right" if column != "entity" else "left")
    for entity in report.entities:
        c = entity.counts
        written = sum(c.get(k, 0) for k in ("created", "matched", "updated", "unpublished", "deleted"))
        table.add_row(
            entity.entity,
            str(entity.source_count),
            "?" if entity.target_count is None else str(entity.target_count),
            str(entity.linked),
            str(written),
            str(c.get("unchanged", 0)),
            str(len(entity.failed)),
            str(len(entity.missing)) if verified else "-",
            str(len(entity.mismatches)) if verified else "-",
        )
    console.print(table)
    for entity in report.entities:
        for label, reason in entity.failed[:SHOWN]:
            console.print(f"  [red]failed[/] {entity.entity} {label}: {reason}")
        for label in entity.missing[:SHOWN]:
            console.print(f"  [red]missing in target[/] {entity.entity} {label}")
        for mismatch in entity.mismatches[:SHOWN]:
            fields = ", ".join(
                f"{d.field} (want {d.expected!r}, found {d.actual!r})" for d in mismatch.diffs[:4]
            )
            console.print(f"  [yellow]differs[/] {entity.entity} {mismatch.label}: {fields}")
        if entity.linked < entity.source_count:
            console.print(
                f"  [red]{entity.source_count - entity.linked} {entity.entity} records are not linked yet[/]"
            )
    verdict = "[green]clean[/]" if report.clean else "[red]not clean[/]"
    console.print(f"flow {report.flow}: {verdict}")


def render_circuits(console: Console, connections: list[str], circuits: list[CircuitRecord]) -> None:
    """One line per connection: its circuit (closed, open, half-open), since when, times opened, why."""
    known = {record.connection: record for record in circuits}
    table = Table(title="circuits")
    for column in ("connection", "circuit", "since", "opened", "last error"):
        table.add_column(column)
    colours = {"closed": "green", "open": "red", "half-open": "yellow"}
    for name in sorted(set(connections) | set(known)):
        record = known.get(name)
        if record is None:
            table.add_row(name, "[green]closed[/]", "-", "0", "")
            continue
        colour = colours.get(record.state, "white")
        table.add_row(
            name,
            f"[{colour}]{record.state}[/]",
            record.since.strftime("%Y-%m-%d %H:%M:%S UTC"),
            str(record.opened_count),
            record.last_error or "",
        )
    console.print(table)
