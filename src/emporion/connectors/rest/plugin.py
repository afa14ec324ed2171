"""The declarative shop plugins: `type: rest` and `type: graphql`, one connector for both."""

from __future__ import annotations

from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.rest.settings import GraphQLConnection, RestConnection
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings

ROLES = frozenset(
    {
        Role.CATALOGUE_SOURCE,
        Role.CATALOGUE_TARGET,
        Role.CUSTOMER_SOURCE,
        Role.CUSTOMER_TARGET,
        Role.ORDER_SOURCE,
        Role.WEBHOOK_SOURCE,
        Role.BUDGETED,
    }
)


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one described shop connection, with its circuit breaker."""
    from emporion.connectors.rest.connector import DeclarativeConnector

    assert isinstance(settings, RestConnection)
    return DeclarativeConnector(name, settings, settings.circuit.breaker(name))


PLUGIN = ConnectorPlugin(
    type="rest",
    title="a shop's REST API, described in the configuration",
    settings=RestConnection,
    factory=build,
    roles=ROLES,
    docs="docs/connectors/rest.md",
)

GRAPHQL_PLUGIN = ConnectorPlugin(
    type="graphql",
    title="a shop's GraphQL API, described in the configuration",
    settings=GraphQLConnection,
    factory=build,
    roles=ROLES,
    docs="docs/connectors/rest.md",
)
