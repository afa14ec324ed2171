"""What the MerchantPro description cannot say: a product's type and its `ext_ref`.

MerchantPro keeps prices, stock and weight of a product with variants on the variants only (sending
them for the product is refused) and wants such a product created as `type: multi_variant`.
`ext_ref` carries the ERP's key of the product (the written record's key).
"""

from __future__ import annotations

from typing import Any

from emporion.connectors.rest.hooks import Hooks
from emporion.model import Product, Record

Json = Any
VARIANT_HELD = ("price_net", "price_gross", "old_price_net", "old_price_gross", "stock", "weight")


class MerchantProHooks(Hooks):
    """Shapes product bodies as MerchantPro takes them."""

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
