"""The SQL plugin: its settings, the roles it plays and how a connection is built."""

from __future__ import annotations

from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings
from emporion.connectors.sql.settings import SqlConnection


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured SQL connection."""
    from emporion.connectors.sql.connector import SqlConnector

    assert isinstance(settings, SqlConnection)
    return SqlConnector(name, settings)


PLUGIN = ConnectorPlugin(
    type="sql",
    title="SQL database (any SQLAlchemy dialect)",
    settings=SqlConnection,
    factory=build,
    roles=frozenset({Role.CATALOGUE_SOURCE, Role.SALES_TARGET, Role.BUDGETED}),
    docs="docs/connectors/sql.md",
)
