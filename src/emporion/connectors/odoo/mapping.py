"""Odoo rows (as either API answers them) to canonical records: categories, products and variants.

Decisions where Odoo leaves a choice:
- The SKU of a simple product is its variant's `default_code`. A template with variants has no code of
  its own in Odoo (its computed `default_code` is empty); its SKU is its own code if set, else the
  longest common prefix of its variants' codes without trailing separators, else empty.
- The description is `description_sale` (the text Odoo prints for customers), never `description`,
  which Odoo shows as internal notes.
- A variant's list price is the template's `list_price` plus the `price_extra` of its attribute
  values, as Odoo computes `lst_price`.
- The image is the template's `image_1920` by URL, published only when the template has one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.guard import typed_mapping
from emporion.connectors.odoo.client import odoo_datetime
from emporion.connectors.odoo.money import decimal_of, quantity_of
from emporion.model import Category, CustomValue, Image, Product, SalePrice, StockLevel, Variant

CATEGORY_FIELDS = ["name", "parent_id"]
TEMPLATE_FIELDS = [
    "name",
    "default_code",
    "description_sale",
    "categ_id",
    "list_price",
    "weight",
    "weight_uom_name",
    "active",
    "sale_ok",
]
OPTIONAL_FIELDS = frozenset({"weight_uom_name"})  # a read leaves these out where the model lacks them
VARIANT_FIELDS = ["default_code", "product_tmpl_id", "product_template_attribute_value_ids", "active"]
ATTRIBUTE_VALUE_FIELDS = ["name", "attribute_id", "price_extra"]
KG_PER_UNIT = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),
    "lbs": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
}
SKU_SEPARATORS = "-_./ "


def ref_id(value: Any) -> int | None:
    """The id of a many2one as read ([id, name], a bare id, or False when empty)."""
    if isinstance(value, list | tuple):
        return int(value[0]) if value else None
    if isinstance(value, int) and not isinstance(value, bool) and value:
        return value
    return None


def ref_name(value: Any) -> str:
    """The display name of a many2one read as [id, name] ('' when empty or read bare)."""
    if isinstance(value, list | tuple) and len(value) > 1 and isinstance(value[1], str):
        return value[1]
    return ""


def text(value: Any) -> str:
    """An Odoo char/text value ('' for False)."""
    return value if isinstance(value, str) else ""


@typed_mapping("category")
def category_from_row(row: Mapping[str, Any]) -> Category:
    """A product.category row -> Category."""
    parent = ref_id(row.get("parent_id"))
    return Category(key=str(row["id"]), name=row["name"], parent_key=str(parent) if parent else None)


def weight_in_kg(template: Mapping[str, Any]) -> Decimal | None:
    """The template's weight in kilograms (Odoo keeps it in the database's weight unit), or None."""
    weight = template.get("weight")
    unit = text(template.get("weight_uom_name")).lower() or "kg"
    if not weight or unit not in KG_PER_UNIT:
        return None
    return (quantity_of(weight) * KG_PER_UNIT[unit]).normalize()


def custom_value(value: Any) -> CustomValue:
    """Any read value -> a custom field value (str, int, bool, Decimal or None); False is None."""
    if value is None or value is False:
        return None
    if isinstance(value, str | bool | int | Decimal):
        return value
    if isinstance(value, float):
        return quantity_of(value)
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
            return value[1]  # a many2one: its name
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def sale_price_window(price: Decimal, start: Any, end: Any) -> SalePrice:
    """A dated pricelist item -> SalePrice: Odoo's end is inclusive to the second, ours exclusive."""
    ends = odoo_datetime(end)
    return SalePrice(
        price=price, start=odoo_datetime(start), end=ends + dt.timedelta(seconds=1) if ends else None
    )


@dataclass
class VariantFacts:
    """What the catalogue gathered for one product.product besides its row."""

    stock: list[StockLevel] = field(default_factory=list)
    price_lists: dict[str, Decimal] = field(default_factory=dict)
    sale_price: SalePrice | None = None
    custom: dict[str, CustomValue] = field(default_factory=dict)


def variant_attributes(
    variant: Mapping[str, Any], attribute_values: Mapping[int, Mapping[str, Any]]
) -> dict[str, str]:
    """attribute name -> value name of a variant, from its product.template.attribute.value rows."""
    values: dict[str, str] = {}
    for value_id in variant.get("product_template_attribute_value_ids") or []:
        row = attribute_values.get(value_id)
        if row is None:
            raise Permanent(
                f"Odoo gave no product.template.attribute.value {value_id}",
                record=f"product.product {variant['id']}",
                field="product_template_attribute_value_ids",
            )
        name = ref_name(row.get("attribute_id"))
        if name and text(row.get("name")):
            values[name] = text(row.get("name"))
    return values


def variant_list_price(
    template: Mapping[str, Any], variant: Mapping[str, Any], attribute_values: Mapping[int, Mapping[str, Any]]
) -> Decimal:
    """list_price plus the price extras of the variant's attribute values (Odoo's `lst_price`)."""
    extras = sum(
        (
            decimal_of(attribute_values[value_id].get("price_extra"))
            for value_id in variant.get("product_template_attribute_value_ids") or []
            if value_id in attribute_values
        ),
        Decimal(0),
    )
    return decimal_of(template.get("list_price")) + extras


def common_prefix(codes: Sequence[str]) -> str:
    """The longest text every code starts with."""
    shortest = min(codes, key=len)
    for index, char in enumerate(shortest):
        if any(code[index] != char for code in codes):
            return shortest[:index]
    return shortest


def template_sku(template: Mapping[str, Any], variants: Sequence[Mapping[str, Any]]) -> str:
    """The SKU of a template with variants: its own code, else its variants' common prefix, else ''."""
    own = text(template.get("default_code")).strip()
    if own:
        return own
    codes = [text(row.get("default_code")).strip() for row in variants]
    if not codes or not all(codes):
        return ""
    prefix = common_prefix(codes).rstrip(SKU_SEPARATORS)
    return "" if prefix in codes else prefix


def image_of(base_url: str, template_id: int, has_image: bool) -> list[Image]:
    """The template's main image as a URL Odoo serves (only when the template has one)."""
    if not has_image:
        return []
    return [Image(url=f"{base_url.rstrip('/')}/web/image/product.template/{template_id}/image_1920")]


def is_simple(variants: Sequence[Mapping[str, Any]]) -> bool:
    """A template with one variant and no attribute values is sold as a simple product."""
    return len(variants) == 1 and not variants[0].get("product_template_attribute_value_ids")


@typed_mapping("product template")
def product_from_rows(
    template: Mapping[str, Any],
    variants: Sequence[Mapping[str, Any]],
    attribute_values: Mapping[int, Mapping[str, Any]],
    facts: Mapping[int, VariantFacts],
    *,
    currency: str | None,
    images: list[Image],
    template_custom: Mapping[str, CustomValue] | None = None,
) -> Product:
    """One product.template and its active variants -> Product (simple or variable)."""
    variants = sorted(variants, key=lambda row: row["id"])
    category = ref_id(template.get("categ_id"))
    weight = weight_in_kg(template)
    common: dict[str, Any] = {
        "key": str(template["id"]),
        "name": template["name"],
        "description": text(template.get("description_sale")),
        "active": bool(template.get("active", True)),
        "salable": bool(template.get("sale_ok", True)),
        "categories": [str(category)] if category else [],
        "currency": currency,
        "list_price": decimal_of(template.get("list_price")),
        "weight": weight,
        "images": images,
    }
    custom = dict(template_custom or {})
    if is_simple(variants):
        variant = variants[0]
        fact = facts.get(variant["id"], VariantFacts())
        return Product(
            **common,
            sku=text(variant.get("default_code")) or text(template.get("default_code")),
            price_lists=fact.price_lists,
            sale_price=fact.sale_price,
            stock=fact.stock,
            custom={**custom, **fact.custom},
        )
    built: list[Variant] = []
    attributes: dict[str, set[str]] = {}
    for variant in variants:
        fact = facts.get(variant["id"], VariantFacts())
        values = variant_attributes(variant, attribute_values)
        for name, value in values.items():
            attributes.setdefault(name, set()).add(value)
        built.append(
            Variant(
                key=str(variant["id"]),
                sku=text(variant.get("default_code")),
                attributes=values,
                list_price=variant_list_price(template, variant, attribute_values),
                sale_price=fact.sale_price,
                price_lists=fact.price_lists,
                stock=fact.stock,
                weight=weight,
                active=bool(variant.get("active", True)),
                custom=fact.custom,
            )
        )
    return Product(
        **common,
        sku=template_sku(template, variants),
        attributes={name: sorted(values) for name, values in sorted(attributes.items())},
        variants=built,
        custom=custom,
    )
