"""Tests of the declarative shop connector; `connection` builds its settings as the configuration does."""

from __future__ import annotations

from typing import Any

from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.rest.client import RestClient
from emporion.connectors.rest.settings import GraphQLConnection, RestConnection

NAME = "myshop"


def connection(url: str, auth: dict[str, Any], **more: Any) -> RestConnection:
    """A `type: rest` connection (or `type: graphql` with `type="graphql"`) read as from YAML."""
    kind = more.pop("type", "rest")
    settings = {"type": kind, "url": url, "auth": auth, "entities": {}, **more}
    model = GraphQLConnection if kind == "graphql" else RestConnection
    return model.model_validate(settings)


def client(url: str, auth: dict[str, Any], **more: Any) -> RestClient:
    """A client of the connection `myshop` with its own circuit breaker."""
    return RestClient(NAME, connection(url, auth, **more), CircuitBreaker(NAME))
