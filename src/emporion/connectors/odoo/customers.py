"""Customer partners both ways: read, scan and a change feed of partners, and their writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from emporion.connectors.base import ChangeBatch, Outcome, WriteItem
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.settings import OdooConnection
from emporion.model import Record


class OdooCustomers:
    """Partners as canonical Customers: reads, a change feed, lookup by e-mail, idempotent writes."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings

    async def read(self, keys: Sequence[str]) -> list[Record]:
        raise NotImplementedError

    async def scan(self) -> AsyncIterator[list[Record]]:
        raise NotImplementedError
        yield []

    async def changes(self, cursor: str | None) -> ChangeBatch:
        raise NotImplementedError

    async def lookup(self, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        raise NotImplementedError

    async def count(self) -> int:
        raise NotImplementedError

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        raise NotImplementedError
