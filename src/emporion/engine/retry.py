"""Backoff for retryable failures: exponential, with full jitter, never sooner than the system asked."""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE_SECONDS = 2.0
MAX_SECONDS = 15 * 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How long work waits after its n-th transient failure: up to base * 2^n, capped, >= Retry-After."""

    base: float = BASE_SECONDS
    cap: float = MAX_SECONDS

    def delay(self, attempts: int, after: float | None = None) -> float:
        """Seconds to wait before attempt `attempts + 1`; never less than a Retry-After of `after` seconds.

        Full jitter (a uniform draw between 0 and the exponential bound) spreads the retries of many
        items and workers, so that they do not hit a recovering system in step.
        """
        bound = min(self.cap, self.base * (2 ** min(attempts, 30)))
        return max(random.uniform(0.0, bound), after or 0.0)


DEFAULT_POLICY = RetryPolicy()


def backoff(attempts: int, after: float | None = None) -> float:
    """The default policy's delay (see RetryPolicy.delay)."""
    return DEFAULT_POLICY.delay(attempts, after)
