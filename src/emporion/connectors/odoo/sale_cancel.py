"""Shop cancellations of Odoo sales: cancelled before anything left, otherwise an alert saying what to do.

Odoo cancels a confirmed sale with its waiting deliveries and draft invoices (`action_cancel`). From
17 on, cancelling a sale that is not a draft first opens the `sale.order.cancel` e-mail wizard unless
the context says `disable_cancel_warning` (sale/models/sale_order.py `_show_cancel_wizard`); emporion
says so, the shop having told the customer. Goods that left (a done outgoing picking) or a posted
invoice cannot be undone by a cancellation: the write fails naming `status`, for the engine to alert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emporion.connectors.base import Permanent
from emporion.model.orders import Order

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient

NO_WIZARD = {"disable_cancel_warning": True}  # cancel without Odoo's e-mail wizard (sale.order.cancel)


async def cancel_sale(client: OdooClient, sale: int, order: Order) -> bool:
    """Cancel the sale unless goods have left or an invoice is posted: then say what to do in Odoo.

    Odoo cancels a confirmed sale with its waiting deliveries and draft invoices
    (`action_cancel`); from 17 on, a sale that is not a draft first opens the `sale.order.cancel`
    e-mail wizard unless the context says `disable_cancel_warning`, which emporion does (the shop
    tells the customer). A locked sale is unlocked first.
    """
    (row,) = await client.read(
        "sale.order", [sale], ["state", "name", "picking_ids", "invoice_ids", "locked"]
    )
    if row["state"] == "cancel":
        return False
    pickings = (
        await client.read("stock.picking", row["picking_ids"], ["name", "state", "picking_type_code"])
        if row["picking_ids"]
        else []
    )
    invoices = (
        await client.read("account.move", row["invoice_ids"], ["name", "state", "move_type"])
        if row["invoice_ids"]
        else []
    )
    shipped = [
        p["name"] for p in pickings if p["state"] == "done" and p.get("picking_type_code") == "outgoing"
    ]
    posted = [i["name"] for i in invoices if i["state"] == "posted" and i.get("move_type") == "out_invoice"]
    if shipped or posted:
        left = []
        if shipped:
            left.append(f"take the goods of delivery {', '.join(shipped)} back with a return")
        if posted:
            left.append(f"credit invoice {', '.join(posted)}")
        raise Permanent(
            f"order {order.number} was cancelled in the shop but sale {row['name']} has"
            f" {'shipped goods' if shipped else 'a posted invoice'}: in Odoo, {' and '.join(left)}",
            record=order.number,
            field="status",
        )
    if row.get("locked"):
        await client.call("sale.order", "action_unlock", [sale])
    await client.call("sale.order", "action_cancel", [sale], context=NO_WIZARD)
    (after,) = await client.read("sale.order", [sale], ["state"])
    if after["state"] != "cancel":
        raise Permanent(
            f"order {order.number} was cancelled in the shop but Odoo left sale {row['name']}"
            f" {after['state']}",
            record=order.number,
            field="status",
        )
    return True
