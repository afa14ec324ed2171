"""Shop orders into Tryton sales: search by reference before create, quote/confirm, payment, cancel.

The shop order number is stored as the sale's `reference`, so a sale is always found again (a
webhook delivered twice, a poll, a crash before the link was committed) and never created twice.
Payments are recorded the Tryton way of the `sale_payment` module: an `account.payment` whose
origin is the sale, taken through submit → processing → succeeded.

Money to the cent: lines take the shop's totals after discounts (a rounding line carries the cents a
4-decimal unit price cannot), taxes come from the order's own tax classes (none when the shop charged
none), and the cents by which Tryton's tax computation differs from the shop's per rate are booked on
"<tax> rounding" lines (money.py). The sale is then read back: if its total or tax still differs from
the shop's it stays a draft and the write ends `Held`, naming both figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import (
    ConnectorError,
    Held,
    Outcome,
    OutcomeStatus,
    Permanent,
    Retryable,
    WriteItem,
)
from emporion.connectors.roles import SaleOptions
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.money import (
    CENT,
    PRICE_STEP,
    cents,
    estimate_taxes,
    price_and_rest,
    rounding_tax_name,
    split_fee,
    tax_adjustments,
)
from emporion.connectors.tryton.money import unit_price as exact_unit_price
from emporion.connectors.tryton.parties import same_place
from emporion.model.orders import Order, OrderStatus, PaymentKind

SHIPPED_STATES = frozenset({"shipped", "done"})
EXCEPTION_WIZARDS = {"shipment": ("shipment", "moves"), "invoice": ("invoice", "invoices")}  # name, records
NO_TAX = frozenset({"", "none"})  # a tax mapping to one of these: the shop's class is untaxed


# Invoice what is shipped: a cancellation before shipping then touches no invoice (and the
# emporion login needs no accounting rights); "order" would invoice on confirmation instead.
INVOICE_METHOD = "fulfillment"


def unit_price(total: Decimal, quantity: Decimal, canonical: Decimal) -> Decimal:
    """The line total (after discounts) over its quantity to 4 decimals; the shop's price for no quantity.

    Never the price before discounts: the cents 4 decimals cannot carry go on a rounding line.
    """
    if not quantity:
        return canonical.quantize(PRICE_STEP)
    return exact_unit_price(total, quantity)


def charges_tax(order: Order) -> bool:
    """Whether the shop charged any tax on the order (else the ERP adds none either)."""
    return bool(order.tax_total) or any(t.tax_total or t.shipping_tax_total for t in order.tax_lines)


def _default_taxes(product: dict[str, Any]) -> list[int]:
    """The product's customer taxes (own, else its accounting category's), as Tryton resolves them."""
    category = (product.get("template.") or {}).get("account_category.") or {}
    return list(category.get("customer_taxes_used") or [])


class SaleWriter:
    """Creates, pays and cancels Tryton sales for canonical shop Orders."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self._names: dict[tuple[str, str], int] = {}
        self._rates_read: dict[int, tuple[str, Decimal | None]] = {}

    async def write(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """One outcome per order; lock conflicts and time-outs fail the whole call (Retryable)."""
        outcomes = []
        for item in upserts:
            try:
                outcomes.append(await self._write_one(item, options))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=exc))
        return outcomes

    async def _write_one(self, item: WriteItem, options: SaleOptions) -> Outcome:
        order = item.record
        if not isinstance(order, Order):
            raise Permanent(f"expected an Order, got {type(order).__name__}", record=item.key)
        label = f"order {order.number}"
        if not order.reference:
            raise Permanent("the order has no sale reference", record=label, field="reference")
        sale: int | None = None
        status = OutcomeStatus.UPDATED
        if item.target_ref and item.target_ref.get("id"):
            sale = int(item.target_ref["id"])
        else:
            found = await self.client.search_read(
                "sale.sale", [("reference", "=", order.reference)], ["id"], order=[("id", "ASC")], limit=1
            )
            if found:
                sale, status = found[0]["id"], OutcomeStatus.MATCHED
        if sale is None:
            if order.status is OrderStatus.CANCELLED:
                return Outcome(item.key, OutcomeStatus.UNCHANGED)
            sale = await self._create(order, options)
            await self._check_totals(sale, order)
            await self._advance(sale, "draft", options)
            if order.paid:
                await self._pay(sale, order, options)
            return Outcome(item.key, OutcomeStatus.CREATED, target_ref={"id": sale})
        changed = False
        if order.status is OrderStatus.CANCELLED:
            changed = await self._cancel(sale, order)
        else:
            (row,) = await self.client.read("sale.sale", [sale], ["state"])
            if row["state"] == "draft":  # held earlier: goes on once its figures are the shop's
                await self._check_totals(sale, order)
            changed = await self._advance(sale, row["state"], options)
            if order.paid:
                changed = await self._pay(sale, order, options) or changed
        if status is OutcomeStatus.UPDATED and not changed:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref={"id": sale})

    # -- lookups --------------------------------------------------------------------------------

    async def _id_of(self, model: str, name_field: str, name: str, what: str, label: str, at: str) -> int:
        key = (model, name)
        if key not in self._names:
            rows = await self.client.search_read(model, [(name_field, "=", name)], ["id"], limit=1)
            if not rows:
                raise Permanent(f"Tryton has no {what} {name!r}", record=label, field=at)
            self._names[key] = rows[0]["id"]
        return self._names[key]

    async def _addresses(self, party: int, order: Order) -> tuple[int | None, int | None]:
        rows = await self.client.search_read(
            "party.address",
            [("party", "=", party)],
            ["street_unstructured", "postal_code", "city", "invoice", "delivery"],
            order=[("id", "ASC")],
        )
        if not rows:
            return None, None

        def pick(address: Any, flag: str) -> int:
            for row in rows:
                if same_place(row, address):
                    return int(row["id"])
            flagged = [row for row in rows if row.get(flag)]
            return int((flagged or rows)[-1]["id"])

        invoice = pick(order.billing, "invoice")
        shipping = order.shipping if (order.shipping.street or order.shipping.city) else order.billing
        return invoice, pick(shipping, "delivery")

    # -- create ---------------------------------------------------------------------------------

    async def _create(self, order: Order, options: SaleOptions) -> int:
        label = f"order {order.number}"
        if not order.customer.key or not str(order.customer.key).isdigit():
            raise Permanent("the customer has no Tryton party", record=label, field="customer.key")
        party = int(order.customer.key)
        skus = sorted({line.sku for line in order.lines if line.sku})
        rows = (
            await self.client.search_read(
                "product.product",
                [("code", "in", skus)],
                ["code", "default_uom", "template.account_category.customer_taxes_used"],
            )
            if skus
            else []
        )
        products = {row["code"]: row for row in rows}
        taxed = charges_tax(order)
        lines: list[dict[str, Any]] = []
        roundings: list[dict[str, Any]] = []
        shop_taxes: list[tuple[list[int], Decimal]] = []  # each product line's taxes and the shop's tax
        for index, line in enumerate(order.lines):
            product = products.get(line.sku)
            if product is None:
                raise Permanent(
                    f"no Tryton product has the SKU {line.sku!r}",
                    record=f"{label} line {line.key}",
                    field=f"lines[{index}].sku",
                )
            price, rest = price_and_rest(line.total, line.quantity)
            at = (f"{label} line {line.key}", f"lines[{index}].tax_class")
            taxes = await self._class_taxes(options, line.tax_class, _default_taxes(product), taxed, *at)
            lines.append(
                {
                    "type": "line",
                    "sequence": index + 1,
                    "product": product["id"],
                    "unit": product["default_uom"],
                    "quantity": float(line.quantity),
                    "unit_price": price
                    if line.quantity
                    else unit_price(line.total, line.quantity, line.unit_price),
                    "description": line.name or line.sku,
                    "taxes": [["add", taxes]] if taxes else [],
                }
            )
            shop_taxes.append((taxes, line.tax))
            if rest and line.quantity:  # 4 decimals cannot carry the shop's line total: the cents
                roundings.append(self._money_line(f"Rounding {line.sku}", rest, taxes))
        sale: dict[str, Any] = {
            "party": party,
            "reference": order.reference,
            "description": self._description(order),
            "comment": order.customer_note or None,
            "shipment_method": "order",
            "invoice_method": INVOICE_METHOD,
        }
        if order.created_at:
            sale["sale_date"] = order.created_at.date()
        invoice_address, shipment_address = await self._addresses(party, order)
        if invoice_address:
            sale["invoice_address"] = invoice_address
        if shipment_address:
            sale["shipment_address"] = shipment_address
        if order.currency:
            sale["currency"] = await self._id_of(
                "currency.currency", "code", order.currency.upper(), "currency", label, "currency"
            )
        if options.warehouse:
            sale["warehouse"] = await self._id_of(
                "stock.location", "code", options.warehouse, "warehouse", label, "warehouse"
            )
        else:  # Tryton has no default once there are two warehouses: take the first one
            first = await self.client.search_read(
                "stock.location", [("type", "=", "warehouse")], ["id"], order=[("id", "ASC")], limit=1
            )
            if first:
                sale["warehouse"] = first[0]["id"]
        await self._shipping(order, options, sale, lines, taxed)
        await self._fees(order, options, lines, taxed, shop_taxes)
        lines.extend(roundings)
        for sequence, values in enumerate(lines, start=1):
            values["sequence"] = sequence
        sale["lines"] = [["create", lines]]
        (sale_id,) = await self.client.model("sale.sale", "create", [sale])
        await self._settle_taxes(int(sale_id), order)
        return int(sale_id)

    @staticmethod
    def _money_line(description: str, amount: Decimal, taxes: list[int], quantity: int = 1) -> dict[str, Any]:
        """A line without product: a fee, an allowance, a rounding or a credit."""
        return {
            "type": "line",
            "quantity": float(quantity),
            "unit_price": amount.quantize(PRICE_STEP),
            "taxes": [["add", taxes]] if taxes else [],
            "description": description,
        }

    async def _class_taxes(
        self, options: SaleOptions, tax_class: str, default: list[int], taxed: bool, record: str, field: str
    ) -> list[int]:
        """The Tryton taxes of a shop tax class: mapped, "none" for untaxed, else the product's own."""
        if not taxed:
            return []  # the shop charged no tax: never the products' default taxes
        name = options.taxes.get(tax_class)
        if name is None:
            return default
        if name.strip().lower() in NO_TAX:
            return []
        return [await self._id_of("account.tax", "name", name, "tax", record, field)]

    async def _rates(self, taxes: set[int]) -> dict[int, tuple[str, Decimal | None]]:
        """Name and rate (None unless a percentage) of Tryton taxes, read once."""
        missing = sorted(taxes - self._rates_read.keys())
        if missing:
            for row in await self.client.read("account.tax", missing, ["name", "type", "rate"]):
                rate = (
                    Decimal(str(row["rate"])) if row.get("type") == "percentage" and row.get("rate") else None
                )
                self._rates_read[row["id"]] = (row["name"], rate)
        return {tax: self._rates_read[tax] for tax in taxes if tax in self._rates_read}

    async def _settle_taxes(self, sale: int, order: Order) -> None:
        """Book the cents by which Tryton's tax differs from the shop's, per rate, on rounding lines."""
        (row,) = await self.client.read("sale.sale", [sale], ["tax_amount", "lines"])
        gap = order.tax_total - Decimal(str(row["tax_amount"] or 0))
        lines = await self.client.read("sale.line", row["lines"], ["type", "amount", "taxes"])
        used = {tax for line in lines for tax in line["taxes"] or []}
        known = await self._rates(used)
        rates = {tax: rate for tax, (_name, rate) in known.items() if rate is not None}
        estimated = estimate_taxes(
            (
                (Decimal(str(line["amount"] or 0)), line["taxes"] or [])
                for line in lines
                if line["type"] == "line"
            ),
            rates,
        )
        shop: dict[Decimal, Decimal] = {}
        for tax_line in order.tax_lines:
            if tax_line.rate_percent is not None:
                amount = tax_line.tax_total + tax_line.shipping_tax_total
                shop[tax_line.rate_percent] = shop.get(tax_line.rate_percent, Decimal(0)) + amount
        limits: dict[int, Decimal] = {}
        for line in lines:
            for tax in line["taxes"] or []:
                limits[tax] = limits.get(tax, Decimal(0)) + CENT
        adjust = tax_adjustments(
            shop, estimated, rates, gap, {tax: cap + CENT for tax, cap in limits.items()}
        )
        created = []
        for tax, amount in sorted(adjust.items()):
            name = known[tax][0]
            found = await self.client.search_read(
                "account.tax", [("name", "=", rounding_tax_name(name))], ["id"], limit=1
            )
            if not found:  # the read-back names the difference and holds the order
                continue
            steps = int((amount / CENT).to_integral_value())
            created.append(self._money_line(f"Tax rounding {name}", Decimal(0), [found[0]["id"]], steps))
        if created:
            await self.client.model("sale.sale", "write", [sale], {"lines": [["create", created]]})

    async def _check_totals(self, sale: int, order: Order) -> None:
        """Hold (the sale stays a draft) when Tryton's total or tax differs from the shop's."""
        (row,) = await self.client.read("sale.sale", [sale], ["total_amount", "tax_amount", "reference"])
        total = Decimal(str(row["total_amount"] or 0))
        tax = Decimal(str(row["tax_amount"] or 0))
        if total == order.total and tax == order.tax_total:
            return
        raise Held(
            f"order {order.number}: Tryton sale {row['reference']} (draft) comes to {total} with tax {tax},"
            f" the shop's order to {order.total} with tax {order.tax_total}; correct the sale in Tryton"
            " (a tax's cents go on a line taxed '<tax> rounding', a fixed 0.01 tax) and the order goes on",
            record=f"order {order.number}",
            field="total",
        )

    async def _advance(self, sale: int, state: str, options: SaleOptions) -> bool:
        """Quote a draft and confirm a quotation (as configured): also finishes an interrupted run."""
        steps = {"draft": ["quote", "confirm"], "quotation": ["confirm"]}.get(state, [])
        if not options.confirm:
            steps = [step for step in steps if step != "confirm"]
        for step in steps:
            await self.client.model("sale.sale", step, [sale])
        return bool(steps)

    @staticmethod
    def _description(order: Order) -> str:
        text = f"Shop order {order.number}"
        if order.coupons:
            text += f" (coupons: {', '.join(order.coupons)})"
        return text

    async def _shipping(
        self,
        order: Order,
        options: SaleOptions,
        sale: dict[str, Any],
        lines: list[dict[str, Any]],
        taxed: bool,
    ) -> None:
        """The carrier, and a cost line in the form `sale_shipment_cost` keeps on quotation.

        Quotation rebuilds a cost line with the carrier product's own taxes. When the shop taxed its
        shipping otherwise (another rate, or none), the charge is a plain line of the carrier's
        product instead (no cost method): Tryton then invoices it on confirmation, apart from the goods.

        Taxed at the rate the shop charged on shipping (found among the order's taxes by its
        percentage), else the carrier product's own taxes; untaxed when the shop charged none on it.
        """
        label = f"order {order.number}"
        method = order.shipping_lines[0].method if order.shipping_lines else ""
        name = options.carriers.get(method) or options.carriers.get("*")
        if name is None:
            if order.shipping_total:
                raise Permanent(
                    f"no carrier is configured for shipping method {method!r}",
                    record=label,
                    field="shipping_lines[0].method",
                )
            return
        rows = await self.client.search_read(
            "carrier", [("party.name", "=", name)], ["carrier_product"], limit=1
        )
        if not rows:
            raise Permanent(f"Tryton has no carrier {name!r}", record=label, field="shipping_lines[0].method")
        (product,) = await self.client.read(
            "product.product",
            [rows[0]["carrier_product"]],
            ["list_price_used", "default_uom", "template.account_category.customer_taxes_used"],
        )
        sale["carrier"] = rows[0]["id"]
        title = order.shipping_lines[0].title if order.shipping_lines else ""
        taxes: list[int] = []
        if taxed and order.shipping_tax:
            taxes = await self._shipping_taxes(order, lines) or _default_taxes(product)
        values = {
            "type": "line",
            "product": product["id"],
            "unit": product["default_uom"],
            "quantity": 1.0,
            "unit_price": order.shipping_total.quantize(PRICE_STEP),
            "taxes": [["add", taxes]] if taxes else [],
            "description": title or f"Shipping {name}",
        }
        if sorted(taxes) == sorted(_default_taxes(product)):
            sale["shipment_cost_method"] = "order"
            # equal to the carrier's cost: quotation keeps our unit price
            values["shipment_cost"] = Decimal(str(product["list_price_used"] or 0)).quantize(PRICE_STEP)
        else:
            sale["shipment_cost_method"] = None
        lines.append(values)

    async def _shipping_taxes(self, order: Order, lines: list[dict[str, Any]]) -> list[int]:
        """The tax of the lines whose rate the shop charged on shipping (its tax line says which)."""
        percents = {
            t.rate_percent for t in order.tax_lines if t.shipping_tax_total and t.rate_percent is not None
        }
        used = {tax for line in lines for op in line.get("taxes") or [] for tax in op[1]}
        for tax, (_name, rate) in sorted((await self._rates(used)).items()):
            if rate is not None and rate * 100 in percents:
                return [tax]
        return []

    async def _fees(
        self,
        order: Order,
        options: SaleOptions,
        lines: list[dict[str, Any]],
        taxed: bool,
        shop_taxes: list[tuple[list[int], Decimal]],
    ) -> None:
        """One line without product per fee (negative for an allowance), taxed by its mapped tax.

        A fee whose tax the shop spread over several rates (WooCommerce's negative fees) is one line
        per rate instead, so that each rate's base is the shop's. Like a money-only return line, a
        fee is booked on Tryton's default revenue account.
        """
        label = f"order {order.number}"
        fee_taxes: list[list[int]] = []
        for index, fee in enumerate(order.fees):
            taxes: list[int] = []
            if fee.tax and taxed:
                tax_name = options.taxes.get(fee.tax_class)
                if tax_name is None:
                    raise Permanent(
                        f"fee tax class {fee.tax_class!r} has no Tryton tax",
                        record=label,
                        field=f"fees[{index}].tax_class",
                    )
                at = f"fees[{index}].tax_class"
                if tax_name.strip().lower() not in NO_TAX:
                    taxes = [await self._id_of("account.tax", "name", tax_name, "tax", label, at)]
            fee_taxes.append(taxes)
        for index, fee in enumerate(order.fees):
            name = fee.name or f"Fee {fee.key}"
            parts = await self._spread_fee(order, index, fee_taxes, shop_taxes) if fee_taxes[index] else None
            if parts:
                lines.extend(
                    self._money_line(f"{name} ({percent.normalize():f} %)", base, [tax])
                    for tax, percent, base in parts
                )
            else:
                lines.append(self._money_line(name, fee.total, fee_taxes[index]))

    async def _spread_fee(
        self,
        order: Order,
        index: int,
        fee_taxes: list[list[int]],
        shop_taxes: list[tuple[list[int], Decimal]],
    ) -> list[tuple[int, Decimal, Decimal]] | None:
        """(tax, percent, net part) per rate when the shop taxed fee `index` over several rates, else None."""
        fee = order.fees[index]
        used = {tax for taxes, _ in shop_taxes for tax in taxes} | {t for taxes in fee_taxes for t in taxes}
        rates = {tax: rate for tax, (_name, rate) in (await self._rates(used)).items() if rate is not None}
        own = rates.get(fee_taxes[index][0])
        if own is None or len(order.tax_lines) < 2 or abs(fee.tax - cents(fee.total * own)) <= CENT:
            return None
        percent_of = {tax: rate * 100 for tax, rate in rates.items()}
        explained: dict[Decimal, Decimal] = {}
        others = [(taxes, tax) for taxes, tax in shop_taxes]
        others += [(fee_taxes[i], other.tax) for i, other in enumerate(order.fees) if i != index]
        for taxes, tax in others:
            if len(taxes) == 1 and taxes[0] in percent_of:
                percent = percent_of[taxes[0]]
                explained[percent] = explained.get(percent, Decimal(0)) + tax
        remainders = {
            line.rate_percent: line.tax_total - explained.get(line.rate_percent, Decimal(0))
            for line in order.tax_lines
            if line.rate_percent is not None
        }
        bases = split_fee(fee.total, fee.tax, remainders)
        by_percent = {percent: tax for tax, percent in sorted(percent_of.items(), reverse=True)}
        if bases is None or any(percent not in by_percent for percent in bases):
            return None
        return [(by_percent[percent], percent, base) for percent, base in bases.items()]

    # -- payment --------------------------------------------------------------------------------

    async def _pay(self, sale: int, order: Order, options: SaleOptions) -> bool:
        """Record the shop's payment once: a succeeded `account.payment` with the sale as origin."""
        label = f"order {order.number}"
        origin = f"sale.sale,{sale}"
        existing = await self.client.search_read(
            "account.payment", [("origin", "=", origin), ("state", "!=", "failed")], ["id"], limit=1
        )
        if existing:
            return False
        (row,) = await self.client.read(
            "sale.sale", [sale], ["party", "company", "currency", "total_amount", "state"]
        )
        if row["state"] == "cancelled":
            return False
        method = order.payment.method if order.payment else ""
        journal_name = options.payment_methods.get(method) or options.payment_methods.get("*")
        if journal_name is not None:
            journal = await self._id_of(
                "account.payment.journal", "name", journal_name, "payment journal", label, "payment.method"
            )
        elif options.payment_methods:
            raise Permanent(
                f"no payment journal is configured for {method!r}", record=label, field="payment.method"
            )
        else:
            journals = await self.client.search_read(
                "account.payment.journal", [("currency", "=", row["currency"])], ["id"], limit=1
            )
            if not journals:
                raise Permanent("Tryton has no payment journal", record=label, field="payment.method")
            journal = journals[0]["id"]
        # Gift cards and store credit are not money the customer paid now: the payment is the rest.
        # They are booked too when `payment_methods` maps `gift_card` / `store_credit` to a journal.
        vouchers = {kind: order.paid_by(kind) for kind in (PaymentKind.GIFT_CARD, PaymentKind.STORE_CREDIT)}
        rest = order.total - sum(vouchers.values(), Decimal(0))
        amount = min(order.payment.amount, rest) if order.payment and order.payment.amount else rest
        paid_at = order.payment.paid_at if order.payment and order.payment.paid_at else None
        base = {
            "company": row["company"],
            "kind": "receivable",
            "party": row["party"],
            "date": (paid_at or dt.datetime.now(dt.UTC)).date(),
            "origin": origin,
        }
        reference = (order.payment.transaction_id if order.payment else "") or order.reference
        values = []
        if amount > 0:
            values.append({**base, "journal": journal, "amount": amount, "reference": reference})
        for kind, paid in vouchers.items():
            voucher_journal = options.payment_methods.get(kind.value)
            if paid > 0 and voucher_journal:
                at = f"payments.{kind.value}"
                found = await self._id_of(
                    "account.payment.journal", "name", voucher_journal, "journal", label, at
                )
                values.append(
                    {**base, "journal": found, "amount": paid, "reference": f"{reference} {kind.value}"}
                )
        if not values:
            return False
        payments = await self.client.model("account.payment", "create", values)
        await self.client.model("account.payment", "submit", payments)
        await self._process_payments(payments)
        await self.client.model("account.payment", "succeed", payments)
        return True

    async def _process_payments(self, payments: list[int]) -> None:
        """Run Tryton's "process payments" wizard (submitted → processing) on `payments`."""
        client = self.client
        wizard = "wizard.account.payment.process"
        context = {**client.context, "active_model": "account.payment", "active_id": payments[0]}
        context["active_ids"] = payments
        session, start, _end = await client.call(f"{wizard}.create", client.context)
        try:
            await client.call(f"{wizard}.execute", session, {}, start, context)
        finally:
            await client.call(f"{wizard}.delete", session, client.context)

    # -- cancel ---------------------------------------------------------------------------------

    async def _cancel(self, sale: int, order: Order) -> bool:
        """Cancel the sale when nothing has shipped or been invoiced; otherwise say what is left to do.

        A draft, quotation or confirmed sale is cancelled. Tryton cannot cancel a processing sale:
        its waiting shipments and draft invoices are cancelled and the cancelled moves ignored (as a
        sales administrator does with "Handle Shipment Exception"), so that it closes with nothing
        delivered or invoiced. What emporion cannot do raises Permanent naming it, for the engine to
        alert.
        """
        client = self.client
        (row,) = await client.read("sale.sale", [sale], ["state", "reference", "shipments", "invoices"])
        if row["state"] == "cancelled":
            return False
        shipments = await client.read("stock.shipment.out", row["shipments"], ["state", "number"])
        invoices = (
            await client.read("account.invoice", row["invoices"], ["state", "number"])
            if row["invoices"]
            else []
        )
        shipped = [s.get("number") or str(s["id"]) for s in shipments if s["state"] in SHIPPED_STATES]
        posted = [i.get("number") or str(i["id"]) for i in invoices if i["state"] in ("posted", "paid")]
        if shipped or posted:
            left = []
            if shipped:
                left.append(f"take the goods of shipment {', '.join(shipped)} back with a return sale")
            if posted:
                left.append(f"credit invoice {', '.join(posted)}")
            raise Permanent(
                f"order {order.number} was cancelled in the shop but sale {row['reference']} has"
                f" {'shipped goods' if shipped else 'a posted invoice'}: in Tryton, {' and '.join(left)}",
                record=order.number,
                field="status",
            )
        if row["state"] == "done":  # closed with nothing shipped or invoiced: nothing left to undo
            return False
        await self._release_payments(sale)
        if row["state"] in ("draft", "quotation"):
            await client.model("sale.sale", "cancel", [sale])
            return True
        if row["state"] == "confirmed":
            await client.model("sale.sale", "draft", [sale])
            await client.model("sale.sale", "cancel", [sale])
            return True
        waiting = [s["id"] for s in shipments if s["state"] != "cancelled"]
        if waiting:
            await client.model("stock.shipment.out", "cancel", waiting)
        drafts = [i["id"] for i in invoices if i["state"] in ("draft", "validated")]
        if drafts:
            await client.model("account.invoice", "cancel", drafts)
        try:
            await self._ignore_cancelled(sale, EXCEPTION_WIZARDS["shipment"])
            await self._ignore_cancelled(sale, EXCEPTION_WIZARDS["invoice"])
            (after,) = await client.read("sale.sale", [sale], ["state", "shipment_state", "invoice_state"])
        except ConnectorError as error:
            raise Permanent(
                f"order {order.number} was cancelled in the shop; sale {row['reference']}'s shipments and"
                " draft invoices are cancelled, but its exceptions are left: in Tryton, a sales"
                f' administrator handles them with "Ignore" ({error})',
                record=order.number,
                field="status",
            ) from error
        if after["state"] not in ("done", "cancelled"):  # never a silent half-cancellation
            raise Permanent(
                f"order {order.number} was cancelled in the shop; sale {row['reference']}'s shipments and"
                f" draft invoices are cancelled but it is still {after['state']} (shipment"
                f" {after['shipment_state']}, invoice {after['invoice_state']}): in Tryton, handle its"
                " exceptions or close it",
                record=order.number,
                field="status",
            )
        return True

    async def _release_payments(self, sale: int) -> None:
        """The shop gives the money back with the cancellation: the payment did not hold.

        (`sale_payment` refuses to cancel a sale with payments that have not failed.)
        """
        client = self.client
        payments = await client.search_read(
            "account.payment", [("origin", "=", f"sale.sale,{sale}"), ("state", "!=", "failed")], ["state"]
        )
        pending = [p["id"] for p in payments if p["state"] in ("draft", "submitted", "approved")]
        if pending:
            await client.model("account.payment", "draft", pending)
            await client.model("account.payment", "delete", pending)
        held = [p["id"] for p in payments if p["state"] in ("processing", "succeeded")]
        if held:
            await client.model("account.payment", "fail", held)

    async def _ignore_cancelled(self, sale: int, what: tuple[str, str]) -> None:
        """Tryton's "Handle Shipment Exception" or "Handle Invoice Exception" wizard, ignoring every
        cancelled move or invoice of the sale (a line without goods, such as a service or shipping
        line, is invoiced when the sale is processed: cancelling its draft invoice is an exception too)."""
        client = self.client
        name, records = what
        wizard = f"wizard.sale.handle.{name}.exception"
        context = {**client.context, "active_model": "sale.sale", "active_id": sale, "active_ids": [sale]}
        session, start, _end = await client.call(f"{wizard}.create", client.context)
        try:
            shown = await client.call(f"{wizard}.execute", session, {}, start, context)
            found = list(((shown.get("view") or {}).get("defaults") or {}).get(f"domain_{records}") or [])
            if found:
                data = {
                    start: {f"domain_{records}": found, f"ignore_{records}": found, f"recreate_{records}": []}
                }
                await client.call(f"{wizard}.execute", session, data, "handle", context)
        finally:
            await client.call(f"{wizard}.delete", session, client.context)


async def sku_availability(
    client: TrytonClient, skus: Sequence[str], warehouses: Sequence[str] | None
) -> dict[str, Decimal]:
    """Available to promise per known SKU: min(on hand, forecast) per warehouse, summed.

    `warehouses` are location codes (None: every warehouse). One call finds the warehouses, then
    one search per warehouse reads the quantities of every SKU at once.
    """
    wanted = sorted({sku for sku in skus if sku})
    if not wanted:
        return {}
    domain: list[Any] = [("type", "=", "warehouse")]
    if warehouses:
        domain.append(("code", "in", list(warehouses)))
    locations = await client.search_read("stock.location", domain, ["code"])
    missing = set(warehouses or ()) - {row["code"] for row in locations}
    if missing:
        raise Permanent(f"Tryton has no warehouse with code {', '.join(sorted(missing))}")
    available: dict[str, Decimal] = {}
    for location in locations:
        rows = await client.search_read(
            "product.product",
            [("code", "in", wanted)],
            ["code", "quantity", "forecast_quantity"],
            context={"locations": [location["id"]], "with_childs": True},
        )
        for row in rows:
            quantity = Decimal(str(row["quantity"] or 0))
            forecast = Decimal(str(row["forecast_quantity"] or 0))
            available[row["code"]] = available.get(row["code"], Decimal(0)) + min(quantity, forecast)
    return available
