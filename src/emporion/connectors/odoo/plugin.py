"""The Odoo plugin: its settings, the roles it plays and how a connection is built."""

from __future__ import annotations

from emporion.connectors.odoo.settings import OdooConnection
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured Odoo connection."""
    from emporion.connectors.odoo.connector import OdooConnector

    assert isinstance(settings, OdooConnection)
    return OdooConnector(name, settings)


PLUGIN = ConnectorPlugin(
    type="odoo",
    title="Odoo 17, 18, 19 (JSON-RPC / JSON-2)",
    settings=OdooConnection,
    factory=build,
    roles=frozenset(
        {
            Role.CATALOGUE_SOURCE,
            Role.CATALOGUE_TARGET,
            Role.CUSTOMER_SOURCE,
            Role.CUSTOMER_TARGET,
            Role.SALES_TARGET,
            Role.BUDGETED,
        }
    ),
    docs="docs/connectors/odoo.md",
)
