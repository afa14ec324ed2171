"""Backoff of transient failures: full jitter within an exponential bound, a cap, and Retry-After as floor."""

from __future__ import annotations

import random

from emporion.engine.retry import RetryPolicy


def test_delays_spread_over_the_whole_exponential_range() -> None:
    random.seed(1)
    policy = RetryPolicy(base=2.0, cap=900.0)
    for attempts in range(6):
        bound = 2.0 * 2**attempts
        delays = [policy.delay(attempts) for _ in range(2000)]
        assert all(0.0 <= d <= bound for d in delays)
        # full jitter: both ends of the range are used, not only the top half
        assert min(delays) < bound * 0.1 and max(delays) > bound * 0.9
        assert abs(sum(delays) / len(delays) - bound / 2) < bound * 0.05


def test_the_cap_bounds_every_delay_however_many_attempts() -> None:
    policy = RetryPolicy(base=2.0, cap=30.0)
    delays = [policy.delay(attempts) for attempts in (10, 40, 1000) for _ in range(500)]
    assert max(delays) <= 30.0 and max(delays) > 25.0


def test_retry_after_is_a_floor_never_shortened_by_jitter() -> None:
    policy = RetryPolicy(base=2.0, cap=900.0)
    assert all(policy.delay(0, after=7.5) >= 7.5 for _ in range(500))
    assert all(policy.delay(3, after=7.5) >= 7.5 for _ in range(500))
    # a Retry-After above the cap still wins: the system said when
    assert RetryPolicy(base=1.0, cap=5.0).delay(10, after=60.0) == 60.0
