"""Prometheus metrics: in-process counters and histograms, plus gauges read from the state database.

Counters (work processed and failed, connection requests) and the latency histogram count what this
process did since it started; with several processes each exposes its own and Prometheus sums them.
Gauges (queue depth, lag, dead letters, circuits, paused flows) are read from the state database at
scrape time, so any process reports them correctly for all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from emporion.connectors.roles import BudgetedConnection, Connection
from emporion.logs import current_correlation_id

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

WORK_PROCESSED = Counter(
    "emporion_work_processed",
    "Work items handled, by outcome (written, unchanged, dead, retry...).",
    ["flow", "entity", "connection", "outcome"],
    registry=REGISTRY,
)
WORK_FAILED = Counter(
    "emporion_work_failed",
    "Work items that failed (dead letter or retry).",
    ["flow", "entity", "connection"],
    registry=REGISTRY,
)
SYNC_LATENCY = Histogram(
    "emporion_sync_latency_seconds",
    "Seconds from a key being queued to its write being committed.",
    ["flow", "entity"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
CONNECTION_REQUESTS = Counter(
    "emporion_connection_requests",
    "HTTP requests sent to each connection, by method and status code.",
    ["connection", "method", "status"],
    registry=REGISTRY,
)
CIRCUIT_STATES = ("closed", "half-open", "open")  # the values of connectors.circuit.CircuitState


def observe_batch(
    flow: str,
    entity: str,
    connection: str,
    counts: Mapping[str, int],
    failed: int,
    enqueued: Iterable[datetime | None],
) -> None:
    """Count one processed batch and the latency of its committed items."""
    for outcome, count in counts.items():
        WORK_PROCESSED.labels(flow, entity, connection, outcome).inc(count)
    if failed:
        WORK_FAILED.labels(flow, entity, connection).inc(failed)
    now = datetime.now(UTC)
    for at in enqueued:
        if at is not None:
            SYNC_LATENCY.labels(flow, entity).observe(max(0.0, (now - at).total_seconds()))


class ConnectionMetrics:
    """Counts one connection's requests and sends the current correlation id with each of them."""

    def __init__(self, connection: str) -> None:
        self.connection = connection

    async def before(self, headers: MutableMapping[str, str]) -> None:
        """Add the correlation id of the work being done, if any."""
        correlation = current_correlation_id()
        if correlation:
            headers["X-Correlation-ID"] = correlation

    async def after(self, method: str, status: int) -> None:
        """Count the answer by method and status."""
        CONNECTION_REQUESTS.labels(self.connection, method, str(status)).inc()


def instrument_connector(connector: Connection, connection: str) -> None:
    """Count the requests of a connector that lets them be observed."""
    if isinstance(connector, BudgetedConnection):
        connector.observe_requests(ConnectionMetrics(connection))


Snapshot = Callable[[], Awaitable[list[GaugeMetricFamily]]]


class _Families:
    """A collector that hands out families read beforehand (prometheus_client collects synchronously)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        """The families, as read."""
        return self.families


def render(families: list[GaugeMetricFamily]) -> bytes:
    """The exposition text: this process's counters and the state gauges read at scrape time."""
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Families(families))  # type: ignore[arg-type]
    return generate_latest(REGISTRY) + generate_latest(snapshot)
