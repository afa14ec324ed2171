"""What one shop product asks of an Odoo template: its values on create, its writes on update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.catalogue_writes import ProductPlan, attribute_names, sends
from emporion.connectors.odoo.mapping import ref_id, text
from emporion.connectors.odoo.product_parts import TemplateDefaults, base_price, same
from emporion.model import Product

Weight = Callable[[Decimal | None], Awaitable[float | None]]  # kilograms -> the database's weight unit
Ids = tuple[dict[str, int], dict[tuple[str, str], int]]  # attribute ids; value ids by (attribute, value)


@dataclass
class Plan(ProductPlan):
    """What one item asks of Odoo: a template to create, or writes to an existing one."""

    extras: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    refs: dict[str, int] = field(default_factory=dict)


def values_of(product: Product, name: str) -> list[str]:
    """The values of attribute `name` the product's variants use, in their order."""
    return list(dict.fromkeys(variant.attributes[name] for variant in product.variants))


def type_values(type_field: str, storable: bool) -> dict[str, Any]:
    """Goods, storable or not: `detailed_type` on 17, `type` and `is_storable` from 18 on."""
    if type_field == "detailed_type":
        return {"detailed_type": "product" if storable else "consu"}
    return {"type": "consu", "is_storable": storable}


async def create_values(
    product: Product, defaults: TemplateDefaults, ids: Ids, weight: Weight, type_field: str
) -> dict[str, Any]:
    """A new template; the create defaults fill what the shop does not carry."""
    values: dict[str, Any] = {
        "name": product.name,
        "description_sale": product.description or False,
        "sale_ok": product.salable if defaults.salable is None else defaults.salable,
        "active": product.active,
        "uom_id": defaults.unit,
        **type_values(type_field, defaults.storable),
    }
    base = base_price(product)
    if base is not None:
        values["list_price"] = float(base)
    if defaults.taxes is not None:
        values["taxes_id"] = [(6, 0, list(defaults.taxes))]
    if product.categories:
        values["categ_id"] = int(product.categories[0])
    if not product.variants:
        values["default_code"] = product.sku
        if product.weight is not None:
            values["weight"] = await weight(product.weight)
        return values
    attribute_ids, value_ids = ids
    values["attribute_line_ids"] = [
        (
            0,
            0,
            {
                "attribute_id": attribute_ids[name],
                "value_ids": [(6, 0, [value_ids[(name, v)] for v in values_of(product, name)])],
            },
        )
        for name in attribute_names(product)
    ]
    return values


async def update_values(
    plan: Plan, current: dict[str, Any], lines: list[dict[str, Any]], ids: Ids, weight: Weight
) -> None:
    """The template's writes for the fields the item sends; new values extend the attribute lines."""
    item, product, changes = plan.item, plan.product, plan.template_write

    def send(name: str) -> bool:
        return sends(item, name, False)

    base = base_price(product)
    wanted: dict[str, tuple[str, Any]] = {
        "name": ("name", product.name),
        "description": ("description_sale", product.description or False),
        "active": ("active", product.active),
        "salable": ("sale_ok", product.salable),
    }
    if base is not None:
        wanted["list_price"] = ("list_price", float(base))
    for canonical, (name, value) in wanted.items():
        if send(canonical) and not same(current.get(name), value):
            changes[name] = value
    if (
        send("categories")
        and product.categories
        and ref_id(current["categ_id"]) != int(product.categories[0])
    ):
        changes["categ_id"] = int(product.categories[0])
    if not product.variants:
        if current.get("attribute_line_ids"):
            raise Permanent(
                "Odoo holds this product with variants; it cannot become a simple one", field="variants"
            )
        if send("sku") and text(current.get("default_code")) != product.sku:
            changes["default_code"] = product.sku
        converted = await weight(product.weight)
        if send("weight") and converted is not None and not same(current.get("weight"), converted):
            changes["weight"] = converted
        return
    if not (send("variants") or send("attributes")):
        return
    attribute_ids, value_ids = ids
    by_attribute = {ref_id(line["attribute_id"]): line for line in lines}
    commands: list[Any] = []
    for name in attribute_names(product):
        want = [value_ids[(name, value)] for value in values_of(product, name)]
        line = by_attribute.get(attribute_ids[name])
        if line is None:
            commands.append((0, 0, {"attribute_id": attribute_ids[name], "value_ids": [(6, 0, want)]}))
        elif missing := [value for value in want if value not in line["value_ids"]]:
            commands.append((1, int(line["id"]), {"value_ids": [(4, value) for value in missing]}))
    if commands:
        changes["attribute_line_ids"] = commands
