"""`emporion status`: queue depth, links and dead letters per flow, and each connection's circuit."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from emporion.cli.common import ConfigOption, console, load, run_async, with_engine
from emporion.console import render_circuits
from emporion.engine.worker import Engine
from emporion.state import CircuitRecord


def status(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Queue depth, links and open dead letters per flow, and each connection's circuit breaker."""
    settings = load(config)
    circuits: list[CircuitRecord] = []

    async def work(engine: Engine) -> list[tuple[str, str, int, int]]:
        circuits.extend(await engine.store.circuits())
        depth = await engine.store.queue_depth()
        rows = []
        for flow in settings.flows:
            if not flow.enabled:
                continue
            for entity in engine.queue_entities(flow):
                links = await engine.store.count_links(flow.name, entity)
                rows.append((flow.name, entity, links, depth.get((flow.name, entity), 0)))
        dead = await engine.store.list_dead(limit=1000)
        rows.append(("dead letters", "open", len(dead), 0))
        return rows

    table = Table(title="emporion status")
    for column in ("flow", "entity", "linked", "queued"):
        table.add_column(column)
    for row in run_async(lambda: with_engine(settings, work)):
        table.add_row(*map(str, row))
    console.print(table)
    render_circuits(console, list(settings.connections), circuits)
