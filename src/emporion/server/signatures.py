"""Deliveries refused for their signature: counted per connection, alerted when they keep coming.

A webhook whose secret was changed in the shop still looks right by name, so the keeper does not
notice; only its deliveries, refused with 401, show it. When `threshold` refusals of one connection
fall within `window` seconds, one WEBHOOK_SIGNATURE alert is raised (and then at most once per window;
the dispatcher's quiet period de-duplicates further). A good delivery starts the count again. Only
connections taking webhooks get here, so the state is bounded by the configuration.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from emporion.alerts import Alert, AlertKind, AlertSink

THRESHOLD = 5  # refusals within the window before a person is told
WINDOW_SECONDS = 600.0


class SignatureWatch:
    """Counts a connection's refused deliveries and says when to alert about them."""

    def __init__(
        self,
        alerts: AlertSink,
        threshold: int = THRESHOLD,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.alerts = alerts  # where `refused`'s alerts go (the ingress sends them after answering)
        self.threshold = threshold
        self.window = window
        self._clock = clock
        self._refused: dict[str, deque[float]] = {}
        self._alerted: dict[str, float] = {}

    def accepted(self, connection: str) -> None:
        """A delivery of `connection` passed the check: its secret is right, the count starts again."""
        self._refused.pop(connection, None)

    def refused(self, connection: str) -> Alert | None:
        """Count a refused delivery; the alert to raise when refusals keep coming, else None."""
        now = self._clock()
        times = self._refused.setdefault(connection, deque(maxlen=self.threshold))
        times.append(now)
        if len(times) < self.threshold or now - times[0] > self.window:
            return None
        last = self._alerted.get(connection)
        if last is not None and now - last < self.window:
            return None
        self._alerted[connection] = now
        return Alert(
            AlertKind.WEBHOOK_SIGNATURE,
            connection,
            f"{len(times)} webhook deliveries to connection {connection} failed the signature check within "
            f"{int(now - times[0]) + 1} s: the webhook's secret may have been changed in the shop (delete "
            "that webhook there: emporion registers it again with its own secret) or someone is sending "
            "forged deliveries",
            details={"refused": len(times), "window_seconds": int(self.window)},
        )
