"""What the contract runs on the shipped presets share: products seeded and orders placed through the
shop's own API (its fixture module in tests/fixtures), and the product without a SKU they refuse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from emporion.model import Product, Record


class ShopApi(Protocol):
    """A shop's test fixture module: products made and found, orders placed as a shopper does."""

    async def create_product(self, shop: Any, sku: str, name: str, price: Decimal, stock: int) -> Any:
        """A simple product with `stock` units; the shop's answer."""
        ...

    async def variant_by_sku(self, shop: Any, sku: str) -> dict[str, Any]:
        """The variant with this SKU (AssertionError if there is none)."""
        ...

    async def place_order(self, shop: Any, email: str, items: list[tuple[str, int]]) -> dict[str, Any]:
        """An order of (variant id, quantity) items, paid."""
        ...


class PresetShop:
    """The shop a contract part runs on (`shop`, set by the fixture) and its test API (`api`)."""

    api: ShopApi
    shop: Any


class PresetCatalogueTarget(PresetShop):
    """The catalogue-target contract's seed and refused record, the same on every preset."""

    async def seed(self, connector: Any, record: Record) -> str:
        assert isinstance(record, Product)
        made = await self.api.create_product(
            self.shop, record.sku, record.name, record.list_price or Decimal(1), 3
        )
        return str(made["id"])

    def bad_record(self, tag: str) -> tuple[Record, str]:
        """A product without a SKU: the presets' shops sell variants by SKU."""
        return Product(key=f"bad-{tag}", sku="", name="Bad", list_price=Decimal(1)), "sku"


class PresetOrderSource(PresetShop):
    """The order-source contract's order: one unit of a product made once per tag."""

    async def place_order(self, connector: Any, email: str, tag: str) -> str:
        sku = f"ORDER-{tag}"
        try:
            variant = await self.api.variant_by_sku(self.shop, sku)
        except AssertionError:
            product = await self.api.create_product(self.shop, sku, "Tea", Decimal("4.50"), 100)
            variant = product["variants"][0]
        placed = await self.api.place_order(self.shop, email, [(variant["id"], 1)])
        return str(placed["id"])
