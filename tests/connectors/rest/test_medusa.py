"""The connector contract, run on the shipped Medusa v2 preset against a real Medusa 2.21 server.

The connection is parsed as the engine parses a configuration that names `preset: medusa` and gives
only the server's url, the secret key, the currency and the seeded sales channel and stock location.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, Retryable, WriteItem
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import PLUGIN
from emporion.connectors.rest.settings import RestConnection
from emporion.model import (
    Category,
    Customer,
    Order,
    OrderNote,
    OrderStatus,
    PaymentState,
    Product,
    Variant,
)
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueTargetContract,
    ConnectorContract,
    OrderSourceContract,
)
from emporion.testing.contract.base import one
from tests.connectors.rest.preset_support import (
    PresetCatalogueTarget,
    PresetOrderSource,
    ShopApi,
    shipped_and_refunded,
)
from tests.fixtures import medusa as medusa_api
from tests.fixtures.medusa import (
    RunningMedusa,
    admin,
    create_product,
    get,
    place_order,
    stock_of,
    variant_by_sku,
)

CENT = Decimal("0.01")


def medusa_connection(medusa: RunningMedusa) -> RestConnection:
    """The configuration a merchant writes for the preset: url, secret key, currency and seeded ids."""
    return RestConnection.model_validate(
        {
            "type": "rest",
            "preset": "medusa",
            "url": medusa.url,
            "auth": {"kind": "basic", "username": medusa.secret_key},
            "options": {
                "currency": medusa.currency,
                "stock_location_id": medusa.stock_location_id,
                "sales_channel_id": medusa.sales_channel_id,
            },
        }
    )


def medusa_connector(medusa: RunningMedusa) -> DeclarativeConnector:
    """The connector the plugin builds from the parsed preset."""
    connector = PLUGIN.build("medusa", medusa_connection(medusa))
    assert isinstance(connector, DeclarativeConnector)
    return connector


class MedusaFixture:
    """The connector of each contract part: built by the plugin from the parsed preset."""

    api: ShopApi = medusa_api

    plugin = PLUGIN
    medusa: RunningMedusa
    settle_seconds = 0.05

    @pytest.fixture
    async def connector(self, medusa: RunningMedusa) -> AsyncIterator[Any]:
        self.medusa = self.shop = medusa
        connector = medusa_connector(medusa)
        yield connector
        await connector.close()


class TestMedusa(MedusaFixture, ConnectorContract):
    pass


class TestMedusaBudget(MedusaFixture, BudgetedConnectionContract):
    pass


class TestMedusaAsCatalogueTarget(MedusaFixture, PresetCatalogueTarget, CatalogueTargetContract):
    async def fail_transiently(self, connector: Any) -> None:
        """The next request meets a closed port, as when the server restarts."""
        connector.client._http._base_url = connector.client._http._base_url.copy_with(port=1)


class TestMedusaAsOrderSource(MedusaFixture, PresetOrderSource, OrderSourceContract):
    pass


async def test_product_with_variants_round_trips(medusa: RunningMedusa) -> None:
    """A product with two variants is made with its options, prices and stock, then updated in place."""
    connector = medusa_connector(medusa)
    tag = uuid.uuid4().hex[:6].upper()
    variants = [
        Variant(
            key="1", sku=f"SHIRT-{tag}-S", attributes={"Size": "S"}, list_price=Decimal("19.99"),
            available=Decimal(4),
        ),
        Variant(
            key="2", sku=f"SHIRT-{tag}-M", attributes={"Size": "M"}, list_price=Decimal("21.50"),
            available=Decimal(7),
        ),
    ]  # fmt: skip
    product = Product(key=f"p-{tag}", sku=f"SHIRT-{tag}", name="Shirt", variants=variants)
    try:
        (made,) = await connector.write("product", [WriteItem(product.key, product)], [])
        assert made.status is OutcomeStatus.CREATED and made.target_ref, made.error
        back = one(await connector.read("product", [str(made.target_ref["id"])]))
        assert isinstance(back, Product) and back.sku == f"SHIRT-{tag}"
        held = {variant.sku: variant for variant in back.variants}
        assert set(held) == {v.sku for v in variants}
        assert held[f"SHIRT-{tag}-S"].list_price == Decimal("19.99")
        assert held[f"SHIRT-{tag}-M"].available == Decimal(7)
        assert held[f"SHIRT-{tag}-M"].attributes == {"Size": "M"}
        cheaper = variants[0].model_copy(update={"list_price": Decimal("17.00"), "available": Decimal(9)})
        large = Variant(
            key="3", sku=f"SHIRT-{tag}-L", attributes={"Size": "L"}, list_price=Decimal("23.10"),
            available=Decimal(2),
        )  # fmt: skip
        changed = product.model_copy(update={"variants": [cheaper, variants[1], large]})
        (update,) = await connector.write("product", [WriteItem(product.key, changed, made.target_ref)], [])
        assert update.status is OutcomeStatus.UPDATED, update.error
        prices = (await variant_by_sku(medusa, f"SHIRT-{tag}-S"))["prices"]
        assert [Decimal(str(p["amount"])) for p in prices if p["currency_code"] == "eur"] == [Decimal("17")]
        assert await stock_of(medusa, f"SHIRT-{tag}-S") == Decimal(9)
        assert await stock_of(medusa, f"SHIRT-{tag}-L") == Decimal(2)
        (again,) = await connector.write("product", [WriteItem(product.key, changed, made.target_ref)], [])
        assert again.status is OutcomeStatus.UNCHANGED
    finally:
        await connector.close()


async def test_a_lost_create_answer_is_found_by_sku_not_made_twice(medusa: RunningMedusa) -> None:
    """Medusa takes no idempotency key: the product made before the answer was lost is found by SKU."""
    connector = medusa_connector(medusa)
    tag = uuid.uuid4().hex[:6].upper()
    product = Product(
        key=f"lost-{tag}", sku=f"LOST-{tag}", name="Lost", list_price=Decimal("3.30"), available=Decimal(6)
    )
    plain = connector.client.call
    lost = []

    async def losing(call: Any, values: Any = None, **kwargs: Any) -> Any:
        answer = await plain(call, values, **kwargs)
        if call.method == "POST" and values and values.get("path") == "/admin/products" and not lost:
            lost.append(answer)
            raise Retryable("the answer was lost")
        return answer

    connector.client.call = losing  # type: ignore[method-assign]
    try:
        await connector.ready()
        connector.client.call = losing  # type: ignore[method-assign]
        (outcome,) = await connector.write("product", [WriteItem(product.key, product)], [])
        assert lost and outcome.status is OutcomeStatus.CREATED, outcome.error
        assert outcome.target_ref and outcome.target_ref["id"] == lost[0].body["product"]["id"]
        async with admin(medusa) as client:
            found = await get(client, "/admin/product-variants", sku=f"LOST-{tag}")
        assert found["count"] == 1
        assert await stock_of(medusa, f"LOST-{tag}") == Decimal(6)  # its stock level made all the same
    finally:
        await connector.close()


async def test_several_skus_are_looked_up_in_one_request(medusa: RunningMedusa) -> None:
    """Medusa takes `variants[sku]` repeated (a comma-joined value finds nothing): one request finds
    every product of a batch, and a SKU it does not sell is left out."""
    tag = uuid.uuid4().hex[:6].upper()
    skus = [f"LOOK-{tag}-{number}" for number in range(3)]
    made = {sku: str((await create_product(medusa, sku, "Looked", Decimal("1.10"), 1))["id"]) for sku in skus}
    connector = medusa_connector(medusa)
    try:
        await connector.ready()
        before = connector.client.requests_sent["GET /admin/products"]
        found = await connector.lookup("product", [*skus, f"NONE-{tag}"])
        assert connector.client.requests_sent["GET /admin/products"] - before == 1
        assert found == {sku: {"id": ident} for sku, ident in made.items()}
    finally:
        await connector.close()


async def test_price_and_stock_changes_are_fed_by_the_full_diff(medusa: RunningMedusa) -> None:
    """A price change (stamps the variant) and a stock change (stamps the level) reach the feed."""
    connector = medusa_connector(medusa)
    tag = uuid.uuid4().hex[:6].upper()
    made = await create_product(medusa, f"FEED-{tag}", "Feed", Decimal("5.00"), 3)
    key = str(made["id"])
    try:
        start = await connector.changes("product", None)
        quiet = await connector.changes("product", start.cursor)
        assert key not in quiet.keys
        record = one(await connector.read("product", [key]))
        assert isinstance(record, Product)
        priced = record.model_copy(update={"list_price": Decimal("5.55")})
        item = WriteItem(key, priced, {"id": key}, only=frozenset({"list_price"}))
        assert (await connector.write("product", [item], []))[0].ok
        after_price = await connector.changes("product", quiet.cursor)
        assert key in after_price.keys
        stocked = priced.model_copy(update={"available": Decimal(11)})
        item = WriteItem(key, stocked, {"id": key}, only=frozenset({"available"}))
        assert (await connector.write("product", [item], []))[0].ok
        assert await stock_of(medusa, f"FEED-{tag}") == Decimal(11)
        after_stock = await connector.changes("product", after_price.cursor)
        assert key in after_stock.keys
    finally:
        await connector.close()


async def test_order_reads_rounded_tax_and_takes_shipment_and_refund(medusa: RunningMedusa) -> None:
    """An order reads with the total Medusa shows (18.6354 as 18.64) and taxes in cents that add up to
    it (2.0444 + 0.931: the line's takes the cent); a shipment with its tracking number and a refund
    (capturing the payment first) go back once. Stock is what can be sold: stocked less reserved."""
    connector = medusa_connector(medusa)
    tag = uuid.uuid4().hex[:6].upper()
    product = await create_product(medusa, f"SHIP-{tag}", "Mug", Decimal("10.76"), 20)
    placed = await place_order(medusa, f"ship-{tag.lower()}@example.com", [(product["variants"][0]["id"], 1)])
    key = str(placed["id"])
    try:
        order = one(await connector.read("order", [key]))
        assert isinstance(order, Order) and order.status is OrderStatus.PROCESSING
        assert order.payment_state is PaymentState.AUTHORIZED
        assert order.total == Decimal(str(placed["total"])).quantize(CENT)  # 18.6354
        assert [payment.amount for payment in order.payments] == [Decimal("18.64")]
        assert order.shipping_tax == Decimal("0.93") and order.lines[0].tax == Decimal("2.05")
        parts = sum(line.total + line.tax for line in order.lines) + order.shipping_total + order.shipping_tax
        assert parts == order.total and order.total == Decimal("18.64")
        assert order.tax_total == Decimal("2.98")
        assert [tax.tax_total + tax.shipping_tax_total for tax in order.tax_lines] == [Decimal("2.98")]
        ident = str(product["id"])
        held = one(await connector.read("product", [ident]))
        assert isinstance(held, Product) and held.available == Decimal(19)  # 20 stocked, 1 reserved
        more = held.model_copy(update={"available": Decimal(25)})
        (stocked,) = await connector.write(
            "product", [WriteItem(ident, more, {"id": ident}, only=frozenset({"available"}))], []
        )
        assert stocked.status is OutcomeStatus.UPDATED, stocked.error
        assert await stock_of(medusa, f"SHIP-{tag}") == Decimal(26)  # 25 to sell and the reserved one
        shipped = await shipped_and_refunded(connector, order, key, tag)
        noted = shipped.model_copy(update={"notes": [OrderNote(key="invoice-1", text=f"Invoice INV-{tag}")]})
        item = WriteItem(key, noted, {"id": key}, only=frozenset({"notes"}))
        assert [(await connector.write("order", [item], []))[0].status for _ in range(2)] == [
            OutcomeStatus.UPDATED,
            OutcomeStatus.UNCHANGED,
        ]
        back = one(await connector.read("order", [key]))
        assert isinstance(back, Order) and back.status is OrderStatus.SHIPPED
        assert [s.tracking_numbers for s in back.shipments] == [[f"TRK{tag}"]]
        assert [r.amount for r in back.refunds] == [Decimal("5.00")]
        assert back.payment_state is PaymentState.PARTIALLY_REFUNDED
        assert await stock_of(medusa, f"SHIP-{tag}") == Decimal(25)  # fulfilled: the reserved one left
        after = one(await connector.read("product", [ident]))
        assert isinstance(after, Product) and after.available == Decimal(25)
    finally:
        await connector.close()


async def test_categories_and_customers_are_written_once_and_read_back(medusa: RunningMedusa) -> None:
    """A category (child of another) and a customer are made, found again by name and e-mail, updated."""
    connector = medusa_connector(medusa)
    tag = uuid.uuid4().hex[:6].upper()
    try:
        parent = Category(key=f"c-{tag}", name=f"Tea {tag}")
        (top,) = await connector.write("category", [WriteItem(parent.key, parent)], [])
        assert top.status is OutcomeStatus.CREATED and top.target_ref, top.error
        child = Category(key=f"g-{tag}", name=f"Green {tag}", parent_key=str(top.target_ref["id"]))
        (made,) = await connector.write("category", [WriteItem(child.key, child)], [])
        assert made.status is OutcomeStatus.CREATED and made.target_ref, made.error
        (again,) = await connector.write("category", [WriteItem(child.key, child)], [])
        assert again.status is OutcomeStatus.MATCHED and again.target_ref == made.target_ref
        back = one(await connector.read("category", [str(made.target_ref["id"])]))
        assert isinstance(back, Category) and back.parent_key == top.target_ref["id"]
        email = f"Kunde-{tag.lower()}@Example.com"
        customer = Customer(key=f"k-{tag}", email=email, first_name="Erika", last_name="Muster")
        (first,) = await connector.write("customer", [WriteItem(customer.key, customer)], [])
        assert first.status is OutcomeStatus.CREATED and first.target_ref, first.error
        renamed = customer.model_copy(update={"last_name": "Mustermann"})
        (second,) = await connector.write("customer", [WriteItem(customer.key, renamed)], [])
        assert second.status is OutcomeStatus.MATCHED and second.target_ref == first.target_ref
        held = one(await connector.read("customer", [str(first.target_ref["id"])]))
        assert isinstance(held, Customer) and held.last_name == "Mustermann"
    finally:
        await connector.close()


def test_a_recorded_shipped_and_refunded_order_reads_in_cents() -> None:
    """The order recorded on Medusa 2.21 (tests/data/medusa) reads as shipped, partially refunded, with
    its tracking number, a refund of 10.00 and the total before the refund: 80.682 shown as 80.68."""
    recorded = json.loads(
        (Path(__file__).parents[2] / "data" / "medusa" / "order_shipped_refunded.json").read_text(),
        parse_float=Decimal,
    )["order"]
    connection = RestConnection.model_validate(
        {
            "type": "rest",
            "preset": "medusa",
            "url": "http://127.0.0.1:9",
            "auth": {"kind": "basic", "username": "sk"},
        }
    )
    connector = DeclarativeConnector("medusa", connection, CircuitBreaker("medusa"))
    order = connector.record("order", recorded | {"currency_code": "eur"})  # not asked for when recorded
    assert isinstance(order, Order), order
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PARTIALLY_REFUNDED)
    assert [line.tax for line in order.lines] == [Decimal("8.17"), Decimal("3.78")]
    assert (order.tax_total, order.total) == (Decimal("12.88"), Decimal("80.68"))
    assert [shipment.tracking_numbers for shipment in order.shipments] == [["00340434161094000001"]]
    assert [(refund.amount, refund.reason) for refund in order.refunds] == [(Decimal("10.00"), "scratch")]
    assert [payment.amount for payment in order.payments] == [Decimal("80.68")]
