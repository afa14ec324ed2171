"""Shop refunds written into Tryton as return sales: return shipment (received on restock) and credit note.

A refund becomes a sale of the same party with negative quantities, `origin = "sale.sale,<id>"`
(as Tryton's own return wizard does) and reference `<sale reference>/R<refund key>`, so that it is
found again before anything is created (idempotent) and read back as a Refund of the original sale.
A refund with lines returns those SKUs at the original sale's unit price and taxes. A refund
without lines (money only) is one line without product: quantity -1 at the refunded amount, no
taxes, booked on Tryton's default revenue account (Account Configuration), as a manual credit is.
A refund whose origin is the ERP (keyed `tryton:<id>`) is the shop's copy of a return made in
Tryton: it is matched to that return sale, never created again. Each step looks at the state
first, so a write interrupted half-way is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.sales_read import RETURN_MARK, SALE_ORIGIN, TRYTON_KEY
from emporion.model.orders import Order, Refund, RefundOrigin

ORIGINAL_FIELDS = [
    "reference",
    "state",
    "party",
    "currency",
    "warehouse",
    "invoice_address",
    "shipment_address",
    "lines",
]
LINE_FIELDS = ["type", "product", "product.code", "unit", "unit_price", "taxes", "description", "quantity"]


def return_reference(sale_reference: str, refund_key: str) -> str:
    """The reference of the return sale made for one shop refund of a sale."""
    return f"{sale_reference}{RETURN_MARK}{refund_key}"


class ReturnWriter:
    """Creates (or finds and finishes) the return sale, return shipment and credit note of each refund."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client

    async def write(self, items: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per item; a failing item does not stop the others."""
        outcomes = []
        for item in items:
            try:
                outcomes.append(await self._write_one(item))
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=exc))
        return outcomes

    async def _write_one(self, item: WriteItem) -> Outcome:
        order = item.record
        if not isinstance(order, Order):
            raise Permanent("a return needs an Order record", record=item.key)
        if len(order.refunds) != 1:
            raise Permanent(
                f"a return write carries exactly one refund, got {len(order.refunds)}", item.key, "refunds"
            )
        refund = order.refunds[0]
        sale_id = (item.target_ref or {}).get("id")
        if not isinstance(sale_id, int) and not (isinstance(sale_id, str) and sale_id.isdigit()):
            raise Permanent("the original Tryton sale id is missing", record=item.key, field="target_ref")
        return_id, status, credit_note = await self.apply(int(sale_id), refund, item.key)
        return Outcome(item.key, status, target_ref={"id": return_id, "credit_note": credit_note})

    async def apply(
        self, sale_id: int, refund: Refund, key: str, *, shop_refund: bool = True
    ) -> tuple[int, OutcomeStatus, int | None]:
        """Return sale id, CREATED or MATCHED, and credit note id of one refund of sale `sale_id`.

        With `shop_refund` false (a return made in Tryton) the return sale gets no reference and
        is not searched for first.
        """
        rows = await self.client.read("sale.sale", [sale_id], ORIGINAL_FIELDS)
        if not rows:
            raise Permanent(f"Tryton has no sale {sale_id}", record=key, field="target_ref")
        original = rows[0]
        if not original.get("reference"):
            raise Permanent(f"Tryton sale {sale_id} has no reference", record=key, field="reference")
        if original["state"] in ("draft", "quotation", "cancelled"):
            raise Permanent(f"Tryton sale {sale_id} is {original['state']}: nothing to return", key, "status")
        if shop_refund and refund.origin is RefundOrigin.ERP:  # the shop's copy of a return made in Tryton
            return await self._made_in_tryton(sale_id, refund, key)
        reference = return_reference(original["reference"], refund.key) if shop_refund else None
        found = (
            await self.client.search_read(
                "sale.sale", [("reference", "=", reference)], ["id"], limit=1, context={"active_test": False}
            )
            if reference
            else []
        )
        if found:
            return_id, status = found[0]["id"], OutcomeStatus.MATCHED
        else:
            return_id = await self._create(original, refund, reference, key)
            status = OutcomeStatus.CREATED
        credit_note = await self._process(return_id, refund.restock)
        return return_id, status, credit_note

    async def _made_in_tryton(
        self, sale_id: int, refund: Refund, key: str
    ) -> tuple[int, OutcomeStatus, int | None]:
        """A refund the shop got from a Tryton return: that return sale, never a second one."""
        ident = refund.key[len(TRYTON_KEY) :]
        rows = await self.client.search_read(
            "sale.sale",
            [("id", "=", int(ident) if ident.isdigit() else -1), ("origin", "=", f"{SALE_ORIGIN}{sale_id}")],
            ["invoices"],
        )
        if not rows:
            raise Permanent(f"refund {refund.key} names no return of Tryton sale {sale_id}", key, "refunds")
        invoices = await self.client.read("account.invoice", rows[0]["invoices"], ["state"])
        live = [row["id"] for row in invoices if row["state"] != "cancelled"]
        return rows[0]["id"], OutcomeStatus.MATCHED, live[0] if live else None

    async def _create(self, original: dict[str, Any], refund: Refund, reference: str | None, key: str) -> int:
        lines = await self._lines(original, refund, key)
        values = {
            "party": original["party"],
            "reference": reference,
            "origin": f"{SALE_ORIGIN}{original['id']}",
            "currency": original["currency"],
            "warehouse": original["warehouse"],
            "invoice_address": original["invoice_address"],
            "shipment_address": original["shipment_address"],
            "description": (refund.reason or f"Refund {refund.key}")[:250],
            "shipment_cost_method": None,  # a return charges no shipping
            "lines": [["create", lines]],
        }
        (return_id,) = await self.client.model("sale.sale", "create", [values])
        return int(return_id)

    async def _lines(self, original: dict[str, Any], refund: Refund, key: str) -> list[dict[str, Any]]:
        """Negative sale lines for the refunded SKUs, or one money-only line."""
        returned = [line for line in refund.lines if line.quantity > 0]
        if not returned:
            if refund.amount <= 0:
                raise Permanent("the refund has neither lines nor an amount", record=key, field="refunds")
            return [
                {
                    "type": "line",
                    "quantity": -1.0,
                    "unit_price": refund.amount,
                    "description": f"Refund {refund.key}",
                }
            ]
        sale_lines = await self.client.read("sale.line", original["lines"], LINE_FIELDS)
        by_sku = {
            (row.get("product.") or {}).get("code"): row
            for row in sale_lines
            if row["type"] == "line" and row.get("product")
        }
        lines = []
        for line in returned:
            row = by_sku.get(line.sku)
            if row is None:
                raise Permanent(
                    f"sale {original['id']} has no line with SKU {line.sku!r}",
                    key,
                    f"refunds.{line.line_key}",
                )
            if line.quantity > Decimal(str(row["quantity"])):
                raise Permanent(
                    f"refund of {line.quantity} x {line.sku} exceeds the {row['quantity']} sold",
                    key,
                    f"refunds.{line.line_key}.quantity",
                )
            lines.append(
                {
                    "type": "line",
                    "product": row["product"],
                    "unit": row["unit"],
                    "quantity": -float(line.quantity),
                    "unit_price": row["unit_price"],
                    "taxes": [["add", row["taxes"]]] if row["taxes"] else [],
                    "description": row.get("description") or line.sku,
                }
            )
        return lines

    async def _process(self, return_id: int, restock: bool) -> int | None:
        """Quote and confirm the return sale, receive its goods on restock, post its credit note."""
        client = self.client
        (sale,) = await client.read("sale.sale", [return_id], ["state"])
        if sale["state"] == "draft":
            await client.model("sale.sale", "quote", [return_id])
            sale["state"] = "quotation"
        if sale["state"] == "quotation":
            await client.model("sale.sale", "confirm", [return_id])
        (sale,) = await client.read("sale.sale", [return_id], ["state", "shipment_returns", "invoices"])
        if sale["state"] == "confirmed":  # Tryton's processing failed (it runs after confirm, logs only)
            raise Permanent(
                f"Tryton did not process return sale {return_id}: see its log"
                " (a refund without lines needs a default revenue account in Account Configuration)",
                record=str(return_id),
                field="state",
            )
        if restock and sale["shipment_returns"]:
            shipments = await client.read("stock.shipment.out.return", sale["shipment_returns"], ["state"])
            pending = [row["id"] for row in shipments if row["state"] in ("draft", "received")]
            if pending:
                await client.model("stock.shipment.out.return", "receive", pending)
                await client.model("stock.shipment.out.return", "do", pending)
        invoices = await client.read("account.invoice", sale["invoices"], ["state"])
        drafts = [row["id"] for row in invoices if row["state"] in ("draft", "validated")]
        if drafts:
            await client.model("account.invoice", "post", drafts)
        live = [row["id"] for row in invoices if row["state"] != "cancelled"]
        return live[0] if live else None
