"""What a file drop's change feed follows per entity: each source's files, row hashes and record keys.

A main source's rows (products, categories, customers) are hashed under their own key. A sub-entity's
rows under the record they belong to (`OWNED_BY`): stock, prices, sale prices and images under their
SKU, reported as the product owning that SKU; variants under their product; the ERP's progress rows
under the shop order reference. Several rows of one record hash together (`rows.fulldiff`), so a
stock row added, changed or removed changes its product's hash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from emporion.connectors.base import Permanent
from emporion.connectors.files.catalogue import (
    ENTITY_SOURCES,
    OWNED_BY,
    SUB_SOURCES,
    Catalogue,
    hashable,
    row_number,
)
from emporion.connectors.files.drop import Entries, FeedSource
from emporion.connectors.files.formats import WHERE, Reject, Rows
from emporion.connectors.files.validation import check_fields, column_of
from emporion.connectors.rows.fulldiff import row_hash
from emporion.connectors.rows.values import to_text


def feed_sources(catalogue: Catalogue, entity: str) -> list[FeedSource]:
    """The sources `entity`'s feed follows, each with how its rows hash and name records."""
    return [
        FeedSource(
            name,
            catalogue.sources[name],
            entries_of(catalogue, name),
            keys_of(catalogue, name),
            keyed=name not in SUB_SOURCES,
        )
        for name in ENTITY_SOURCES.get(entity, ())
        if name in catalogue.sources
    ]


def entries_of(catalogue: Catalogue, name: str) -> Callable[[Rows], Entries]:
    """How a source's rows hash: by their key, or a sub-entity's by its product's SKU (or key).

    A row refused here carries the key it hashes under when it has one (a sub-entity row: its
    owner's SKU or key), so that the feed reports the record it breaks.
    """
    mapper = catalogue.mappers[name]
    source = catalogue.sources[name]
    by = OWNED_BY.get(name, "")

    def entries(parsed: Rows) -> Entries:
        hashed: list[tuple[str, bytes]] = []
        rejects: list[Reject] = []
        for row in parsed.rows:
            where = str(row[WHERE])
            key: str | None = None
            try:
                key = mapper.key(row, where)
                fields = mapper.fields(row, where)
                if name in SUB_SOURCES:
                    key = None  # a sub-entity row is named by its owner, once it has one
                    owner = fields.get(by)
                    if owner in (None, ""):
                        raise Permanent(f"the row names no {by}", record=where, field=by)
                    key = to_text(owner)
                check_fields(name, fields, mapper.parsing, where)
            except (Permanent, ValueError) as error:
                field = (error.field if isinstance(error, Permanent) else None) or ""
                column = column_of(source, field) if field else ""
                reason = error.reason if isinstance(error, Permanent) else str(error)
                rejects.append(Reject(row_number(where), column, reason, key))
                continue
            hashed.append((key, row_hash(hashable(row))))
        return hashed, rejects

    return entries


def keys_of(catalogue: Catalogue, name: str) -> Callable[[list[str]], Awaitable[list[str]]]:
    """How a source's snapshot keys become `entity`'s record keys (SKUs through their product)."""

    async def keys(found: list[str]) -> list[str]:
        if OWNED_BY.get(name) != "sku":
            return found
        owners = await catalogue.sku_owners()
        return [owners[sku] for sku in found if sku in owners]

    return keys
