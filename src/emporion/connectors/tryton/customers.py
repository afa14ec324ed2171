"""Customer parties both ways: read, scan and a change feed of parties, and their writes (number, e-mail).

The feed watches parties, their addresses and contact mechanisms: a changed address or e-mail reports
its party (a category added or removed through the party stamps the party itself). Writes go
through the one party writer the order flow uses too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from emporion.connectors.base import ChangeBatch, Outcome, WriteItem, numeric_keys
from emporion.connectors.tryton import feed
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.parties import AddressMode, PartyWriter
from emporion.connectors.tryton.party_read import PARTY_FIELDS, PartyReader
from emporion.model import Record

SOURCES = [
    feed.FeedSource("party.party"),
    feed.FeedSource("party.address", ("party",)),
    feed.FeedSource("party.contact_mechanism", ("party",)),
]  # the party-category links are not served over RPC: adding a category through the party stamps it


class Customers:
    """Parties as canonical Customers: reads, a change feed, lookup by e-mail, idempotent writes."""

    def __init__(
        self,
        client: TrytonClient,
        *,
        page_size: int,
        overlap: dt.timedelta,
        groups: Sequence[str] = (),
        category: str | None = None,
        addresses: AddressMode = "add",
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.overlap = overlap
        self.category = category
        self.reader = PartyReader(client, groups=groups)
        self.writer = PartyWriter(client, groups=groups, category=category, addresses=addresses)
        self._own: list[int] | None = None

    async def _domain(self) -> list[Any]:
        """Which parties are customers: an e-mail, not a company's own party, in the category if named."""
        if self._own is None:
            rows = await self.client.search_read("company.company", [], ["party"])
            self._own = sorted(row["party"] for row in rows)
        domain: list[Any] = [("contact_mechanisms.type", "=", "email"), ("id", "not in", self._own)]
        if self.category:
            domain.append(("categories.name", "=", self.category))
        return domain

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """The customers among `keys`; missing, inactive and non-customer parties are left out."""
        ids, unusable = numeric_keys(keys, "customer")
        if not ids:
            return list(unusable)
        rows = await self.client.search_read(
            "party.party", [("id", "in", ids), await self._domain()], PARTY_FIELDS, order=[("id", "ASC")]
        )
        return [*unusable, *await self.reader.customers(rows)]

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every customer party, a page at a time, ordered by id."""
        async for rows in self.client.pages(
            "party.party", await self._domain(), PARTY_FIELDS, page_size=self.page_size
        ):
            page = await self.reader.customers(rows)
            if page:
                yield list(page)

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Parties changed since `cursor` (the party, an address, a contact, a category); None: from now."""
        position = feed.FeedCursor.loads(cursor) if cursor else None
        rows, next_cursor = await feed.poll(
            self.client, SOURCES, position, overlap=self.overlap, page_size=self.page_size
        )
        parties = {row["id"] for row in rows["party.party"]}
        for source in SOURCES[1:]:
            parties |= {row["party"] for row in rows[source.model] if row.get("party")}
        return ChangeBatch(keys=[str(key) for key in sorted(parties)], cursor=next_cursor.dumps())

    async def lookup(self, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Active parties by e-mail in any case: `{lower-cased e-mail: {"id": party}}`; only reads."""
        found = await self.writer.find_by_emails(natural_keys)
        return {email: {"id": party} for email, party in found.items()}

    async def count(self) -> int:
        """How many customer parties the database holds."""
        return int(await self.client.model("party.party", "search_count", await self._domain()))

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Create or update parties (matched by number, else e-mail); deletes deactivate them."""
        return await self.writer.write(upserts, deletes)
