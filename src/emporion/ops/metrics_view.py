"""`/metrics`: this process's counters plus gauges read from the state database at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily

from emporion.metrics import CIRCUIT_STATES, render

from .service import ConsoleService


async def state_gauges(service: ConsoleService) -> list[GaugeMetricFamily]:
    """Queue depth, lag, open dead letters, paused flows and circuit states, as the database has them."""
    store = service.store
    queued = GaugeMetricFamily(
        "emporion_work_queued", "Work items waiting in the queue.", labels=["flow", "entity"]
    )
    for (flow, entity), count in sorted((await store.queue_depth()).items()):
        queued.add_metric([flow, entity], count)
    lag = GaugeMetricFamily(
        "emporion_flow_lag_seconds",
        "How long the oldest ready work item of a flow has waited.",
        labels=["flow"],
    )
    paused_gauge = GaugeMetricFamily(
        "emporion_flow_paused", "1 when an operator paused the flow.", labels=["flow"]
    )
    dead = GaugeMetricFamily("emporion_dead_letters_open", "Open dead letters per flow.", labels=["flow"])
    waiting, paused = await store.waiting_since(), await store.paused_flows()
    open_dead = await store.dead_summary(sample=0)
    now = datetime.now(UTC)
    for flow in service.settings.flows:
        since = waiting.get(flow.name)
        lag.add_metric([flow.name], max(0.0, (now - since).total_seconds()) if since else 0.0)
        paused_gauge.add_metric([flow.name], 1.0 if flow.name in paused else 0.0)
        dead.add_metric([flow.name], open_dead.get(flow.name, (0, 0, []))[0])
    circuit = GaugeMetricFamily(
        "emporion_circuit_state",
        "1 for the circuit state a connection is in.",
        labels=["connection", "state"],
    )
    for view in await service.circuits():
        for state in CIRCUIT_STATES:
            circuit.add_metric([view.connection, state], 1.0 if view.state == state else 0.0)
    return [queued, lag, paused_gauge, dead, circuit]


async def metrics_response(service: ConsoleService) -> Response:
    """The Prometheus exposition of this process and the state database."""
    return Response(render(await state_gauges(service)), media_type=CONTENT_TYPE_LATEST)
