"""The sales-target contract for the SQL connector on real MariaDB and PostgreSQL import tables."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emporion.connectors.roles import SalesTarget
from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.plugin import PLUGIN
from emporion.testing.contract import SalesTargetContract
from tests.connectors.sql import sales_schema as wawi


class TestSqlSalesTarget(SalesTargetContract):
    """Orders into import tables, customers by e-mail, cancellations, stock less orders not taken."""

    plugin = PLUGIN

    @pytest.fixture
    async def connector(self, erp_db_url: str) -> AsyncIterator[SqlConnector]:
        wawi.create_schema(erp_db_url)
        self.url = erp_db_url
        connector = SqlConnector("wawi", wawi.connection_settings(erp_db_url))
        yield connector
        await connector.close()

    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        """An article with stock in two warehouses, entered as the merchant would."""
        sku = f"ART-{tag}"
        wawi.add_article(self.url, sku, {"Haupt": "10", "Zweit": "4"})
        return sku
