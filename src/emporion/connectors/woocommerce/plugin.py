"""The WooCommerce plugin: its settings, the roles it plays and how a connection is built."""

from __future__ import annotations

from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings
from emporion.connectors.woocommerce.settings import WooCommerceConnection


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured WooCommerce connection, with its circuit breaker."""
    from emporion.connectors.woocommerce.connector import WooCommerceConnector

    assert isinstance(settings, WooCommerceConnection)
    connector = WooCommerceConnector(
        name,
        settings.url,
        settings.consumer_key.get_secret_value(),
        settings.consumer_secret.get_secret_value(),
        verify=settings.tls.httpx_verify(),
        timeout=settings.timeout,
        max_rps=settings.max_requests_per_second,
        max_concurrency=settings.max_concurrency,
        batch_size=settings.batch_size,
        page_size=settings.page_size,
        signature_method=settings.signature_method,
        circuit=settings.circuit.breaker(name),
        retries=settings.retries,
        customer_roles=settings.customer_roles,
        customer_meta={
            "number": settings.customer_number_meta,
            "group": settings.customer_group_meta,
            "price_list": settings.customer_price_list_meta,
        },
    )
    connector.client.pace_writes(settings.batch_seconds, settings.start_concurrency)
    return connector


PLUGIN = ConnectorPlugin(
    type="woocommerce",
    title="WooCommerce (REST API v3)",
    settings=WooCommerceConnection,
    factory=build,
    roles=frozenset(
        {
            Role.CATALOGUE_SOURCE,
            Role.CATALOGUE_TARGET,
            Role.CUSTOMER_SOURCE,
            Role.CUSTOMER_TARGET,
            Role.ORDER_SOURCE,
            Role.WEBHOOK_SOURCE,
            Role.BUDGETED,
        }
    ),
    docs="src/emporion/connectors/woocommerce/README.md",
)
