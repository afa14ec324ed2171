"""The write pace: batches in flight grow while the time per item holds and fall back when it does not,
batches are sized by time, and read timeouts follow the measured time with a floor."""

from __future__ import annotations

import asyncio

import pytest

from emporion.connectors.woocommerce.pace import PaceSettings, WritePace, weight_of

KIND = "products"


def pace(**settings: float) -> WritePace:
    return WritePace(PaceSettings(**settings))  # type: ignore[arg-type]


def test_concurrency_grows_while_the_time_per_item_holds() -> None:
    writes = pace(ceiling=4, start=1, batch_seconds=4)
    assert writes.concurrency == 1
    for _ in range(5):
        writes.record(KIND, 80, 80 * 0.053)  # 53 ms per create, as the real shop alone
    assert writes.concurrency == 4  # never above the ceiling
    assert writes.grown == 3


def test_concurrency_falls_back_when_parallel_batches_only_add_latency() -> None:
    # A shop whose CPU is busy: four batches at once take 183 ms per item against 53 alone.
    writes = pace(ceiling=4, start=4)
    writes.record(KIND, 100, 5.3)
    writes.record(KIND, 100, 18.3)
    assert writes.concurrency < 4 and writes.shrunk == 1
    for _ in range(4):
        writes.record(KIND, 100, 18.3)
    assert writes.concurrency == 1


def test_timeouts_429_and_5xx_halve_the_batches_in_flight() -> None:
    writes = pace(ceiling=8, start=8)
    writes.back_off()
    assert writes.concurrency == 4
    writes.back_off()
    writes.back_off()
    writes.back_off()
    assert writes.concurrency == 1  # never below one


def test_batches_are_sized_by_time_and_never_above_the_maximum() -> None:
    writes = pace(max_batch=100, batch_seconds=4)
    assert writes.batch_size(KIND) == 100  # nothing measured yet: the configured size
    writes.record(KIND, 100, 16.0)  # 160 ms per create: three times the real shop
    assert writes.batch_size(KIND) == 25
    assert writes.batch_size(KIND, weight_per_item=0.55) == 45  # updates cost about half
    writes.record("products/categories", 10, 0.01)
    assert writes.batch_size("products/categories") == 100  # a fast kind is not held back
    assert pace(max_batch=30).batch_size(KIND) == 30


def test_read_timeout_is_a_multiple_of_the_expected_time_with_a_floor() -> None:
    writes = pace(timeout_floor=30)
    assert writes.timeout(KIND, 100) == 30  # nothing measured: the configured timeout
    writes.record(KIND, 100, 18.0)
    assert writes.timeout(KIND, 100) == pytest.approx(90.0)
    assert writes.timeout(KIND, 10) == 30


def test_item_weights_follow_the_shop() -> None:
    assert weight_of(["create", "create"]) == 2.0
    assert weight_of(["update"]) == pytest.approx(0.55)


async def test_slots_hold_the_current_concurrency_and_let_more_in_as_it_grows() -> None:
    writes = pace(ceiling=3, start=1)
    peak = in_flight = 0

    async def batch() -> None:
        nonlocal peak, in_flight
        async with writes.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            writes.record(KIND, 10, 0.01)
            in_flight -= 1

    await asyncio.gather(*(batch() for _ in range(12)))
    assert peak == 3 and writes.in_flight == 0


def test_a_kind_first_measured_under_load_does_not_move_the_concurrency() -> None:
    # variations are first written while product batches run: their time says nothing about an idle shop
    writes = pace(ceiling=4, start=1)
    writes.record(KIND, 100, 5.3, load=1)
    writes.record(KIND, 50, 5.0, load=2)  # 100 ms an item at two in flight: within twice the best
    assert writes.concurrency == 3
    writes.record("products/{id}/variations", 5, 1.5, load=3)  # 300 ms an item, nothing to compare with
    assert writes.concurrency == 3 and writes.shrunk == 0
    writes.record(KIND, 50, 15.0, load=3)  # 300 ms against 53: three in flight only add latency
    assert writes.concurrency == 2


def test_batches_are_not_split_below_ten_items() -> None:
    writes = pace(max_batch=100, batch_seconds=1)
    writes.record(KIND, 5, 5.0)  # a second an item
    assert writes.batch_size(KIND) == 10
    assert pace(max_batch=4).batch_size(KIND) == 4
