"""The budgeted-connection part of the contract: a circuit breaker, observable requests, a shareable rate."""

from __future__ import annotations

from collections.abc import MutableMapping

from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.roles import BudgetedConnection, RateLimitedConnection
from emporion.testing.contract.base import ContractPart


class RecordingObserver:
    """A request observer that adds a header and remembers what it was told."""

    def __init__(self) -> None:
        self.before_calls = 0
        self.statuses: list[tuple[str, int]] = []

    async def before(self, headers: MutableMapping[str, str]) -> None:
        self.before_calls += 1
        headers["X-Contract-Trace"] = "1"

    async def after(self, method: str, status: int) -> None:
        self.statuses.append((method, status))


class CountingBudget:
    """A shared rate budget that grants every request start and counts them (as a fleet's would)."""

    def __init__(self) -> None:
        self.taken = 0

    async def take(self, wanted: int) -> tuple[int, float]:
        self.taken += wanted
        return wanted, 0.0

    async def pause(self, seconds: float) -> None:
        return None


class BudgetedConnectionContract(ContractPart):
    """A budgeted connection: every request passes its circuit breaker and is told to observers."""

    async def some_request(self, connector: BudgetedConnection) -> None:
        """One cheap call that sends at least one request to the system."""
        await connector.check()

    def test_has_a_circuit_breaker_named_after_the_connection(self, connector: BudgetedConnection) -> None:
        assert isinstance(connector.circuit, CircuitBreaker)
        assert connector.circuit.connection == connector.name

    async def test_observers_see_every_request_and_its_answer(self, connector: BudgetedConnection) -> None:
        observer = RecordingObserver()
        connector.observe_requests(observer)
        await self.some_request(connector)
        assert observer.before_calls >= 1 and len(observer.statuses) == observer.before_calls
        assert all(isinstance(status, int) and method for method, status in observer.statuses)


class RateLimitedConnectionContract(BudgetedConnectionContract):
    """A rate-limited connection: several processes share its request rate through one budget."""

    async def test_a_shared_budget_is_taken_from(self, connector: BudgetedConnection) -> None:
        """Each request start is taken from the budget shared with other processes."""
        assert isinstance(connector, RateLimitedConnection)
        rate = connector.requests_per_second()
        assert rate is None or rate > 0
        budget = CountingBudget()
        connector.share_budget(budget)
        await self.some_request(connector)
        assert budget.taken >= 1
