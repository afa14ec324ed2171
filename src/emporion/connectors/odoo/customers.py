"""Customer partners both ways: read, scan and a change feed of partners, and their writes.

A partner is a customer when it is a commercial partner (no parent) with a customer rank (Odoo's
sales and invoicing raise it; Sales > Customers creates with it), an e-mail, is not a company's own
partner and, when the connection names a `customer_category`, carries that tag. The feed polls
partners on `write_date` with the connection's overlap: a written child contact (an invoice or
delivery address) reports its parent. Writes go through the one partner writer the order flow uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from emporion.connectors.base import ChangeBatch, Outcome, WriteItem, numeric_keys
from emporion.connectors.odoo import feed
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.partner_read import ADDRESS_FIELDS, PARTNER_FIELDS, m2o
from emporion.connectors.odoo.partners import PartnerWriter
from emporion.connectors.odoo.settings import OdooConnection
from emporion.model import Record

# every field a customer is read from, on the partner and on its child contacts (fingerprinted)
SOURCE = feed.FeedSource(
    "res.partner",
    (
        "name",
        "email",
        "phone",
        "ref",
        "is_company",
        "type",
        "parent_id",
        "active",
        "customer_rank",
        *ADDRESS_FIELDS,
        "category_id",
        "property_product_pricelist",
    ),
)


class OdooCustomers:
    """Partners as canonical Customers: reads, a change feed, lookup by e-mail, idempotent writes."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self.writer = PartnerWriter(client, settings)
        self.reader = self.writer.reader
        self._own: list[int] | None = None

    async def domain(self) -> list[Any]:
        """Which partners are customers (see the module's description)."""
        if self._own is None:
            rows = await self.client.search_read("res.company", [], ["partner_id"])
            self._own = sorted({ident for row in rows if (ident := m2o(row.get("partner_id")))})
        domain: list[Any] = [
            ("parent_id", "=", False),
            ("customer_rank", ">", 0),
            ("email", "!=", False),
            ("id", "not in", self._own),
        ]
        if self.settings.customer_category:
            domain.append(("category_id.name", "=", self.settings.customer_category))
        return domain

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """The customers among `keys`; missing, archived and non-customer partners are left out."""
        ids, unusable = numeric_keys(keys, "customer")
        if not ids:
            return list(unusable)
        rows = await self.reader.rows([("id", "in", ids), *await self.domain()])
        return [*unusable, *await self.reader.customers(rows)]

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every customer partner, a page at a time, ordered by id."""
        context = await self.reader.context()
        async for rows in self.client.pages(
            "res.partner",
            await self.domain(),
            PARTNER_FIELDS,
            page_size=self.settings.page_size,
            context=context,
        ):
            customers = await self.reader.customers(rows)
            if customers:
                yield list(customers)

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Partners changed since `cursor` (the partner or a child contact); None: from now on."""
        position = feed.FeedCursor.loads(cursor) if cursor else None
        overlap = dt.timedelta(seconds=self.settings.overlap_seconds)
        rows, following = await feed.poll(
            self.client, [SOURCE], position, overlap=overlap, page_size=self.settings.page_size
        )
        partners = {m2o(row.get("parent_id")) or int(row["id"]) for row in rows[SOURCE.model]}
        return ChangeBatch(keys=[str(key) for key in sorted(partners)], cursor=following.dumps())

    async def lookup(self, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Active commercial partners by e-mail (any case): `{lower-cased e-mail: {"id": id}}`; only reads."""
        found = await self.writer.find_by_emails(natural_keys)
        return {email: {"id": partner} for email, partner in found.items()}

    async def count(self) -> int:
        """How many customer partners Odoo holds."""
        return await self.client.search_count("res.partner", await self.domain())

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Create or update partners (matched by reference, else e-mail); deletes archive them."""
        return await self.writer.write(upserts, deletes)
