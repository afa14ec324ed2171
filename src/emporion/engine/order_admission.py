"""Which shop orders the ERP takes: by status (import, hold, wait) and with lines whose product is gone.

A new order is imported when its status is in `import_statuses`, waits silently when it is in
`ignore_statuses` or is one of emporion's statuses not imported (pending, draft...), and is held
(not imported; a dead letter naming the status) when it is in `hold_statuses` or is a status of the
shop's own that no list names: a connector reads such a status as on hold with a reason (a plugin's
`partial-payment` is not "paid" just because `on_hold` is imported). The shop's own name is matched
before emporion's, so a plugin status can be imported, held or ignored by its name.

A line whose product was deleted in the shop has neither SKU nor product key: it is booked on
`deleted_product_sku` when set, else the order is held with a dead letter naming the line.
"""

from __future__ import annotations

from enum import StrEnum

from emporion.config import OrderOptions
from emporion.connectors.base import Permanent
from emporion.model import Order, OrderStatus
from emporion.model.orders import status_name


class Admission(StrEnum):
    """What intake does with a shop order the ERP does not have yet."""

    IMPORT = "import"
    WAIT = "wait"
    HOLD = "hold"


def unknown_status(order: Order) -> bool:
    """Whether the connector could not map the shop's status (it reads as on hold with a reason)."""
    return order.status is OrderStatus.ON_HOLD and order.hold is not None and bool(order.hold.reason)


def admission(order: Order, options: OrderOptions) -> Admission:
    """Import, wait or hold a new order, by its shop status first, then by emporion's."""
    own = {order.raw_status, status_name(order.raw_status)} - {""}
    for names, verdict in (
        (options.ignore_statuses, Admission.WAIT),
        (options.hold_statuses, Admission.HOLD),
        (options.import_statuses, Admission.IMPORT),
    ):
        if own & set(names):
            return verdict
    if unknown_status(order):
        return Admission.HOLD
    if order.status.value in options.hold_statuses:
        return Admission.HOLD
    return Admission.IMPORT if order.status.value in options.import_statuses else Admission.WAIT


def held(order: Order) -> Permanent:
    """The dead letter's error for a held order: the status, and how to let such orders in."""
    shown = order.raw_status or order.status.value
    why = (
        order.hold.reason
        if unknown_status(order) and order.hold is not None
        else f"shop status {shown!r} is in orders.hold_statuses"
    )
    return Permanent(
        f"held: {why}; add {shown!r} to orders.import_statuses to import such orders"
        " or to orders.ignore_statuses to let them wait",
        record=f"order {order.number}",
        field="status",
    )


def with_deleted_products(order: Order, options: OrderOptions) -> Order:
    """The order with lines of deleted products booked on `deleted_product_sku`, or Permanent naming one."""
    gone = [(index, line) for index, line in enumerate(order.lines) if not line.sku and not line.product_key]
    if not gone:
        return order
    if not options.deleted_product_sku:
        index, line = gone[0]
        raise Permanent(
            f"line {line.key} ({line.name or 'no name'}) is for a product deleted in the shop;"
            " set orders.deleted_product_sku to book such lines on a stand-in product",
            record=f"order {order.number} line {line.key}",
            field=f"lines[{index}].sku",
        )
    stand_in = options.deleted_product_sku
    lines = [
        line.model_copy(update={"sku": stand_in}) if not line.sku and not line.product_key else line
        for line in order.lines
    ]
    return order.model_copy(update={"lines": lines})
