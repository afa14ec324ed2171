"""An expiring API key is announced within its warning time, once, and the alert ends with a new key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emporion.alerts import AlertKind, RecordingAlerts, Severity
from emporion.alerts.credentials import check_credentials
from emporion.connectors.base import Capabilities, CheckResult, CredentialExpiry, Retryable
from emporion.connectors.roles import Connection, ExpiringCredentials

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


class KeyedConnection:
    """A connection whose API key expires at `expires_at` (None: never); `fail` makes the question fail."""

    def __init__(self, name: str, expires_at: datetime | None, fail: bool = False) -> None:
        self.name = name
        self.expires_at = expires_at
        self.fail = fail

    def capabilities(self) -> Capabilities:
        return Capabilities(reads=frozenset(), writes=frozenset())

    async def check(self) -> list[CheckResult]:
        return []

    async def close(self) -> None:
        return None

    async def credential_expiry(self) -> CredentialExpiry | None:
        if self.fail:
            raise Retryable("server unreachable")
        if self.expires_at is None:
            return None
        return CredentialExpiry(self.expires_at, timedelta(days=14))


class PlainConnection(KeyedConnection):
    """A connection that says nothing about expiry (most systems)."""

    credential_expiry = None  # type: ignore[assignment]


def test_a_connection_with_an_expiring_key_plays_the_capability() -> None:
    assert isinstance(KeyedConnection("odoo", None), ExpiringCredentials)
    assert isinstance(PlainConnection("shop", None), Connection)
    assert not isinstance(PlainConnection("shop", None), ExpiringCredentials)


async def test_inside_the_warning_time_one_warning_names_the_connection_and_the_day() -> None:
    sink = RecordingAlerts()
    soon = KeyedConnection("odoo", NOW + timedelta(days=9, hours=1))
    later = KeyedConnection("odoo-b", NOW + timedelta(days=60))
    await check_credentials(sink, {"odoo": soon, "odoo-b": later, "shop": PlainConnection("shop", None)}, NOW)
    fired = [a for a in sink.alerts if not a.resolved]
    assert len(fired) == 1
    (alert,) = fired
    assert alert.kind is AlertKind.CREDENTIALS_EXPIRING and alert.subject == "odoo"
    assert alert.severity is Severity.WARNING
    assert "2026-12-14" in alert.message and "in 9 days" in alert.message
    assert [a.subject for a in sink.alerts if a.resolved] == ["odoo-b"]


async def test_an_expired_key_is_critical_and_a_new_key_resolves_the_alert() -> None:
    sink = RecordingAlerts()
    connection = KeyedConnection("odoo", NOW - timedelta(days=1))
    await check_credentials(sink, {"odoo": connection}, NOW)
    expired = sink.alerts[-1]
    assert expired.severity is Severity.CRITICAL and "expired on 2026-12-04" in expired.message
    connection.expires_at = NOW + timedelta(days=90)
    await check_credentials(sink, {"odoo": connection}, NOW)
    assert sink.alerts[-1].resolved and sink.alerts[-1].subject == "odoo"


async def test_an_unreachable_system_is_asked_again_later_without_an_alert() -> None:
    sink = RecordingAlerts()
    await check_credentials(sink, {"odoo": KeyedConnection("odoo", NOW, fail=True)}, NOW)
    assert sink.alerts == []
