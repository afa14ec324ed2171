"""The catalogue source contract for the Odoo connector on the sandbox: JSON-RPC (18) and JSON-2 (19)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.plugin import PLUGIN
from emporion.connectors.roles import CatalogueSource
from emporion.testing.contract import CatalogueSourceContract
from emporion.testing.contract.catalogue import Commit
from tests.connectors.odoo.conftest import RunningSandbox

PAGE_SIZE = 3


class TestOdooCatalogueSource(CatalogueSourceContract):
    """Products (templates) paged by three; seeded and changed by the merchant's hand in the sandbox."""

    plugin = PLUGIN
    page_size = PAGE_SIZE
    running: RunningSandbox

    @pytest.fixture
    async def connector(self, odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
        """The connector under test, paging by three, on the sandbox of this API mode."""
        self.running = odoo_sandbox
        connector = OdooConnector("odoo", odoo_sandbox.settings(page_size=PAGE_SIZE))
        yield connector
        await connector.close()

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        """New storable products, created as the merchant creates them."""
        sandbox = self.running.sandbox
        return [
            str(sandbox.create_product(f"Contract {tag} {n}", f"CT-{tag}-{n}", 12.0)) for n in range(count)
        ]

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        """The merchant raises the list price by a cent."""
        sandbox = self.running.sandbox
        (row,) = sandbox.search_read("product.template", [("id", "=", int(key))], ["list_price"])
        sandbox.set_price(int(key), round(float(row["list_price"]) + 0.01, 2))

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """A late commit, as Odoo makes one: the row is stamped with its transaction's start.

        A transaction cannot be held open over the API, so the write lands at commit time and is then
        given back the stamp it would have carried: the server's clock when the change began.
        """
        begun = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

        async def commit() -> None:
            """Write the change now, then give it the stamp of when it began."""
            await self.touch(connector, key)
            self.running.sandbox.restamp("product.template", [int(key)], begun)

        return commit
