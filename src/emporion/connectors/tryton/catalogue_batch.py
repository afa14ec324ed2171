"""Batched creates and writes for the catalogue a shop sends: one request for many records, and when
Tryton refuses the batch, one request per record to find which one it refuses (the others go in)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from emporion.connectors.base import AuthError, ConnectorError, Permanent
from emporion.connectors.catalogue_writes import in_batches
from emporion.connectors.tryton.client import TrytonClient

# requests carry about catalogue_writes.BATCH (50) rows: SQLite's parser gives up on larger statements
ALL_ROWS = {"active_test": False}  # deactivated rows count when searching before creating
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

        async def send(rows: list[dict[str, Any]]) -> list[int]:
            return list(await self.client.model(model, "create", rows))

        return await in_batches(parts, send, self.failed, _rows)

    async def write(
        self, model: str, parts: Mapping[str, Sequence[tuple[list[int], dict[str, Any]]]]
    ) -> None:
        """Write each key's (ids, values) pairs, as one `write(ids1, values1, ids2, values2, ...)`."""

        async def send(pairs: list[tuple[list[int], dict[str, Any]]]) -> list[int]:
            await self.client.model(model, "write", *[part for pair in pairs for part in pair])
            return []

        await in_batches(parts, send, self.failed, _rows)


def _rows(part: Any) -> int:
    """Rows one value creates or one write pair touches: a template with its variants counts them all."""
    if isinstance(part, dict):
        nested = part.get("products") or []
        return 1 + sum(len(rows) for action, rows in nested if action == "create")
    return 1
