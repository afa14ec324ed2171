"""The file connector: an ERP's file drop (a local folder or SFTP) as catalogue source and sales target.

Catalogue records (categories, products with their variants, prices, sale prices, stock and images,
customers) are read from the export files the ERP drops (`catalogue.py`), their changes from the
drop's exactly-once feed (`drop.py`); orders go out as files (`sales.py`, openTRANS 2.1 or CSV) and
the ERP's progress comes back from its status files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    FeedKind,
    Outcome,
    OutcomeStatus,
    Permanent,
    WriteItem,
)
from emporion.connectors.files.catalogue import ENTITY_SOURCES, Catalogue
from emporion.connectors.files.checks import check_drop
from emporion.connectors.files.drop import FILE_KEY_PREFIX, Drop
from emporion.connectors.files.feeds import feed_sources
from emporion.connectors.files.order_feed import OrderFeed
from emporion.connectors.files.records import RecordBuilder
from emporion.connectors.files.sales import FilesSales
from emporion.connectors.files.settings import FilesConnection
from emporion.connectors.files.sftp import SftpStore
from emporion.connectors.files.store import LocalStore, Store, parse_sftp
from emporion.connectors.roles import RequestObserver, SaleOptions
from emporion.connectors.rows.assemble import DEFAULT_WAREHOUSE
from emporion.connectors.rows.reserve import available, reserve_record, skus_of
from emporion.connectors.rows.values import to_decimal, to_text
from emporion.model import Record


def open_store(name: str, settings: FilesConnection) -> Store:
    """The store of a configured drop: SFTP for an `sftp://` location, else a local folder."""
    circuit = settings.circuit.breaker(name)
    if settings.location.startswith("sftp://"):
        return SftpStore(
            parse_sftp(settings.location),
            circuit,
            password=settings.password.get_secret_value() if settings.password else None,
            private_key=settings.private_key.get_secret_value() if settings.private_key else None,
            known_hosts=settings.known_hosts,
            timeout=settings.timeout,
        )
    return LocalStore(settings.location, circuit)


class FilesConnector:
    """A file drop playing catalogue source and sales target."""

    def __init__(self, name: str, settings: FilesConnection, *, store: Store | None = None) -> None:
        self.name = name
        self.settings = settings
        self.store = store or open_store(name, settings)
        self.circuit = self.store.circuit
        self.drop = Drop(self.store, settings)
        self.catalogue = Catalogue(self.drop, settings)
        self.records = RecordBuilder(self.catalogue)
        self.sales = FilesSales(self.store, settings, self.catalogue, self.drop)
        self.order_feed = OrderFeed(self.store, self.sales.sent, self.drop, self.catalogue)

    def capabilities(self) -> Capabilities:
        reads = {*self.catalogue.entities(), "order"}
        return Capabilities(
            reads=frozenset(reads),
            writes=frozenset({"order", "customer"}),
            batch_size=self.settings.page_size,
            feed=FeedKind.POLL,
            natural_keys={"product": "sku", "customer": "email", "order": "reference"},
        )

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of every operation on the drop (list, read, write, move)."""
        self.store.observers.append(observer)

    async def check(self) -> list[CheckResult]:
        """List the drop and parse the newest file of each configured source; never raises."""
        return await check_drop(self.store, self.drop, self.catalogue, self.settings)

    async def close(self) -> None:
        await self.store.close()

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys` (a file that could not be read: its stand-in); missing ones left out."""
        if entity == "order":
            return await self.sales.read(keys)
        self._known(entity)
        records: list[Record] = []
        wanted = [key for key in keys if not key.startswith(FILE_KEY_PREFIX)]
        for key in keys:
            if key.startswith(FILE_KEY_PREFIX):
                stand_in = await self.catalogue.unreadable(key)
                if stand_in is not None:
                    records.append(stand_in)
        if wanted:
            current = await self.records.build(entity, wanted)
            records += await self._reserved([current[key] for key in dict.fromkeys(wanted) if key in current])
        return records

    async def _reserved(self, records: list[Record]) -> list[Record]:
        """Products with the quantities of order files the ERP has not taken held back (available to
        promise, as `availability` counts it); other records as they are."""
        if self.settings.orders is None or "stock" not in self.catalogue.sources:
            return records
        skus = [sku for record in records for sku in skus_of(record)]
        if not skus:
            return records
        pending = await self.sales.pending_quantities(skus)
        first = self.settings.orders.reserve_warehouses
        return [reserve_record(record, pending, first) for record in records]

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, page by page (sorted by key)."""
        if entity == "order":
            async for page in self.sales.scan(self.settings.page_size):
                yield page
            return
        self._known(entity)
        keys = await self.records.keys(entity)
        size = self.settings.page_size
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            current = await self.records.build(entity, chunk)
            yield await self._reserved([current[key] for key in chunk if key in current])

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor` (None: from now on), from the files dropped since."""
        if entity == "order":
            return await self.order_feed.changes(cursor)
        self._known(entity)
        sources = feed_sources(self.catalogue, entity)
        if cursor is None:
            return await self.drop.start(sources)
        return await self.drop.poll(sources, cursor)

    def _known(self, entity: str) -> None:
        if entity not in ENTITY_SOURCES or entity == "order":
            raise Permanent(f"the file drop {self.name} has no entity {entity}", record=entity)

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Customers (a reference by e-mail); other entities are not written to an ERP's files."""
        if entity == "customer":
            outcomes = await self.sales.write_customers(upserts)
        else:
            error = Permanent(f"the file drop {self.name} takes no {entity} records", record=entity)
            outcomes = [Outcome(item.key, OutcomeStatus.FAILED, error=error) for item in upserts]
        refused = Permanent(f"the file drop {self.name} deletes nothing", record=entity)
        return outcomes + [Outcome(item.key, OutcomeStatus.FAILED, error=refused) for item in deletes]

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Orders as files for the ERP (once per reference), cancellations as cancellation files."""
        if self.settings.orders is None:
            error = Permanent(f"the file drop {self.name} has no `orders` configured", record="orders")
            return [Outcome(item.key, OutcomeStatus.FAILED, error=error) for item in upserts]
        return await self.sales.write_sales(upserts, options)

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Stock per known SKU from the stock files, less orders not yet taken (warehouse by warehouse,
        as products show it), summed over `warehouses`."""
        if "stock" not in self.catalogue.sources:
            return {}
        wanted = set(skus)
        levels: dict[str, dict[str, Decimal]] = {}
        parsing = self.catalogue.mappers["stock"].parsing
        for fields in (await self.catalogue.rows("stock")).fields.values():
            sku = to_text(fields.get("sku") or "")
            if sku not in wanted:
                continue
            warehouse = to_text(fields.get("warehouse") or "") or DEFAULT_WAREHOUSE
            try:
                quantity = to_decimal(fields.get("quantity"), parsing) or Decimal(0)
            except ValueError:
                continue  # an unreadable quantity is reported by the product's read, not counted here
            per_warehouse = levels.setdefault(sku, {})
            per_warehouse[warehouse] = per_warehouse.get(warehouse, Decimal(0)) + quantity
        pending: dict[str, Decimal] = {}
        if self.settings.orders is not None:
            pending = await self.sales.pending_quantities(list(levels))
        first = self.settings.orders.reserve_warehouses if self.settings.orders else None
        return available(levels, pending, first, warehouses)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each known SKU."""
        owners = await self.catalogue.sku_owners()
        return {sku: owners[sku] for sku in skus if sku in owners}
