"""Builds connectors from the configuration; the only place that knows every connector class."""

from __future__ import annotations

import ssl
from typing import Any

from emporion.config import FlowSettings, Settings, TrytonConnection, WooCommerceConnection
from emporion.connectors.base import Connector
from emporion.connectors.circuit import CircuitBreaker, Listener


def tls_verify(settings: TrytonConnection | WooCommerceConnection) -> Any:
    """httpx's `verify`: a context trusting the configured CA bundle, else on (or explicitly off)."""
    if settings.tls.ca_bundle:
        return ssl.create_default_context(cafile=settings.tls.ca_bundle)
    return settings.tls.verify


def circuit_for(name: str, settings: TrytonConnection | WooCommerceConnection) -> CircuitBreaker:
    """The circuit breaker of one configured connection."""
    circuit = settings.circuit
    return CircuitBreaker(
        name,
        failure_threshold=circuit.failure_threshold,
        cooldown=circuit.cooldown,
        max_cooldown=circuit.max_cooldown,
    )


def build_connector(name: str, settings: TrytonConnection | WooCommerceConnection) -> Connector:
    """A connector for one configured connection, with its circuit breaker."""
    if isinstance(settings, TrytonConnection):
        from emporion.connectors.tryton.connector import TrytonConnector

        return TrytonConnector(
            name,
            settings.url,
            settings.database,
            settings.username,
            settings.password.get_secret_value(),
            custom_fields=settings.custom_fields or None,
            price_lists=settings.price_lists or None,
            sale_price_list=settings.sale_price_list,
            overlap_seconds=settings.overlap_seconds,
            page_size=settings.page_size,
            verify=tls_verify(settings),
            timeout=settings.timeout,
            circuit=circuit_for(name, settings),
            max_concurrency=settings.max_concurrency,
        )
    from emporion.connectors.woocommerce.connector import WooCommerceConnector

    return WooCommerceConnector(
        name,
        settings.url,
        settings.consumer_key.get_secret_value(),
        settings.consumer_secret.get_secret_value(),
        verify=tls_verify(settings),
        timeout=settings.timeout,
        max_rps=settings.max_requests_per_second,
        max_concurrency=settings.max_concurrency,
        batch_size=settings.batch_size,
        signature_method=settings.signature_method,
        circuit=circuit_for(name, settings),
        retries=settings.retries,
    )


def sale_options(flow: FlowSettings) -> Any:
    """The ERP connector's options for the sales of one order flow."""
    from emporion.connectors.tryton.sales_write import SaleOptions

    orders = flow.orders
    return SaleOptions(
        warehouse=orders.warehouse,
        carriers=dict(orders.carriers),
        taxes=dict(orders.taxes),
        payment_methods=dict(orders.payment_methods),
        confirm=orders.confirm,
    )


class ConnectorPool:
    """One connector per configured connection, shared by every flow that uses it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connectors: dict[str, Connector] = {}
        self._circuit_listener: Listener | None = None

    def get(self, name: str) -> Connector:
        """The connector of one connection, built on first use."""
        if name not in self._connectors:
            from emporion.metrics import instrument_connector

            connector = build_connector(name, self.settings.connections[name])
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
        found = {name: getattr(c, "circuit", None) for name, c in self._connectors.items()}
        return {name: circuit for name, circuit in found.items() if isinstance(circuit, CircuitBreaker)}

    def _listen(self, connector: Connector) -> None:
        circuit = getattr(connector, "circuit", None)
        if isinstance(circuit, CircuitBreaker) and self._circuit_listener is not None:
            circuit.listener = self._circuit_listener

    async def close(self) -> None:
        for connector in self._connectors.values():
            await connector.close()
        self._connectors.clear()
