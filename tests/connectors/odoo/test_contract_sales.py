"""The sales target contract for the Odoo connector on the sandbox, over JSON-RPC (18) and JSON-2 (19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.plugin import PLUGIN
from emporion.connectors.roles import SaleOptions, SalesTarget
from emporion.testing.contract import SalesTargetContract
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import FEE_SKU, stocked


class TestOdooSalesTarget(SalesTargetContract):
    """Customers, sales once per reference, cancellations, stock and product keys, the order feed."""

    plugin = PLUGIN
    sandbox: RunningSandbox

    @pytest.fixture
    async def connector(self, odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
        self.sandbox = odoo_sandbox
        odoo_sandbox.sandbox.create_product("Fees", FEE_SKU, 0.0, type="service", is_storable=False)
        connector = OdooConnector("odoo", odoo_sandbox.settings(fee_product=FEE_SKU, page_size=3))
        yield connector
        await connector.close()

    def sale_options(self) -> SaleOptions:
        return SaleOptions(carriers={"*": "Standard delivery"})

    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        """A product made by the merchant with ten units in the main warehouse."""
        sku = stocked(self.sandbox, f"C{tag}")
        assert (await connector.availability([sku], None)).get(sku, Decimal(0)) > 0
        return sku
