"""The write round shared by products and categories: resolve, batch, resolve stale links again.

Unlinked items are looked up by natural key first and updated when found (MATCHED), so a retry
after a crash never creates a second record. A stale link (the id no longer exists) is resolved
again by natural key once. A create refused because its SKU is taken (`product_invalid_sku`, or
WooCommerce's SKU lock while another request creates it) means the record exists: it is matched
(by the `resource_id` named, else by SKU, waiting a moment for the lock holder) and updated only
when it differs from what was sent.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from emporion.connectors.base import Outcome, OutcomeStatus, WriteItem
from emporion.connectors.woocommerce.client import BatchItemResult, Finder, WooCommerceClient
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.mapping import MappingError
from emporion.model import Category, Product

Target = tuple[int | None, OutcomeStatus]  # (WooCommerce id or None to create, status on success)
Resolver = Callable[[Sequence[WriteItem]], Awaitable[dict[str, int]]]
BodyOf = Callable[[WriteItem], dict[str, Any]]
Amender = Callable[[WriteItem, WooError], bool]
T = TypeVar("T")
LOCK_WAITS = (0.5, 1.5, 3.0)  # seconds between looks for a record another request holds the SKU lock of


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
        find: Finder | None = None,
    ) -> dict[str, tuple[Target, BatchItemResult]]:
        """Resolve, send, then send once more what a stale link or a fixable refusal made fail.

        `amend(item, error)` may change what `body_of` gives for the item and return True to resend it.
        `find` settles a batch whose answer was lost (see `WooCommerceClient.batch`).
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
        results = await self._send(path, items, targets, body_of, find)
        relocate = [item for item in items if lost_target(targets[item.key], results[item.key].error)]
        found = await resolve(relocate) if relocate else {}
        await self._await_locked(relocate, results, found, resolve)
        relocate = await self._not_trashed(path, relocate, results, found)
        # A create refused for a SKU another record of this very batch just took is a real clash; one
        # refused for a record that was there before (an earlier answer lost in transit, another
        # writer) is that record: match it.
        created = {
            int(result.data["id"])
            for key, result in results.items()
            if result.data and targets[key][1] is OutcomeStatus.CREATED
        }
        relocate = [
            item
            for item in relocate
            if not (
                is_sku_clash(results[item.key].error)
                and existing_id(results[item.key].error, found.get(item.key)) in created | {None}
            )
        ]
        for item in relocate:
            existing = existing_id(results[item.key].error, found.get(item.key))
            targets[item.key] = (
                (existing, OutcomeStatus.MATCHED) if existing else (None, OutcomeStatus.CREATED)
            )
        # a record matched after a refused create is written only where it differs from what was sent
        unchanged = await self._unchanged(
            path, [i for i in relocate if is_sku_clash(results[i.key].error)], targets, body_of
        )
        for key, data in unchanged.items():
            results[key] = BatchItemResult("update", 0, data=data)
        relocate = [item for item in relocate if item.key not in unchanged]
        relocate_keys = {item.key for item in relocate} | set(unchanged)
        amended = [
            item
            for item in items
            if item.key not in relocate_keys
            and amend is not None
            and results[item.key].error is not None
            and amend(item, results[item.key].error)  # type: ignore[arg-type]
        ]
        if relocate or amended:
            results.update(await self._send(path, [*relocate, *amended], targets, body_of, find))
        return {item.key: (targets[item.key], results[item.key]) for item in items}

    async def _await_locked(
        self,
        relocate: Sequence[WriteItem],
        results: dict[str, BatchItemResult],
        found: dict[str, int],
        resolve: Resolver,
    ) -> None:
        """Creates refused by the SKU lock whose record is not visible yet: another request is still
        writing it. Look again a few times, adding what turns up to `found`."""
        waiting = [
            item for item in relocate if item.key not in found and (results[item.key].error or _NONE).sku_lock
        ]
        for delay in LOCK_WAITS:
            if not waiting:
                return
            await asyncio.sleep(delay)
            found.update(await resolve(waiting))
            waiting = [item for item in waiting if item.key not in found]

    async def _not_trashed(
        self, path: str, relocate: list[WriteItem], results: dict[str, BatchItemResult], found: dict[str, int]
    ) -> list[WriteItem]:
        """Of refused creates, those not held by a product in the shop's trash. WooCommerce keeps a
        trashed product's SKU taken and names it as `resource_id`, while the SKU search skips the
        trash: such a record is not adopted (it is invisible in the shop) but stays a failure that
        says what to do."""
        suspects = {
            item.key: ident
            for item in relocate
            if item.key not in found and (ident := (results[item.key].error or _NONE).resource_id)
        }
        if not suspects:
            return relocate
        statuses: dict[int, str] = {}
        wanted = sorted(set(suspects.values()))
        for start in range(0, len(wanted), 100):
            query = {"include": wanted[start : start + 100], "status": "trash", "context": "edit"}
            for record in await self.client.get_all(path, query):
                statuses[int(record["id"])] = str(record.get("status"))
        kept = []
        for item in relocate:
            ident = suspects.get(item.key)
            if ident is not None and statuses.get(ident) == "trash":
                error = results[item.key].error or _NONE
                message = f"the SKU is held by product {ident} in the shop's trash: empty it or restore that"
                results[item.key] = BatchItemResult(
                    results[item.key].op,
                    results[item.key].index,
                    error=WooError(error.code, message, error.status, error.data),
                )
            else:
                kept.append(item)
        return kept

    async def _unchanged(
        self, path: str, items: Sequence[WriteItem], targets: dict[str, Target], body_of: BodyOf
    ) -> dict[str, dict[str, Any]]:
        """Of items matched to an existing record, those whose record already holds what they would
        send (read in edit context), with the record as read: they need no write."""
        ids = {item.key: targets[item.key][0] for item in items if targets[item.key][0] is not None}
        if not ids:
            return {}
        records: dict[int, dict[str, Any]] = {}
        wanted = sorted({ident for ident in ids.values() if ident is not None})
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            for record in await self.client.get_all(path, {"include": chunk, "context": "edit"}):
                records[int(record["id"])] = record
        unchanged: dict[str, dict[str, Any]] = {}
        for item in items:
            held = records.get(ids.get(item.key) or 0)
            if held is None:
                continue
            try:
                body = update_body(item, body_of(item))
            except MappingError:
                continue
            if holds(held, body):
                unchanged[item.key] = held
        return unchanged

    async def _send(
        self,
        path: str,
        items: Sequence[WriteItem],
        targets: dict[str, Target],
        body_of: BodyOf,
        find: Finder | None = None,
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
            find=find,
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
    """A create refused because a record with its SKU exists already (or is being created: the lock)."""
    return error is not None and error.sku_exists


def existing_id(error: WooError | None, found: int | None) -> int | None:
    """The record a refused create collided with: the one WooCommerce names, else the one found."""
    if error is None:
        return found
    return term_exists_id(error) or (error.resource_id if error.sku_exists else None) or found


_NONE = WooError("", "")


def _same_scalar(sent: Any, held: Any) -> bool:
    if sent in (None, "") and held in (None, ""):
        return True
    if isinstance(sent, bool) or isinstance(held, bool) or sent is None or held is None:
        return sent == held
    if isinstance(sent, str) and isinstance(held, str):
        if html.unescape(sent).strip() == html.unescape(held).strip():
            return True
    try:
        return Decimal(str(sent)) == Decimal(str(held))
    except (InvalidOperation, ValueError):
        return str(sent) == str(held)


def holds(record: Any, sent: Any) -> bool:
    """Whether a record read back holds every value of a body sent (lists of objects: each sent object
    held by one read back; text compared as WooCommerce stores it, `&` as `&amp;`). Images sent by
    URL count as held when as many are there: the shop keeps its own URLs."""
    if isinstance(sent, dict):
        if not isinstance(record, dict):
            return False
        for key, value in sent.items():
            if key == "images" and isinstance(value, list) and isinstance(record.get(key), list):
                if len(value) != len(record[key]):
                    return False
                by_id = [v for v in value if isinstance(v, dict) and v.get("id")]
                if not all(any(holds(r, v) for r in record[key]) for v in by_id):
                    return False
                continue
            if key == "image" and isinstance(value, dict) and not value.get("id"):
                if not isinstance(record.get(key), dict):
                    return False
                continue
            if key not in record:
                if value in (None, "", [], {}):
                    continue
                return False
            if key == "meta_data" and isinstance(value, list) and isinstance(record[key], list):
                if not all(any(holds(r, v) for r in record[key]) for v in value):  # the shop adds its own
                    return False
                continue
            if not holds(record[key], value):
                return False
        return True
    if isinstance(sent, list):
        if not isinstance(record, list) or len(record) != len(sent):
            return False
        if all(isinstance(v, dict) for v in sent):
            return all(any(holds(r, v) for r in record) for v in sent)
        return all(_same_scalar(v, r) for v, r in zip(sent, record, strict=True))
    return _same_scalar(sent, record)


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
