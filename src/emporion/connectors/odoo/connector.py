"""The Odoo connector: a catalogue source and a sales target over one client, with `check`.

The connector is a shell: the client (version, API, login, typed errors) is `client.py`; the catalogue
(`catalogue.OdooCatalogue`) and the sales (`sales.OdooSales`) do the work and are imported when first
used, so that reading the configuration never imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from emporion.connectors import roles
from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    CredentialExpiry,
    FeedKind,
    Outcome,
    Permanent,
    WriteItem,
)
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.settings import OdooConnection
from emporion.model import Record

if TYPE_CHECKING:
    from emporion.connectors.odoo.catalogue import OdooCatalogue
    from emporion.connectors.odoo.catalogue_write import OdooCatalogueWriter
    from emporion.connectors.odoo.customers import OdooCustomers
    from emporion.connectors.odoo.sales import OdooSales

CATALOGUE = frozenset({"category", "product"})
SALES_READS = frozenset({"order"})
SALES_WRITES = frozenset({"order", "customer", "return"})
CUSTOMERS = frozenset({"customer"})  # partners both ways (customers.py)
# what Odoo does not keep of a shop's catalogue (docs/connectors/odoo.md, "A shop's catalogue into Odoo")
UNKEPT = {
    "product": frozenset({"short_description", "images", "sale_price", "available", "tax_class", "custom"}),
    "category": frozenset({"slug", "description"}),
}


class OdooConnector:
    """Reads an Odoo catalogue with its stock and prices, and takes the shop's orders as sales."""

    def __init__(self, name: str, settings: OdooConnection) -> None:
        self.name = name
        self.settings = settings
        self.circuit = settings.circuit.breaker(name)
        self.client = OdooClient(settings, self.circuit)
        self._catalogue: OdooCatalogue | None = None
        self._sales: OdooSales | None = None
        self._catalogue_writer: OdooCatalogueWriter | None = None
        self._customers: OdooCustomers | None = None

    def capabilities(self) -> Capabilities:
        """Reads categories, products and orders; writes orders, customers and returns."""
        return Capabilities(
            reads=CATALOGUE | CUSTOMERS | SALES_READS,
            writes=SALES_WRITES | CATALOGUE,
            batch_size=self.settings.page_size,
            feed=FeedKind.POLL,
            natural_keys={"product": "sku", "category": "name", "customer": "email"},
            unkept=UNKEPT,
        )

    @property
    def catalogue(self) -> OdooCatalogue:
        """The catalogue half (products, categories, stock, prices, their change feed)."""
        if self._catalogue is None:
            from emporion.connectors.odoo.catalogue import OdooCatalogue

            self._catalogue = OdooCatalogue(self.client, self.settings)
        return self._catalogue

    @property
    def sales(self) -> OdooSales:
        """The sales half (orders, customers, returns, and the sales read back for the shop)."""
        if self._sales is None:
            from emporion.connectors.odoo.sales import OdooSales

            self._sales = OdooSales(self.client, self.settings)
        return self._sales

    @property
    def catalogue_writer(self) -> OdooCatalogueWriter:
        """A shop's categories and products into Odoo (the catalogue target)."""
        if self._catalogue_writer is None:
            from emporion.connectors.odoo.catalogue_write import OdooCatalogueWriter

            self._catalogue_writer = OdooCatalogueWriter(self.client, self.settings)
        return self._catalogue_writer

    @property
    def customers(self) -> OdooCustomers:
        """Customer partners both ways (the customer source and target)."""
        if self._customers is None:
            from emporion.connectors.odoo.customers import OdooCustomers

            self._customers = OdooCustomers(self.client, self.settings)
        return self._customers

    # -- reads and the change feed ----------------------------------------------------------------

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys` (sales for `order`); missing ones are left out."""
        if entity == "order":
            return await self.sales.read(keys)
        if entity == "customer":
            return await self.customers.read(keys)
        self._check_entity(entity)
        return await self.catalogue.read(entity, keys)

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, a page at a time."""
        if entity == "order":
            async for page in self.sales.scan():
                yield page
            return
        if entity == "customer":
            async for page in self.customers.scan():
                yield page
            return
        self._check_entity(entity)
        async for page in self.catalogue.scan(entity):
            yield page

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor` (None: from now on)."""
        if entity == "order":
            return await self.sales.changes(cursor)
        if entity == "customer":
            return await self.customers.changes(cursor)
        self._check_entity(entity)
        return await self.catalogue.changes(entity, cursor)

    # -- the sales target ---------------------------------------------------------------------------

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Orders, customers, returns, and a shop's catalogue (categories, products) into Odoo."""
        if entity == "customer":  # partners, matched by reference (number), else e-mail
            return await self.customers.write(upserts, deletes)
        if entity in CATALOGUE:  # a shop's categories and products, matched by name and SKU
            return await self.catalogue_writer.write(entity, upserts, deletes)
        if entity not in SALES_WRITES:
            raise Permanent(f"the Odoo connector does not write {entity} records")
        return await self.sales.write(entity, upserts, deletes)

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by natural key (SKU, category name, e-mail): `{natural key: {"id": …}}`."""
        if entity == "customer":
            return await self.customers.lookup(natural_keys)
        self._check_entity(entity)
        return await self.catalogue_writer.lookup(entity, natural_keys)

    async def count(self, entity: str) -> int:
        """How many categories, products or customer partners Odoo holds."""
        if entity == "customer":
            return await self.customers.count()
        self._check_entity(entity)
        return await self.catalogue_writer.count(entity)

    async def write_sales(self, upserts: Sequence[WriteItem], options: roles.SaleOptions) -> list[Outcome]:
        """Create, pay or cancel the sales of shop orders with the flow's maps (by reference first)."""
        return await self.sales.write_sales(upserts, options)

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Free quantity per known SKU, summed over `warehouses` (None: the configured ones)."""
        return await self.catalogue.availability(skus, warehouses)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product (template) key behind each SKU; unknown SKUs are absent."""
        return await self.catalogue.product_keys(skus)

    # -- operations -----------------------------------------------------------------------------------

    async def check(self) -> list[CheckResult]:
        """Login, access per model (naming the missing group), warehouses, pricelists, the key's lifetime."""
        from emporion.connectors.odoo.checks import run_checks

        return await run_checks(self.client, self.settings)

    async def key_expires_at(self) -> datetime | None:
        """When the first of the integration user's API keys expires (None: never), for an expiry alert."""
        from emporion.connectors.odoo.keys import key_lifetime

        return (await key_lifetime(self.client)).expires_at

    async def credential_expiry(self) -> CredentialExpiry | None:
        """The API key's expiry and the configured warning time (the engine's expiry alert)."""
        expires_at = await self.key_expires_at()
        if expires_at is None:
            return None
        warn = timedelta(days=self.settings.key_expiry_warning_days)
        return CredentialExpiry(expires_at=expires_at.astimezone(UTC), warn_before=warn)

    def observe_requests(self, observer: roles.RequestObserver) -> None:
        """Tell `observer` of every request to Odoo (metrics, correlation id)."""
        self.client.observe(observer)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.close()

    def _check_entity(self, entity: str) -> None:
        if entity not in CATALOGUE:
            raise Permanent(f"the Odoo connector does not read {entity!r} (only category, product, order)")
