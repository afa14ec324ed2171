"""The Tryton plugin: its settings, the roles it plays and how a connection is built."""

from __future__ import annotations

from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings
from emporion.connectors.tryton.settings import TrytonConnection


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured Tryton connection, with its circuit breaker."""
    from emporion.connectors.tryton.connector import TrytonConnector

    assert isinstance(settings, TrytonConnection)
    return TrytonConnector(
        name,
        settings.url,
        settings.database,
        settings.username,
        settings.password.get_secret_value(),
        custom_fields=settings.custom_fields or None,
        price_lists=settings.price_lists or None,
        sale_price_list=settings.sale_price_list,
        customer_groups=settings.customer_groups,
        customer_category=settings.customer_category,
        customer_addresses=settings.customer_addresses,
        overlap_seconds=settings.overlap_seconds,
        page_size=settings.page_size,
        verify=settings.tls.httpx_verify(),
        timeout=settings.timeout,
        circuit=settings.circuit.breaker(name),
        max_concurrency=settings.max_concurrency,
    )


PLUGIN = ConnectorPlugin(
    type="tryton",
    title="Tryton (JSON-RPC)",
    settings=TrytonConnection,
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
    docs="src/emporion/connectors/tryton/README.md",
)
