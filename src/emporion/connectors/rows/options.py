"""An order flow's sale options applied to a canonical Order before it becomes an ERP's rows or document.

A flow maps shop names to the ERP's (`SaleOptions`: payment methods, carriers, tax classes, the
warehouse). Connectors that call an API apply them while they build the sale (Tryton's
`sales_write.py`); connectors that hand the ERP rows or files (SQL import tables, CSV, openTRANS)
apply them here, once, and then map the order's plain paths to columns or elements as configured.
`with_sale_options` is system-neutral and pure: the order comes back as a copy, the input unchanged.

What it changes:

- each payment's `method`: through `payment_methods`. A payment through a payment method takes its
  exact entry, else the "*" entry, else keeps the shop's name. Gift cards and store credit take the
  entry of their method, else of their kind (`gift_card`, `store_credit`), else keep it: the "*"
  default is a payment method's, never a voucher's (Tryton books vouchers the same way).
- each shipping line's `method`: through `carriers` (exact entry, else "*", else kept), so a column
  copying `order.shipping_lines.0.method` or a line's `shipping.method` carries the ERP's carrier.
- each line's and fee's `tax_class`: through `taxes` ("" is the shop's standard class; a class
  the map does not name is kept).
- the warehouse: `order.custom["warehouse"]` is the flow's `warehouse`; a column names it with the
  path `order.custom.warehouse`. Without a flow warehouse the order's own value stays, else None, so
  that the path always exists (a mapping naming it never fails on an order without one).
"""

from __future__ import annotations

from collections.abc import Mapping

from emporion.connectors.roles import SaleOptions
from emporion.model import Order, Payment, PaymentKind

WAREHOUSE_KEY = "warehouse"  # the key in `Order.custom` that names the ERP warehouse
DEFAULT_ENTRY = "*"  # the entry of a map that stands for every name it does not list


def mapped_name(names: Mapping[str, str], name: str, default: bool = True) -> str:
    """`name` through a flow's map: its exact entry, else (with `default`) the "*" entry, else itself."""
    if name in names:
        return names[name]
    if default and DEFAULT_ENTRY in names:
        return names[DEFAULT_ENTRY]
    return name


def payment_method(payment: Payment, methods: Mapping[str, str]) -> str:
    """The ERP's name for a payment's method (vouchers by their method or kind, never by "*")."""
    if payment.kind is PaymentKind.METHOD:
        return mapped_name(methods, payment.method)
    if payment.method in methods:
        return methods[payment.method]
    return methods.get(payment.kind.value, payment.method)


def with_sale_options(order: Order, options: SaleOptions) -> Order:
    """A copy of `order` in the ERP's names: payment methods, carriers, tax classes, the warehouse."""
    payments = [
        payment.model_copy(update={"method": payment_method(payment, options.payment_methods)})
        for payment in order.payments
    ]
    shipping_lines = [
        line.model_copy(update={"method": mapped_name(options.carriers, line.method)})
        for line in order.shipping_lines
    ]
    lines = [
        line.model_copy(update={"tax_class": mapped_name(options.taxes, line.tax_class, default=False)})
        for line in order.lines
    ]
    fees = [
        fee.model_copy(update={"tax_class": mapped_name(options.taxes, fee.tax_class, default=False)})
        for fee in order.fees
    ]
    custom = dict(order.custom)
    if options.warehouse is not None:
        custom[WAREHOUSE_KEY] = options.warehouse
    else:
        custom.setdefault(WAREHOUSE_KEY, None)
    return order.model_copy(
        update={
            "payments": payments,
            "shipping_lines": shipping_lines,
            "lines": lines,
            "fees": fees,
            "custom": custom,
        }
    )
