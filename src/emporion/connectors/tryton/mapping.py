"""Tryton rows (as read over JSON-RPC) to canonical records: categories, products and variants."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.connectors.guard import typed_mapping
from emporion.model import Category, CustomValue, Product, SalePrice, StockLevel, Variant

CATEGORY_FIELDS = ["name", "parent"]
TEMPLATE_FIELDS = [
    "name",
    "code",
    "list_price",
    "categories",
    "salable",
    "active",
    "weight",
    "weight_uom.symbol",
]
PRODUCT_FIELDS = [
    "code",
    "template",
    "attributes",
    "description",
    "identifiers.type",
    "identifiers.code",
    "active",
]
# Weight is canonical in kilograms.
KG_PER_UNIT = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
}


@typed_mapping("category")
def category_from_row(row: Mapping[str, Any]) -> Category:
    """A product.category row → Category."""
    parent = row.get("parent")
    return Category(key=str(row["id"]), name=row["name"], parent_key=str(parent) if parent else None)


def to_decimal(value: float | Decimal | None) -> Decimal | None:
    """Tryton floats (quantities, weights) → Decimal without binary noise."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def weight_in_kg(template: Mapping[str, Any]) -> Decimal | None:
    """The template's weight in kilograms, if it has one in a unit we know."""
    weight = template.get("weight")
    symbol = (template.get("weight_uom.") or {}).get("symbol")
    if weight is None or symbol not in KG_PER_UNIT:
        return None
    return (to_decimal(weight) * KG_PER_UNIT[symbol]).normalize()  # type: ignore[operator]


def custom_value(value: Any) -> CustomValue:
    """Any read value → a custom field value (str, int, bool, Decimal or None)."""
    if value is None or isinstance(value, str | bool | int | Decimal):
        return value
    if isinstance(value, float):
        return to_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def identifier(product: Mapping[str, Any], kind: str) -> str | None:
    """The first identifier of `kind` (ean, isbn, upc, ...) of a product.product row."""
    for row in product.get("identifiers.") or []:
        if row.get("type") == kind:
            return str(row["code"])
    return None


def sale_price_window(price: Decimal, start: dt.date | None, end: dt.date | None) -> SalePrice:
    """A Tryton date window (inclusive end date) → SalePrice with UTC datetimes (exclusive end)."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

    return SalePrice(
        price=price,
        start=midnight(start) if start else None,
        end=midnight(end + dt.timedelta(days=1)) if end else None,
    )


@dataclass
class VariantFacts:
    """What the connector gathered for one product.product besides its row."""

    stock: list[StockLevel] = field(default_factory=list)
    price_lists: dict[str, Decimal] = field(default_factory=dict)
    sale_price: SalePrice | None = None
    list_price: Decimal | None = None
    custom: dict[str, CustomValue] = field(default_factory=dict)


def is_simple(products: Sequence[Mapping[str, Any]]) -> bool:
    """A template with one variant and no attributes is sold as a simple product."""
    return len(products) == 1 and not products[0].get("attributes")


def _attribute_strings(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(name): str(value) for name, value in (attributes or {}).items() if value not in (None, "")}


def _sum_stock(levels: Sequence[StockLevel]) -> list[StockLevel]:
    totals: dict[str, Decimal] = {}
    for level in levels:
        totals[level.warehouse] = totals.get(level.warehouse, Decimal(0)) + level.quantity
    return [StockLevel(warehouse=code, quantity=quantity) for code, quantity in totals.items()]


@typed_mapping("product template")
def product_from_rows(
    template: Mapping[str, Any],
    products: Sequence[Mapping[str, Any]],
    facts: Mapping[int, VariantFacts],
    *,
    currency: str | None,
    template_custom: Mapping[str, CustomValue] | None = None,
) -> Product:
    """One product.template and its active variants → Product (simple or variable)."""
    products = sorted(products, key=lambda row: row["id"])
    common: dict[str, Any] = {
        "key": str(template["id"]),
        "name": template["name"],
        "active": bool(template.get("active", True)),
        "salable": bool(template.get("salable", True)),
        "categories": [str(category) for category in template.get("categories") or []],
        "currency": currency,
        "list_price": template.get("list_price"),
        "weight": weight_in_kg(template),
        "description": (products[0].get("description") or "") if products else "",
    }
    custom = dict(template_custom or {})
    if is_simple(products):
        product = products[0]
        fact = facts.get(product["id"], VariantFacts())
        return Product(
            **common,
            sku=product.get("code") or template.get("code") or "",
            price_lists=fact.price_lists,
            sale_price=fact.sale_price,
            stock=_sum_stock(fact.stock),
            custom={**custom, **fact.custom},
        )
    variants = []
    attributes: dict[str, set[str]] = {}
    for product in products:
        fact = facts.get(product["id"], VariantFacts())
        values = _attribute_strings(product.get("attributes"))
        for name, value in values.items():
            attributes.setdefault(name, set()).add(value)
        variants.append(
            Variant(
                key=str(product["id"]),
                sku=product.get("code") or "",
                attributes=values,
                list_price=fact.list_price if fact.list_price is not None else template.get("list_price"),
                sale_price=fact.sale_price,
                price_lists=fact.price_lists,
                stock=fact.stock,
                weight=common["weight"],
                active=bool(product.get("active", True)),
                custom=fact.custom,
            )
        )
    return Product(
        **common,
        sku=template.get("code") or "",
        attributes={name: sorted(values) for name, values in sorted(attributes.items())},
        variants=variants,
        custom=custom,
    )
