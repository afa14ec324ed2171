"""What a sale is made of in Odoo's ids: taxes by name, the fee product, currencies, warehouses, sale lines.

Each name is looked up once per writer (a batch of orders) and a missing one fails the order with
Permanent naming the shop field it came from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.money import wire
from emporion.connectors.roles import SaleOptions
from emporion.model.orders import Order

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection

NO_TAX = frozenset({"", "none"})  # a tax class mapped to one of these: the shop's class is untaxed


def label_of(order: Order) -> str:
    """How errors name an order: by its shop number."""
    return f"order {order.number}"


class SaleLookups:
    """Odoo ids behind the names a flow maps shop values to, read once, and sale line values."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self._ids: dict[tuple[str, str], int] = {}

    async def id_of(self, model: str, domain: list[Any], what: str, record: str, field: str) -> int:
        """The id of the one record `domain` finds (read once per writer), else Permanent naming `field`."""
        key = (model, repr(domain))
        if key not in self._ids:
            found = await self.client.search(model, domain, order="id asc", limit=1)
            if not found:
                raise Permanent(f"Odoo has no {what}", record=record, field=field)
            self._ids[key] = int(found[0])
        return self._ids[key]

    async def tax(self, name: str, record: str, field: str) -> int:
        domain = [["name", "=", name], ["type_tax_use", "=", "sale"]]
        return await self.id_of("account.tax", domain, f"sales tax {name!r}", record, field)

    async def class_taxes(
        self, options: SaleOptions, tax_class: str, taxed: bool, record: str, field: str
    ) -> list[int] | None:
        """The Odoo taxes of a shop tax class: none when the shop charged none or maps it to "none";
        None (Odoo's own product taxes) when the class is not mapped."""
        if not taxed:
            return []
        name = options.taxes.get(tax_class)
        if name is None:
            return None
        if name.strip().lower() in NO_TAX:
            return []
        return [await self.tax(name, record, field)]

    async def fee_product(self, record: str, field: str) -> int:
        code = self.settings.fee_product
        if not code:
            raise Permanent("no fee product is configured (fee_product) for fees and rounding", record, field)
        domain = [["default_code", "=", code]]
        return await self.id_of("product.product", domain, f"product with reference {code!r}", record, field)

    def line(
        self, product: int, quantity: Decimal, price: Decimal, name: str, taxes: list[int] | None
    ) -> dict[str, Any]:
        """A sale line's values: product, quantity, unit price, name, and taxes (None: the product's own)."""
        values: dict[str, Any] = {
            "product_id": product,
            "product_uom_qty": float(quantity),
            "price_unit": wire(price),
            "discount": 0.0,
            "name": name,
        }
        if taxes is not None:
            values[self.client.profile.sale_line_taxes] = [[6, 0, taxes]]
        return values

    async def shipping_taxes(self, order: Order, options: SaleOptions) -> list[int] | None:
        """The tax of the rate the shop charged on shipping (a mapped tax of that percentage, as its tax
        lines say), else the one mapped to the class "shipping", else None: the carrier product's own."""
        label = label_of(order)
        percents = {
            t.rate_percent for t in order.tax_lines if t.shipping_tax_total and t.rate_percent is not None
        }
        names = sorted({name for name in options.taxes.values() if name.strip().lower() not in NO_TAX})
        if percents and names:
            ids = [await self.tax(name, label, "shipping_tax") for name in names]
            for row in await self.client.read("account.tax", ids, ["amount", "amount_type", "price_include"]):
                amount = Decimal(str(row["amount"] or 0))
                if (
                    row.get("amount_type") == "percent"
                    and not row.get("price_include")
                    and amount in percents
                ):
                    return [int(row["id"])]
        shipping_class = options.taxes.get("shipping")
        return [await self.tax(shipping_class, label, "shipping_tax")] if shipping_class else None
