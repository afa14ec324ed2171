"""The write round shared by products and categories: resolve, batch, resolve stale links again.

Unlinked items are looked up by natural key first and updated when found (MATCHED), so a retry
after a crash never creates a second record. A stale link (the id no longer exists) is resolved
again by natural key once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from emporion.connectors.base import Outcome, OutcomeStatus, WriteItem
from emporion.connectors.woocommerce.client import BatchItemResult, WooCommerceClient
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.mapping import MappingError
from emporion.model import Category, Product

Target = tuple[int | None, OutcomeStatus]  # (WooCommerce id or None to create, status on success)
Resolver = Callable[[Sequence[WriteItem]], Awaitable[dict[str, int]]]
BodyOf = Callable[[WriteItem], dict[str, Any]]
Amender = Callable[[WriteItem, WooError], bool]
T = TypeVar("T")


def linked_id(item: WriteItem) -> int | None:
    """The WooCommerce id the link remembers for this item, if any."""
    ident = (item.target_ref or {}).get("id")
    return int(ident) if ident not in (None, "") else None


def record_label(item: WriteItem) -> str:
    """How errors name the record: its SKU for products, its key otherwise."""
    sku = getattr(item.record, "sku", "")
    return str(sku) if sku else item.key


async def gather_all(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Await everything (no request is left half-done), then raise the first failure."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)  # type: ignore[arg-type]


# canonical fields -> the WooCommerce body keys that carry them, where the names differ
WC_KEYS: dict[str, tuple[str, ...]] = {
    "active": ("status",),
    "salable": ("status",),
    "list_price": ("regular_price",),
    "sale_price": ("sale_price", "date_on_sale_from_gmt", "date_on_sale_to_gmt"),
    "available": ("manage_stock", "stock_quantity"),
    "custom": ("meta_data",),
    "parent_key": ("parent",),
}


def update_body(item: WriteItem, body: dict[str, Any]) -> dict[str, Any]:
    """What an update sends: only the item's `only` fields when set, never its `keep_on_update` ones."""

    def keys(fields: frozenset[str]) -> set[str]:
        return {key for name in fields for key in WC_KEYS.get(name, (name,))}

    if item.only is not None:
        wanted = keys(item.only)
        body = {key: value for key, value in body.items() if key in wanted}
    if item.keep_on_update:
        owned = keys(item.keep_on_update)
        body = {key: value for key, value in body.items() if key not in owned}
    return body


class BatchWriter:
    """Upserts and deletes of one kind of record through its `<path>/batch` endpoint."""

    def __init__(self, client: WooCommerceClient) -> None:
        self.client = client

    async def _upsert(
        self,
        path: str,
        items: Sequence[WriteItem],
        body_of: BodyOf,
        resolve: Resolver,
        amend: Amender | None = None,
    ) -> dict[str, tuple[Target, BatchItemResult]]:
        """Resolve, send, then send once more what a stale link or a fixable refusal made fail.

        `amend(item, error)` may change what `body_of` gives for the item and return True to resend it.
        """
        targets: dict[str, Target] = {}
        unlinked = [item for item in items if linked_id(item) is None]
        found = await resolve(unlinked) if unlinked else {}
        for item in items:
            ident = linked_id(item)
            if ident is not None:
                targets[item.key] = (ident, OutcomeStatus.UPDATED)
            elif item.key in found:
                targets[item.key] = (found[item.key], OutcomeStatus.MATCHED)
            else:
                targets[item.key] = (None, OutcomeStatus.CREATED)
        results = await self._send(path, items, targets, body_of)
        relocate = [item for item in items if lost_target(targets[item.key], results[item.key].error)]
        found = await resolve(relocate) if relocate else {}
        # A create refused for a SKU another record of this very batch just took is a real clash; one
        # refused for a record that was there before (an earlier answer lost in transit) is ours: update it.
        created = {
            int(result.data["id"])
            for key, result in results.items()
            if result.data and targets[key][1] is OutcomeStatus.CREATED
        }
        relocate = [
            item
            for item in relocate
            if not (is_sku_clash(results[item.key].error) and found.get(item.key) in created | {None})
        ]
        for item in relocate:
            existing = term_exists_id(results[item.key].error) or found.get(item.key)
            targets[item.key] = (
                (existing, OutcomeStatus.MATCHED) if existing else (None, OutcomeStatus.CREATED)
            )
        relocate_keys = {item.key for item in relocate}
        amended = [
            item
            for item in items
            if item.key not in relocate_keys
            and amend is not None
            and results[item.key].error is not None
            and amend(item, results[item.key].error)  # type: ignore[arg-type]
        ]
        if relocate or amended:
            results.update(await self._send(path, [*relocate, *amended], targets, body_of))
        return {item.key: (targets[item.key], results[item.key]) for item in items}

    async def _send(
        self, path: str, items: Sequence[WriteItem], targets: dict[str, Target], body_of: BodyOf
    ) -> dict[str, BatchItemResult]:
        bodies: dict[str, dict[str, Any]] = {}
        results: dict[str, BatchItemResult] = {}
        for item in items:
            try:
                bodies[item.key] = body_of(item)
            except MappingError as exc:  # never sent: a per-item failure, not a failed batch
                error = WooError("emporion_mapping_error", str(exc), None, {"params": {exc.field: str(exc)}})
                results[item.key] = BatchItemResult("update", 0, error=error)
        creates = [item for item in items if item.key in bodies and targets[item.key][0] is None]
        updates = [item for item in items if item.key in bodies and targets[item.key][0] is not None]
        answer = await self.client.batch(
            path,
            create=[bodies[item.key] for item in creates],
            update=[{"id": targets[item.key][0], **update_body(item, bodies[item.key])} for item in updates],
        )
        results.update(zip((item.key for item in creates), answer.create, strict=True))
        results.update(zip((item.key for item in updates), answer.update, strict=True))
        return results

    async def _delete(self, path: str, items: Sequence[WriteItem], resolve: Resolver) -> list[Outcome]:
        unlinked = [item for item in items if linked_id(item) is None]
        found = await resolve(unlinked) if unlinked else {}
        known = {item.key: linked_id(item) or found.get(item.key) for item in items}
        ids = {key: ident for key, ident in known.items() if ident is not None}
        outcomes = [
            Outcome(item.key, OutcomeStatus.DELETED) for item in items if item.key not in ids
        ]  # nothing to delete: already gone
        doomed = [item for item in items if item.key in ids]
        answer = await self.client.batch(path, delete=[ids[item.key] for item in doomed])
        for item, result in zip(doomed, answer.delete, strict=True):
            ref = {"id": ids[item.key]}
            if result.error is None or result.error.missing_id:
                outcomes.append(Outcome(item.key, OutcomeStatus.DELETED, ref))
            else:
                outcomes.append(
                    Outcome(item.key, OutcomeStatus.FAILED, ref, result.error.as_error(record_label(item)))
                )
        return outcomes


def lost_target(target: Target, error: WooError | None) -> bool:
    """The linked id is gone, or a create collided with an existing term or SKU: find the record again."""
    if error is None:
        return False
    if target[0] is not None:
        return error.missing_id
    return term_exists_id(error) is not None or is_sku_clash(error)


def is_sku_clash(error: WooError | None) -> bool:
    """A create refused because a record with its SKU exists already."""
    return error is not None and error.code == "product_invalid_sku"


def term_exists_id(error: WooError | None) -> int | None:
    """WordPress names the existing term when a create collides with it (`term_exists`)."""
    if error is None or error.code != "term_exists":
        return None
    ident = error.data.get("resource_id") or error.data.get("term_id")
    return int(ident) if ident else None


def product_of(item: WriteItem) -> Product:
    """The product an item writes (the engine hands product items only to product writes)."""
    if not isinstance(item.record, Product):
        raise TypeError(f"item {item.key} is not a Product")
    return item.record


def category_of(item: WriteItem) -> Category:
    """The category an item writes (the engine hands category items only to category writes)."""
    if not isinstance(item.record, Category):
        raise TypeError(f"item {item.key} is not a Category")
    return item.record
