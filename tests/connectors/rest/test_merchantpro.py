"""The connector contract on the shipped MerchantPro preset, against the MerchantPro sandbox.

The connection is configured as a merchant would configure it (`preset: merchantpro`, the shop's URL,
the API key and secret), with pages of three records so that scans span pages and a request rate
above the shop's own (the sandbox sets none). The sandbox stamps changes in whole seconds, as the
shop's database does: the once-only checks wait a second for the stamps to settle.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import anyio
import pytest

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import PLUGIN
from emporion.connectors.rest.presets.merchantpro import HOOKS, MerchantProHooks
from emporion.connectors.rest.settings import RestConnection
from emporion.model import Address, Customer, Order, OrderStatus, PaymentState, Product, Record, Shipment
from emporion.testing.contract import (
    CatalogueSourceContract,
    CatalogueTargetContract,
    ConnectorContract,
    ContractPart,
    CustomerSourceContract,
    CustomerTargetContract,
    OrderSourceContract,
    RateLimitedConnectionContract,
)
from emporion.testing.contract.base import drain, scan_keys
from emporion.testing.contract.catalogue import Commit
from emporion_devkit.sandbox.merchantpro import MerchantProSandbox

ENTITIES = ("category", "product", "customer", "order")


def configured(sandbox: MerchantProSandbox) -> RestConnection:
    """The connection a merchant configures for the sandbox shop, with pages of three."""
    paging = {name: {"paging": {"size": 3}} for name in ENTITIES}
    return RestConnection.model_validate(
        {
            "type": "rest",
            "preset": "merchantpro",
            "url": sandbox.url,
            "auth": {"username": sandbox.api_key, "password": sandbox.api_secret},
            "rate": {"max_requests_per_second": 200, "max_concurrency": 4},
            "entities": paging,
        }
    )


def billing(address: Address) -> dict[str, str]:
    """A canonical address as MerchantPro's `billing_address`."""
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "address": address.street,
        "city": address.city,
        "county": address.state,
        "postal_code": address.postcode,
        "country_code": address.country,
        "phone": address.phone,
    }


async def at_the_start_of_a_second() -> None:
    """Wait for the next second to begin, so that what follows shares one whole-second stamp."""
    await anyio.sleep(1.02 - time.time() % 1)


class MerchantProPreset:
    """The connector of each contract part: built by the plugin from the configured preset."""

    plugin = PLUGIN
    settle_seconds: ClassVar[float] = 1.1
    shop: MerchantProSandbox

    @pytest.fixture
    async def connector(self, merchantpro: MerchantProSandbox) -> AsyncIterator[Any]:
        self.shop = merchantpro
        connector = PLUGIN.build("merchantpro", configured(merchantpro))
        assert isinstance(connector, DeclarativeConnector)
        assert isinstance(connector.hooks, MerchantProHooks)
        yield connector
        await connector.close()


def test_the_preset_validates_with_url_and_credentials_only() -> None:
    """A configuration naming the preset needs only the shop's URL and the API key and secret."""
    settings = RestConnection.model_validate(
        {
            "type": "rest",
            "preset": "merchantpro",
            "url": "https://www.example.ro",
            "auth": {"username": "key", "password": "secret"},
        }
    )
    assert settings.auth.kind == "basic" and settings.webhooks is None
    assert set(settings.entities.configured()) == set(ENTITIES)
    product = settings.entities.product
    assert product is not None and product.paging is not None and product.paging.kind == "next_link"
    assert product.list is not None and product.list.params["include"] == "variants"
    assert settings.rate.max_requests_per_second == 4


def test_the_hooks_shape_products_with_variants() -> None:
    """A product with variants is sent as multi_variant, without the fields its variants hold."""
    product = Product.model_validate(
        {"key": "erp-7", "sku": "SHIRT", "name": "Shirt", "variants": [{"key": "v", "sku": "SHIRT-S"}]}
    )
    body = {"sku": "SHIRT", "price_gross": 1, "stock": 2, "variants": [{"sku": "SHIRT-S", "price_gross": 5}]}
    shaped = HOOKS.shape_write("product", body, product, creating=True)
    assert shaped == {
        "sku": "SHIRT",
        "ext_ref": "erp-7",
        "type": "multi_variant",
        "variants": [{"sku": "SHIRT-S", "price_gross": 5}],
    }
    simple = product.model_copy(update={"variants": []})
    assert HOOKS.shape_write("product", {"sku": "TEA", "variants": []}, simple, creating=True) == {
        "sku": "TEA",
        "ext_ref": "erp-7",
        "type": "basic",
    }
    assert HOOKS.shape_write("product", {"name": "Tea"}, simple, creating=False) == {
        "name": "Tea",
        "ext_ref": "erp-7",
    }


class TestMerchantPro(MerchantProPreset, ConnectorContract):
    pass


class TestMerchantProBudget(MerchantProPreset, RateLimitedConnectionContract):
    pass


class TestMerchantProAsCatalogueSource(MerchantProPreset, CatalogueSourceContract):
    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        earlier = datetime.now(UTC) - timedelta(seconds=5)  # there before the test: no stamp to share
        return [
            str(self.shop.add_product(f"SRC-{tag}-{n}", "Tea", stamp=earlier)["id"]) for n in range(count)
        ]

    async def touch(self, connector: Any, key: str) -> None:
        self.shop.change_product(int(key), name=f"Touched {time.monotonic_ns()}")

    async def test_change_at_the_cursor_boundary_is_reported_by_the_next_poll(
        self, connector: Any, tag: str
    ) -> None:
        """The contract's check, started at the beginning of a second as a fast poll cycle would be."""
        await at_the_start_of_a_second()
        await super().test_change_at_the_cursor_boundary_is_reported_by_the_next_poll(connector, tag)

    async def begin_change(self, connector: Any, key: str) -> Commit:
        began = datetime.now(UTC)

        async def commit() -> None:
            self.shop.change_product(int(key), stamp=began, name="Committed late")

        return commit


class TestMerchantProCategoriesAsCatalogueSource(MerchantProPreset, CatalogueSourceContract):
    entity = "category"

    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        earlier = datetime.now(UTC) - timedelta(seconds=5)  # there before the test: no stamp to share
        return [str(self.shop.add_category(f"Cat {tag} {n}", stamp=earlier)["id"]) for n in range(count)]

    async def touch(self, connector: Any, key: str) -> None:
        self.shop.change_category(int(key), description=f"Touched {time.monotonic_ns()}")

    async def begin_change(self, connector: Any, key: str) -> Commit:
        began = datetime.now(UTC)

        async def commit() -> None:
            self.shop.change_category(int(key), stamp=began, description="Committed late")

        return commit

    async def test_change_at_the_cursor_boundary_is_reported_by_the_next_poll(
        self, connector: Any, tag: str
    ) -> None:
        """The contract's check, started at the beginning of a second as a fast poll cycle would be."""
        await at_the_start_of_a_second()
        await super().test_change_at_the_cursor_boundary_is_reported_by_the_next_poll(connector, tag)


class TestMerchantProAsCatalogueTarget(MerchantProPreset, CatalogueTargetContract):
    async def seed(self, connector: Any, record: Record) -> str:
        assert isinstance(record, Product)
        return str(self.shop.add_product(record.sku, record.name, price_gross=record.list_price or 0)["id"])

    async def fail_transiently(self, connector: Any) -> None:
        self.shop.fail_next(503, count=3)  # the search before create, and its two quick retries


class TestMerchantProAsCustomerSource(MerchantProPreset, CustomerSourceContract):
    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        earlier = datetime.now(UTC) - timedelta(seconds=5)  # registered before the test
        return [str(self.shop.add_customer(self.email(tag, n), stamp=earlier)["id"]) for n in range(count)]

    async def move(self, connector: Any, key: str, to: Address) -> None:
        self.shop.change_customer(int(key), billing_address=billing(to))


class TestMerchantProAsCustomerTarget(MerchantProPreset, CustomerTargetContract):
    async def seed(self, connector: Any, customer: Customer) -> str:
        fields = {"first_name": customer.first_name, "last_name": customer.last_name}
        return str(self.shop.add_customer(customer.email, **fields)["id"])


class TestMerchantProAsOrderSource(MerchantProPreset, OrderSourceContract):
    async def place_order(self, connector: Any, email: str, tag: str) -> str:
        sku = f"ORDER-{tag}"
        if not any(product["sku"] == sku for product in self.shop.all("product")):
            self.shop.add_product(sku, "Tea", price_gross="4.50", stock=100)
        return str(self.shop.place_order(email, [(sku, 1)])["id"])


class TestMerchantProSpecifics(MerchantProPreset, ContractPart):
    """What the preset does beyond the contract: variants, stock by SKU, returns, the ERP's key."""

    async def test_a_product_with_variants_is_made_multi_variant_with_its_options(
        self, connector: Any, tag: str
    ) -> None:
        """Variants travel with their options; the product carries the ERP's key in `ext_ref`."""
        product = Product.model_validate(
            {
                "key": f"erp-{tag}",
                "sku": f"SHIRT-{tag}",
                "name": "Shirt",
                "variants": [
                    {"key": "s", "sku": f"SHIRT-{tag}-S", "list_price": "20.00", "attributes": {"Size": "S"}},
                    {"key": "m", "sku": f"SHIRT-{tag}-M", "list_price": "22.50", "attributes": {"Size": "M"}},
                ],
            }
        )
        (outcome,) = await connector.write("product", [WriteItem(product.key, product)], [])
        assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref, outcome.error
        stored = self.shop.record("product", int(outcome.target_ref["id"]))
        assert stored["type"] == "multi_variant" and stored["ext_ref"] == f"erp-{tag}"
        assert [v["variant_options"] for v in stored["variants"]] == [
            [{"name": "Size", "value": "S"}],
            [{"name": "Size", "value": "M"}],
        ]
        (back,) = await connector.read("product", [str(outcome.target_ref["id"])])
        assert isinstance(back, Product)
        assert [(v.sku, v.list_price, v.attributes) for v in back.variants] == [
            (f"SHIRT-{tag}-S", Decimal("20.00"), {"Size": "S"}),
            (f"SHIRT-{tag}-M", Decimal("22.50"), {"Size": "M"}),
        ]

    async def test_stock_alone_is_set_through_the_inventory_by_sku(self, connector: Any, tag: str) -> None:
        """A write of the stock alone sets the unit's stock by SKU and leaves the rest as it is."""
        product = Product(key=f"erp-{tag}", sku=f"STOCK-{tag}", name="Stocked", list_price=Decimal("9.99"))
        (first,) = await connector.write("product", [WriteItem(product.key, product)], [])
        assert first.target_ref, first.error
        counted = product.model_copy(update={"available": Decimal(7), "name": "Not sent"})
        item = WriteItem(product.key, counted, first.target_ref, only=frozenset({"available"}))
        (outcome,) = await connector.write("product", [item], [])
        assert outcome.ok, outcome.error
        stored = self.shop.record("product", int(first.target_ref["id"]))
        assert stored["stock"] == 7 and stored["name"] == "Stocked" and stored["price_gross"] == 9.99

    async def test_returns_are_not_read_as_sales(self, connector: Any, tag: str) -> None:
        """A return is an order of its own in MerchantPro; the order scan and feed leave it out."""
        sku = f"RET-{tag}"
        self.shop.add_product(sku, "Returned")
        start = await connector.changes("order", None)
        order = self.shop.place_order(f"ret-{tag.lower()}@example.ro", [(sku, 2)])
        returned = self.shop.place_return(order["id"], [(sku, 1)])
        keys, _ = await scan_keys(connector, "order")
        assert str(order["id"]) in keys and str(returned["id"]) not in keys
        fed = (await drain(connector, "order", start.cursor)).keys
        assert str(order["id"]) in fed and str(returned["id"]) not in fed

    async def test_a_return_is_read_as_a_refund_of_the_order_it_returns(
        self, connector: Any, tag: str
    ) -> None:
        """Order then return in the shop: the order reads with one refund (amount, lines, restock once
        the goods came back), by key and in the scan; the return is no order of its own."""
        tea, mug = f"RFT-{tag}", f"RFM-{tag}"
        self.shop.add_product(tea, "Tea", price_gross="12.10")
        self.shop.add_product(mug, "Mug", price_gross="24.20")
        placed = self.shop.place_order(f"refund-{tag.lower()}@example.ro", [(tea, 3), (mug, 1)])
        returned = self.shop.place_return(placed["id"], [(tea, 2)])
        (order,) = await connector.read("order", [str(placed["id"])])
        assert isinstance(order, Order)
        (refund,) = order.refunds
        assert refund.amount == Decimal("24.20") and refund.key == f"return-{returned['id']}"
        (line,) = refund.lines
        sold = next(sold for sold in order.lines if sold.sku == tea)
        assert (line.line_key, line.sku, line.quantity) == (sold.key, tea, 2)
        assert (line.amount, line.tax) == (Decimal(20), Decimal("4.20"))
        assert not refund.restock and not line.restock  # the goods have not come back yet
        assert await connector.read("order", [str(returned["id"])]) == []
        self.shop.set_order_status(returned["id"], shipping_status="returned")
        scanned = [record async for page in connector.scan("order") for record in page]
        (again,) = [record for record in scanned if record.key == str(placed["id"])]
        assert isinstance(again, Order) and len(again.refunds) == 1
        assert again.refunds[0].restock and again.refunds[0].lines[0].restock
        assert str(returned["id"]) not in {record.key for record in scanned}

    async def test_a_return_on_an_old_order_reaches_the_change_feed_once(
        self, connector: Any, tag: str
    ) -> None:
        """MerchantPro does not stamp an order when a return is placed on it: the feed still reports the
        order (read with its refund) by the next poll, and not by the poll after."""
        sku = f"FEED-{tag}"
        self.shop.add_product(sku, "Tea", price_gross="12.10")
        placed = self.shop.place_order(f"feed-{tag.lower()}@example.ro", [(sku, 2)])
        old = datetime.now(UTC) - timedelta(minutes=10)  # long before the feed's overlap
        stored = self.shop.store.get("order", placed["id"])
        stored["created_at"] = old.replace(microsecond=0)
        self.shop.store.touch("order", stored, old)
        start = await connector.changes("order", None)
        quiet = await drain(connector, "order", start.cursor)
        assert str(placed["id"]) not in quiet.keys
        returned = self.shop.place_return(placed["id"], [(sku, 1)])
        assert self.shop.record("order", placed["id"])["updated_at"] == old.replace(microsecond=0).isoformat()
        await anyio.sleep(self.settle_seconds)  # the return's whole-second stamp settles
        fed = await drain(connector, "order", quiet.cursor)
        assert str(placed["id"]) in fed.keys and str(returned["id"]) not in fed.keys
        (order,) = await connector.read("order", [str(placed["id"])])
        assert isinstance(order, Order)
        assert [refund.key for refund in order.refunds] == [f"return-{returned['id']}"]
        after = await drain(connector, "order", fed.cursor)
        assert str(placed["id"]) not in after.keys

    async def test_an_order_reads_with_its_statuses_lines_and_address(self, connector: Any, tag: str) -> None:
        """A paid order of an account reads with its payment state, net line prices and the address."""
        sku = f"TEA-{tag}"
        self.shop.add_product(sku, "Tea", price_gross="12.10")
        email = f"paid-{tag.lower()}@example.ro"
        account = self.shop.add_customer(email)
        placed = self.shop.place_order(email, [(sku, 2)])
        self.shop.set_order_status(placed["id"], status="confirmed", payment_status="paid")
        (order,) = await connector.read("order", [str(placed["id"])])
        assert isinstance(order, Order)
        assert order.status is OrderStatus.PROCESSING and order.payment_state is PaymentState.PAID
        assert order.customer.key == str(account["id"]) and order.billing.city == "Bucuresti"
        (line,) = order.lines
        assert (line.sku, line.quantity, line.unit_price, line.total) == (sku, 2, Decimal(10), Decimal(20))
        assert order.total == Decimal("24.20") and order.currency == "RON"

    async def test_a_shipment_marks_the_order_shipped(self, connector: Any, tag: str) -> None:
        """The ERP's shipment reaches the shop as the order's shipping status; its status stays."""
        sku = f"SHIP-{tag}"
        self.shop.add_product(sku, "Shipped")
        placed = self.shop.place_order(f"ship-{tag.lower()}@example.ro", [(sku, 1)])
        (order,) = await connector.read("order", [str(placed["id"])])
        assert isinstance(order, Order)
        shipped = order.model_copy(update={"shipments": [Shipment(key="1", carrier="FAN Courier")]})
        item = WriteItem(order.key, shipped, {"id": order.key}, only=frozenset({"shipments"}))
        (outcome,) = await connector.write("order", [item], [])
        assert outcome.status is OutcomeStatus.UPDATED, outcome.error
        stored = self.shop.record("order", placed["id"])
        assert stored["shipping_status"] == "shipped" and stored["status"] == "new"
