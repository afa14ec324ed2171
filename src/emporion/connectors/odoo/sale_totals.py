"""A sale's figures against the shop's: the cents of Odoo's per-line tax rounding, and the totals check.

Odoo rounds each line's tax (`round_per_line`, the default but for some localisations); a shop
rounding once per order can be a cent or so apart. When the merchant keeps a "<tax> rounding" tax
(fixed, 0.01, on the tax's accounts) and a fee product, the gap becomes a line of the fee product at
price 0 taxed with it, one unit per cent (negative units for cents too many). When Odoo's total or
tax still differs from the shop's, the sale stays a quotation and the write ends `Held`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from emporion.connectors.base import Held
from emporion.connectors.odoo.money import CENT, decimal_of
from emporion.connectors.odoo.sale_lookup import SaleLookups, label_of
from emporion.model.orders import Order

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient


async def settle_taxes(lookup: SaleLookups, sale: int, order: Order) -> None:
    """Book the cents by which Odoo's per-line tax rounding misses the shop's tax on a rounding line.

    Odoo rounds each line's tax (`round_per_line`); a shop rounding once per order can be a cent
    or so apart. When the merchant keeps a "<tax> rounding" tax (fixed, 0.01, the tax's accounts)
    and a fee product, the gap becomes a line of the fee product at price 0 taxed with it, one
    unit per cent (negative units for cents too many); else the totals check holds the order.
    """
    (row,) = await lookup.client.read("sale.order", [sale], ["amount_tax", "order_line"])
    gap = order.tax_total - decimal_of(row["amount_tax"])
    if not gap or not lookup.settings.fee_product or abs(gap) > CENT * max(len(row["order_line"]), 1):
        return
    taxes_field = lookup.client.profile.sale_line_taxes
    lines = await lookup.client.read("sale.order.line", row["order_line"], [taxes_field])
    used: dict[int, int] = {}
    for line in lines:
        for tax in line[taxes_field] or []:
            used[int(tax)] = used.get(int(tax), 0) + 1
    if not used:
        return
    tax = max(sorted(used), key=lambda ident: used[ident])
    (named,) = await lookup.client.read("account.tax", [tax], ["name"])
    rounding = await lookup.client.search(
        "account.tax",
        [["name", "=", f"{named['name']} rounding"], ["type_tax_use", "=", "sale"]],
        limit=1,
    )
    if not rounding:
        return
    fee = await lookup.fee_product(label_of(order), "tax_total")
    line = lookup.line(fee, gap / CENT, Decimal(0), f"Tax rounding {named['name']}", [rounding[0]])
    await lookup.client.write("sale.order", [sale], {"order_line": [[0, 0, line]]})


async def check_totals(client: OdooClient, sale: int, order: Order) -> None:
    """Hold (the sale stays a quotation) when Odoo's total or tax differs from the shop's."""
    (row,) = await client.read("sale.order", [sale], ["name", "amount_total", "amount_tax"])
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
