"""A shop's catalogue into Odoo: categories, and products as templates with variants, by name and SKU."""

from __future__ import annotations

from collections.abc import Sequence

from emporion.connectors.base import Outcome, WriteItem
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.settings import OdooConnection


class OdooCatalogueWriter:
    """Creates and updates product categories, templates and variants; never stock or cost."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        raise NotImplementedError

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        raise NotImplementedError

    async def count(self, entity: str) -> int:
        raise NotImplementedError
