"""The plan table keeps to the columns a plan has: the four every plan has, others only when counted."""

from __future__ import annotations

from collections import Counter

from rich.console import Console

from emporion.console import render_plan
from emporion.engine.sync import EntityReport, FlowReport


def header(report: FlowReport) -> str:
    console = Console(record=True, width=200)
    render_plan(console, report)
    return next(line for line in console.export_text().splitlines() if "entity" in line)


def test_columns_no_entity_counts_are_left_out() -> None:
    quiet = FlowReport("catalogue", [EntityReport("product", counts=Counter(create=3))])
    shown = header(quiet)
    assert all(word in shown for word in ("create", "match", "update", "unchanged", "invalid"))
    assert not any(word in shown for word in ("waiting", "unpublish", "delete", "conflict", "only in"))


def test_a_count_brings_its_column_and_a_two_way_flow_its_target_only_column() -> None:
    busy = FlowReport(
        "catalogue",
        [
            EntityReport("category", counts=Counter(waiting=1)),
            EntityReport("product", counts=Counter(conflict=2), only_in_target=4),
        ],
    )
    shown = header(busy)
    assert "waiting" in shown and "conflict" in shown and "only in target" in shown
    assert "unpublish" not in shown
