"""Headroom: slows a connection down before the shop refuses it, from what its answers say is left.

REST shops tell the requests left in the window (`remaining_header`) and when it resets
(`reset_header`); GraphQL shops the cost budget left (`cost_remaining`, Shopify's leaky bucket).
When less than `low_water` of the most ever seen is left, the connection's `RateBudget` (the generic
token bucket of connectors/woocommerce/budget.py) is paused: long enough to spread the rest of the
window over its requests, or for the cost budget to refill to the low-water mark at the rate it was
seen to refill.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.budget import RateBudget
from emporion.connectors.rest.settings import RateSettings
from emporion.connectors.rest.settings.paths import compiled

MAX_PAUSE = 30.0  # seconds: never hold a connection longer than this on an estimate
EPOCH_FLOOR = 1e9  # a reset header larger than this is a Unix time, not seconds
SMOOTHING = 0.5


def number_at(body: Any, path: str | None) -> float | None:
    """The number at JSON `path` in `body`, or None."""
    if path is None or body is None:
        return None
    found = compiled(path).findall(body)
    value = found[0] if found else None
    return float(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else None


def header_number(headers: Mapping[str, str], name: str | None) -> float | None:
    """A numeric header, or None when absent or not a number."""
    if name is None or (raw := headers.get(name.lower())) is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


class Headroom:
    """Watches the shop's remaining budget in every answer and pauses the rate budget when it runs low."""

    def __init__(self, budget: RateBudget, rate: RateSettings) -> None:
        self.budget, self.rate = budget, rate
        self.slowdowns = 0  # pauses ordered because the budget ran low (tests and metrics)
        self.most_remaining = 0.0
        self.most_available = 0.0
        self.restore_rate: float | None = None  # cost points per second the shop gives back, measured
        self._last: tuple[float, float] | None = None  # (when, cost available) of the previous answer

    def observe(self, headers: Mapping[str, str], body: Any) -> float:
        """Learn from one answer; the pause ordered (0 when there is room)."""
        pause = max(self._requests(headers), self._cost(body))
        if pause > 0:
            self.slowdowns += 1
            self.budget.pause(min(pause, MAX_PAUSE))
        return pause

    def _requests(self, headers: Mapping[str, str]) -> float:
        remaining = header_number(headers, self.rate.remaining_header)
        if remaining is None:
            return 0.0
        self.most_remaining = max(self.most_remaining, remaining + 1)
        if remaining >= self.rate.low_water * self.most_remaining:
            return 0.0
        reset = header_number(headers, self.rate.reset_header)
        if reset is None:
            return 1.0 if remaining < 1 else 0.0
        if reset > EPOCH_FLOOR:
            reset = max(0.0, reset - time.time())
        return reset / max(remaining, 1.0) if remaining >= 1 else reset

    def _cost(self, body: Any) -> float:
        available = number_at(body, self.rate.cost_remaining)
        if available is None:
            return 0.0
        now, spent = time.monotonic(), number_at(body, self.rate.cost) or 0.0
        if self._last is not None and now > self._last[0]:
            restored = (available - self._last[1] + spent) / (now - self._last[0])
            if restored > 0:
                rate = self.restore_rate
                self.restore_rate = (
                    restored if rate is None else SMOOTHING * restored + (1 - SMOOTHING) * rate
                )
        self._last = (now, available)
        self.most_available = max(self.most_available, available + spent)
        wanted = self.rate.low_water * self.most_available
        if available >= wanted:
            return 0.0
        return (wanted - available) / self.restore_rate if self.restore_rate else 1.0

    def throttled_wait(self, needed: float | None) -> float:
        """Seconds until a refused query of cost `needed` (or the low-water mark) should fit again."""
        wanted = needed if needed is not None else self.rate.low_water * self.most_available
        if not self.restore_rate or wanted <= 0:
            return 1.0
        available = self._last[1] if self._last is not None else 0.0
        return min(MAX_PAUSE, max(0.1, (wanted - available) / self.restore_rate))
