"""Remembers the bodies of recent deliveries, so that a captured delivery sent again is not kept twice.

A sender's delivery id need not name the event (one shop's is a hash of the webhook id and the current
second): a re-sent event may get a new one, and a signed body captured on the way can be replayed
under any id. A body seen within the window is therefore acknowledged and not stored again. The
memory is per process and bounded; what slips through (another process, a restart) costs one
re-read, because a delivery is only a hint.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

DEFAULT_WINDOW_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 50_000


class ReplayGuard:
    """Which (connection, body) pairs arrived within the last `window` seconds."""

    def __init__(
        self, window: float = DEFAULT_WINDOW_SECONDS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        """Remember bodies for `window` seconds, at most `max_entries` of them."""
        self.window = window
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()

    @staticmethod
    def digest(body: bytes) -> str:
        """The body's SHA-256, the identity of its content."""
        return hashlib.sha256(body).hexdigest()

    def seen(self, connection: str, body: bytes, now: float | None = None) -> str | None:
        """The delivery id this body was kept under for `connection` within the window, if it was."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        entry = self._seen.get((connection, self.digest(body)))
        return entry[1] if entry else None

    def remember(self, connection: str, body: bytes, delivery_id: str, now: float | None = None) -> None:
        """Note a body just kept under `delivery_id` (the oldest go first when the memory is full)."""
        now = time.monotonic() if now is None else now
        key = (connection, self.digest(body))
        self._seen.pop(key, None)
        self._seen[key] = (now, delivery_id)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)

    def _expire(self, now: float) -> None:
        """Forget the bodies older than the window (the oldest come first)."""
        while self._seen:
            key, (at, _) = next(iter(self._seen.items()))
            if now - at <= self.window:
                return
            del self._seen[key]
