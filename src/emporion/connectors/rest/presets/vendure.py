"""What the Vendure description cannot say: products made in several mutations, and order progress.

Vendure sells variants only (see `vendure_products`); orders need computed values and a few calls
of the preset's own to progress (see `vendure_orders`). Amounts are cents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, WriteItem
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.presets import vendure_orders
from emporion.connectors.rest.presets.vendure_orders import shape_customer, shape_order
from emporion.connectors.rest.presets.vendure_products import ProductWriter, shape_product
from emporion.model import Order, Product

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector
    from emporion.connectors.rest.settings import Call

Json = Any


class VendureHooks(Hooks):
    """Vendure's products and order progress, where one described call is not enough."""

    def shape_read(self, entity: str, data: Json) -> Json:
        """Products flattened, orders with their taxes, customers with their addresses."""
        if not isinstance(data, dict):
            return data
        if entity == "product":
            return shape_product(data)
        if entity == "customer":
            return shape_customer(data)
        if entity == "order" and isinstance(data.get("lines"), list):
            return shape_order({**data, "shippingLines": data.get("shippingLines") or []})
        return data

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """A product created or updated with its variants; other entities as described."""
        if entity != "product" or not isinstance(item.record, Product):
            return None
        return await ProductWriter(connector, item).write(ref)

    async def progress_values(
        self, connector: DeclarativeConnector, order: Order, current: Json
    ) -> dict[str, Any]:
        """The lines still to fulfil and the settled payment to refund."""
        return vendure_orders.progress_values(current)

    async def send_progress(
        self,
        connector: DeclarativeConnector,
        part: str,
        call: Call | None,
        values: dict[str, Any],
        record: str,
    ) -> bool:
        """Fulfilments shipped, refunds settled, cancelling and shipping by status (see vendure_orders)."""
        return await vendure_orders.send_progress(connector, part, call, values, record)


HOOKS = VendureHooks()
