"""Canonical records: the one shape every connector reads into and writes from."""

from emporion.model.base import CustomValue, Record, fingerprint
from emporion.model.catalogue import (
    Category,
    Image,
    Product,
    SalePrice,
    StockLevel,
    Variant,
)
from emporion.model.orders import (
    Address,
    Customer,
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundLine,
    Shipment,
    ShippingLine,
)

ENTITY_TYPES: dict[str, type[Record]] = {
    "category": Category,
    "product": Product,
    "customer": Customer,
    "order": Order,
}

__all__ = [
    "ENTITY_TYPES",
    "Address",
    "Category",
    "CustomValue",
    "Customer",
    "Image",
    "Invoice",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "Product",
    "Record",
    "Refund",
    "RefundLine",
    "SalePrice",
    "Shipment",
    "ShippingLine",
    "StockLevel",
    "Variant",
    "fingerprint",
]
