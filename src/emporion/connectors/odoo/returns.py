"""Shop refunds into Odoo: a credit note for the refunded amounts and, on restock, a return of the goods.

Credit note: always a new `out_refund` with the refunded amounts, never a full reversal: Odoo's
`account.move.reversal` credits the whole invoice (its lines would then be edited before posting,
and a sale often has no posted invoice yet when the shop refunds). Each refunded line is a line of
its product at the refunded amount with the taxes of the sale line (linked to it through
`sale_line_ids`, so the sale counts it among its invoices); refunded shipping is a line of the
carrier's product with the delivery line's taxes; refunded fees and a refund of money only (no
lines) are lines of the fee product (`fee_product`, untaxed for money only). The credit note points
at the posted invoice it corrects (`reversed_entry_id`) when there is one, names the sale
(`invoice_origin`) and carries `<customer reference>/R<refund key>` as its `ref`; it is posted.

Goods back (`restock`): the `stock.return.picking` wizard on the done delivery, for the refunded
quantities of the restocked lines, its return picking validated (stock goes back up) and stamped
with the same `ref` as its origin. Both are searched by that ref before anything is made, and each
step looks at the state first, so a write interrupted half-way is finished by the next one. A
refund keyed `odoo:<id>` is the shop's copy of a credit note made in Odoo: matched, never made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.odoo.money import price_and_rest, wire
from emporion.connectors.odoo.sale_read import ODOO_KEY, RETURN_MARK, m2o_id
from emporion.model.orders import Order, Refund, RefundOrigin

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection

SALE_FIELDS = ["name", "client_order_ref", "state", "partner_id", "partner_invoice_id", "currency_id"]
SALE_FIELDS += ["order_line", "picking_ids", "invoice_ids"]


def return_reference(sale_reference: str, refund_key: str) -> str:
    """The `ref` of the credit note (and origin of the return picking) made for one shop refund."""
    return f"{sale_reference}{RETURN_MARK}{refund_key}"


class ReturnWriter:
    """Makes (or finds and finishes) the credit note and the return of goods of each shop refund."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings

    async def write(self, items: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per item; a failing item does not stop the others (time-outs stop the call)."""
        outcomes = []
        for item in items:
            try:
                outcomes.append(await self._write_one(item))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=exc))
        return outcomes

    async def _write_one(self, item: WriteItem) -> Outcome:
        order = item.record
        if not isinstance(order, Order):
            raise Permanent("a return needs an Order record", record=item.key)
        if len(order.refunds) != 1:
            raise Permanent(
                f"a return carries exactly one refund, got {len(order.refunds)}", item.key, "refunds"
            )
        sale_id = str((item.target_ref or {}).get("id") or "")
        if not sale_id.isdigit():
            raise Permanent("the original Odoo sale id is missing", record=item.key, field="target_ref")
        rows = await self.client.read("sale.order", [int(sale_id)], SALE_FIELDS)
        if not rows:
            raise Permanent(f"Odoo has no sale {sale_id}", record=item.key, field="target_ref")
        sale = rows[0]
        if sale["state"] in ("draft", "sent", "cancel"):
            raise Permanent(
                f"Odoo sale {sale['name']} is {sale['state']}: nothing to return", item.key, "status"
            )
        refund = order.refunds[0]
        if refund.origin is RefundOrigin.ERP or refund.key.startswith(ODOO_KEY):
            return await self._made_in_odoo(refund, item.key)
        if not sale.get("client_order_ref"):
            raise Permanent(f"Odoo sale {sale['name']} has no customer reference", item.key, "reference")
        ref = return_reference(sale["client_order_ref"], refund.key)
        lines = await self.client.read(
            "sale.order.line",
            sale["order_line"],
            ["product_id", "is_delivery", self.client.profile.sale_line_taxes],
        )
        note, status = await self._credit_note(sale, lines, refund, ref, item.key)
        picking = await self._return_goods(sale, refund, ref, item.key) if self._restocks(refund) else None
        return Outcome(
            item.key, status, target_ref={"id": note, "credit_note": note, "return_picking": picking}
        )

    async def _made_in_odoo(self, refund: Refund, key: str) -> Outcome:
        ident = refund.key[len(ODOO_KEY) :]
        found = await self.client.search(
            "account.move",
            [["id", "=", int(ident) if ident.isdigit() else 0], ["move_type", "=", "out_refund"]],
        )
        if not found:
            raise Permanent(f"Odoo has no credit note {ident[:20]}", record=key, field="refunds[0].key")
        return Outcome(key, OutcomeStatus.MATCHED, target_ref={"id": found[0], "credit_note": found[0]})

    @staticmethod
    def _restocks(refund: Refund) -> bool:
        return refund.restock or any(line.restock for line in refund.lines)

    # -- credit note ------------------------------------------------------------------------------

    async def _credit_note(
        self, sale: dict[str, Any], lines: list[dict[str, Any]], refund: Refund, ref: str, key: str
    ) -> tuple[int, OutcomeStatus]:
        """The posted credit note of the refund: found by ref (posted if still a draft), else made."""
        client = self.client
        found = await client.search_read(
            "account.move", [["move_type", "=", "out_refund"], ["ref", "=", ref]], ["state"], limit=1
        )
        if found:
            note, status = int(found[0]["id"]), OutcomeStatus.MATCHED
            if found[0]["state"] == "draft":
                await client.call("account.move", "action_post", [note])
            return note, status
        values: dict[str, Any] = {
            "move_type": "out_refund",
            "partner_id": m2o_id(sale.get("partner_invoice_id")) or m2o_id(sale.get("partner_id")),
            "ref": ref,
            "invoice_origin": sale["name"],
            "invoice_line_ids": [[0, 0, line] for line in await self._note_lines(lines, refund, key)],
        }
        if m2o_id(sale.get("currency_id")):
            values["currency_id"] = m2o_id(sale.get("currency_id"))
        invoices = (
            await client.search_read(
                "account.move",
                [
                    ["id", "in", sale["invoice_ids"]],
                    ["move_type", "=", "out_invoice"],
                    ["state", "=", "posted"],
                ],
                ["id"],
                order="id asc",
                limit=1,
            )
            if sale["invoice_ids"]
            else []
        )
        if invoices:
            values["reversed_entry_id"] = invoices[0]["id"]
        (note,) = await client.create("account.move", [values])
        await client.call("account.move", "action_post", [int(note)])
        return int(note), OutcomeStatus.CREATED

    def _line(
        self, product: int, quantity: Decimal, amount: Decimal, name: str, taxes: list[int]
    ) -> dict[str, Any]:
        price, rest = price_and_rest(amount, quantity)
        if rest:  # the amount is not a whole number of cents per unit: one line for the whole amount
            price, name, quantity = amount, f"{quantity.normalize():f} x {name}", Decimal(1)
        return {
            "product_id": product,
            "quantity": float(quantity),
            "price_unit": wire(price),
            "name": name,
            "tax_ids": [[6, 0, taxes]],
        }

    async def _note_lines(
        self, lines: list[dict[str, Any]], refund: Refund, key: str
    ) -> list[dict[str, Any]]:
        taxes_field = self.client.profile.sale_line_taxes
        products = {m2o_id(line.get("product_id")): line for line in lines if not line.get("is_delivery")}
        codes = await self.client.read("product.product", [p for p in products if p], ["default_code"])
        by_sku = {row["default_code"]: products[int(row["id"])] for row in codes if row.get("default_code")}
        made: list[dict[str, Any]] = []
        for index, part in enumerate(refund.lines):
            if not part.amount:
                continue
            line = by_sku.get(part.sku)
            if line is None:
                raise Permanent(
                    f"the sale has no line of SKU {part.sku!r}",
                    record=f"refund {refund.key}",
                    field=f"lines[{index}].sku",
                )
            product = m2o_id(line["product_id"]) or 0
            values = self._line(
                product, part.quantity or Decimal(1), part.amount, part.sku, list(line[taxes_field])
            )
            values["sale_line_ids"] = [[6, 0, [line["id"]]]]
            made.append(values)
        delivery = next((line for line in lines if line.get("is_delivery")), None)
        if refund.shipping:
            if delivery is None:
                raise Permanent("the sale has no delivery line to refund", f"refund {refund.key}", "shipping")
            product = m2o_id(delivery["product_id"]) or 0
            made.append(
                self._line(product, Decimal(1), refund.shipping, "Shipping", list(delivery[taxes_field]))
            )
        extra = refund.fees
        if not made and not extra:  # money only: the whole refund on the fee product
            extra = refund.amount
        if extra:
            code = self.settings.fee_product
            found = await self.client.search("product.product", [["default_code", "=", code or ""]], limit=1)
            if not code or not found:
                raise Permanent(
                    "no fee product (fee_product) to credit fees or money on", key, "refunds[0].fees"
                )
            made.append(self._line(found[0], Decimal(1), extra, refund.reason or "Refund", []))
        return made

    # -- goods back --------------------------------------------------------------------------------

    async def _return_goods(self, sale: dict[str, Any], refund: Refund, ref: str, key: str) -> int | None:
        """The validated return picking of the restocked quantities (found by origin, else made)."""
        client = self.client
        found = await client.search_read(
            "stock.picking",
            [["origin", "=", ref], ["picking_type_code", "=", "incoming"]],
            ["state"],
            limit=1,
        )
        if found:
            picking = int(found[0]["id"])
            if found[0]["state"] not in ("done", "cancel"):
                await self._validate(picking)
            return picking
        wanted: dict[str, Decimal] = {}
        for part in refund.lines:
            if (part.restock or refund.restock) and part.quantity:
                wanted[part.sku] = wanted.get(part.sku, Decimal(0)) + part.quantity
        if not wanted:
            return None
        deliveries = await client.search_read(
            "stock.picking",
            [
                ["id", "in", sale["picking_ids"]],
                ["picking_type_code", "=", "outgoing"],
                ["state", "=", "done"],
            ],
            ["id"],
            order="id asc",
        )
        if not deliveries:
            return None  # nothing left the warehouse: there is nothing to take back
        context = {
            "active_model": "stock.picking",
            "active_id": deliveries[0]["id"],
            "active_ids": [deliveries[0]["id"]],
        }
        (wizard,) = await client.create(
            "stock.return.picking", [{"picking_id": deliveries[0]["id"]}], context=context
        )
        (form,) = await client.read("stock.return.picking", [wizard], ["product_return_moves"])
        if not form[
            "product_return_moves"
        ]:  # Odoo computes a line per move of the delivery; fill them if not
            moves = await client.search_read(
                "stock.move",
                [["picking_id", "=", deliveries[0]["id"]]],
                ["product_id", "quantity"],
                order="id asc",
            )
            lines = [
                {"product_id": m2o_id(m["product_id"]), "quantity": 0.0, "move_id": m["id"]} for m in moves
            ]
            await client.write(
                "stock.return.picking", [wizard], {"product_return_moves": [[0, 0, line] for line in lines]}
            )
            (form,) = await client.read("stock.return.picking", [wizard], ["product_return_moves"])
        rows = await client.read(
            "stock.return.picking.line", form["product_return_moves"], ["product_id", "quantity"]
        )
        codes = {
            int(row["id"]): row.get("default_code")
            for row in await client.read(
                "product.product", [m2o_id(r["product_id"]) or 0 for r in rows], ["default_code"]
            )
        }
        for row in rows:
            sku = codes.get(m2o_id(row["product_id"]) or 0) or ""
            quantity = wanted.pop(sku, Decimal(0))  # what the shop restocked; other lines return nothing
            await client.write("stock.return.picking.line", [int(row["id"])], {"quantity": float(quantity)})
        method = client.profile.return_picking_method  # 17: create_returns; 18 renamed it
        action = await client.call("stock.return.picking", method, [wizard], context=context)
        if not isinstance(action, dict) or not action.get("res_id"):
            raise Permanent("Odoo made no return picking", record=key, field="refunds[0].restock")
        picking = int(action["res_id"])
        await client.write("stock.picking", [picking], {"origin": ref})
        await self._validate(picking)
        return picking

    async def _validate(self, picking: int) -> None:
        """Receive the return: every move's quantity as planned, picked, then validated without backorder."""
        client = self.client
        quantity = client.profile.stock_move_quantity
        moves = await client.search_read("stock.move", [["picking_id", "=", picking]], ["product_uom_qty"])
        for move in moves:
            await client.write(
                "stock.move", [int(move["id"])], {quantity: move["product_uom_qty"], "picked": True}
            )
        await client.call("stock.picking", "button_validate", [picking], context={"skip_backorder": True})
