"""The SQL connector: a Warenwirtschaft's database as a catalogue source and a sales target.

The catalogue (categories, products with variants, prices, sale prices, stock and images, customers)
is read from tables or read-only queries (`catalogue.py`) and followed by the change feed
(`feed.py`); orders, customers and returns go into the ERP's import tables and its progress is read
back (`sales.py`, handed the same database and catalogue). Every call goes through one `Database`:
pooled, in worker threads, behind the connection's circuit breaker, observed as method "SQL".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    ConnectorError,
    FeedKind,
    Outcome,
    WriteItem,
)
from emporion.connectors.roles import RequestObserver, SaleOptions
from emporion.connectors.sql.catalogue import SqlCatalogue
from emporion.connectors.sql.checks import check
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.feed import SqlFeed
from emporion.connectors.sql.settings import SqlConnection
from emporion.model import Record

if TYPE_CHECKING:
    from emporion.connectors.sql.sales import SqlSales

READS = frozenset({"category", "product", "customer", "order"})
WRITES = frozenset({"order", "customer", "return"})


class SqlConnector:
    """One configured SQL connection playing catalogue source, sales target and budgeted connection."""

    def __init__(self, name: str, settings: SqlConnection) -> None:
        self.name = name
        self.settings = settings
        self.circuit = settings.circuit.breaker(name)
        self.db = Database(settings, self.circuit)
        self.catalogue = SqlCatalogue(self.db, settings)
        self.feed = SqlFeed(self.db, self.catalogue)
        self._sales: SqlSales | None = None

    @property
    def sales(self) -> SqlSales:
        """The sales side, made on first use (import tables, progress, the order feed)."""
        if self._sales is None:
            from emporion.connectors.sql.sales import SqlSales

            self._sales = SqlSales(self.db, self.settings, self.catalogue)
        return self._sales

    def capabilities(self) -> Capabilities:
        """Reads catalogue entities and orders, writes orders, customers and returns; products by SKU."""
        return Capabilities(
            reads=READS,
            writes=WRITES,
            batch_size=min(self.settings.page_size, 500),
            feed=FeedKind.POLL,
            natural_keys={"product": "sku"},
        )

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Records by key (missing ones left out): sales for `order`, the catalogue otherwise."""
        if entity == "order":
            return await self.sales.read(keys)
        return await self.catalogue.read(entity, keys)

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, page by page."""
        pages = self.sales.scan() if entity == "order" else self.catalogue.scan(entity)
        async for page in pages:
            yield page

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor` (None: from now on)."""
        if entity == "order":
            return await self.sales.changes(cursor)
        return await self.feed.changes(entity, cursor)

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Orders, customers and returns into the ERP's import tables."""
        return await self.sales.write(entity, upserts, deletes)

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Shop orders staged for the ERP (searched by reference first), paid or cancelled."""
        return await self.sales.write_sales(upserts, options)

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Quantity available to promise per known SKU, summed over `warehouses` (None: all)."""
        return await self.sales.availability(skus, warehouses)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each SKU, simple or variant; unknown SKUs are absent."""
        return await self.catalogue.product_keys(skus)

    async def check(self) -> list[CheckResult]:
        """Connect and validate every catalogue source, then the order import and progress; never raises."""
        results = await check(self.db, self.catalogue)
        if results[0].ok and (self.settings.orders is not None or self.settings.progress is not None):
            try:
                results += await self.sales.check()
            except ConnectorError as error:
                results.append(CheckResult("orders", False, str(error)))
        return results

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of each query call (method "SQL", status 200 or 500)."""
        self.db.observe(observer)

    async def close(self) -> None:
        """Close the pooled connections."""
        await asyncio.to_thread(self.db.dispose)
