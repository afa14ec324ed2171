"""Canonical records from a drop's mapped rows, assembled per call for the keys asked.

A page of a scan or the keys of a poll are built from their rows alone: a product from its row,
its variants (found through an index by product) and the prices, sale prices, stock and images of
its SKUs (an index by SKU, kept while the source's files are the same). Memory holds the mapped
rows and one page of records, never every record of a large catalogue at once.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.files.catalogue import ENTITY_SOURCES, Catalogue, parsing_of
from emporion.connectors.files.drop import original_name
from emporion.connectors.rows.assemble import Related, category_from, customer_from, products_from
from emporion.connectors.rows.values import to_text
from emporion.model import Record

Index = dict[str, list[dict[str, Any]]]


class RecordBuilder:
    """Builds the records of keys from the catalogue's current rows."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._indexes: dict[str, tuple[tuple[object, ...], Index]] = {}

    async def keys(self, entity: str) -> list[str]:
        """Every current key of `entity`, sorted (stand-ins for rows that cannot be read among them)."""
        name = ENTITY_SOURCES[entity][0]
        if name not in self.catalogue.sources:
            return []
        current = await self.catalogue.rows(name)
        return sorted({*current.fields, *current.broken})

    async def build(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        """The current records of `keys` (those that exist), assembled from their rows alone.

        Records are built per call, for the keys asked: a page of a scan or the keys of a poll, so
        memory holds the mapped rows and one page of records, never every record at once.
        """
        name = ENTITY_SOURCES[entity][0]
        if name not in self.catalogue.sources:
            return {}
        current = await self.catalogue.rows(name)
        wanted = list(dict.fromkeys(keys))
        records: dict[str, Record] = {key: current.broken[key] for key in wanted if key in current.broken}
        rows = [(key, current.fields[key]) for key in wanted if key in current.fields]
        if entity == "product":
            built = await self._products(rows)
            records.update({record.key: self.in_columns(record) for record in built})
            return records
        parsing = parsing_of(self.catalogue.sources[name])
        make = category_from if entity == "category" else customer_from
        for key, fields in rows:
            try:
                records[key] = make(key, fields, parsing)
            except Permanent as error:
                records[key] = self.in_columns(Unmappable.of(key, error))
        return records

    async def _products(self, rows: list[tuple[str, dict[str, Any]]]) -> list[Record]:
        """Products from their rows with their variants, prices, sale prices, stock and images by SKU."""
        variants = [fields for key, _ in rows for fields in (await self._index("variants")).get(key, [])]
        skus = [to_text(fields.get("sku")) for _, fields in rows] + [
            to_text(fields.get("sku")) for fields in variants
        ]

        async def related(name: str) -> list[dict[str, Any]]:
            index = await self._index(name)
            return [fields for sku in dict.fromkeys(skus) if sku for fields in index.get(sku, [])]

        bundle = Related(
            variants=variants,
            prices=await related("prices"),
            sale_prices=await related("sale_prices"),
            stock=await related("stock"),
            images=await related("images"),
        )
        parsing = parsing_of(self.catalogue.sources["products"])
        return await asyncio.to_thread(
            lambda: products_from(rows, bundle, parsing=parsing, currency=self.catalogue.settings.currency)
        )

    async def _index(self, name: str) -> dict[str, list[dict[str, Any]]]:
        """A sub-entity source's mapped rows by the record they belong to (variants by product, the
        others by SKU), kept while its files are the same; empty when it is not configured."""
        if name not in self.catalogue.sources:
            return {}
        current = await self.catalogue.rows(name)
        version = self.catalogue.files_of(name)
        cached = self._indexes.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        by = "product" if name == "variants" else "sku"
        index: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for fields in current.fields.values():
            try:
                owner = to_text(fields.get(by))
            except ValueError:
                continue
            if owner:
                index[owner].append(fields)
        self._indexes[name] = (version, dict(index))
        return self._indexes[name][1]

    def in_columns(self, record: Record) -> Record:
        """A stand-in whose field is a canonical one named by the file's column instead (`VK`, not
        `list_price`), found through the source whose pattern the file's name matches."""
        if not isinstance(record, Unmappable) or not record.record or not record.field:
            return record
        found = re.match(r"file (\S+) (?:row|record) ", record.record)
        if found is None:
            return record
        for source in self.catalogue.sources.values():
            column = source.columns.get(record.field)
            if fnmatchcase(original_name(found.group(1)), source.pattern) and isinstance(column, str):
                return record.model_copy(update={"field": column})
        return record
