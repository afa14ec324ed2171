"""The file-drop plugin: its settings, the roles it plays and how a connection is built."""

from __future__ import annotations

from emporion.connectors.files.settings import FilesConnection
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured file drop."""
    from emporion.connectors.files.connector import FilesConnector

    assert isinstance(settings, FilesConnection)
    return FilesConnector(name, settings)


PLUGIN = ConnectorPlugin(
    type="files",
    title="Files (CSV, XLSX, XML) on a folder or SFTP",
    settings=FilesConnection,
    factory=build,
    roles=frozenset({Role.CATALOGUE_SOURCE, Role.SALES_TARGET, Role.BUDGETED}),
    docs="docs/connectors/files.md",
)
