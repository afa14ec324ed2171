"""What the MerchantPro description cannot say: a product's type and `ext_ref`, returns as refunds.

MerchantPro keeps prices, stock and weight of a product with variants on the variants only (sending
them for the product is refused) and wants such a product created as `type: multi_variant`.
`ext_ref` carries the ERP's key of the product (the written record's key). Returns are orders of
their own in MerchantPro; they are read as refunds of the orders they return (`merchantpro_returns`),
and the change feed reports an order whose returns changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from emporion.connectors.rest.feed import moment_text
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.presets.merchantpro_returns import returned_orders, with_returns
from emporion.model import Product, Record

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
VARIANT_HELD = ("price_net", "price_gross", "old_price_net", "old_price_gross", "stock", "weight")


class MerchantProHooks(Hooks):
    """Shapes product bodies as MerchantPro takes them; folds returns into their orders."""

    async def enrich(self, connector: DeclarativeConnector, entity: str, items: list[Json]) -> list[Json]:
        """Orders with their returns as refunds (returns themselves left out); others as they are."""
        if entity != "order":
            return items
        return await with_returns(connector, items)

    async def changed_since(
        self, connector: DeclarativeConnector, entity: str, since: datetime
    ) -> dict[str, tuple[str, datetime]]:
        """Orders whose returns changed since `since` (the order itself is not stamped by them)."""
        if entity != "order":
            return {}
        settings = connector.entity("order").changed_since
        return await returned_orders(connector, moment_text(since, settings.format if settings else "iso"))

    def shape_write(self, entity: str, body: Json, record: Record, creating: bool) -> Json:
        """A product body: its type and ERP key; with variants, the variant-held fields left out."""
        if entity != "product" or not isinstance(body, dict) or not isinstance(record, Product):
            return body
        shaped = {**body, "ext_ref": record.key}
        if not record.variants:
            shaped.pop("variants", None)
            if creating:
                shaped["type"] = "basic"
            return shaped
        if creating:
            shaped["type"] = "multi_variant"
        for field in VARIANT_HELD:
            shaped.pop(field, None)
        return shaped


HOOKS = MerchantProHooks()
