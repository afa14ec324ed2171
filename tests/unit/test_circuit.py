"""The circuit breaker: opens after transient failures in a row, fails fast, probes, closes; kept in state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emporion.alerts import AlertKind, RecordingAlerts
from emporion.config import parse_settings
from emporion.connectors.base import Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen, CircuitSnapshot, CircuitState, redact
from emporion.engine.worker import Engine
from emporion.state import CircuitRecord, StateStore


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def fail(breaker: CircuitBreaker, error: Exception | None = None) -> None:
    with pytest.raises(type(error) if error else Retryable):
        async with breaker.guard():
            raise error or Retryable("HTTP 503")


async def succeed(breaker: CircuitBreaker) -> None:
    async with breaker.guard():
        pass


async def test_opens_after_the_threshold_fails_fast_then_probes_and_closes() -> None:
    clock = Clock()
    seen: list[tuple[CircuitState, CircuitState]] = []

    async def listener(snapshot: CircuitSnapshot, before: CircuitState) -> None:
        seen.append((before, snapshot.state))

    breaker = CircuitBreaker("shop", failure_threshold=3, cooldown=10.0, max_cooldown=40.0, clock=clock)
    breaker.listener = listener
    await fail(breaker)
    await fail(breaker)
    await succeed(breaker)  # a success in between resets the count
    for _ in range(3):
        await fail(breaker)
    assert breaker.state is CircuitState.OPEN and breaker.opened == 1

    clock.now += 4
    with pytest.raises(CircuitOpen) as caught:
        await succeed(breaker)  # not even sent
    assert caught.value.after == pytest.approx(6.0)
    assert isinstance(caught.value, Retryable)

    clock.now += 6
    async with breaker.guard():  # the probe
        assert breaker.state is CircuitState.HALF_OPEN
        with pytest.raises(CircuitOpen):  # a second caller waits for the probe's verdict
            await succeed(breaker)
    assert breaker.state is CircuitState.CLOSED and breaker.failures == 0
    assert seen == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]


async def test_a_failed_probe_opens_again_with_a_longer_cooldown_up_to_the_maximum() -> None:
    clock = Clock()
    breaker = CircuitBreaker("erp", failure_threshold=1, cooldown=10.0, max_cooldown=25.0, clock=clock)
    await fail(breaker)
    assert breaker.remaining == pytest.approx(10.0)
    for expected in (20.0, 25.0, 25.0):
        clock.now += breaker.remaining
        await fail(breaker)  # the probe fails
        assert breaker.state is CircuitState.OPEN and breaker.remaining == pytest.approx(expected)
    clock.now += breaker.remaining
    await succeed(breaker)
    assert breaker.state is CircuitState.CLOSED
    await fail(breaker)  # the next outage starts again from the base cooldown
    assert breaker.remaining == pytest.approx(10.0)


async def test_validation_errors_prove_the_system_is_up_and_never_open_it() -> None:
    breaker = CircuitBreaker("shop", failure_threshold=2)
    for _ in range(5):
        await fail(breaker, Permanent("invalid SKU", record="A-1", field="sku"))
    assert breaker.state is CircuitState.CLOSED and breaker.failures == 0


async def test_a_cancelled_probe_frees_the_probe_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker("erp", failure_threshold=1, cooldown=1.0, clock=clock)
    await fail(breaker)
    clock.now += 1
    with pytest.raises(KeyboardInterrupt):
        async with breaker.guard():
            raise KeyboardInterrupt
    await succeed(breaker)  # not refused as "a probe is under way"
    assert breaker.state is CircuitState.CLOSED


def test_stored_errors_carry_no_credentials() -> None:
    assert redact("cannot reach https://admin:s3cret@erp.example.com/db") == (
        "cannot reach https://***@erp.example.com/db"
    )


async def test_the_engine_keeps_transitions_for_status_and_alerts_on_open_and_close(
    store: StateStore,
) -> None:
    settings = parse_settings(
        """
connections:
  erp: {type: tryton, url: "http://127.0.0.1:9", database: db, username: u, password: p}
  shop: {type: woocommerce, url: "http://127.0.0.1:9", consumer_key: k, consumer_secret: s}
flows: [{name: catalogue, source: erp, target: shop}]
"""
    )
    alerts = RecordingAlerts()
    engine = Engine(settings, store, alerts=alerts, worker="w1")
    clock = Clock()
    breaker = engine.pool.get("shop").circuit  # type: ignore[attr-defined]
    breaker._clock = clock
    for _ in range(breaker.failure_threshold):
        await fail(breaker, Retryable("WooCommerce GET products failed with HTTP 503"))
    [record] = await store.circuits()
    assert record.connection == "shop" and record.state == "open" and record.opened_count == 1
    assert record.worker == "w1" and "HTTP 503" in (record.last_error or "")
    assert record.since <= datetime.now(UTC)
    [opened] = alerts.of(AlertKind.CIRCUIT_OPEN)
    assert opened.subject == "shop" and not opened.resolved

    clock.now += breaker.remaining
    await succeed(breaker)
    [record] = await store.circuits()
    assert record.state == "closed" and record.opened_count == 1
    assert [a.resolved for a in alerts.of(AlertKind.CIRCUIT_OPEN)] == [False, True]
    await engine.pool.close()


async def test_store_counts_openings_per_connection(store: StateStore) -> None:
    now = datetime.now(UTC)
    await store.record_circuit(CircuitRecord("erp", "open", now, 5, "down"), opened=True)
    await store.record_circuit(CircuitRecord("erp", "half-open", now, 5, "down"))
    await store.record_circuit(CircuitRecord("erp", "open", now, 6, "still down"), opened=True)
    await store.record_circuit(CircuitRecord("shop", "closed", now))
    erp, shop = await store.circuits()
    assert (erp.connection, erp.state, erp.opened_count, erp.last_error) == ("erp", "open", 2, "still down")
    assert (shop.connection, shop.state, shop.opened_count) == ("shop", "closed", 0)


def test_circuit_and_retry_settings_are_validated_with_their_place() -> None:
    from emporion.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_settings(
            """
retry: {base: 0}
connections:
  erp:
    type: tryton
    url: "http://127.0.0.1:9"
    database: db
    username: u
    password: p
    circuit: {cooldown: 60, max_cooldown: 30}
"""
        )
    problems = " ".join(caught.value.problems)
    assert "retry.base" in problems
    assert "connections.erp.circuit" in problems and "max_cooldown must be at least cooldown" in problems
