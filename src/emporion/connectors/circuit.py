"""A circuit breaker per connection: stop calling a system that is down, and probe it now and then.

    closed --(N transient failures in a row)--> open --(cooldown)--> half-open
    half-open --(the one probe call succeeds)--> closed
    half-open --(the probe fails)--> open again, the cooldown doubled up to a maximum

Transient failures are what `Retryable` means at the wire: timeouts, refused or dropped connections,
HTTP 5xx and 429. An answer that refuses a record (4xx validation, a Tryton user error) proves the
system is up and counts as a success. While the circuit is open every call fails fast with
`CircuitOpen`, a `Retryable` whose `after` is the cooldown left, so that work waits instead of
hammering a system that is down. Each client wraps its one request path in `guard()`; a listener
(the engine) hears every transition, to keep it in the state database and raise alerts.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from emporion.connectors.base import ConnectorError, Retryable
from emporion.logs import get_logger

log = get_logger("emporion.circuit")
PROBE_WAIT_SECONDS = 1.0  # how long callers wait while the half-open probe is out
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class CircuitState(StrEnum):
    """Where a circuit stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitOpen(Retryable):
    """The connection's circuit is open: the call was not sent; try again after `after` seconds."""


@dataclass(frozen=True)
class CircuitSnapshot:
    """A circuit at one moment, as `emporion status` shows it (no secrets in `last_error`)."""

    connection: str
    state: CircuitState
    since: datetime  # UTC time of the last transition
    failures: int  # transient failures in a row
    last_error: str | None
    opened: int  # times this breaker opened
    cooldown: float  # seconds the current (or next) open period lasts


Listener = Callable[[CircuitSnapshot, CircuitState], Awaitable[None]]  # (now, state before)


def redact(message: str) -> str:
    """A failure message fit to store and show: credentials in URLs removed, length bounded."""
    return _URL_USERINFO.sub("***@", message)[:500]


class Call:
    """One guarded call; the client marks it failed when the answer itself says the system is unwell."""

    def __init__(self) -> None:
        self.failure: str | None = None

    def fail(self, reason: str) -> None:
        """Count this call as a transient failure (e.g. an HTTP 503 the caller handles itself)."""
        self.failure = reason


class CircuitBreaker:
    """The breaker of one connection, shared by every request the connection sends."""

    def __init__(
        self,
        connection: str,
        *,
        failure_threshold: int = 5,
        cooldown: float = 10.0,
        max_cooldown: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or cooldown <= 0 or max_cooldown < cooldown:
            raise ValueError("need failure_threshold >= 1 and 0 < cooldown <= max_cooldown")
        self.connection = connection
        self.failure_threshold = failure_threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.listener: Listener | None = None
        self._clock = clock
        self.state = CircuitState.CLOSED
        self.since = datetime.now(UTC)
        self.failures = 0
        self.last_error: str | None = None
        self.opened = 0
        self.rejected = 0  # calls failed fast, for metrics
        self.cooldown = cooldown
        self._open_until = 0.0
        self._probing = False
        self._notify_lock = asyncio.Lock()

    def snapshot(self) -> CircuitSnapshot:
        """The circuit as it stands now."""
        return CircuitSnapshot(
            self.connection,
            self.state,
            self.since,
            self.failures,
            self.last_error,
            self.opened,
            self.cooldown,
        )

    @property
    def remaining(self) -> float:
        """Seconds left before an open circuit lets a probe through."""
        return max(0.0, self._open_until - self._clock())

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[Call]:
        """Let one call through (or raise CircuitOpen) and learn from how it ends."""
        probe = await self._admit()
        call = Call()
        try:
            yield call
        except Retryable as error:
            await self._failed(str(error), probe)
            raise
        except ConnectorError:  # the system answered and refused something: it is up
            await self._succeeded(probe)
            raise
        except BaseException:  # cancelled, or a bug: no verdict, but free the probe slot
            if probe:
                self._probing = False
            raise
        if call.failure is not None:
            await self._failed(call.failure, probe)
        else:
            await self._succeeded(probe)

    async def _admit(self) -> bool:
        """True when this call is the half-open probe; raises CircuitOpen when it may not go at all."""
        if self.state is CircuitState.OPEN:
            left = self.remaining
            if left > 0:
                self.rejected += 1
                raise CircuitOpen(
                    f"circuit of {self.connection} is open after {self.failures} failures in a row"
                    f" (last: {self.last_error}); next try in {left:.1f}s",
                    after=left,
                )
            await self._move(CircuitState.HALF_OPEN)
        if self.state is CircuitState.HALF_OPEN:
            if self._probing:
                self.rejected += 1
                raise CircuitOpen(
                    f"circuit of {self.connection} is half-open: a probe is under way",
                    after=PROBE_WAIT_SECONDS,
                )
            self._probing = True
            return True
        return False

    async def _failed(self, reason: str, probe: bool) -> None:
        self.failures += 1
        self.last_error = redact(reason)
        if probe:
            self._probing = False
        if self.state is CircuitState.HALF_OPEN:
            self.cooldown = min(self.max_cooldown, self.cooldown * 2)
            await self._open()
        elif self.state is CircuitState.CLOSED and self.failures >= self.failure_threshold:
            self.cooldown = self.base_cooldown
            await self._open()

    async def _succeeded(self, probe: bool) -> None:
        if probe:
            self._probing = False
        if self.state is CircuitState.OPEN:
            return  # a call sent before the circuit opened: the probe decides
        self.failures = 0
        if self.state is CircuitState.HALF_OPEN:
            await self._move(CircuitState.CLOSED)

    async def _open(self) -> None:
        self._open_until = self._clock() + self.cooldown
        self.opened += 1
        await self._move(CircuitState.OPEN)

    async def _move(self, state: CircuitState) -> None:
        """Change state and tell the listener, in the order the changes happened."""
        before, self.state, self.since = self.state, state, datetime.now(UTC)
        snapshot = self.snapshot()
        emit = log.warning if state is CircuitState.OPEN else log.info
        emit(
            "circuit " + str(state),
            connection=self.connection,
            failures=self.failures,
            cooldown=round(self.cooldown, 1),
            error=self.last_error if state is CircuitState.OPEN else None,
        )
        if self.listener is None:
            return
        async with self._notify_lock:
            try:
                await self.listener(snapshot, before)
            except Exception as error:  # keeping the record must never break the call path
                log.warning("circuit listener failed", connection=self.connection, error=type(error).__name__)


@asynccontextmanager
async def guarded(circuit: CircuitBreaker | None) -> AsyncIterator[Call]:
    """`circuit.guard()`, or an unguarded call when a client runs without a breaker."""
    if circuit is None:
        yield Call()
        return
    async with circuit.guard() as call:
        yield call


__all__ = ["Call", "CircuitBreaker", "CircuitOpen", "CircuitSnapshot", "CircuitState", "guarded", "redact"]
