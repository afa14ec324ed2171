"""minishop's request limit: `limit` requests per `window` seconds, told in X-RateLimit-* headers.

When the window's requests are spent, the shop answers 429 with Retry-After (whole seconds until the
window ends), like most shops with a fixed-window limit.
"""

from __future__ import annotations

import math
import threading
import time


class RateLimit:
    """A fixed window of `limit` requests per `window` seconds."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit, self.window = limit, window
        self.refused = 0
        self._used, self._started = 0, time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        """Count one request: whether it may run, and the rate headers to answer with."""
        with self._lock:
            now = time.monotonic()
            if now - self._started >= self.window:
                self._used, self._started = 0, now
            granted = self._used < self.limit
            self._used += 1 if granted else 0
            self.refused += 0 if granted else 1
            reset = max(0.0, self._started + self.window - now)
            headers = {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.limit - self._used),
                "X-RateLimit-Reset": f"{reset:.3f}",
            }
            if not granted:
                headers["Retry-After"] = str(max(1, math.ceil(reset)))
            return granted, headers
