"""The alert sink the engine uses in production: remembers alerts, de-duplicates them, fans them out.

Each alert is logged, recorded in the state database under its key, and sent to every channel that
takes its kind when it is due: new, re-opened after the quiet period, a reminder once the quiet
period is over, or a resolution of something a person was told about. The decision is taken in the
database, so restarts and several worker processes do not send the same alert twice. `notify`
never raises: a channel that fails is logged and tried again with the next alert.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from emporion.alerts import Alert, AlertSink, LogAlerts
from emporion.alerts.render import generic
from emporion.config import Settings
from emporion.logs import get_logger
from emporion.state import StateStore

log = get_logger("emporion.alerts")
BACKLOG = 100  # alerts kept per failing channel for the next attempt
RETRY_SECONDS = 30.0  # a failing channel is tried again at most this often (its timeouts stall no one)


class Channel(Protocol):
    """Somewhere an alert can be sent; `name` is safe to log, `kinds` None means every kind."""

    name: str
    kinds: set[str] | None

    async def send(self, alert: Alert) -> None: ...


class Dispatcher:
    """De-duplicates alerts through the state database and sends them to the channels."""

    def __init__(self, store: StateStore, channels: Sequence[Channel], quiet_period: float) -> None:
        self.store = store
        self.channels = list(channels)
        self.quiet_period = quiet_period
        self._log = LogAlerts()
        self._backlog: dict[str, deque[Alert]] = {c.name: deque(maxlen=BACKLOG) for c in self.channels}
        self.retry_seconds = RETRY_SECONDS
        self._next_try: dict[str, float] = {}  # channel -> when a failing channel may be tried again

    async def notify(self, alert: Alert) -> None:
        """Log, record and (when due) send the alert; never raises."""
        try:
            if not await self._due(alert):
                return
            await self._log.notify(alert)
            await self.retry_failed()
            for channel in self.channels:
                if channel.kinds is None or str(alert.kind) in channel.kinds:
                    await self._send(channel, alert)
        except Exception as error:  # the sync must go on whatever the alert path does
            log.error("alert could not be handled", key=alert.key, error=f"{type(error).__name__}: {error}")

    async def retry_failed(self) -> None:
        """Send again what channels failed to deliver, oldest first, stopping at a channel's first failure.

        Called with each alert that goes out and by the monitors; a failing channel is tried at most
        every `retry_seconds`, so that one that hangs until its timeout does not slow the sync.
        """
        for channel in self.channels:
            waiting = self._backlog[channel.name]
            if not waiting or time.monotonic() < self._next_try.get(channel.name, 0.0):
                continue
            while waiting:
                try:
                    await channel.send(waiting[0])
                except Exception as error:
                    log.warning("alert channel still failing", channel=channel.name, error=_safe(error))
                    self._next_try[channel.name] = time.monotonic() + self.retry_seconds
                    break
                log.info("alert delivered late", channel=channel.name, key=waiting.popleft().key)

    async def _due(self, alert: Alert) -> bool:
        if alert.resolved:
            return await self.store.alert_resolve(alert.key, alert.message)
        fields = {
            "key": alert.key,
            "kind": str(alert.kind),
            "subject": alert.subject,
            "flow": alert.flow,
            "severity": str(alert.severity),
            "message": alert.message,
            "details": _json_details(alert),
        }
        return await self.store.alert_fire(fields, self.quiet_period)

    async def _send(self, channel: Channel, alert: Alert) -> None:
        if self._backlog[channel.name]:  # keep the order: this one waits behind the failed ones
            self._backlog[channel.name].append(alert)
            return
        try:
            await channel.send(alert)
        except Exception as error:
            log.error("alert channel failed", channel=channel.name, key=alert.key, error=_safe(error))
            self._backlog[channel.name].append(alert)
            self._next_try[channel.name] = time.monotonic() + self.retry_seconds


def _safe(error: Exception) -> str:
    """An error for the log; channels raise errors without URLs or credentials in them."""
    return f"{type(error).__name__}: {error}"


def _json_details(alert: Alert) -> dict[str, object]:
    """The alert's details as the JSON the alert table keeps."""
    details: dict[str, object] = generic(alert)["details"]
    return details


def alerts_from_settings(settings: Settings, store: StateStore) -> AlertSink:
    """The sink for a configuration: always de-duplicated through the state database, then logged
    and sent to the e-mail and webhook channels of `alerts` (none configured: logged only)."""
    from emporion.alerts.email import EmailSender
    from emporion.alerts.webhook import WebhookSender

    config = settings.alerts
    channels: list[Channel] = []
    if config.email is not None:
        channels.append(EmailSender(config.email))
    channels += [WebhookSender(hook, index) for index, hook in enumerate(config.webhooks)]
    return Dispatcher(store, channels, config.quiet_period)
