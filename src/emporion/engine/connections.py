"""One connector per configured connection, built through the connector registry and shared by every flow."""

from __future__ import annotations

from emporion.config import Settings
from emporion.connectors import registry
from emporion.connectors.circuit import CircuitBreaker, Listener
from emporion.connectors.roles import BudgetedConnection, Connection


class ConnectorPool:
    """One connector per configured connection, shared by every flow that uses it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connectors: dict[str, Connection] = {}
        self._circuit_listener: Listener | None = None

    def get(self, name: str) -> Connection:
        """The connector of one connection, built on first use."""
        if name not in self._connectors:
            from emporion.metrics import instrument_connector

            connector = registry.build(name, self.settings.connections[name])
            instrument_connector(connector, name)
            self._connectors[name] = connector
            self._listen(connector)
        return self._connectors[name]

    def watch_circuits(self, listener: Listener) -> None:
        """Tell `listener` every circuit transition of every connection, built now or later."""
        self._circuit_listener = listener
        for connector in self._connectors.values():
            self._listen(connector)

    def circuits(self) -> dict[str, CircuitBreaker]:
        """The circuit breakers of the connections built so far, by connection name."""
        return {
            name: connector.circuit
            for name, connector in self._connectors.items()
            if isinstance(connector, BudgetedConnection)
        }

    def _listen(self, connector: Connection) -> None:
        if isinstance(connector, BudgetedConnection) and self._circuit_listener is not None:
            connector.circuit.listener = self._circuit_listener

    async def close(self) -> None:
        for connector in self._connectors.values():
            await connector.close()
        self._connectors.clear()
