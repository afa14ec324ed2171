"""The minishop plugin: what `type: minishop` means to emporion (settings, roles, how to build one)."""

from __future__ import annotations

from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings

from .client import MinishopClient
from .connector import MinishopConnector
from .mapping import CANONICAL_FIELDS
from .settings import MinishopConnection


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured minishop connection, with its circuit breaker."""
    assert isinstance(settings, MinishopConnection)
    client = MinishopClient(
        settings.url,
        settings.api_key.get_secret_value(),
        settings.circuit.breaker(name),
        fields=CANONICAL_FIELDS,
        page_size=settings.page_size,
        timeout=settings.timeout,
        verify=settings.tls.httpx_verify(),
    )
    return MinishopConnector(name, client, settings.overlap)


PLUGIN = ConnectorPlugin(
    type="minishop",
    title="minishop (REST)",
    settings=MinishopConnection,
    factory=build,
    roles=frozenset({Role.CATALOGUE_TARGET, Role.ORDER_SOURCE, Role.BUDGETED}),
    docs="docs/connectors.md",
)
