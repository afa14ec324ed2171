"""The connector contract against WooCommerce, played by the sandbox shop over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import (
    CatalogueSource,
    CatalogueTarget,
    CustomerSource,
    CustomerTarget,
    OrderSource,
)
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.plugin import PLUGIN
from emporion.connectors.woocommerce.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, TOPIC_HEADER, sign
from emporion.model import Address, Customer, Product, Record
from emporion.testing.contract import (
    CatalogueSourceContract,
    CatalogueTargetContract,
    ConnectorContract,
    CustomerSourceContract,
    CustomerTargetContract,
    OrderSourceContract,
    RateLimitedConnectionContract,
    WebhookSourceContract,
)
from emporion.testing.contract.catalogue import Commit
from emporion_devkit.sandbox.woocommerce import SandboxShop

PAGE_SIZE = 3
SECOND = 1.1  # the shop stamps whole seconds


class SandboxConnector:
    """Each test gets a connector on a fresh sandbox shop, and the shop's REST API to seed data."""

    plugin = PLUGIN
    shop: SandboxShop
    api: httpx.Client
    listing_page_size = 100  # records per listed page (the shop's largest)

    @pytest.fixture
    async def connector(
        self, sandbox_shop: SandboxShop, sandbox_client: httpx.Client
    ) -> AsyncIterator[WooCommerceConnector]:
        self.shop, self.api = sandbox_shop, sandbox_client
        connector = WooCommerceConnector(
            "shop",
            sandbox_shop.base_url,
            sandbox_shop.consumer_key,
            sandbox_shop.consumer_secret,
            page_size=self.listing_page_size,
        )
        yield connector
        await connector.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a record through the shop's own API, as the merchant or a shopper would."""
        response = self.api.post(path, json=body)
        response.raise_for_status()
        return dict(response.json())


class TestWooCommerceConnector(SandboxConnector, ConnectorContract):
    pass


class TestWooCommerceCatalogueSource(SandboxConnector, CatalogueSourceContract):
    """The shop as the source of a catalogue flow (products made in the shop flow to an ERP)."""

    page_size = PAGE_SIZE
    listing_page_size = PAGE_SIZE

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        """Products made in the shop; then their second passes, so that their stamps are settled."""
        made = [
            self.post(
                "/products", {"name": f"Contract {tag} {n}", "sku": f"CS-{tag}-{n}", "regular_price": "9.00"}
            )
            for n in range(count)
        ]
        await anyio.sleep(SECOND)
        return [str(product["id"]) for product in made]

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        """A price change made in the shop; then its second passes (the shop stamps whole seconds)."""
        self.api.put(f"/products/{key}", json={"regular_price": "9.50"}).raise_for_status()
        await anyio.sleep(SECOND)

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """A save that begins now and commits later, stamped with its start as WordPress does."""
        begun = self.shop.sandbox.shop.clock.now()

        async def commit() -> None:
            self.api.put(f"/products/{key}", json={"regular_price": "9.75"}).raise_for_status()
            self.shop.sandbox.shop.restamp("product", int(key), begun)

        return commit


class TestWooCommerceCatalogueTarget(SandboxConnector, CatalogueTargetContract):
    async def seed(self, connector: CatalogueTarget, record: Record) -> str:
        assert isinstance(record, Product)
        body = {"name": record.name, "sku": record.sku, "type": "simple", "regular_price": "10.00"}
        return str(self.post("products", body)["id"])

    async def fail_transiently(self, connector: CatalogueTarget) -> None:
        self.shop.faults.set(rate_503=1.0, count=1)


class TestWooCommerceOrderSource(SandboxConnector, OrderSourceContract):
    settle_seconds = 2.1  # WooCommerce stamps whole seconds, and the Date header may lag one

    async def place_order(self, connector: OrderSource, email: str, tag: str) -> str:
        product = self.post("products", {"name": "Mug", "sku": f"MUG-{email}", "regular_price": "8.00"})
        order = self.post(
            "orders",
            {
                "status": "processing",
                "set_paid": True,
                "billing": {"first_name": "Ada", "email": email},
                "line_items": [{"product_id": product["id"], "quantity": 1}],
            },
        )
        return str(order["id"])


class TestWooCommerceWebhooks(SandboxConnector, WebhookSourceContract):
    signature_header = SIGNATURE_HEADER
    entity = "order"  # a shop registers webhooks for its orders (it is the catalogue's target)

    def signed_delivery(self, secret: str, key: str) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"id": int(key), "type": "simple", "price": str(Decimal("9.90"))}).encode()
        headers = {
            TOPIC_HEADER: f"{self.entity}.updated",
            DELIVERY_HEADER: "4711",
            SIGNATURE_HEADER: sign(body, secret),
        }
        return headers, body


class TestWooCommerceBudget(SandboxConnector, RateLimitedConnectionContract):
    pass


def billing_of(address: Address) -> dict[str, str]:
    """An Address as the shop's billing block."""
    return {
        "address_1": address.street,
        "city": address.city,
        "postcode": address.postcode,
        "country": address.country,
    }


class TestWooCommerceCustomerSource(SandboxConnector, CustomerSourceContract):
    """Shoppers registering in the shop flow to the ERP (accounts of the role customer)."""

    page_size = PAGE_SIZE
    listing_page_size = PAGE_SIZE

    async def seed(self, connector: CustomerSource, count: int, tag: str) -> list[str]:
        """Registrations through the shop's own API."""
        return [str(self.post("customers", {"email": self.email(tag, n)})["id"]) for n in range(count)]

    async def move(self, connector: CustomerSource, key: str, to: Address) -> None:
        """The shopper edits the billing address in "My account"."""
        self.api.put(f"/customers/{key}", json={"billing": billing_of(to)}).raise_for_status()


class TestWooCommerceCustomerTarget(SandboxConnector, CustomerTargetContract):
    """ERP customers become shop accounts."""

    async def seed(self, connector: CustomerTarget, customer: Customer) -> str:
        """An account made in the shop itself (registered by the shopper)."""
        body = {"email": customer.email, "first_name": customer.first_name, "last_name": customer.last_name}
        return str(self.post("customers", body)["id"])

    async def test_delete_removes_a_linked_customer(self, connector: CustomerTarget, tag: str) -> None:
        """WooCommerce accounts are never deleted by emporion (the shopper's log-in and order history):
        a delete is a FAILED outcome that says so, and the account stays."""
        record = self.record(tag)
        (first,) = await connector.write("customer", [WriteItem(record.key, record)], [])
        (kept,) = await connector.write("customer", [], [WriteItem(record.key, record, first.target_ref)])
        assert kept.status is OutcomeStatus.FAILED and isinstance(kept.error, Permanent)
        assert first.target_ref and kept.error.field == "on_remove"
        assert [r.key for r in await connector.read("customer", [str(first.target_ref["id"])])] == [
            str(first.target_ref["id"])
        ]
