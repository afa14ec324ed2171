"""WooCommerce orders for the engine: read (with refunds), scan, change feed, sliding window, write-back.

Write-back applies only what differs from the shop's current order, read first in one batch:
refunds the shop does not have yet (paid out when the refund says `payout`: WooCommerce's
`api_refund`), notes not added before (kept in hidden meta, see order_meta.py), then `status` and `meta_data`
(custom entries, tracking, invoice number, ERP reference) through `orders/batch`. A repeated write
therefore changes nothing. `WriteItem.only` names the Order fields to write (`refunds`, `notes`,
`status`, and `custom`, `shipments`, `invoices` or `reference` for the meta).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from emporion.connectors.base import (
    ChangeBatch,
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    WriteItem,
    map_or_unmappable,
    numeric_keys,
)
from emporion.connectors.woocommerce import feed
from emporion.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from emporion.connectors.woocommerce.errors import WooError, translate_response
from emporion.connectors.woocommerce.mapping import MappingError, format_gmt
from emporion.connectors.woocommerce.order_mapping import OPEN_STATUSES, order_from_wc, status_to_wc
from emporion.connectors.woocommerce.order_meta import added_notes, meta_changes, note_to_wc, notes_meta
from emporion.connectors.woocommerce.refund_mapping import refund_keys, refund_to_wc
from emporion.connectors.woocommerce.writer import gather_all
from emporion.model import Order, Record

ORDERS = "orders"
# WooCommerce answers these with HTTP 500, but the same request will fail again (amount, gateway)
REFUND_REFUSED_CODES = frozenset(
    {"woocommerce_rest_cannot_create_order_refund", "woocommerce_rest_invalid_order_refund"}
)
Json = dict[str, Any]
META_FIELDS = ("custom", "shipments", "invoices", "reference")  # the Order fields kept in meta_data


class OrderGateway:
    """Orders of one WooCommerce store as canonical records, and the changes the ERP reports back."""

    def __init__(self, client: WooCommerceClient, overlap: timedelta) -> None:
        self.client = client
        self.overlap = overlap

    # -- reading ---------------------------------------------------------------------------------

    async def fetch(self, ids: Sequence[int]) -> dict[int, Json]:
        """The shop's orders by id (`include=`, 100 per request); missing ids are left out."""
        found: dict[int, Json] = {}
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = list(ids[start : start + MAX_PER_PAGE])
            for data in await self.client.get_all(
                ORDERS, {"include": chunk, "orderby": "id", "order": "asc"}
            ):
                found[int(data["id"])] = data
        return found

    async def refunds_of(self, data: Json) -> list[Json]:
        """The full refunds of one order (one request, only when the order lists any)."""
        if not data.get("refunds"):
            return []
        return await self.client.get_all(f"{ORDERS}/{data['id']}/refunds", {"orderby": "id", "order": "asc"})

    async def parent_skus(self, orders: Sequence[Json]) -> dict[str, str]:
        """The SKUs of the variable products the orders' variation lines belong to (one request per 100)."""
        parents = sorted(
            {
                int(line["product_id"])
                for data in orders
                for line in data.get("line_items") or []
                if isinstance(line, dict)
                and line.get("variation_id")
                and line.get("sku")
                and str(line.get("product_id") or "").isdigit()
                and int(line["product_id"]) > 0
            }
        )
        found: dict[str, str] = {}
        for start in range(0, len(parents), MAX_PER_PAGE):
            query = {"include": parents[start : start + MAX_PER_PAGE], "_fields": "id,sku", "context": "edit"}
            for product in await self.client.get_all("products", query):
                if product.get("sku"):
                    found[str(product["id"])] = str(product["sku"])
        return found

    async def as_orders(self, orders: Sequence[Json]) -> list[Record]:
        """Canonical Orders, with the refunds of those that have any read alongside."""
        refunds = await gather_all([self.refunds_of(data) for data in orders])
        parents = await self.parent_skus(orders)
        return [
            map_or_unmappable(str(data.get("id", "")), functools.partial(order_from_wc, data, found, parents))
            for data, found in zip(orders, refunds, strict=True)
        ]

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """Current Orders for shop order ids; ids that do not exist are left out."""
        ids, unusable = numeric_keys(keys, "order")
        found = await self.fetch(ids)
        return [*unusable, *await self.as_orders([found[ident] for ident in sorted(found)])]

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every order, 100 per page, in id order."""
        async for page in self.client.iter_pages(ORDERS, {"orderby": "id", "order": "asc"}):
            yield await self.as_orders(page)

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Order ids modified since the cursor (`modified_after`, GMT, with the overlap window)."""
        return await feed.modified_changes(self.client, ORDERS, "order", cursor, self.overlap)

    async def window(self, days: int, now: datetime | None = None) -> list[str]:
        """Ids of open orders (pending, on-hold, processing) and of orders modified in the last `days`."""
        since = (now or datetime.now(UTC)) - timedelta(days=days)
        ids: set[int] = set()
        queries = (
            {"status": list(OPEN_STATUSES)},
            {"modified_after": format_gmt(since), "dates_are_gmt": True},
        )
        for query in queries:
            async for page in self.client.iter_pages(
                ORDERS, {**query, "orderby": "id", "order": "asc", "_fields": "id"}
            ):
                ids.update(int(data["id"]) for data in page)
        return [str(ident) for ident in sorted(ids)]

    # -- writing ---------------------------------------------------------------------------------

    async def write(self, upserts: Sequence[WriteItem]) -> list[Outcome]:
        """Bring each shop order to what its Order says: refunds, notes, status and meta_data."""
        outcomes: dict[str, Outcome] = {}
        targets: dict[str, int] = {}
        for item in upserts:
            if not isinstance(item.record, Order):
                raise TypeError(f"item {item.key} is not an Order")
            ident = (item.target_ref or {}).get("id") or item.key
            if not str(ident).isdigit():
                error = Permanent(
                    "no WooCommerce order id to write to", record=f"order {item.key}", field="id"
                )
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, error=error)
            else:
                targets[item.key] = int(ident)
        current = await self.fetch(sorted(set(targets.values())))
        pending = []
        refunded: set[int] = set()
        noted: dict[str, set[str]] = {}  # per item, the keys of its notes now in the shop
        for item in upserts:
            if item.key not in targets:
                continue
            ident = targets[item.key]
            if ident not in current:
                error = Permanent("the shop has no such order", record=f"order {ident}", field="id")
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
                continue
            pending.append(self._children(item, current[ident], refunded, noted))
        changed = dict(await gather_all(pending))
        if refunded:  # a refund can change the status (fully refunded): compare with the shop's new state
            current.update(await self.fetch(sorted(refunded)))
        outcomes.update({key: result for key, result in changed.items() if isinstance(result, Outcome)})
        await self._status_and_meta(upserts, targets, current, changed, outcomes, noted)
        return [outcomes[item.key] for item in upserts]

    async def _children(
        self, item: WriteItem, data: Json, refunded: set[int], noted: dict[str, set[str]]
    ) -> tuple[str, bool | Outcome]:
        """Add the refunds and notes the shop does not have yet: (item key, changed) or a failure.

        The keys of the item's notes, all in the shop now, go to `noted` (for the hidden meta).
        """
        order: Order = item.record  # type: ignore[assignment]
        ident = int(data["id"])
        field = "refunds"
        try:
            changed = False
            if order.refunds and _writes(item, "refunds"):
                have = refund_keys(await self.refunds_of(data))
                for refund in order.refunds:
                    if refund.key not in have:
                        await self._create_refund(ident, refund_to_wc(refund))
                        refunded.add(ident)
                        changed = True
            field = "notes"
            notes = order.notes if _writes(item, "notes") else []
            if notes:
                existing = await self.client.get_all(f"{ORDERS}/{ident}/notes")
                added = added_notes(existing, data.get("meta_data"), notes)
                for note in notes:
                    if note.key not in added:
                        await self.client.post(f"{ORDERS}/{ident}/notes", note_to_wc(note))
                        changed = True
                noted[item.key] = {note.key for note in notes}
            return item.key, changed
        except MappingError as exc:
            error = Permanent(str(exc), record=f"order {ident}", field=exc.field)
            return item.key, Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
        except ConnectorError as exc:
            return item.key, _failed(item, ident, field, exc)

    async def _create_refund(self, ident: int, body: Json) -> None:
        """POST one refund; WooCommerce's HTTP 500 for a refund it cannot make is not worth retrying."""
        path = f"{ORDERS}/{ident}/refunds"
        response = await self.client.request("POST", path, json=body, check=False)
        if response.status_code < 400:
            return
        try:
            error = WooError.from_body(response.json(), response.status_code)
        except ValueError:
            error = WooError.from_body(None, response.status_code)
        if error.code in REFUND_REFUSED_CODES:
            raise Permanent(f"WooCommerce refused the refund: {error.label}", field="refunds")
        raise translate_response("POST", path, response)

    async def _status_and_meta(
        self,
        upserts: Sequence[WriteItem],
        targets: dict[str, int],
        current: dict[int, Json],
        changed: dict[str, bool | Outcome],
        outcomes: dict[str, Outcome],
        noted: dict[str, set[str]],
    ) -> None:
        """Send status and meta_data changes in `orders/batch` updates; record every item's outcome."""
        updates: list[tuple[WriteItem, Json]] = []
        for item in upserts:
            if item.key in outcomes:
                continue
            ident = targets[item.key]
            order: Order = item.record  # type: ignore[assignment]
            data = current[ident]
            body: Json = {}
            wanted = status_to_wc(order.status, order.raw_status)
            if _writes(item, "status") and wanted != data.get("status"):
                body["status"] = wanted
            wants_meta = any(_writes(item, name) for name in META_FIELDS)
            meta = meta_changes(order, data.get("meta_data")) if wants_meta else []
            recorded = notes_meta(data.get("meta_data"), noted.get(item.key, ()))
            if recorded is not None:
                meta.append(recorded)
            if meta:
                body["meta_data"] = meta
            if body:
                updates.append((item, {"id": ident, **body}))
            else:
                status = OutcomeStatus.UPDATED if changed.get(item.key) else OutcomeStatus.UNCHANGED
                outcomes[item.key] = Outcome(item.key, status, {"id": ident})
        if not updates:
            return
        try:
            answer = await self.client.batch(ORDERS, update=[body for _, body in updates])
        except ConnectorError as exc:
            for item, body in updates:
                outcomes[item.key] = _failed(item, body["id"], "status", exc)
            return
        for (item, body), result in zip(updates, answer.update, strict=True):
            if result.error is not None:
                reason = f"WooCommerce refused the order update: {result.error.label}"
                field = result.error.field or ("status" if "status" in body else "meta_data")
                error = (
                    result.error.as_error(f"order {body['id']}")
                    if result.error.transient
                    else Permanent(reason, record=f"order {body['id']}", field=field)
                )
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, {"id": body["id"]}, error)
            else:
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.UPDATED, {"id": body["id"]})


def _writes(item: WriteItem, field: str) -> bool:
    """Whether the item asks for `field` to be written (all fields unless `only` says otherwise)."""
    return item.only is None or field in item.only


def _failed(item: WriteItem, ident: int, field: str, exc: ConnectorError) -> Outcome:
    """A failed outcome naming the order and the field; retryable errors stay retryable."""
    error: ConnectorError = exc
    if type(exc) is Permanent and not exc.record:
        error = Permanent(exc.reason, record=f"order {ident}", field=exc.field or field)
    return Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
