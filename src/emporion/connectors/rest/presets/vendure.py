"""What the Vendure description cannot say: products made in several mutations, and order progress.

Vendure sells variants only (see `vendure_products`); orders need computed values and a few calls
of the preset's own to progress (see `vendure_orders`). Amounts are cents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion.connectors.base import WriteItem
from emporion.connectors.rest.presets import vendure_orders
from emporion.connectors.rest.presets.preset_hooks import PresetHooks
from emporion.connectors.rest.presets.vendure_orders import shape_customer, shape_order
from emporion.connectors.rest.presets.vendure_products import ProductWriter, shape_product

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any


class VendureHooks(PresetHooks):
    """Vendure's products and order progress, where one described call is not enough."""

    progress = vendure_orders

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

    def product_writer(self, connector: DeclarativeConnector, item: WriteItem) -> ProductWriter:
        """Products created or updated with their variants."""
        return ProductWriter(connector, item)


HOOKS = VendureHooks()
