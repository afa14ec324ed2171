"""A shop's catalogue into Tryton: categories, and products as templates with variants, by name and SKU."""

from __future__ import annotations

from collections.abc import Sequence

from emporion.connectors.base import Outcome, WriteItem
from emporion.connectors.tryton.client import TrytonClient


class CatalogueWriter:
    """Creates and updates product categories, templates and variants; never stock or cost."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        raise NotImplementedError

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        raise NotImplementedError

    async def count(self, entity: str) -> int:
        raise NotImplementedError
