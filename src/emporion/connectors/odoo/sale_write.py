"""Shop orders into Odoo sales: searched by `client_order_ref` before creating, confirmed, paid, cancelled.

The shop order number's sale reference is the sale's `client_order_ref` ("Customer Reference"), so a
sale is found again (a webhook delivered twice, a crash before the link was committed) and never made
twice. Lines are the shop's: product by `default_code` (an unknown SKU fails naming `lines[<i>].sku`),
quantity, the line total over the quantity as `price_unit` (its leftover cents on a rounding line of
the fee product), taxes mapped from the shop's tax classes (none when the shop charged none; Odoo's
own product taxes when a class is not mapped), shipping as the carrier's delivery line
(`is_delivery`, the `delivery` module's carrier product), fees as lines of the fee product.

Payments: the shop took the money. emporion records it as the sale's "Payment Ref." (`reference`:
the transaction id, else the shop reference) and, when the flow maps payment methods to journals,
books it as a posted inbound customer payment (payments.py) that Odoo offers as an outstanding credit
on the invoice; invoicing stays Odoo's policy. The sale is read back after creating: the cents by which
Odoo's per-line tax rounding misses the shop's tax go on a "<tax> rounding" line when the merchant
keeps such a tax; when Odoo's total or tax still differs from the shop's, the sale stays a quotation
and the write ends `Held` (sale_totals.py). Cancellations are in sale_cancel.py, the lookups of
taxes, products and carriers in sale_lookup.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import (
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    Retryable,
    WriteItem,
)
from emporion.connectors.odoo.money import price_and_rest
from emporion.connectors.odoo.partners import PartnerWriter, is_empty
from emporion.connectors.odoo.payments import PaymentBooker
from emporion.connectors.odoo.sale_cancel import cancel_sale
from emporion.connectors.odoo.sale_lookup import SaleLookups, label_of
from emporion.connectors.odoo.sale_totals import check_totals, settle_taxes
from emporion.connectors.roles import SaleOptions
from emporion.model.orders import Order, OrderStatus

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection

QUOTATION = ("draft", "sent")


def charges_tax(order: Order) -> bool:
    """Whether the shop charged any tax on the order (else Odoo adds none either)."""
    return bool(order.tax_total) or any(t.tax_total or t.shipping_tax_total for t in order.tax_lines)


class SaleWriter:
    """Creates, confirms, pays and cancels the Odoo sale of each canonical shop Order."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self.partners = PartnerWriter(client)
        self.lookup = SaleLookups(client, settings)
        self.payments = PaymentBooker(client, self.lookup)

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
            await settle_taxes(self.lookup, sale, order)
            await check_totals(self.client, sale, order)
            if options.confirm:
                await self.client.call("sale.order", "action_confirm", [sale])
            if order.paid:
                await self._record_payment(sale, order)
                await self.payments.book(sale, order, options)
            return Outcome(item.key, OutcomeStatus.CREATED, target_ref={"id": sale})
        if order.status is OrderStatus.CANCELLED:
            changed = await cancel_sale(self.client, sale, order)
        else:
            (row,) = await self.client.read("sale.order", [sale], ["state"])
            changed = False
            if row["state"] in QUOTATION:  # held earlier or not confirmed: goes on once its figures are right
                await settle_taxes(
                    self.lookup, sale, order
                )  # finishes a run cut short (nothing when settled)
                await check_totals(self.client, sale, order)
                if options.confirm:
                    await self.client.call("sale.order", "action_confirm", [sale])
                    changed = True
            if order.paid and row["state"] != "cancel":
                changed = await self._record_payment(sale, order) or changed
                changed = await self.payments.book(sale, order, options) or changed
        if status is OutcomeStatus.UPDATED and not changed:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref={"id": sale})

    # -- create ---------------------------------------------------------------------------------

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
            taxes = await self.lookup.class_taxes(
                options, line.tax_class, taxed, f"{label} line {line.key}", at
            )
            price, rest = price_and_rest(line.total, line.quantity)
            lines.append(self.lookup.line(product, line.quantity, price, line.name or line.sku, taxes))
            if rest:
                fee = await self.lookup.fee_product(label, f"lines[{index}].total")
                roundings.append(self.lookup.line(fee, Decimal(1), rest, f"Rounding {line.sku}", taxes))
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
            currency = await self.lookup.id_of(
                "res.currency",
                [["name", "=", order.currency.upper()]],
                f"currency {order.currency}",
                label,
                "currency",
            )
            values["currency_id"] = currency
        if options.warehouse:
            values["warehouse_id"] = await self.lookup.id_of(
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
            taxes = await self.lookup.shipping_taxes(order, options)
        title = (order.shipping_lines[0].title if order.shipping_lines else "") or name
        line = self.lookup.line(int(rows[0]["product_id"][0]), Decimal(1), order.shipping_total, title, taxes)
        line["is_delivery"] = True
        return [line]

    async def _fees(self, order: Order, options: SaleOptions, taxed: bool) -> list[dict[str, Any]]:
        """One line of the fee product per fee (negative for an allowance), taxed by its mapped class."""
        label = label_of(order)
        lines = []
        for index, fee in enumerate(order.fees):
            product = await self.lookup.fee_product(label, f"fees[{index}]")
            taxes = await self.lookup.class_taxes(
                options, fee.tax_class, taxed and bool(fee.tax), label, f"fees[{index}].tax_class"
            )
            lines.append(
                self.lookup.line(product, Decimal(1), fee.total, fee.name or f"Fee {fee.key}", taxes)
            )
        return lines

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
