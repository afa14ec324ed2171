"""Shop orders into Odoo sales: searched by `client_order_ref` before creating, confirmed, paid, cancelled.

The shop order number's sale reference is the sale's `client_order_ref` ("Customer Reference"), so a
sale is found again (a webhook delivered twice, a crash before the link was committed) and never made
twice. Lines are the shop's: product by `default_code` (an unknown SKU fails naming `lines[<i>].sku`),
quantity, the line total over the quantity as `price_unit` (its leftover cents on a rounding line of
the fee product), taxes mapped from the shop's tax classes (none when the shop charged none; Odoo's
own product taxes when a class is not mapped), shipping as the carrier's delivery line
(`is_delivery`, the `delivery` module's carrier product), fees as lines of the fee product.

Payments: the shop took the money. Odoo's own prepaid flow (website_sale) keeps a
`payment.transaction`; an external shop has none, and invoicing is Odoo's policy (what is delivered
or ordered is invoiced by the merchant or Odoo's automation), so emporion records the shop's payment
as the sale's "Payment Ref." (`reference`: the transaction id, else the shop reference) and leaves
invoices and their reconciliation to Odoo. The sale is read back after creating: the cents by which
Odoo's per-line tax rounding misses the shop's tax go on a "<tax> rounding" line when the merchant
keeps such a tax; when Odoo's total or tax still differs from the shop's, the sale stays a quotation
and the write ends `Held`. Cancellations are in sale_cancel.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import (
    ConnectorError,
    Held,
    Outcome,
    OutcomeStatus,
    Permanent,
    Retryable,
    WriteItem,
)
from emporion.connectors.odoo.money import CENT, decimal_of, price_and_rest, wire
from emporion.connectors.odoo.partners import PartnerWriter, is_empty
from emporion.connectors.odoo.sale_cancel import cancel_sale
from emporion.connectors.roles import SaleOptions
from emporion.model.orders import Order, OrderStatus

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection

NO_TAX = frozenset({"", "none"})  # a tax class mapped to one of these: the shop's class is untaxed
QUOTATION = ("draft", "sent")


def charges_tax(order: Order) -> bool:
    """Whether the shop charged any tax on the order (else Odoo adds none either)."""
    return bool(order.tax_total) or any(t.tax_total or t.shipping_tax_total for t in order.tax_lines)


def label_of(order: Order) -> str:
    """How errors name an order: by its shop number."""
    return f"order {order.number}"


class SaleWriter:
    """Creates, confirms, pays and cancels the Odoo sale of each canonical shop Order."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self.partners = PartnerWriter(client)
        self._ids: dict[tuple[str, str], int] = {}

    async def write(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """One outcome per order; time-outs and lock conflicts fail the whole call (Retryable)."""
        outcomes = []
        for item in upserts:
            try:
                outcomes.append(await self._write_one(item, options))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=exc))
        return outcomes

    async def find(self, reference: str) -> int | None:
        """The oldest sale whose customer reference is `reference` (archived or cancelled ones too)."""
        found = await self.client.search(
            "sale.order", [["client_order_ref", "=", reference]], order="id asc", limit=1
        )
        return int(found[0]) if found else None

    async def _write_one(self, item: WriteItem, options: SaleOptions) -> Outcome:
        order = item.record
        if not isinstance(order, Order):
            raise Permanent(f"expected an Order, got {type(order).__name__}", record=item.key)
        if not order.reference:
            raise Permanent("the order has no sale reference", record=label_of(order), field="reference")
        sale: int | None = None
        status = OutcomeStatus.UPDATED
        if item.target_ref and str(item.target_ref.get("id") or "").isdigit():
            sale = int(item.target_ref["id"])
        else:
            sale = await self.find(order.reference)
            status = OutcomeStatus.MATCHED
        if sale is None:
            if order.status is OrderStatus.CANCELLED:
                return Outcome(item.key, OutcomeStatus.UNCHANGED)
            sale = await self._create(order, options)
            await self._settle_taxes(sale, order)
            await self.check_totals(sale, order)
            if options.confirm:
                await self.client.call("sale.order", "action_confirm", [sale])
            if order.paid:
                await self._record_payment(sale, order)
            return Outcome(item.key, OutcomeStatus.CREATED, target_ref={"id": sale})
        if order.status is OrderStatus.CANCELLED:
            changed = await cancel_sale(self.client, sale, order)
        else:
            (row,) = await self.client.read("sale.order", [sale], ["state"])
            changed = False
            if row["state"] in QUOTATION:  # held earlier or not confirmed: goes on once its figures are right
                await self._settle_taxes(sale, order)  # finishes a run cut short (nothing when settled)
                await self.check_totals(sale, order)
                if options.confirm:
                    await self.client.call("sale.order", "action_confirm", [sale])
                    changed = True
            if order.paid and row["state"] != "cancel":
                changed = await self._record_payment(sale, order) or changed
        if status is OutcomeStatus.UPDATED and not changed:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref={"id": sale})

    # -- lookups --------------------------------------------------------------------------------

    async def _id_of(self, model: str, domain: list[Any], what: str, record: str, field: str) -> int:
        """The id of the one record `domain` finds (read once per writer), else Permanent naming `field`."""
        key = (model, repr(domain))
        if key not in self._ids:
            found = await self.client.search(model, domain, order="id asc", limit=1)
            if not found:
                raise Permanent(f"Odoo has no {what}", record=record, field=field)
            self._ids[key] = int(found[0])
        return self._ids[key]

    async def _tax(self, name: str, record: str, field: str) -> int:
        domain = [["name", "=", name], ["type_tax_use", "=", "sale"]]
        return await self._id_of("account.tax", domain, f"sales tax {name!r}", record, field)

    async def _class_taxes(
        self, options: SaleOptions, tax_class: str, taxed: bool, record: str, field: str
    ) -> list[int] | None:
        """The Odoo taxes of a shop tax class: none when the shop charged none or maps it to "none";
        None (Odoo's own product taxes) when the class is not mapped."""
        if not taxed:
            return []
        name = options.taxes.get(tax_class)
        if name is None:
            return None
        if name.strip().lower() in NO_TAX:
            return []
        return [await self._tax(name, record, field)]

    async def _fee_product(self, record: str, field: str) -> int:
        code = self.settings.fee_product
        if not code:
            raise Permanent("no fee product is configured (fee_product) for fees and rounding", record, field)
        domain = [["default_code", "=", code]]
        return await self._id_of("product.product", domain, f"product with reference {code!r}", record, field)

    # -- create ---------------------------------------------------------------------------------

    def _line(
        self, product: int, quantity: Decimal, price: Decimal, name: str, taxes: list[int] | None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "product_id": product,
            "product_uom_qty": float(quantity),
            "price_unit": wire(price),
            "discount": 0.0,
            "name": name,
        }
        if taxes is not None:
            values[self.client.profile.sale_line_taxes] = [[6, 0, taxes]]
        return values

    async def _create(self, order: Order, options: SaleOptions) -> int:
        label = label_of(order)
        if not str(order.customer.key or "").isdigit():
            raise Permanent("the customer has no Odoo partner", record=label, field="customer.key")
        partner = int(order.customer.key)
        skus = sorted({line.sku for line in order.lines if line.sku})
        rows = (
            await self.client.search_read(
                "product.product", [["default_code", "in", skus]], ["default_code"], order="id asc"
            )
            if skus
            else []
        )
        products: dict[str, int] = {}
        for row in rows:
            products.setdefault(row["default_code"], int(row["id"]))
        taxed = charges_tax(order)
        lines: list[dict[str, Any]] = []
        roundings: list[dict[str, Any]] = []
        for index, line in enumerate(order.lines):
            product = products.get(line.sku)
            if product is None:
                raise Permanent(
                    f"no Odoo product has the internal reference {line.sku!r}",
                    record=f"{label} line {line.key}",
                    field=f"lines[{index}].sku",
                )
            at = f"lines[{index}].tax_class"
            taxes = await self._class_taxes(options, line.tax_class, taxed, f"{label} line {line.key}", at)
            price, rest = price_and_rest(line.total, line.quantity)
            lines.append(self._line(product, line.quantity, price, line.name or line.sku, taxes))
            if rest:
                fee = await self._fee_product(label, f"lines[{index}].total")
                roundings.append(self._line(fee, Decimal(1), rest, f"Rounding {line.sku}", taxes))
        values: dict[str, Any] = {
            "partner_id": partner,
            "client_order_ref": order.reference,
            "origin": f"Shop order {order.number}",
        }
        billing, shipping = order.billing, order.shipping if not is_empty(order.shipping) else order.billing
        if not is_empty(billing):
            values["partner_invoice_id"], _ = await self.partners.contact(
                partner, billing, "invoice", record=label
            )
        if not is_empty(shipping):
            values["partner_shipping_id"], _ = await self.partners.contact(
                partner, shipping, "delivery", record=label
            )
        if order.currency:
            currency = await self._id_of(
                "res.currency",
                [["name", "=", order.currency.upper()]],
                f"currency {order.currency}",
                label,
                "currency",
            )
            values["currency_id"] = currency
        if options.warehouse:
            values["warehouse_id"] = await self._id_of(
                "stock.warehouse",
                [["code", "=", options.warehouse]],
                f"warehouse {options.warehouse!r}",
                label,
                "warehouse",
            )
        if order.customer_note:
            values["note"] = order.customer_note
        lines += await self._shipping(order, options, values, taxed)
        lines += await self._fees(order, options, taxed)
        values["order_line"] = [[0, 0, line] for line in [*lines, *roundings]]
        (sale,) = await self.client.create("sale.order", [values])
        return int(sale)

    async def _shipping(
        self, order: Order, options: SaleOptions, sale: dict[str, Any], taxed: bool
    ) -> list[dict[str, Any]]:
        """The carrier of the shop's shipping method; its delivery line (`is_delivery`)."""
        label = label_of(order)
        method = order.shipping_lines[0].method if order.shipping_lines else ""
        name = options.carriers.get(method) or options.carriers.get("*")
        if name is None:
            if order.shipping_total:
                raise Permanent(
                    f"no carrier is configured for shipping method {method!r}",
                    label,
                    "shipping_lines[0].method",
                )
            return []
        rows = await self.client.search_read(
            "delivery.carrier", [["name", "=", name]], ["product_id"], limit=1
        )
        if not rows or not rows[0].get("product_id"):
            raise Permanent(
                f"Odoo has no delivery carrier {name!r}", record=label, field="shipping_lines[0].method"
            )
        sale["carrier_id"] = int(rows[0]["id"])
        if not order.shipping_lines and not order.shipping_total:
            return []
        taxes: list[int] | None = []
        if taxed and order.shipping_tax:
            taxes = await self._shipping_taxes(order, options)
        title = (order.shipping_lines[0].title if order.shipping_lines else "") or name
        line = self._line(int(rows[0]["product_id"][0]), Decimal(1), order.shipping_total, title, taxes)
        line["is_delivery"] = True
        return [line]

    async def _shipping_taxes(self, order: Order, options: SaleOptions) -> list[int] | None:
        """The tax of the rate the shop charged on shipping (a mapped tax of that percentage, as its tax
        lines say), else the one mapped to the class "shipping", else None: the carrier product's own."""
        label = label_of(order)
        percents = {
            t.rate_percent for t in order.tax_lines if t.shipping_tax_total and t.rate_percent is not None
        }
        names = sorted({name for name in options.taxes.values() if name.strip().lower() not in NO_TAX})
        if percents and names:
            ids = [await self._tax(name, label, "shipping_tax") for name in names]
            for row in await self.client.read("account.tax", ids, ["amount", "amount_type", "price_include"]):
                amount = Decimal(str(row["amount"] or 0))
                if (
                    row.get("amount_type") == "percent"
                    and not row.get("price_include")
                    and amount in percents
                ):
                    return [int(row["id"])]
        shipping_class = options.taxes.get("shipping")
        return [await self._tax(shipping_class, label, "shipping_tax")] if shipping_class else None

    async def _fees(self, order: Order, options: SaleOptions, taxed: bool) -> list[dict[str, Any]]:
        """One line of the fee product per fee (negative for an allowance), taxed by its mapped class."""
        label = label_of(order)
        lines = []
        for index, fee in enumerate(order.fees):
            product = await self._fee_product(label, f"fees[{index}]")
            taxes = await self._class_taxes(
                options, fee.tax_class, taxed and bool(fee.tax), label, f"fees[{index}].tax_class"
            )
            lines.append(self._line(product, Decimal(1), fee.total, fee.name or f"Fee {fee.key}", taxes))
        return lines

    async def _settle_taxes(self, sale: int, order: Order) -> None:
        """Book the cents by which Odoo's per-line tax rounding misses the shop's tax on a rounding line.

        Odoo rounds each line's tax (`round_per_line`); a shop rounding once per order can be a cent
        or so apart. When the merchant keeps a "<tax> rounding" tax (fixed, 0.01, the tax's accounts)
        and a fee product, the gap becomes a line of the fee product at price 0 taxed with it, one
        unit per cent (negative units for cents too many); else the totals check holds the order.
        """
        (row,) = await self.client.read("sale.order", [sale], ["amount_tax", "order_line"])
        gap = order.tax_total - decimal_of(row["amount_tax"])
        if not gap or not self.settings.fee_product or abs(gap) > CENT * max(len(row["order_line"]), 1):
            return
        taxes_field = self.client.profile.sale_line_taxes
        lines = await self.client.read("sale.order.line", row["order_line"], [taxes_field])
        used: dict[int, int] = {}
        for line in lines:
            for tax in line[taxes_field] or []:
                used[int(tax)] = used.get(int(tax), 0) + 1
        if not used:
            return
        tax = max(sorted(used), key=lambda ident: used[ident])
        (named,) = await self.client.read("account.tax", [tax], ["name"])
        rounding = await self.client.search(
            "account.tax",
            [["name", "=", f"{named['name']} rounding"], ["type_tax_use", "=", "sale"]],
            limit=1,
        )
        if not rounding:
            return
        fee = await self._fee_product(label_of(order), "tax_total")
        line = self._line(fee, gap / CENT, Decimal(0), f"Tax rounding {named['name']}", [rounding[0]])
        await self.client.write("sale.order", [sale], {"order_line": [[0, 0, line]]})

    async def check_totals(self, sale: int, order: Order) -> None:
        """Hold (the sale stays a quotation) when Odoo's total or tax differs from the shop's."""
        (row,) = await self.client.read("sale.order", [sale], ["name", "amount_total", "amount_tax"])
        total, tax = decimal_of(row["amount_total"]), decimal_of(row["amount_tax"])
        if total == order.total and tax == order.tax_total:
            return
        raise Held(
            f"order {order.number}: Odoo quotation {row['name']} comes to {total} with tax {tax}, the shop's"
            f" order to {order.total} with tax {order.tax_total}; correct the quotation in Odoo (a tax's"
            " cents on a line of the fee product) and the order goes on",
            record=label_of(order),
            field="total",
        )

    # -- payment --------------------------------------------------------------------------------

    async def _record_payment(self, sale: int, order: Order) -> bool:
        """The shop's payment as the sale's "Payment Ref." (once): the transaction id, else the reference."""
        payment = order.payment
        reference = (payment.transaction_id if payment else "") or order.reference or ""
        (row,) = await self.client.read("sale.order", [sale], ["reference"])
        if row.get("reference"):
            return False
        await self.client.write("sale.order", [sale], {"reference": reference})
        return True
