"""The connector contract, run against the minishop connector and a running minishop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from emporion_minishop.connector import MinishopConnector
from emporion_minishop.mapping import product_to_wire
from emporion_minishop.plugin import PLUGIN
from emporion_minishop.settings import MinishopConnection

from emporion.model import Product, Record
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueTargetContract,
    ConnectorContract,
    OrderSourceContract,
)
from tests.example_shop.server import MiniShop

API_KEY = "contract-key"


@pytest.fixture
def running_shop() -> Iterator[MiniShop]:
    """A minishop with pages of three, so that scans and lookups span several."""
    with MiniShop(api_key=API_KEY, per_page=3).serve() as shop:
        yield shop


class MinishopFixture:
    """The connector of each contract part: built by the plugin from settings, as the engine does."""

    plugin = PLUGIN
    shop: MiniShop

    @pytest.fixture
    async def connector(self, running_shop: MiniShop) -> AsyncIterator[Any]:
        self.shop = running_shop
        settings = MinishopConnection(type="minishop", url=running_shop.url, api_key=API_KEY, page_size=3)
        connector = PLUGIN.build("minishop", settings)
        assert isinstance(connector, MinishopConnector)
        yield connector
        await connector.close()


class TestMinishop(MinishopFixture, ConnectorContract):
    pass


class TestMinishopBudget(MinishopFixture, BudgetedConnectionContract):
    pass


class TestMinishopAsCatalogueTarget(MinishopFixture, CatalogueTargetContract):
    async def seed(self, connector: Any, record: Record) -> str:
        assert isinstance(record, Product)
        return str(self.shop.save("products", product_to_wire(record, None))["id"])

    async def fail_transiently(self, connector: Any) -> None:
        self.shop.fail_next(503)


class TestMinishopAsOrderSource(MinishopFixture, OrderSourceContract):
    async def place_order(self, connector: Any, email: str, tag: str) -> str:
        sku = f"ORDER-{tag}"
        if not any(product["sku"] == sku for product in self.shop.all("products")):
            self.shop.save("products", {"sku": sku, "name": "Tea", "price": "4.50", "stock": 100})
        return str(self.shop.place_order(email, [(sku, 1)])["id"])
