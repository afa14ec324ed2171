"""What the Medusa v2 description cannot say: products made in several calls, stock levels, order progress.

A Medusa product has options, variants, prices per currency and an inventory item per variant whose
stock is kept per stock location. A simple product is a product with one variant whose only option
is "Default"; a product with variants keeps the ERP's product SKU as its `external_id`. Prices are
read and written in `options.currency`; stock is what the shop can sell at
`options.stock_location_id`: read as stocked less reserved, written as the wanted units plus those
reserved by orders not fulfilled yet (the level is made when missing), so that an order the ERP has
taken in is not counted twice while Medusa still reserves it. Medusa takes no idempotency key: a
create whose answer is lost is looked up by SKU (GET /admin/products?variants[sku]=) before it
could be repeated. Medusa does not round tax (19% of 4.90 is 0.931): an order is read with the
total it shows the shopper (its total to the cent, half up) and each line's and shipping method's
tax in cents, the cent the rounding of the parts lost or gained given to the part it moved most, so
that the parts add up to that total. Payments and refunds are read in cents too. Order progress is
completed here: the lines still to fulfil and the shipment with its tracking label, the payment to
refund (captured first), status actions, notes kept in the order's metadata.

The parts: `medusa_calls` (requests, amounts), `medusa_catalogue` (products read), `medusa_products`
(products written), `medusa_orders` (orders read), `medusa_progress` (orders progressed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion.connectors.base import WriteItem
from emporion.connectors.rest.presets import medusa_progress
from emporion.connectors.rest.presets.medusa_calls import send
from emporion.connectors.rest.presets.medusa_catalogue import shape_product
from emporion.connectors.rest.presets.medusa_orders import shape_order
from emporion.connectors.rest.presets.medusa_products import ProductWriter
from emporion.connectors.rest.presets.preset_hooks import PresetHooks

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any


class MedusaHooks(PresetHooks):
    """Medusa's products and order progress, where one described call is not enough."""

    progress = medusa_progress

    def __init__(self, connector: DeclarativeConnector | None = None) -> None:
        self.connector = connector
        options = connector.settings.options if connector else {}
        self.currency = str(options.get("currency") or "eur").lower()
        self.location = str(options.get("stock_location_id") or "")
        self.channel = str(options.get("sales_channel_id") or "")
        self.profile = str(options.get("shipping_profile_id") or "")

    async def start(self, connector: DeclarativeConnector) -> None:
        """This connection's own hooks (its currency and location) and its shipping profile."""
        bound = MedusaHooks(connector)
        connector.hooks = bound
        if not bound.profile:
            found = await send(
                connector, "GET", "/admin/shipping-profiles", "shipping profile", type="default"
            )
            profiles = found.get("shipping_profiles") or []
            bound.profile = str(profiles[0]["id"]) if profiles else ""

    def shape_read(self, entity: str, data: Json) -> Json:
        """Products flattened, orders rounded; other records as they are."""
        if not isinstance(data, dict):
            return data
        if entity == "product":
            return shape_product(data, self.currency, self.location)
        if entity == "order" and isinstance(data.get("items"), list):
            return shape_order(data)
        return data

    def product_writer(self, connector: DeclarativeConnector, item: WriteItem) -> ProductWriter:
        """Products created or updated with their variants, prices and stock."""
        return ProductWriter(self, connector, item)


HOOKS = MedusaHooks()
