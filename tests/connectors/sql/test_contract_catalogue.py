"""The connector contract for the SQL connector's read side, on MariaDB and PostgreSQL, in each change mode.

A late commit is real here: `begin_change` holds the ERP's update open in a transaction of its own
(the row version and change time drawn by its statement) until the test commits it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import ClassVar

import pytest

from emporion.connectors.roles import CatalogueSource
from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.plugin import PLUGIN
from emporion.model import Product
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueSourceContract,
    ConnectorContract,
)
from emporion.testing.contract.catalogue import Commit
from tests.connectors.sql.conftest import Wawi

PAGE_SIZE = 3


class SqlConnectorFixture:
    """A connector paging by three on the test Warenwirtschaft, every source in the class's change mode."""

    plugin = PLUGIN
    mode: ClassVar[str] = "full_diff"
    wawi: Wawi

    @pytest.fixture
    async def connector(
        self, wawi: Wawi, make_connector: Callable[..., SqlConnector]
    ) -> AsyncIterator[SqlConnector]:
        self.wawi = wawi
        yield make_connector(mode=self.mode, page_size=PAGE_SIZE)


class SqlCatalogueSource(SqlConnectorFixture, CatalogueSourceContract):
    """The catalogue source part: articles made, changed and held open as the ERP does."""

    page_size = PAGE_SIZE

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        """New articles with stock, as the ERP makes them."""
        return [str(self.wawi.article(f"CT-{tag}-{n}", f"Contract {tag} {n}", "12.00")) for n in range(count)]

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        """A new name, stamped by the ERP's statement."""
        self.wawi.update("artikel", {"art_id": int(key)}, bezeichnung=f"Touched {self.wawi.new_id()}")

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """The ERP's update in a transaction held open (its stamps drawn now) until `commit`."""
        connection = self.wawi.engine.connect()
        transaction = connection.begin()
        self.wawi.update_in(connection, "artikel", {"art_id": int(key)}, bezeichnung="Late")

        async def commit() -> None:
            transaction.commit()
            connection.close()

        return commit


class TestSqlConnector(SqlConnectorFixture, ConnectorContract):
    pass


class TestSqlBudget(SqlConnectorFixture, BudgetedConnectionContract):
    pass


class TestSqlCatalogueSourceFullDiff(SqlCatalogueSource):
    mode = "full_diff"


class TestSqlCatalogueSourceMonotonic(SqlCatalogueSource):
    mode = "monotonic"


class TestSqlCatalogueSourceUpdatedAt(SqlCatalogueSource):
    mode = "updated_at"


class TestSqlStockChangesReportTheirProduct(SqlConnectorFixture, CatalogueSourceContract):
    """The same contract where the change is in a product's stock row, not in its own row."""

    page_size = PAGE_SIZE
    mode = "updated_at"

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        return [str(self.wawi.article(f"ST-{tag}-{n}", f"Stock {tag} {n}")) for n in range(count)]

    async def _sku(self, connector: CatalogueSource, key: str) -> str:
        (product,) = await connector.read("product", [key])
        assert isinstance(product, Product)
        return product.sku

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        sku = await self._sku(connector, key)
        self.wawi.update("lager_bestand", {"artnr": sku, "lager": "HAUPT"}, menge=Decimal(self.wawi.new_id()))

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        sku = await self._sku(connector, key)
        connection = self.wawi.engine.connect()
        transaction = connection.begin()
        self.wawi.update_in(connection, "lager_bestand", {"artnr": sku, "lager": "NEBEN"}, menge=Decimal(1))

        async def commit() -> None:
            transaction.commit()
            connection.close()

        return commit
