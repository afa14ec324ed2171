"""Batched creates and writes for the catalogue a shop sends: one request for many records, and when
Tryton refuses the batch, one request per record to find which one it refuses (the others go in)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from emporion.connectors.base import AuthError, ConnectorError, Permanent
from emporion.connectors.tryton.client import TrytonClient

BATCH = 50  # records per request: SQLite's parser gives up on larger multi-record statements
ALL_ROWS = {"active_test": False}  # deactivated rows count when searching before creating

Send = Callable[[list[Any]], Awaitable[list[int]]]
# Tryton's field labels (as its messages name them) -> the canonical field a person fixes
FIELD_LABELS = {
    "code": "sku",
    "suffix code": "variants.sku",
    "name": "name",
    "list price": "list_price",
    "categories": "categories",
    "weight": "weight",
    "attributes": "variants.attributes",
    "description": "description",
    "parent": "parent_key",
    "account category": "create_defaults.account_category",
    "default uom": "create_defaults.unit",
    "sale uom": "create_defaults.unit",
    "type": "create_defaults.type",
}


def field_named(reason: str, fallback: str) -> str:
    """The canonical field a Tryton refusal names (`field "List Price"`), else `fallback`."""
    found = re.search(r'field "([^"]+)"', reason)
    if found and found.group(1).lower() in FIELD_LABELS:
        return FIELD_LABELS[found.group(1).lower()]
    if "code" in reason.lower() and "unique" in reason.lower():
        return "sku"
    return fallback


def named(error: ConnectorError, record: str, fallback: str) -> ConnectorError:
    """`error` naming the record (SKU or category name) and field, when it is a Permanent one."""
    if not isinstance(error, Permanent) or (error.record and error.field):
        return error
    reason = error.reason
    kind = AuthError if isinstance(error, AuthError) else Permanent
    return kind(reason, record=error.record or record, field=error.field or field_named(reason, fallback))


class Batches:
    """Runs one kind of request for many records, split per record when Tryton refuses the lot.

    `failed` collects each record's error by item key; records already failed are left out.
    """

    def __init__(self, client: TrytonClient, failed: dict[str, ConnectorError]) -> None:
        self.client = client
        self.failed = failed

    async def create(self, model: str, parts: Mapping[str, Sequence[dict[str, Any]]]) -> dict[str, list[int]]:
        """Create each key's rows; the ids created per key, in the order given."""
        live = {key: list(rows) for key, rows in parts.items() if rows and key not in self.failed}
        created: dict[str, list[int]] = {}
        for chunk in _chunks(live):
            try:
                ids = await self.client.model(
                    model, "create", [row for rows in chunk.values() for row in rows]
                )
            except ConnectorError as error:
                await self._one_by_one(
                    error, chunk, created, lambda rows: self.client.model(model, "create", rows)
                )
                continue
            position = 0
            for key, rows in chunk.items():
                created[key] = list(ids[position : position + len(rows)])
                position += len(rows)
        return created

    async def write(
        self, model: str, parts: Mapping[str, Sequence[tuple[list[int], dict[str, Any]]]]
    ) -> None:
        """Write each key's (ids, values) pairs, as one `write(ids1, values1, ids2, values2, ...)`."""
        live = {key: list(pairs) for key, pairs in parts.items() if pairs and key not in self.failed}

        async def send(pairs: list[tuple[list[int], dict[str, Any]]]) -> list[int]:
            await self.client.model(model, "write", *[part for pair in pairs for part in pair])
            return []

        for chunk in _chunks(live):
            try:
                await send([pair for pairs in chunk.values() for pair in pairs])
            except ConnectorError as error:
                await self._one_by_one(error, chunk, {}, send)

    async def _one_by_one(
        self, error: ConnectorError, chunk: dict[str, list[Any]], out: dict[str, list[int]], send: Send
    ) -> None:
        """A refused batch: each record alone, so that only the refused ones fail (transport: all fail)."""
        if not isinstance(error, Permanent) or isinstance(error, AuthError) or len(chunk) == 1:
            for key in chunk:
                self.failed[key] = error
            return
        for key, rows in chunk.items():
            try:
                out[key] = list(await send(rows))
            except ConnectorError as alone:
                self.failed[key] = alone


def _rows(part: Any) -> int:
    """Rows one value creates or one write pair touches: a template with its variants counts them all."""
    if isinstance(part, dict):
        nested = part.get("products") or []
        return 1 + sum(len(rows) for action, rows in nested if action == "create")
    return 1


def _chunks(parts: dict[str, list[Any]]) -> list[dict[str, list[Any]]]:
    """Keys grouped so that each request carries about BATCH rows (a key's rows stay together)."""
    chunks: list[dict[str, list[Any]]] = [{}]
    size = 0
    for key, rows in parts.items():
        weight = sum(_rows(row) for row in rows)
        if size and size + weight > BATCH:
            chunks.append({})
            size = 0
        chunks[-1][key] = rows
        size += weight
    return [chunk for chunk in chunks if chunk]
