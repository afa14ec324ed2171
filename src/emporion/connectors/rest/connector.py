"""The declarative shop connector: the roles of a shop (catalogue target and source, customers,
orders, webhooks, a rate budget) played by following the connection's description."""

from __future__ import annotations

from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.rest.client import RestClient
from emporion.connectors.rest.hooks import Hooks, hooks_of
from emporion.connectors.rest.settings import RestConnection


class DeclarativeConnector:
    """One described shop connection."""

    def __init__(self, name: str, settings: RestConnection, circuit: CircuitBreaker) -> None:
        self.name = name
        self.settings = settings
        self.circuit = circuit
        self.client = RestClient(name, settings, circuit)
        self.hooks: Hooks = hooks_of(settings.preset)
