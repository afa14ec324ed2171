"""What the tests of the shipped presets share: products seeded and orders placed through the shop's
own API (its fixture module in tests/fixtures), the product without a SKU they refuse, and an order
shipped and refunded through the connector."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.model import Order, Product, Record, Refund, Shipment


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


async def shipped_and_refunded(connector: Any, order: Order, key: str, tag: str) -> Order:
    """`order` shipped with tracking number TRK<tag>, then refunded 5.00 (a second refund write sends
    nothing), each through the connector; the order as shipped."""
    shipped = order.model_copy(
        update={"shipments": [Shipment(key="s1", carrier="DHL", tracking_numbers=[f"TRK{tag}"])]}
    )
    item = WriteItem(key, shipped, {"id": key}, only=frozenset({"shipments"}))
    (outcome,) = await connector.write("order", [item], [])
    assert outcome.ok, outcome.error
    refund = Refund(key="r1", amount=Decimal("5.00"), reason="dented")
    item = WriteItem(
        key, shipped.model_copy(update={"refunds": [refund]}), {"id": key}, only=frozenset({"refunds"})
    )
    (outcome,) = await connector.write("order", [item], [])
    assert outcome.ok, outcome.error
    (again,) = await connector.write("order", [item], [])
    assert again.status is OutcomeStatus.UNCHANGED
    return shipped
