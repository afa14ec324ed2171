"""The dev kit's sample catalogue in the sandbox (`emporion_devkit.erp.catalogue.plan`): categories,
size/colour attributes, templates with variants, promotions and wholesale pricelists, stock in WH and WH2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from emporion_devkit.erp.catalogue import CATEGORY_TREE, COLOURS, PROMOTIONS, SIZES, WHOLESALE, plan
from emporion_devkit.sandbox.odoo import stock
from emporion_devkit.sandbox.odoo.orm import Env

PIXEL = (  # a 1x1 PNG: every third sample product has an image, the others none
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def seed_catalogue(env: Env, ids: dict[str, Any], products: int, variant_share: float, seed: int) -> int:
    """The sample catalogue: categories, attributes, templates with variants, pricelists and stock."""
    planned = plan(products, variant_share, seed)
    root = ids["category_root"] or False
    categories: dict[str, int] = {}
    for parent, children in CATEGORY_TREE.items():
        (categories[parent],) = env.create("product.category", [{"name": parent, "parent_id": root}])
        for child in children:
            (categories[child],) = env.create(
                "product.category", [{"name": child, "parent_id": categories[parent]}]
            )
    size, colour = env.create("product.attribute", [{"name": "size"}, {"name": "colour"}])
    values = {
        ("size", s): v
        for s, v in zip(
            SIZES,
            env.create("product.attribute.value", [{"name": s, "attribute_id": size} for s in SIZES]),
            strict=True,
        )
    }
    values |= {
        ("colour", c): v
        for c, v in zip(
            COLOURS,
            env.create(
                "product.attribute.value",
                [
                    {"name": c, "attribute_id": colour, "default_extra_price": 2.0 if c == "black" else 0.0}
                    for c in COLOURS
                ],
            ),
            strict=True,
        )
    }
    attribute_ids = {"size": size, "colour": colour}
    variant_ids: dict[str, int] = {}
    for item in planned:
        lines = []
        if item.variants[0].attributes:
            for attribute in ("size", "colour"):
                wanted = sorted({v.attributes[attribute] for v in item.variants}, key=(SIZES + COLOURS).index)
                lines.append(
                    (
                        0,
                        0,
                        {
                            "attribute_id": attribute_ids[attribute],
                            "value_ids": [(6, 0, [values[(attribute, w)] for w in wanted])],
                        },
                    )
                )
        (template_id,) = env.create(
            "product.template",
            [
                {
                    "name": item.name,
                    "default_code": item.code if not lines else False,
                    "categ_id": categories[item.category],
                    "list_price": float(item.list_price),
                    "weight": item.weight,
                    "sale_ok": item.salable,
                    "type": "consu",
                    "is_storable": True,
                    "barcode": item.ean or False,
                    "uom_id": 1,
                    "description_sale": f"{item.name}: sample product number {item.index + 1}.",
                    "taxes_id": [(6, 0, [ids["taxes"]["19"]])],
                    "image_1920": PIXEL if item.index % 3 == 0 else False,
                    "attribute_line_ids": lines,
                }
            ],
        )
        for variant_id in env.search("product.product", [("product_tmpl_id", "=", template_id)]):
            record = env.store.table("product.product")[variant_id]
            labels = {
                env.store.table("product.template.attribute.value")[v]["attribute_id"]: env.store.table(
                    "product.template.attribute.value"
                )[v]["name"]
                for v in record.get("product_template_attribute_value_ids") or []
            }
            for planned_variant in item.variants:
                if all(labels.get(attribute_ids[a]) == v for a, v in planned_variant.attributes.items()):
                    code = item.code + planned_variant.suffix
                    env.write("product.product", [variant_id], {"default_code": code})
                    variant_ids[code] = variant_id
                    for warehouse, quantity in planned_variant.stock.items():
                        if quantity:
                            receive(env, variant_id, ids["warehouses"][warehouse], quantity)
    _pricelists(env, planned, variant_ids)
    return len(planned)


def receive(env: Env, product_id: int, warehouse_id: int, quantity: float) -> None:
    """A receipt from the vendors: a done move and the quant increased."""
    warehouse = env.store.table("stock.warehouse")[warehouse_id]
    vendors = next(i for i, r in env.store.table("stock.location").items() if r.get("usage") == "supplier")
    env.sudo().create(
        "stock.move",
        [
            {
                "name": "Receipt",
                "product_id": product_id,
                "product_uom_qty": quantity,
                "quantity": quantity,
                "location_id": vendors,
                "location_dest_id": warehouse["lot_stock_id"],
                "state": "done",
                "picked": True,
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            }
        ],
    )
    stock.change_quant(env, product_id, warehouse["lot_stock_id"], float(quantity))


def _pricelists(env: Env, planned: list[Any], variant_ids: dict[str, int]) -> None:
    today = date.today()
    items = []
    for item in planned:
        if item.promotion is None:
            continue
        factor, start, end = item.promotion
        for variant in item.variants:
            items.append(
                (
                    0,
                    0,
                    {
                        "applied_on": "0_product_variant",
                        "product_id": variant_ids[item.code + variant.suffix],
                        "compute_price": "percentage",
                        "percent_price": float((1 - factor) * 100),
                        "date_start": f"{today + timedelta(days=start)} 00:00:00",
                        "date_end": f"{today + timedelta(days=end)} 23:59:59",
                    },
                )
            )
    env.create(
        "product.pricelist",
        [
            {"name": PROMOTIONS, "currency_id": 1, "item_ids": items},
            {
                "name": WHOLESALE,
                "currency_id": 1,
                "item_ids": [
                    (0, 0, {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 10.0})
                ],
            },
        ],
    )
