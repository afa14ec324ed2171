"""Odoo sale rows as canonical Orders: status, lines, deliveries, invoices, credit notes and refunds.

`reference` is the sale's `client_order_ref` (the shop's sale reference). The status follows the
sale's state and its outgoing deliveries: a quotation is pending, a confirmed sale processing,
shipped when some delivery is done and completed when all are (or the sale is `done`, as 17 still
has it), cancelled when cancelled. Deliveries (`stock.picking` of type outgoing) become Shipments
with carrier and tracking; posted invoices and credit notes become Invoices (a credit note's total is
negative, as with Tryton). A posted credit note is a Refund: one emporion made for a shop refund
carries `<reference>/R<refund key>` as its `ref` and keeps that key (origin shop); one made in Odoo
is keyed `odoo:<credit note id>` (origin ERP) with its amounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.guard import typed_mapping
from emporion.connectors.odoo.money import decimal_of, quantity_of
from emporion.model.orders import (
    Address,
    Customer,
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    RefundOrigin,
    Shipment,
    ShippingLine,
)

RETURN_MARK = "/R"  # <sale reference>/R<refund key>: the ref of a credit note made for a shop refund
ODOO_KEY = "odoo:"  # refund key of a credit note made in Odoo: odoo:<account.move id>


def odoo_time(value: Any) -> dt.datetime | None:
    """An Odoo datetime ("YYYY-MM-DD HH:MM:SS", UTC) as an aware datetime; None for False."""
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def m2o_id(value: Any) -> int | None:
    """The id of a many2one as read ([id, display name] or False)."""
    return int(value[0]) if isinstance(value, list) and value else None


def m2o_name(value: Any) -> str:
    """The display name of a many2one as read, "" when empty."""
    return str(value[1]) if isinstance(value, list) and len(value) > 1 else ""


def order_status(state: str, delivery_states: Sequence[str]) -> OrderStatus:
    """The canonical status of a sale from its state and its outgoing deliveries' states."""
    if state in ("draft", "sent"):
        return OrderStatus.PENDING
    if state == "cancel":
        return OrderStatus.CANCELLED
    live = [s for s in delivery_states if s != "cancel"]
    done = sum(1 for s in live if s == "done")
    if state == "done" or (live and done == len(live)):
        return OrderStatus.COMPLETED
    return OrderStatus.SHIPPED if done else OrderStatus.PROCESSING


def refund_key(move: dict[str, Any], reference: str | None) -> str:
    """The refund key of a credit note: the shop's refund key it was made for, else `odoo:<id>`."""
    ref = str(move.get("ref") or "")
    prefix = f"{reference}{RETURN_MARK}" if reference else None
    if prefix and ref.startswith(prefix) and len(ref) > len(prefix):
        return ref[len(prefix) :]
    return f"{ODOO_KEY}{move['id']}"


class SaleFacts:
    """Rows read for a batch of sales (lines, partners, codes, pickings, moves) and their small mappings."""

    def __init__(self) -> None:
        self.lines: dict[int, dict[str, Any]] = {}
        self.skus: dict[int, str] = {}
        self.partners: dict[int, dict[str, Any]] = {}
        self.countries: dict[int, str] = {}
        self.states: dict[int, str] = {}
        self.pickings: dict[int, dict[str, Any]] = {}
        self.moves: dict[int, dict[str, Any]] = {}
        self.move_lines: dict[int, dict[str, Any]] = {}
        self.credit_notes: dict[str, list[int]] = {}  # sale name -> out_refund ids by invoice_origin

    def address(self, partner: int | None) -> Address:
        row = self.partners.get(partner or 0) or {}

        def text(name: str) -> str:
            return str(row.get(name) or "")

        return Address(
            street=text("street"),
            street2=text("street2"),
            postcode=text("zip"),
            city=text("city"),
            country=self.countries.get(m2o_id(row.get("country_id")) or 0, ""),
            state=self.states.get(m2o_id(row.get("state_id")) or 0, ""),
            email=text("email"),
            phone=text("phone"),
        )

    def customer(self, partner: int | None) -> Customer:
        row = self.partners.get(partner or 0) or {}
        name = str(row.get("name") or "").strip()
        first, _, last = name.rpartition(" ")
        company = bool(row.get("is_company"))
        return Customer(
            key=str(partner or ""),
            email=str(row.get("email") or ""),
            first_name="" if company else first,
            last_name="" if company else last,
            company=name if company else "",
            phone=str(row.get("phone") or ""),
        )

    def shipment(self, picking: dict[str, Any]) -> Shipment:
        tracking = str(picking.get("carrier_tracking_ref") or "")
        return Shipment(
            key=str(picking["id"]),
            state=picking["state"],
            carrier=m2o_name(picking.get("carrier_id")),
            tracking_numbers=[ref.strip() for ref in tracking.split(",") if ref.strip()],
            shipped_at=odoo_time(picking.get("date_done")) if picking["state"] == "done" else None,
        )

    def invoice(self, move: dict[str, Any]) -> Invoice:
        total = decimal_of(move.get("amount_total"))
        credit = move.get("move_type") == "out_refund"
        return Invoice(
            key=str(move["id"]),
            number=str(move.get("name") or ""),
            state=str(move.get("payment_state") or move["state"]),
            total=-total if credit else total,
            credit_note=credit,
        )

    def refund(self, move: dict[str, Any], reference: str | None, restocked: bool) -> Refund:
        lines = []
        for line_id in move.get("invoice_line_ids") or []:
            line = self.move_lines.get(line_id) or {}
            product = m2o_id(line.get("product_id"))
            if line.get("display_type") not in (None, False, "product") or product is None:
                continue
            subtotal = decimal_of(line.get("price_subtotal"))
            lines.append(
                RefundLine(
                    line_key=str(line_id),
                    sku=self.skus.get(product, ""),
                    quantity=abs(quantity_of(line.get("quantity"))),
                    amount=abs(subtotal),
                    tax=abs(decimal_of(line.get("price_total")) - subtotal),
                    restock=restocked,
                )
            )
        key = refund_key(move, reference)
        return Refund(
            key=key,
            origin=RefundOrigin.ERP if key.startswith(ODOO_KEY) else RefundOrigin.SHOP,
            amount=decimal_of(move.get("amount_total")),
            lines=lines,
            restock=restocked,
            created_at=odoo_time(move.get("create_date")),
        )


@typed_mapping("sale.order")
def sale_order(sale: dict[str, Any], facts: SaleFacts) -> Order:
    """One Odoo sale, with its deliveries, invoices and credit notes, as a canonical Order."""
    order_lines: list[OrderLine] = []
    shipping_lines: list[ShippingLine] = []
    for line_id in sale["order_line"]:
        line = facts.lines.get(line_id)
        if not line or line.get("display_type"):
            continue
        amount = decimal_of(line.get("price_subtotal"))
        if line.get("is_delivery"):
            shipping_lines.append(
                ShippingLine(key=str(line_id), title=str(line.get("name") or ""), total=amount)
            )
            continue
        product = m2o_id(line.get("product_id"))
        order_lines.append(
            OrderLine(
                key=str(line_id),
                sku=facts.skus.get(product or 0, ""),
                name=str(line.get("name") or ""),
                quantity=quantity_of(line.get("product_uom_qty")),
                unit_price=Decimal(str(line.get("price_unit") or 0)),
                total=amount,
                tax=decimal_of(line.get("price_tax")),
                product_key=str(product) if product else None,
            )
        )
    pickings = [facts.pickings[p] for p in sale["picking_ids"] if p in facts.pickings]
    deliveries = [p for p in pickings if p.get("picking_type_code") == "outgoing"]
    returned = [p for p in pickings if p.get("picking_type_code") == "incoming" and p["state"] == "done"]
    reference = sale.get("client_order_ref") or None
    move_ids = sorted({*sale["invoice_ids"], *facts.credit_notes.get(sale["name"], [])})
    moves = [facts.moves[m] for m in move_ids if m in facts.moves and facts.moves[m]["state"] == "posted"]
    refunds = []
    for move in moves:
        if move.get("move_type") == "out_refund":
            ref = str(move.get("ref") or "")
            restocked = any(p.get("origin") == ref for p in returned) if ref else bool(returned)
            refunds.append(facts.refund(move, reference, restocked))
    shipping_total = sum((line.total for line in shipping_lines), Decimal(0))
    return Order(
        key=str(sale["id"]),
        number=str(sale.get("name") or ""),
        status=order_status(sale["state"], [p["state"] for p in deliveries]),
        raw_status=sale["state"],
        currency=m2o_name(sale.get("currency_id")),
        created_at=odoo_time(sale.get("create_date")),
        modified_at=odoo_time(sale.get("write_date") or sale.get("create_date")),
        customer=facts.customer(m2o_id(sale.get("partner_id"))),
        billing=facts.address(m2o_id(sale.get("partner_invoice_id"))),
        shipping=facts.address(m2o_id(sale.get("partner_shipping_id"))),
        lines=order_lines,
        shipping_lines=shipping_lines,
        shipping_total=shipping_total,
        tax_total=decimal_of(sale.get("amount_tax")),
        total=decimal_of(sale.get("amount_total")),
        shipments=[facts.shipment(p) for p in deliveries],
        invoices=[facts.invoice(m) for m in moves],
        refunds=refunds,
        reference=reference,
    )
