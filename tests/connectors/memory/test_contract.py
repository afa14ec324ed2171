"""The connector contract against the memory connector: every role, in milliseconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from emporion.connectors.base import Retryable
from emporion.connectors.roles import (
    CatalogueSource,
    CatalogueTarget,
    CustomerSource,
    CustomerTarget,
    OrderSource,
    SalesTarget,
)
from emporion.model import Address, Customer, Order, OrderLine, OrderStatus, Product, Record, StockLevel
from emporion.testing import PLUGIN, MemoryConnection, MemoryConnector, forget_systems
from emporion.testing.contract import (
    CatalogueSourceContract,
    CatalogueTargetContract,
    ConnectorContract,
    CustomerSourceContract,
    CustomerTargetContract,
    OrderSourceContract,
    RateLimitedConnectionContract,
    SalesTargetContract,
    WebhookSourceContract,
)
from emporion.testing.contract.catalogue import Commit
from emporion.testing.webhooks import SIGNATURE_HEADER, signed_delivery

PAGE_SIZE = 3


class MemoryConnectorFixture:
    """Each test gets a connector on a fresh memory system, paging by three."""

    plugin = PLUGIN

    @pytest.fixture
    def connector(self) -> Iterator[MemoryConnector]:
        settings = MemoryConnection(type="memory", system=f"contract-{uuid.uuid4().hex}", page_size=PAGE_SIZE)
        yield MemoryConnector("memory", settings)
        forget_systems()


def memory(connector: object) -> MemoryConnector:
    assert isinstance(connector, MemoryConnector)
    return connector


class TestMemoryConnector(MemoryConnectorFixture, ConnectorContract):
    pass


class TestMemoryCatalogueSource(MemoryConnectorFixture, CatalogueSourceContract):
    page_size = PAGE_SIZE

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        system = memory(connector).system
        return [
            system.put("product", Product(key="", sku=f"{tag}-{n}", name=f"P{n}")).key for n in range(count)
        ]

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        system = memory(connector).system
        record = system.get("product", key)
        assert isinstance(record, Product)
        system.put("product", record.model_copy(update={"name": record.name + "!"}))

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        system = memory(connector).system
        record = system.get("product", key)
        assert record is not None
        transaction = system.begin("product", record.model_copy(update={"name": "late"}))

        async def commit() -> None:
            transaction.commit()

        return commit


class TestMemoryCatalogueTarget(MemoryConnectorFixture, CatalogueTargetContract):
    async def seed(self, connector: CatalogueTarget, record: Record) -> str:
        return memory(connector).system.put("product", record.model_copy(update={"key": ""})).key

    async def fail_transiently(self, connector: CatalogueTarget) -> None:
        memory(connector).system.outage = Retryable("the memory system is down", after=1.0)


class TestMemoryOrderSource(MemoryConnectorFixture, OrderSourceContract):
    async def place_order(self, connector: OrderSource, email: str, tag: str) -> str:
        line = OrderLine(key="1", sku="MUG", quantity=Decimal(1), unit_price=Decimal(8), total=Decimal(8))
        order = Order(
            key="",
            number=f"{tag}-{email.split('@')[0]}",
            status=OrderStatus.PROCESSING,
            currency="EUR",
            customer=Customer(key="", email=email),
            lines=[line],
            total=Decimal(8),
        )
        return memory(connector).system.put("order", order).key


class TestMemorySalesTarget(MemoryConnectorFixture, SalesTargetContract):
    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        stock = [StockLevel(warehouse="WH", quantity=Decimal(5))]
        product = Product(key="", sku=f"STOCK-{tag}", name="Stocked", stock=stock)
        memory(connector).system.put("product", product)
        return product.sku


class TestMemoryWebhooks(MemoryConnectorFixture, WebhookSourceContract):
    signature_header = SIGNATURE_HEADER

    def signed_delivery(self, secret: str, key: str) -> tuple[dict[str, str], bytes]:
        return signed_delivery(self.entity, key, secret)


class TestMemoryBudget(MemoryConnectorFixture, RateLimitedConnectionContract):
    async def test_an_outage_opens_the_circuit(self, connector: MemoryConnector) -> None:
        """Beyond the contract: transient failures in a row open the breaker; calls then fail fast."""
        connector.system.outage = Retryable("down")
        for _ in range(connector.circuit.failure_threshold):
            with pytest.raises(Retryable):
                await connector.count("product")
        assert connector.circuit.state == "open"
        before = len(connector.system.requests)
        with pytest.raises(Retryable, match="circuit"):
            await connector.count("product")
        assert len(connector.system.requests) == before


class TestMemoryCustomerSource(MemoryConnectorFixture, CustomerSourceContract):
    page_size = PAGE_SIZE

    async def seed(self, connector: CustomerSource, count: int, tag: str) -> list[str]:
        system = memory(connector).system
        made = [Customer(key="", email=self.email(tag, n), last_name=f"C{n}") for n in range(count)]
        return [system.put("customer", customer).key for customer in made]

    async def move(self, connector: CustomerSource, key: str, to: Address) -> None:
        system = memory(connector).system
        record = system.get("customer", key)
        assert isinstance(record, Customer)
        system.put("customer", record.model_copy(update={"billing": to}))


class TestMemoryCustomerTarget(MemoryConnectorFixture, CustomerTargetContract):
    async def seed(self, connector: CustomerTarget, customer: Customer) -> str:
        return memory(connector).system.put("customer", customer.model_copy(update={"key": ""})).key
