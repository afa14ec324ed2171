"""The Odoo sales target: customers, sales (create, confirm, pay, cancel), returns, and sales read back.

`OdooSales` is what the connector delegates the sales target's work to: `write("customer" |
"order" | "return")`, `write_sales` with the flow's options, and the orders read back (`read`,
`scan`, `changes`) with `reference` naming the shop order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from emporion.connectors.base import ChangeBatch, Outcome, Permanent, WriteItem, numeric_keys
from emporion.connectors.odoo.returns import ReturnWriter
from emporion.connectors.odoo.sale_feed import SaleFeed
from emporion.connectors.odoo.sale_read import SaleReader
from emporion.connectors.odoo.sale_write import SaleWriter
from emporion.connectors.roles import SaleOptions
from emporion.model import Record

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection


class OdooSales:
    """Shop customers, orders and refunds into Odoo, and Odoo's sales back as canonical Orders."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self.reader = SaleReader(client, settings.page_size)
        self.feed = SaleFeed(
            client, overlap=dt.timedelta(seconds=settings.overlap_seconds), page_size=settings.page_size
        )

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Orders (with default sale options) or returns; `deletes` are ignored (as with Tryton: a shop
        never deletes a sale or credit note from the ERP). Customers go to `customers.OdooCustomers`."""
        if entity == "order":
            return await self.write_sales(upserts, SaleOptions())
        if entity == "return":
            return await ReturnWriter(self.client, self.settings).write(upserts)
        raise Permanent(f"the Odoo sales target does not write {entity!r}", field="entity")

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Create (once per reference), confirm, pay or cancel the sales of shop orders."""
        return await SaleWriter(self.client, self.settings).write(upserts, options)

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """Sales by id as canonical Orders; a key that is no sale id is a dead letter, a gone sale absent."""
        ids, unusable = numeric_keys(keys, "sale.order")
        return [*unusable, *await self.reader.orders(ids)]

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every shop sale (with a customer reference), page by page."""
        domain = [("client_order_ref", "!=", False)]
        async for page in self.client.pages("sale.order", domain, ["id"], page_size=self.settings.page_size):
            orders: list[Record] = list(await self.reader.orders([int(row["id"]) for row in page]))
            if orders:
                yield orders

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Shop sales whose sale, deliveries or invoices changed since `cursor` (None: from now on)."""
        return await self.feed.changes(cursor)
