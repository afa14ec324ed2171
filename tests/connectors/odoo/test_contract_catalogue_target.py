"""The catalogue target contract for the Odoo connector on the sandbox: JSON-RPC (18) and JSON-2 (19)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.plugin import PLUGIN
from emporion.connectors.roles import CatalogueTarget
from emporion.model import Product, Record
from emporion.testing.contract import CatalogueTargetContract
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.test_catalogue_write import allow_product_writes

PAGE_SIZE = 3


class TestOdooCatalogueTarget(CatalogueTargetContract):
    """Odoo as the target of a shop's catalogue; a briefly unwell Odoo answers a concurrent update."""

    plugin = PLUGIN
    running: RunningSandbox

    @pytest.fixture
    async def connector(self, odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
        """The connector under test, its integration user allowed to write products."""
        self.running = odoo_sandbox
        allow_product_writes(odoo_sandbox)
        connector = OdooConnector("odoo", odoo_sandbox.settings(page_size=PAGE_SIZE))
        yield connector
        await connector.close()

    async def seed(self, connector: CatalogueTarget, record: Record) -> str:
        """A storable product made by the merchant in Odoo."""
        assert isinstance(record, Product)
        return str(self.running.sandbox.create_product(record.name, record.sku, 10.0))

    async def fail_transiently(self, connector: CatalogueTarget) -> None:
        """Every request for a while meets Odoo's serialization failure (its own retries gave up)."""
        self.running.sandbox.faults.add("serialization", count=20)

    async def read_unpublished(self, connector: CatalogueTarget, key: str) -> Record:
        """Odoo's catalogue reads leave archived templates out: the template row as it stands."""
        assert await connector.read(self.entity, [key]) == []
        (row,) = self.running.sandbox.search_read(
            "product.template",
            [("id", "=", int(key))],
            ["name", "default_code", "active", "sale_ok"],
            context={"active_test": False},
        )
        return Product(
            key=key,
            sku=row["default_code"] or "",
            name=row["name"],
            active=row["active"],
            salable=row["sale_ok"],
        )
