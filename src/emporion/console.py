"""Rich rendering of reports for the terminal: plans, sync and verification reports, checks."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from emporion.connectors.base import CheckResult
from emporion.engine.flow import MATCHED_ON
from emporion.engine.sync import EntityReport, FlowReport
from emporion.state import CircuitRecord

SHOWN = 10


def render_checks(console: Console, name: str, results: list[CheckResult]) -> None:
    for result in results:
        mark = "[green]ok[/]" if result.ok else "[red]FAIL[/]"
        detail = f" — {result.detail}" if result.detail else ""
        console.print(f"  {mark} {name}: {result.name}{detail}")


PLAN_ACTIONS = ("create", "match", "update", "unchanged", "waiting", "unpublish", "delete")
TWO_WAY_ACTIONS = ("conflict",)  # two-way flows: records with a field in conflict
ALWAYS_SHOWN = frozenset({"create", "match", "update", "unchanged"})


def render_plan(console: Console, report: FlowReport) -> None:
    """Per entity, how many records a sync would create, match, update, leave, hold back or remove."""
    table = Table(title=f"plan for flow {report.flow}")
    two_way = any(entity.only_in_target is not None for entity in report.entities)
    # the four counts every plan has, and the others only where some entity has one (a narrow table)
    actions = [
        action
        for action in (*PLAN_ACTIONS, *TWO_WAY_ACTIONS)
        if action in ALWAYS_SHOWN or any(entity.counts.get(action) for entity in report.entities)
    ]
    for column in ("entity", *actions, "invalid", *(("only in target",) if two_way else ())):
        table.add_column(column, justify="right" if column != "entity" else "left")
    for entity in report.entities:
        c = entity.counts
        extra = (str(entity.only_in_target or 0),) if two_way else ()
        table.add_row(entity.entity, *(str(c.get(k, 0)) for k in actions), str(len(entity.failed)), *extra)
    console.print(table)
    for entity in report.entities:
        for item in entity.planned[:SHOWN]:
            detail = f" ({item.detail})" if item.detail else ""
            console.print(f"  {entity.entity} {item.action:9} {item.label}{detail}")
        if len(entity.planned) > SHOWN:
            console.print(f"  … and {len(entity.planned) - SHOWN} more {entity.entity} changes")
        for label, reason in entity.failed[:SHOWN]:
            console.print(f"  [red]invalid[/] {entity.entity} {label}: {reason}")
        render_two_way(console, entity)


def render_two_way(console: Console, entity: EntityReport) -> None:
    """A two-way flow's first-run lines: fields that differ and who wins, conflicts, the target's own."""
    for (field, winner), count in sorted(entity.differs.items()):
        wins = "in conflict" if winner == "conflict" else f"{winner} wins"
        console.print(f"  {entity.entity} differs: {field} ({wins}) in {count}")
    for natural_key, field in entity.conflicts[:SHOWN]:
        console.print(f"  [yellow]conflict[/] {entity.entity} {natural_key}: {field}")
    if len(entity.conflicts) > SHOWN:
        console.print(f"  … and {len(entity.conflicts) - SHOWN} more {entity.entity} conflicts")
    if entity.only_in_target:
        sample = ", ".join(entity.only_in_target_sample)
        more = " …" if entity.only_in_target > len(entity.only_in_target_sample) else ""
        console.print(f"  only in the target: {entity.only_in_target} {entity.entity} ({sample}{more})")


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
        if entity.only_in_target is not None:
            created, matched = entity.counts.get("created", 0), entity.counts.get("matched", 0)
            on = MATCHED_ON.get(entity.entity, "key")
            console.print(f"  {entity.entity}: {created} created, {matched} matched by {on}")
        render_two_way(console, entity)
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
