"""Backoff for retryable failures: exponential, with jitter, never sooner than the system asked."""

from __future__ import annotations

import random

BASE_SECONDS = 2.0
MAX_SECONDS = 15 * 60.0


def backoff(attempts: int, after: float | None = None) -> float:
    """Seconds to wait before attempt `attempts + 1`; honours a Retry-After of `after` seconds."""
    delay = min(MAX_SECONDS, BASE_SECONDS * (2 ** min(attempts, 20)))
    delay *= random.uniform(0.5, 1.0)  # full jitter keeps many workers from retrying in step
    return max(delay, after or 0.0)
