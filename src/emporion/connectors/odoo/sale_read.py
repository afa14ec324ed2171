"""Odoo sales read back in a few batched calls and mapped to canonical Orders (sale_orders.py).

A batch of sales needs their lines, partners (with country and state codes), pickings, invoices and
credit notes, and the SKUs of the products on them. Credit notes are found through the sales'
invoices and, for those not linked to sale lines, their `invoice_origin` (the sale's name).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Unmappable, map_or_unmappable
from emporion.connectors.odoo.sale_orders import (
    ODOO_KEY,
    RETURN_MARK,
    SaleFacts,
    m2o_id,
    odoo_time,
    order_status,
    refund_key,
    sale_order,
)
from emporion.model.orders import Order

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient

__all__ = ["ODOO_KEY", "RETURN_MARK", "SaleReader", "m2o_id", "odoo_time", "order_status", "refund_key"]

SALE_FIELDS = [
    "name",
    "client_order_ref",
    "state",
    "currency_id",
    "partner_id",
    "partner_invoice_id",
    "partner_shipping_id",
    "order_line",
    "picking_ids",
    "invoice_ids",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "create_date",
    "write_date",
]
LINE_FIELDS = [
    "product_id",
    "name",
    "product_uom_qty",
    "price_unit",
    "price_subtotal",
    "price_tax",
    "is_delivery",
]
PARTNER_FIELDS = [
    "name",
    "email",
    "phone",
    "is_company",
    "street",
    "street2",
    "zip",
    "city",
    "country_id",
    "state_id",
]
PICKING_FIELDS = [
    "name",
    "state",
    "picking_type_code",
    "carrier_id",
    "carrier_tracking_ref",
    "date_done",
    "origin",
]
MOVE_FIELDS = [
    "name",
    "state",
    "move_type",
    "amount_total",
    "payment_state",
    "ref",
    "create_date",
    "invoice_line_ids",
]
MOVE_LINE_FIELDS = ["product_id", "quantity", "price_subtotal", "price_total", "display_type"]


class SaleReader:
    """Reads Odoo sales with their lines, partners, deliveries and invoices in a few batched calls."""

    def __init__(self, client: OdooClient, page_size: int = 500) -> None:
        self.client = client
        self.page_size = page_size

    async def orders(self, sale_ids: Sequence[int]) -> list[Order | Unmappable]:
        """Canonical Orders for the sales that exist among `sale_ids`, in id order (Unmappable if broken)."""
        wanted = sorted(set(sale_ids))
        sales: list[dict[str, Any]] = []
        for start in range(0, len(wanted), self.page_size):  # search, not read: a gone sale is left out
            chunk = wanted[start : start + self.page_size]
            sales += await self.client.search_read(
                "sale.order",
                [["id", "in", chunk]],
                SALE_FIELDS,
                order="id asc",
                context={"active_test": False},
            )
        if not sales:
            return []
        facts = await self._facts(sales)
        return [map_or_unmappable(str(sale["id"]), partial(sale_order, sale, facts)) for sale in sales]

    async def _read(self, model: str, ids: set[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), self.page_size):
            chunk = ordered[start : start + self.page_size]
            for row in await self.client.read(model, chunk, fields, context={"active_test": False}):
                rows[int(row["id"])] = row
        return rows

    async def _facts(self, sales: list[dict[str, Any]]) -> SaleFacts:
        facts = SaleFacts()
        client = self.client
        facts.lines = await self._read(
            "sale.order.line", {i for s in sales for i in s["order_line"]}, LINE_FIELDS
        )
        partners = {
            pid
            for s in sales
            for name in ("partner_id", "partner_invoice_id", "partner_shipping_id")
            if (pid := m2o_id(s.get(name)))
        }
        facts.partners = await self._read("res.partner", partners, PARTNER_FIELDS)
        countries = {c for p in facts.partners.values() if (c := m2o_id(p.get("country_id")))}
        states = {c for p in facts.partners.values() if (c := m2o_id(p.get("state_id")))}
        facts.countries = {
            i: r["code"] for i, r in (await self._read("res.country", countries, ["code"])).items()
        }
        facts.states = {
            i: str(r["code"]) for i, r in (await self._read("res.country.state", states, ["code"])).items()
        }
        facts.pickings = await self._read(
            "stock.picking", {i for s in sales for i in s["picking_ids"]}, PICKING_FIELDS
        )
        names = [s["name"] for s in sales]
        notes = await client.search_read(
            "account.move",
            [["move_type", "=", "out_refund"], ["invoice_origin", "in", names]],
            ["invoice_origin"],
        )
        for note in notes:
            facts.credit_notes.setdefault(str(note["invoice_origin"]), []).append(int(note["id"]))
        move_ids = {i for s in sales for i in s["invoice_ids"]} | {int(n["id"]) for n in notes}
        facts.moves = await self._read("account.move", move_ids, MOVE_FIELDS)
        refund_lines = {
            i
            for m in facts.moves.values()
            if m.get("move_type") == "out_refund"
            for i in m["invoice_line_ids"]
        }
        facts.move_lines = await self._read("account.move.line", refund_lines, MOVE_LINE_FIELDS)
        products = {p for row in facts.lines.values() if (p := m2o_id(row.get("product_id")))}
        products |= {p for row in facts.move_lines.values() if (p := m2o_id(row.get("product_id")))}
        codes = await self._read("product.product", products, ["default_code"])
        facts.skus = {i: str(r.get("default_code") or "") for i, r in codes.items()}
        return facts
