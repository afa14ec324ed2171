"""Alerts: what the engine tells a person about, and the one interface every part raises them through.

Parts of the engine (circuit breakers, reconciliation, the webhook keeper, the monitors) call
`AlertSink.notify(Alert(...))`; the sink decides where an alert goes (log, e-mail, chat webhook) and
keeps a person from being told the same thing twice within a quiet period. An alert's text names
flows, connections, SKUs and order numbers, never secrets or personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from emporion.logs import get_logger

log = get_logger("emporion.alerts")


class AlertKind(StrEnum):
    """What an alert is about; with the subject, the key alerts are de-duplicated by."""

    DEAD_LETTER = "dead_letter"
    CIRCUIT_OPEN = "circuit_open"
    SYNC_LAG = "sync_lag"
    WEBHOOK_DISABLED = "webhook_disabled"
    WEBHOOK_SIGNATURE = "webhook_signature"  # deliveries keep failing the signature check (secret changed?)
    DRIFT = "drift"
    LOW_STOCK = "low_stock"
    STOCK_SHORT = "stock_short"  # a shop order wants more than the ERP has
    TEST = "test"  # `emporion alerts test`: does each channel deliver?
    SHIPPED_CANCELLATION = "shipped_cancellation"  # cancelled in the shop: what is left to do in the ERP
    ORDER_HELD = "order_held"  # the ERP's sale differs from the shop's order (totals): held for a person
    CREDENTIALS_EXPIRING = "credentials_expiring"  # a connection's API key expires soon (or has)


class Severity(StrEnum):
    """How urgent an alert is (chooses the log level and the colour of chat messages)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One thing a person should know: `kind` + `subject` identify it (e.g. circuit_open + "shop-de")."""

    kind: AlertKind
    subject: str
    message: str
    severity: Severity = Severity.WARNING
    flow: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    resolved: bool = False  # the condition is over (a circuit closed again, lag back under the threshold)

    @property
    def key(self) -> str:
        """The de-duplication key: kind and subject, and the flow when the alert belongs to one.

        Two shops low on the same SKU are two alerts, each resolved by its own flow.
        """
        if self.flow:
            return f"{self.kind}:{self.flow}:{self.subject}"
        return f"{self.kind}:{self.subject}"


@runtime_checkable
class AlertSink(Protocol):
    """Where alerts go. `notify` never raises: a broken channel must not stop the sync."""

    async def notify(self, alert: Alert) -> None: ...


class LogAlerts:
    """The default sink: each alert becomes one log line (no channel configured)."""

    async def notify(self, alert: Alert) -> None:
        """Log the alert at a level that matches its severity."""
        emit = log.info if alert.resolved or alert.severity is Severity.INFO else log.warning
        emit(
            "alert resolved" if alert.resolved else "alert",
            kind=str(alert.kind),
            subject=alert.subject,
            flow=alert.flow,
            message=alert.message,
        )


class RecordingAlerts:
    """A sink that keeps what it is told, in order (tests, and the dashboard's recent alerts)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def notify(self, alert: Alert) -> None:
        """Remember the alert."""
        self.alerts.append(alert)

    def of(self, kind: AlertKind) -> list[Alert]:
        """The alerts of one kind, in the order they came."""
        return [alert for alert in self.alerts if alert.kind is kind]


__all__ = ["Alert", "AlertKind", "AlertSink", "LogAlerts", "RecordingAlerts", "Severity"]
