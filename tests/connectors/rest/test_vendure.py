"""The connector contract, run on the shipped Vendure preset against a real Vendure 3 server.

The connection is parsed as the engine parses a configuration that names `preset: vendure` and
gives only the Admin API's url, the login, the channel token and the seeded ids.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import GRAPHQL_PLUGIN
from emporion.connectors.rest.settings import GraphQLConnection
from emporion.model import Address, Order, OrderStatus, Product, Refund, Variant
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueTargetContract,
    ConnectorContract,
    CustomerSourceContract,
    OrderSourceContract,
)
from emporion.testing.contract.base import one
from tests.connectors.rest.preset_support import (
    PresetCatalogueTarget,
    PresetOrderSource,
    ShopApi,
    shipped_and_refunded,
)
from tests.fixtures import vendure as vendure_api
from tests.fixtures.vendure import (
    RunningVendure,
    admin,
    create_product,
    expect,
    place_order,
    stock_of,
    variant_by_sku,
)


def vendure_connection(vendure: RunningVendure, more: dict[str, Any] | None = None) -> GraphQLConnection:
    """The configuration a merchant writes for the preset: url, login, channel and seeded ids (and `more`)."""
    return GraphQLConnection.model_validate(
        {
            **(more or {}),
            "type": "graphql",
            "preset": "vendure",
            "url": vendure.admin_url,
            "auth": {"username": vendure.username, "password": vendure.password},
            "headers": {"vendure-token": vendure.channel_token},
            "options": {
                "stock_location_id": vendure.stock_location_id,
                "tax_category_id": vendure.tax_category_id,
            },
        }
    )


class Interruptions:
    """A TCP relay on 127.0.0.1 in front of Vendure that can drop connections, as a restarting server."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.URL(upstream)
        self.dropping = 0
        self.open: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Interruptions:
        self.server = await asyncio.start_server(self.relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.open):
            writer.close()

    def url(self) -> str:
        """The Admin API through the relay."""
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return str(self.upstream.copy_with(host="127.0.0.1", port=port))

    def drop_next(self, connections: int) -> None:
        """Close every open connection, then the next `connections` ones as soon as they arrive."""
        self.dropping = connections
        for writer in list(self.open):
            writer.close()

    async def relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.dropping:
            self.dropping -= 1
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.upstream.host, self.upstream.port
        )
        self.open |= {writer, upstream_writer}
        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            self.open -= {writer, upstream_writer}
            writer.close()
            upstream_writer.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


class VendureFixture:
    """The connector of each contract part: built by the plugin from the parsed preset."""

    api: ShopApi = vendure_api

    plugin = GRAPHQL_PLUGIN
    vendure: RunningVendure
    settle_seconds = 1.1  # SQLite keeps some stamps in whole seconds

    relay: Interruptions

    async def connection(self, vendure: RunningVendure) -> GraphQLConnection:
        """The connection as a merchant configures it."""
        return vendure_connection(vendure)

    @pytest.fixture
    async def connector(self, vendure: RunningVendure) -> AsyncIterator[Any]:
        self.vendure = self.shop = vendure
        async with Interruptions(vendure.admin_url) as relay:
            self.relay = relay
            settings = (await self.connection(vendure)).model_copy(update={"url": relay.url()})
            connector = GRAPHQL_PLUGIN.build("vendure", settings)
            assert isinstance(connector, DeclarativeConnector)
            yield connector
            await connector.close()


class TestVendure(VendureFixture, ConnectorContract):
    pass


class TestVendureBudget(VendureFixture, BudgetedConnectionContract):
    pass


class TestVendureAsCatalogueTarget(VendureFixture, PresetCatalogueTarget, CatalogueTargetContract):
    async def fail_transiently(self, connector: Any) -> None:
        """The search before create and its two quick retries lose their connections."""
        self.relay.drop_next(3)


CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!, $password: String) {
  createCustomer(input: $input, password: $password) { __typename ... on Customer { id } } }"""
ADD_ADDRESS = """mutation($id: ID!, $input: CreateAddressInput!) {
  createCustomerAddress(customerId: $id, input: $input) { id } }"""


class TestVendureAsCustomerSource(VendureFixture, CustomerSourceContract):
    async def connection(self, vendure: RunningVendure) -> GraphQLConnection:
        """Customers in pages of three, so that the seeded ones span pages."""
        paging = {"entities": {"customer": {"paging": {"size": self.page_size}}}}
        return vendure_connection(vendure, paging)

    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        api = admin(self.vendure)
        keys = []
        for n in range(count):
            person = {"emailAddress": self.email(tag, n), "firstName": "Ada", "lastName": f"Lovelace {n}"}
            made = await api.gql(CREATE_CUSTOMER, {"input": person, "password": f"pw-{tag}"})
            keys.append(str(expect(made["createCustomer"], "Customer")["id"]))
        return keys

    async def move(self, connector: Any, key: str, to: Address) -> None:
        place = {
            "fullName": "Ada Lovelace",
            "streetLine1": to.street,
            "city": to.city,
            "postalCode": to.postcode,
            "countryCode": to.country,
            "defaultBillingAddress": True,
            "defaultShippingAddress": True,
        }
        await admin(self.vendure).gql(ADD_ADDRESS, {"id": key, "input": place})


class TestVendureAsOrderSource(VendureFixture, PresetOrderSource, OrderSourceContract):
    pass


async def test_product_with_variants_round_trips(vendure: RunningVendure) -> None:
    """A product with two variants is made with its options, read back with SKUs, cents and stock."""
    connector = GRAPHQL_PLUGIN.build("vendure", vendure_connection(vendure))
    assert isinstance(connector, DeclarativeConnector)
    tag = uuid.uuid4().hex[:6].upper()
    variants = [
        Variant(
            key="1",
            sku=f"SHIRT-{tag}-S",
            attributes={"Size": "S"},
            list_price=Decimal("19.99"),
            available=Decimal(4),
        ),
        Variant(
            key="2",
            sku=f"SHIRT-{tag}-M",
            attributes={"Size": "M"},
            list_price=Decimal("21.50"),
            available=Decimal(7),
        ),
    ]
    product = Product(key=f"p-{tag}", sku=f"SHIRT-{tag}", name="Shirt", variants=variants)
    try:
        (made,) = await connector.write("product", [WriteItem(product.key, product)], [])
        assert made.status is OutcomeStatus.CREATED and made.target_ref, made.error
        back = one(await connector.read("product", [str(made.target_ref["id"])]))
        assert isinstance(back, Product)
        held = {variant.sku: variant for variant in back.variants}
        assert set(held) == {v.sku for v in variants}
        assert held[f"SHIRT-{tag}-S"].list_price == Decimal("19.99")
        assert held[f"SHIRT-{tag}-M"].available == Decimal(7)
        assert held[f"SHIRT-{tag}-M"].attributes == {"Size": "M"}
        cheaper = variants[0].model_copy(update={"list_price": Decimal("17.00"), "available": Decimal(9)})
        changed = product.model_copy(update={"variants": [cheaper, variants[1]]})
        (update,) = await connector.write("product", [WriteItem(product.key, changed, made.target_ref)], [])
        assert update.status is OutcomeStatus.UPDATED, update.error
        assert (await variant_by_sku(vendure, f"SHIRT-{tag}-S"))["price"] == 1700
        assert await stock_of(vendure, f"SHIRT-{tag}-S") == Decimal(9)
        (again,) = await connector.write("product", [WriteItem(product.key, changed, made.target_ref)], [])
        assert again.status is OutcomeStatus.UNCHANGED
    finally:
        await connector.close()


async def test_order_reads_amounts_and_takes_shipment_and_refund(vendure: RunningVendure) -> None:
    """An order reads with cents as Decimal and tax; a shipment with tracking and a refund go back once."""
    connector = GRAPHQL_PLUGIN.build("vendure", vendure_connection(vendure))
    assert isinstance(connector, DeclarativeConnector)
    tag = uuid.uuid4().hex[:6].upper()
    product = await create_product(vendure, f"SHIP-{tag}", "Mug", Decimal("10.00"), 20)
    placed = await place_order(
        vendure, f"ship-{tag.lower()}@example.com", [(product["variants"][0]["id"], 2)]
    )
    key = str(placed["id"])
    try:
        order = one(await connector.read("order", [key]))
        assert isinstance(order, Order) and order.status is OrderStatus.PROCESSING
        assert order.total == Decimal(placed["totalWithTax"]) / 100
        assert (
            sum(line.total + line.tax for line in order.lines) + order.shipping_total + order.shipping_tax
            == order.total
        )
        await shipped_and_refunded(connector, order, key, tag)
        back = one(await connector.read("order", [key]))
        assert isinstance(back, Order) and back.status is OrderStatus.SHIPPED
        assert [s.tracking_numbers for s in back.shipments] == [[f"TRK{tag}"]]
        assert [r.amount for r in back.refunds] == [Decimal("5.00")]
    finally:
        await connector.close()


async def test_an_error_union_fails_the_order_alone_and_a_cancel_releases_its_stock(
    vendure: RunningVendure,
) -> None:
    """A refund Vendure refuses (RefundAmountError) is a Permanent naming the order; cancelling works."""
    connector = GRAPHQL_PLUGIN.build("vendure", vendure_connection(vendure))
    assert isinstance(connector, DeclarativeConnector)
    tag = uuid.uuid4().hex[:6].upper()
    product = await create_product(vendure, f"CANCEL-{tag}", "Pot", Decimal("8.00"), 10)
    placed = await place_order(
        vendure, f"cancel-{tag.lower()}@example.com", [(product["variants"][0]["id"], 3)]
    )
    key = str(placed["id"])
    try:
        order = one(await connector.read("order", [key]))
        assert isinstance(order, Order)
        too_much = Refund(key="r1", amount=Decimal("9999.00"))
        item = WriteItem(
            key, order.model_copy(update={"refunds": [too_much]}), {"id": key}, only=frozenset({"refunds"})
        )
        (refused,) = await connector.write("order", [item], [])
        assert refused.status is OutcomeStatus.FAILED and isinstance(refused.error, Permanent)
        assert refused.error.record == f"order {placed['code']}"
        held = one(await connector.read("product", [str(product["id"])]))
        assert isinstance(held, Product) and held.available == Decimal(7)  # three held by the order
        cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})
        item = WriteItem(key, cancelled, {"id": key}, only=frozenset({"status"}))
        (outcome,) = await connector.write("order", [item], [])
        assert outcome.ok, outcome.error
        back = one(await connector.read("order", [key]))
        assert isinstance(back, Order) and back.status is OrderStatus.CANCELLED
        released = one(await connector.read("product", [str(product["id"])]))
        assert isinstance(released, Product) and released.available == Decimal(10)
    finally:
        await connector.close()
