"""Credentials that expire: a connection's API key is announced before it stops working.

Invariant: while a connection's credentials are within their warning time (or past expiry) exactly one
alert about them is open; it is resolved once the connection reports new ones. Asking costs a request
to the system, so the watch asks once an hour, not at every monitor round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import anyio

from emporion.alerts import Alert, AlertKind, AlertSink, Severity
from emporion.connectors.base import ConnectorError
from emporion.connectors.roles import Connection, ExpiringCredentials
from emporion.logs import get_logger

log = get_logger("emporion.alerts")
CHECK_SECONDS = 3600.0


def expiry_alert(name: str, expires_at: datetime, what: str, now: datetime) -> Alert:
    """The alert for credentials of connection `name` that expire at `expires_at` (warning or critical)."""
    left = expires_at - now
    day = expires_at.date().isoformat()
    if left.total_seconds() <= 0:
        message = (
            f"the {what} of connection {name} expired on {day}: "
            "make a new one and set it in the configuration"
        )
        severity = Severity.CRITICAL
    else:
        days = max(0, left.days)
        message = (
            f"the {what} of connection {name} expires on {day} (in {days} day{'s' * (days != 1)}): "
            "make a new one and set it in the configuration before then"
        )
        severity = Severity.WARNING
    details = {"expires_at": expires_at.isoformat(), "what": what}
    return Alert(AlertKind.CREDENTIALS_EXPIRING, name, message, severity, details=details)


async def check_credentials(
    alerts: AlertSink, connections: Mapping[str, Connection], now: datetime | None = None
) -> None:
    """Ask each connection whose credentials expire; alert inside the warning time, resolve otherwise."""
    now = now or datetime.now(UTC)
    for name, connection in sorted(connections.items()):
        if not isinstance(connection, ExpiringCredentials):
            continue
        try:
            expiry = await connection.credential_expiry()
        except ConnectorError as error:  # unreachable now: the next round asks again
            log.warning(
                "credential expiry unknown", connection=name, error=f"{type(error).__name__}: {error}"
            )
            continue
        if expiry is not None and now >= expiry.expires_at - expiry.warn_before:
            await alerts.notify(expiry_alert(name, expiry.expires_at, expiry.what, now))
        else:
            resolved = f"the credentials of connection {name} are not about to expire"
            await alerts.notify(Alert(AlertKind.CREDENTIALS_EXPIRING, name, resolved, resolved=True))


async def watch_credentials(
    alerts: AlertSink,
    connections: Callable[[], Mapping[str, Connection]],
    stop: anyio.Event,
    interval: float = CHECK_SECONDS,
) -> None:
    """`check_credentials` now and then every `interval` seconds until `stop`."""
    while not stop.is_set():
        try:
            await check_credentials(alerts, connections())
        except Exception as error:  # the state database is away: the next round tries again
            log.warning("credential checks failed", error=f"{type(error).__name__}: {error}")
        with anyio.move_on_after(interval):
            await stop.wait()
