"""Customer parties both ways: read, scan and a change feed of parties, and their writes (number, e-mail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence

from emporion.connectors.base import ChangeBatch, Outcome, WriteItem
from emporion.connectors.tryton.client import TrytonClient
from emporion.model import Record


class Customers:
    """Parties as canonical Customers: reads, a change feed, lookup by e-mail, idempotent writes."""

    def __init__(self, client: TrytonClient, *, page_size: int, overlap: dt.timedelta) -> None:
        self.client = client
        self.page_size = page_size
        self.overlap = overlap

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
