"""The catalogue as the drop's files say it is now: rows per source, mapped (`records.py` builds records).

A full export's truth is its newest readable file (in the incoming or the processed folder); a delta
source's is every file in order, later rows replacing earlier ones and soft-deleted rows leaving.
Parsed files are cached in memory by name, size and modification time (a file is never changed in
place: an ERP writes a new one), so reads and polls do not parse the same file again; what stays
is each source's mapped rows. A full CSV export is mapped as it is read (`formats.stream_file`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.files.drop import FILE_KEY_PREFIX, Drop, original_name
from emporion.connectors.files.formats import WHERE, ParsedFile, Rows, UnreadableFile, parse_file, stream_file
from emporion.connectors.files.settings import FilesConnection, FileSource
from emporion.connectors.files.store import FileInfo
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.progress import INVOICE_FIELDS, PROGRESS_ORDER_FIELDS, SHIPMENT_FIELDS
from emporion.connectors.rows.settings import CATALOGUE_FIELDS
from emporion.connectors.rows.values import Parsing, to_bool, to_text

FIELDS: dict[str, Sequence[str]] = {
    **CATALOGUE_FIELDS,
    "progress_orders": PROGRESS_ORDER_FIELDS,
    "progress_shipments": SHIPMENT_FIELDS,
    "progress_invoices": INVOICE_FIELDS,
}
ENTITY_SOURCES: dict[str, tuple[str, ...]] = {
    "category": ("categories",),
    "product": ("products", "variants", "prices", "sale_prices", "stock", "images"),
    "customer": ("customers",),
    "order": ("progress_orders", "progress_shipments", "progress_invoices"),
}
# sources whose rows belong to a record named by one of their fields (the feed reports that record)
OWNED_BY = {
    "variants": "product",
    "prices": "sku",
    "sale_prices": "sku",
    "stock": "sku",
    "images": "sku",
    "progress_orders": "reference",
    "progress_shipments": "reference",
    "progress_invoices": "reference",
}
SUB_SOURCES = tuple(OWNED_BY)


def parsing_of(source: FileSource) -> Parsing:
    """How a source's text values are written (decimal comma, date formats)."""
    options = source.csv
    return Parsing(options.decimal_comma, options.date_format, options.datetime_format)


@dataclass
class SourceRows:
    """A source's current rows: mapped fields by row key, and stand-ins for rows that could not be read."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: dict[str, Unmappable] = field(default_factory=dict)


def row_number(where: str) -> int:
    """The row (or record) number in a row's `_where` text."""
    found = re.search(r" (?:row|record) (\d+)", where)
    return int(found.group(1)) if found else 0


def delivery_order(info: FileInfo) -> tuple[float, str]:
    """Files in the order the ERP wrote them: by time, then by the name it gave them (a processed
    copy's name starts with a hash, which says nothing of order; many stores keep whole seconds)."""
    return (info.mtime, original_name(info.name))


def identity(info: FileInfo) -> tuple[str, int, float]:
    """What tells one version of a file from another (exports are written anew, never changed)."""
    return (info.name, info.size, info.mtime)


def hashable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its place in the file (a row moved within the file has not changed)."""
    return {column: value for column, value in row.items() if column != WHERE}


class Catalogue:
    """Reads the drop's catalogue files as records, and gives the feed its sources."""

    def __init__(self, drop: Drop, settings: FilesConnection) -> None:
        self.drop = drop
        self.settings = settings
        rows = settings.catalogue
        progress = settings.progress
        candidates: dict[str, FileSource | None] = {
            "categories": rows.categories,
            "products": rows.products,
            "variants": rows.variants,
            "prices": rows.prices,
            "sale_prices": rows.sale_prices,
            "stock": rows.stock,
            "images": rows.images,
            "customers": rows.customers,
            "progress_orders": progress.orders if progress else None,
            "progress_shipments": progress.shipments if progress else None,
            "progress_invoices": progress.invoices if progress else None,
        }
        self.sources: dict[str, FileSource] = {
            name: source for name, source in candidates.items() if source is not None
        }
        self.mappers = {
            name: RowMapper(source, FIELDS[name], parsing=parsing_of(source))
            for name, source in self.sources.items()
        }
        self._parsed: dict[tuple[str, int, float], ParsedFile | UnreadableFile] = {}
        self._rows: dict[str, tuple[list[tuple[str, int, float]], SourceRows]] = {}

    def entities(self) -> list[str]:
        """The entities whose sources are configured."""
        main = {"category": "categories", "product": "products", "customer": "customers"}
        return [entity for entity, name in main.items() if name in self.sources]

    async def parsed(self, info: FileInfo, source: FileSource) -> ParsedFile:
        """The rows of a file, parsed once per name, size and modification time."""
        found = self._parsed.get(identity(info))
        if found is None:
            try:
                data = await self.drop.store.read(info.path)
                found = await asyncio.to_thread(parse_file, info.name, data, source, source.key)
            except UnreadableFile as error:
                found = error
            if len(self._parsed) > 256:
                self._parsed.clear()
            self._parsed[identity(info)] = found
        if isinstance(found, UnreadableFile):
            raise found
        return found

    async def files(self, source: FileSource, *, settled: bool = True) -> list[FileInfo]:
        """Every file of a source, handled or waiting (`settled`: old enough to be whole), oldest first."""
        waiting = await self.drop.incoming_files(source, settled=settled)
        handled = await self.drop.processed_files(source)
        copies = {(original_name(info.name), info.size, info.mtime) for info in handled}
        found = [*handled, *(info for info in waiting if identity(info) not in copies)]
        return sorted(found, key=delivery_order)

    async def rows(self, name: str) -> SourceRows:
        """A source's current rows: the newest readable full export, or every delta in order.

        Kept per source with the files they came from: a full export is folded again only when a
        newer one is there, and deltas fold only the files that came since (never change the result).
        """
        source = self.sources[name]
        files = await self.files(source)
        cached = self._rows.get(name)
        if source.full:
            return await self._full_rows(name, files)
        identities = [identity(info) for info in files]
        if cached is not None and cached[0] == identities:
            return cached[1]
        current, done = SourceRows(), 0
        if cached is not None and identities[: len(cached[0])] == cached[0]:
            current = SourceRows(dict(cached[1].fields), dict(cached[1].broken))
            done = len(cached[0])
        chosen: list[ParsedFile] = []
        for info in files[done:]:
            try:
                chosen.append(await self.parsed(info, source))
            except UnreadableFile:
                continue  # reported by the feed; the other files still count

        def fold() -> None:
            for parsed in chosen:
                self._fold(name, parsed, current)

        await asyncio.to_thread(fold)
        self._rows[name] = (identities, current)
        for info in files[done:]:  # folded: the rows live on in `current`, the parse is not needed
            if not isinstance(self._parsed.get(identity(info)), UnreadableFile):
                self._parsed.pop(identity(info), None)
        return current

    async def _full_rows(self, name: str, files: list[FileInfo]) -> SourceRows:
        """A full export source's rows: its newest readable file, mapped as it is read (a CSV export
        is never held as parsed rows, only as the mapped rows that stay); an unreadable one skipped."""
        source = self.sources[name]
        cached = self._rows.get(name)
        for info in reversed(files):
            known = identity(info)
            if cached is not None and cached[0] == [known]:
                return cached[1]
            if isinstance(self._parsed.get(known), UnreadableFile):
                continue  # reported by the feed; an older export is the truth meanwhile
            data = await self.drop.store.read(info.path)

            def fold(data: bytes = data, file: str = info.name) -> SourceRows:
                current = SourceRows()
                self._fold(name, stream_file(file, data, source, source.key), current)
                return current

            try:
                current = await asyncio.to_thread(fold)
            except UnreadableFile as error:
                self._parsed[known] = error
                continue
            self._rows[name] = ([known], current)
            return current
        self._rows[name] = ([], SourceRows())
        return self._rows[name][1]

    def _fold(self, name: str, parsed: Rows, current: SourceRows) -> None:
        """Apply one file's rows to a source's current rows (later files replace earlier rows), then
        the rows it refused (a stream knows them once read)."""
        mapper = self.mappers[name]
        soft_delete = mapper.source.change.soft_delete
        for row in parsed.rows:
            where = str(row[WHERE])
            try:
                key = mapper.key(row, where)
            except Permanent:
                continue  # a row without a key cannot be named; the feed wrote it to the rejects file
            current.broken.pop(key, None)
            try:
                if soft_delete and to_bool(row.get(soft_delete)):
                    current.fields.pop(key, None)
                    continue
                fields = mapper.fields(row, where)
            except Permanent as error:
                current.fields.pop(key, None)
                current.broken[key] = Unmappable.of(key, error)
                continue
            except ValueError as error:
                current.fields.pop(key, None)
                current.broken[key] = Unmappable.of(
                    key, Permanent(str(error), record=where, field=soft_delete)
                )
                continue
            fields[WHERE] = where
            current.fields[key] = fields
        for reject in parsed.rejects:
            if reject.key:
                refused = Permanent(
                    reject.reason, record=f"file {parsed.name} row {reject.row}", field=reject.column
                )
                current.fields.pop(reject.key, None)
                current.broken[reject.key] = Unmappable.of(reject.key, refused)

    async def sku_owners(self) -> dict[str, str]:
        """The product key behind each SKU: a product's own, or its variants'."""
        owners: dict[str, str] = {}
        if "products" in self.sources:
            for key, fields in (await self.rows("products")).fields.items():
                if fields.get("sku") not in (None, ""):
                    owners[to_text(fields["sku"])] = key
        if "variants" in self.sources:
            for fields in (await self.rows("variants")).fields.values():
                if fields.get("sku") not in (None, "") and fields.get("product") not in (None, ""):
                    owners[to_text(fields["sku"])] = to_text(fields["product"])
        return owners

    def files_of(self, name: str) -> tuple[object, ...]:
        """The files a source's current rows came from (after `rows`): what an index of them keeps to."""
        return tuple(self._rows[name][0]) if name in self._rows else ()

    async def unreadable(self, key: str) -> Unmappable | None:
        """The stand-in for `file:<name>`, a file that could not be read at all."""
        name = key[len(FILE_KEY_PREFIX) :]
        found = await self.drop.reason(name)
        if found is None:
            return None
        reason, where = found
        return Unmappable.of(
            key, Permanent(f"file cannot be read: {reason}", record=f"file {name}", field=where)
        )
