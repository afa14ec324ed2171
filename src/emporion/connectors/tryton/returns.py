"""Shop refunds written into Tryton as return sales: return shipment (received on restock) and credit note.

A refund becomes a sale of the same party with negative quantities, `origin = "sale.sale,<id>"`
(as Tryton's own return wizard does) and reference `<sale reference>/R<refund key>`, so that it is
found again before anything is created (idempotent) and read back as a Refund of the original sale.
Credit notes carry the refunded amounts: a refunded line is credited at its refunded amount (13.50
of one unit sold at 27.00 is 13.50) with the original line's taxes; refunded shipping and fees are
lines without product with the taxes of the original's shipping and fee lines; the shop's refund tax
is kept to the cent on "<tax> rounding" lines, as on sales. Only restocked units come back: they are
product lines (their return shipment is received); units refunded without restock are lines without
product, or, when nothing is restocked, product lines of a return whose shipment method is manual
(no return shipment at all). A refund of money only is spread over the original sale's taxes in
proportion to its amounts, so its tax is reversed pro rata, and comes to the refunded amount exactly.
Lines without product are booked on Tryton's default revenue account (Account Configuration).
A refund whose origin is the ERP (keyed `tryton:<id>`) is the shop's copy of a return made in
Tryton: it is matched to that return sale, never created again. Each step looks at the state
first, so a write interrupted half-way is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.client import TrytonClient, TrytonWarning
from emporion.connectors.tryton.money import (
    CENT,
    PRICE_STEP,
    cents,
    price_and_rest,
    pro_rata,
    rounding_tax_name,
)
from emporion.connectors.tryton.sales_read import RETURN_MARK, SALE_ORIGIN, TRYTON_KEY
from emporion.model.orders import Order, Refund, RefundLine, RefundOrigin

ORIGINAL_FIELDS = [
    "reference",
    "state",
    "party",
    "currency",
    "warehouse",
    "invoice_address",
    "shipment_address",
    "lines",
    "carrier.carrier_product",
]
LINE_FIELDS = [
    "type",
    "product",
    "product.code",
    "unit",
    "unit_price",
    "taxes",
    "description",
    "quantity",
    "amount",
    "shipment_cost",
]


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
        sale_lines = await self.client.read("sale.line", original["lines"], LINE_FIELDS)
        lines, goods_back = await self._lines(original, sale_lines, refund, key)
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
        if not goods_back:
            values["shipment_method"] = "manual"  # nothing restocked: no return shipment
        (return_id,) = await self.client.model("sale.sale", "create", [values])
        await self._settle(int(return_id), sale_lines, refund)
        return int(return_id)

    @staticmethod
    def _credit(description: str, amount: Decimal, taxes: list[int]) -> dict[str, Any]:
        """A credit line without product: -1 x the amount, with these taxes."""
        return {
            "type": "line",
            "quantity": -1.0,
            "unit_price": amount.quantize(PRICE_STEP),
            "taxes": [["add", taxes]] if taxes else [],
            "description": description,
        }

    async def _lines(
        self, original: dict[str, Any], sale_lines: list[dict[str, Any]], refund: Refund, key: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """Negative sale lines for what the refund gives back, and whether any goods come back."""
        returned = [line for line in refund.lines if line.quantity > 0]
        products = [row for row in sale_lines if row["type"] == "line" and row.get("product")]
        carrier_product = (original.get("carrier.") or {}).get("carrier_product")
        shipping_rows = [
            row
            for row in products
            if row.get("shipment_cost") is not None or row["product"] == carrier_product
        ]
        goods = [row for row in products if row not in shipping_rows]
        by_sku = {(row.get("product.") or {}).get("code"): row for row in goods}
        fee_rows = [row for row in sale_lines if row["type"] == "line" and not row.get("product")]
        per_line = any(line.restock for line in returned)
        lines: list[dict[str, Any]] = []
        goods_back = False
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
            restocked = line.restock if per_line else refund.restock
            lines.extend(self._returned(line, row, restocked, per_line and not restocked))
            goods_back = goods_back or restocked
        if refund.shipping:
            taxes = _taxes_of(shipping_rows) if refund.shipping_tax else []
            lines.append(self._credit(f"Shipping refund {refund.key}", refund.shipping, taxes))
        if refund.fees:
            taxes = _taxes_of(fee_rows) if refund.fees_tax else []
            lines.append(self._credit(f"Fee refund {refund.key}", refund.fees, taxes))
        if lines:
            return lines, goods_back
        if refund.amount <= 0:
            raise Permanent("the refund has neither lines nor an amount", record=key, field="refunds")
        return await self._money_only(sale_lines, refund), False

    def _returned(
        self, line: RefundLine, row: dict[str, Any], restocked: bool, as_credit: bool
    ) -> list[dict[str, Any]]:
        """One refunded line: at its refunded amount (else the price sold at), with the sale's taxes."""
        amount = line.amount if line.amount else cents(Decimal(str(row["unit_price"])) * line.quantity)
        taxes = list(row["taxes"] or [])
        description = row.get("description") or line.sku
        if as_credit:  # refunded, not restocked, beside restocked lines: credited without the goods
            return [self._credit(f"{line.quantity} x {line.sku} {description} (not returned)", amount, taxes)]
        price, rest = price_and_rest(amount, line.quantity)
        values = [
            {
                "type": "line",
                "product": row["product"],
                "unit": row["unit"],
                "quantity": -float(line.quantity),
                "unit_price": price,
                "taxes": [["add", taxes]] if taxes else [],
                "description": description,
            }
        ]
        if rest:
            values.append(self._credit(f"Rounding {line.sku}", rest, taxes))
        return values

    async def _money_only(self, sale_lines: list[dict[str, Any]], refund: Refund) -> list[dict[str, Any]]:
        """A refund of money only, spread over the sale's taxes in proportion to its amounts (gross)."""
        groups: dict[tuple[int, ...], Decimal] = {}
        for row in sale_lines:
            if row["type"] == "line" and row.get("amount"):
                group = tuple(sorted(row["taxes"] or []))
                groups[group] = groups.get(group, Decimal(0)) + Decimal(str(row["amount"]))
        rates = await self._rates({tax for group in groups for tax in group})
        gross = {
            index: amount * (1 + sum((rates.get(tax, Decimal(0)) for tax in group), Decimal(0)))
            for index, (group, amount) in enumerate(groups.items())
        }
        shares = pro_rata(refund.amount, {i: g for i, g in gross.items() if g > 0})
        if not shares:
            return [self._credit(f"Refund {refund.key}", refund.amount, [])]
        lines = []
        for index, (group, _amount) in enumerate(groups.items()):
            if index not in shares:
                continue
            factor = 1 + sum((rates.get(tax, Decimal(0)) for tax in group), Decimal(0))
            lines.append(self._credit(f"Refund {refund.key}", cents(shares[index] / factor), list(group)))
        return lines

    async def _rates(self, taxes: set[int]) -> dict[int, Decimal]:
        """The rates of percentage taxes."""
        if not taxes:
            return {}
        rows = await self.client.read("account.tax", sorted(taxes), ["type", "rate"])
        return {
            row["id"]: Decimal(str(row["rate"]))
            for row in rows
            if row["type"] == "percentage" and row["rate"]
        }

    async def _settle(self, return_id: int, sale_lines: list[dict[str, Any]], refund: Refund) -> None:
        """Bring the return's tax and total to the refund's: its tax cents on a rounding tax, the rest
        (a money-only refund's cents) on a line without tax."""
        detailed = bool(refund.lines or refund.shipping or refund.fees) and all(
            line.amount for line in refund.lines if line.quantity > 0
        )
        if detailed:
            tax = sum((line.tax for line in refund.lines if line.quantity > 0), Decimal(0))
            tax += refund.shipping_tax + refund.fees_tax
            net = sum((line.amount for line in refund.lines if line.quantity > 0), Decimal(0))
            target_tax: Decimal | None = -tax
            target_total: Decimal | None = -(net + refund.shipping + refund.fees + tax)
        elif not refund.lines:
            target_tax, target_total = None, -refund.amount
        else:
            return
        (row,) = await self.client.read("sale.sale", [return_id], ["tax_amount", "total_amount", "lines"])
        tax_now = Decimal(str(row["tax_amount"] or 0))
        total_now = Decimal(str(row["total_amount"] or 0))
        created = []
        if target_tax is not None and target_tax != tax_now:
            lines = await self.client.read("sale.line", row["lines"], ["amount", "taxes"])
            rates = await self._rates({tax for line in lines for tax in line["taxes"] or []})
            weights = {
                tax: abs(Decimal(str(line["amount"] or 0))) * rate
                for line in lines
                for tax in line["taxes"] or []
                if (rate := rates.get(tax))
            }
            if weights:
                largest = max(weights, key=lambda tax: (weights[tax], -tax))
                (named,) = await self.client.read("account.tax", [largest], ["name"])
                found = await self.client.search_read(
                    "account.tax", [("name", "=", rounding_tax_name(named["name"]))], ["id"], limit=1
                )
                if found:
                    steps = int(((target_tax - tax_now) / CENT).to_integral_value())
                    created.append(
                        {
                            "type": "line",
                            "quantity": float(steps),
                            "unit_price": Decimal(0),
                            "taxes": [["add", [found[0]["id"]]]],
                            "description": f"Tax rounding {named['name']}",
                        }
                    )
                    total_now += target_tax - tax_now
        if target_total is not None and target_total != total_now:
            created.append(self._credit(f"Rounding {refund.key}", total_now - target_total, []))
        if created:
            await self.client.model("sale.sale", "write", [return_id], {"lines": [["create", created]]})

    async def _post(self, invoices: list[int]) -> None:
        """Post credit notes; the warning that the shop's taxes are not the products' own is answered
        yes (the shop decided them), as a person would in Tryton's client, once per credit note."""
        for _attempt in range(len(invoices) + 1):
            try:
                await self.client.model("account.invoice", "post", invoices)
                return
            except TrytonWarning as warning:
                if not _accepted(warning):
                    raise
                await self.client.model("res.user.warning", "skip", warning.key, False)
        await self.client.model("account.invoice", "post", invoices)

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
            await self._post(drafts)
        live = [row["id"] for row in invoices if row["state"] != "cancelled"]
        return live[0] if live else None


def _accepted(error: TrytonWarning) -> bool:
    """The warnings posting a credit note may skip: the shop's taxes differ from the products' own."""
    return error.key.endswith(".invoice_taxes")


def _taxes_of(rows: list[dict[str, Any]]) -> list[int]:
    """The taxes of the first of these sale lines that has any."""
    return next((list(row["taxes"]) for row in rows if row["taxes"]), [])
