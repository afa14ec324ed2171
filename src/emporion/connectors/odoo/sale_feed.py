"""The order change feed: shop sales whose sale, deliveries or invoices changed since a cursor.

Correctness argument. Every change that matters to the shop moves the `write_date` of the sale
(state, lines, partner), one of its pickings (state, tracking, date done) or one of its invoices and
credit notes (posting, payment state): each poll asks all three models for rows written at or after
`since`, maps them to the sales they belong to (pickings by `sale_id`; invoices by the sales whose
`invoice_ids` contain them and credit notes by `invoice_origin`) and keeps only sales with a
customer reference (shop sales). `since` is the server's clock at the previous poll minus
`overlap_seconds`, so a transaction that committed late with an earlier `write_date` is still seen.
Odoo bumps `write_date` on writes that change nothing, and the overlap re-reads the same rows: a
candidate is therefore reported only when the fingerprint of its canonical Order (every field but
`modified_at`) differs from the one the cursor remembers, and the cursor remembers the fingerprints of
the sales it looked at for as long as they can fall into a later window. A cursor of None starts
from now: nothing before is reported, because the window never reaches back before the feed's start
(`floor`, kept in the cursor until the window has moved past it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import ChangeBatch
from emporion.connectors.odoo.sale_read import SaleReader, m2o_id
from emporion.model.orders import Order

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient

STAMP = "%Y-%m-%d %H:%M:%S"
INVOICE_TYPES = ["out_invoice", "out_refund"]


def fingerprint(order: Order) -> str:
    """A digest of everything the shop can learn from a sale (not when Odoo last stamped it)."""
    text = order.model_dump_json(exclude={"modified_at"})
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class SaleFeed:
    """Sale ids whose sale, deliveries or invoices changed since a cursor (fingerprinted, with overlap)."""

    def __init__(self, client: OdooClient, *, overlap: dt.timedelta, page_size: int = 500) -> None:
        self.client = client
        self.overlap = overlap
        self.page_size = page_size
        self.reader = SaleReader(client, page_size)

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Changed shop sales since `cursor` (None: from now on) and the next cursor."""
        now = (await self.client.now()).astimezone(dt.UTC).replace(microsecond=0)
        if cursor is None:
            start = now.strftime(STAMP)
            return ChangeBatch(keys=[], cursor=json.dumps({"since": start, "floor": start, "seen": {}}))
        state = json.loads(cursor)
        since: str = state["since"]
        floor: str = state.get("floor", "")  # the feed's start: its overlap never reaches back before it
        seen: dict[str, list[Any]] = state.get("seen") or {}
        candidates = await self._candidates(since)
        changed: list[str] = []
        stamp = now.strftime(STAMP)
        for order in await self.reader.orders(sorted(candidates)):
            if not isinstance(order, Order):
                changed.append(order.key)  # the engine dead-letters it when it reads it
                continue
            digest = fingerprint(order)
            if (seen.get(order.key) or [None])[0] != digest:
                changed.append(order.key)
            seen[order.key] = [digest, stamp]
        window = (now - self.overlap).strftime(STAMP)
        horizon = (now - 2 * self.overlap - dt.timedelta(seconds=1)).strftime(STAMP)
        kept = {key: value for key, value in seen.items() if value[1] >= horizon}
        following: dict[str, Any] = {"since": max(window, floor), "seen": kept}
        if floor > window:  # kept until the window has moved past the feed's start
            following["floor"] = floor
        return ChangeBatch(keys=sorted(changed, key=int), cursor=json.dumps(following, sort_keys=True))

    async def _ids(self, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async for page in self.client.pages(model, domain, fields, page_size=self.page_size):
            rows += page
        return rows

    async def _candidates(self, since: str) -> set[int]:
        """Ids of shop sales with a sale, picking or invoice row written at or after `since`."""
        window = [["write_date", ">=", since]]
        sale_ids = {int(r["id"]) for r in await self._ids("sale.order", window, ["id"])}
        pickings = await self._ids("stock.picking", [*window, ["sale_id", "!=", False]], ["sale_id"])
        sale_ids |= {sale for row in pickings if (sale := m2o_id(row.get("sale_id")))}
        moves = await self._ids(
            "account.move", [*window, ["move_type", "in", INVOICE_TYPES]], ["invoice_origin"]
        )
        if moves:
            by_invoice = await self.client.search(
                "sale.order", [["invoice_ids", "in", [int(m["id"]) for m in moves]]]
            )
            sale_ids |= {int(i) for i in by_invoice}
            origins = sorted({str(m["invoice_origin"]) for m in moves if m.get("invoice_origin")})
            if origins:
                sale_ids |= {
                    int(i) for i in await self.client.search("sale.order", [["name", "in", origins]])
                }
        if not sale_ids:
            return set()
        shop = await self.client.search(
            "sale.order", [["id", "in", sorted(sale_ids)], ["client_order_ref", "!=", False]]
        )
        return {int(i) for i in shop}
