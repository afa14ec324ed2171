"""A fresh database: company, users and groups, warehouses WH and WH2, taxes, journals, a carrier, and the
dev kit's sample catalogue (`emporion_devkit.erp.catalogue.plan`), the same story as with Tryton.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from emporion_devkit.erp.catalogue import CATEGORY_TREE, COLOURS, PROMOTIONS, SIZES, WHOLESALE, plan
from emporion_devkit.sandbox.odoo import stock
from emporion_devkit.sandbox.odoo.access import GROUPS, add_key, hash_key
from emporion_devkit.sandbox.odoo.orm import Env

INTEGRATION_GROUPS = (
    "base.group_partner_manager",
    "sales_team.group_sale_salesman_all_leads",
    "stock.group_stock_user",
    "account.group_account_invoice",
)
ADMIN_GROUPS = (
    "base.group_system",
    "sales_team.group_sale_manager",
    "stock.group_stock_manager",
    "account.group_account_manager",
    "base.group_partner_manager",
)
COUNTRIES = {
    "DE": "Germany",
    "AT": "Austria",
    "CH": "Switzerland",
    "FR": "France",
    "NL": "Netherlands",
    "BE": "Belgium",
    "IT": "Italy",
    "ES": "Spain",
    "GB": "United Kingdom",
    "US": "United States",
    "PL": "Poland",
    "DK": "Denmark",
}


def seed_base(env: Env, login: str, api_key: str, key_expires: datetime | None) -> dict[str, Any]:
    """The base data every database has; returns the ids tests and the demo refer to."""
    ids: dict[str, Any] = {}
    (eur,) = env.create("res.currency", [{"name": "EUR", "symbol": "€"}])
    countries = env.create("res.country", [{"name": n, "code": c} for c, n in COUNTRIES.items()])
    ids["countries"] = dict(zip(COUNTRIES, countries, strict=True))
    (company_partner,) = env.create(
        "res.partner", [{"name": "Sandbox GmbH", "is_company": True, "country_id": ids["countries"]["DE"]}]
    )
    env.create(
        "res.company",
        [
            {
                "tax_calculation_rounding_method": env.version.rounding,
                "account_fiscal_country_id": ids["countries"]["DE"],
                "name": "Sandbox GmbH",
                "currency_id": eur,
                "partner_id": company_partner,
                "country_id": ids["countries"]["DE"],
            }
        ],
    )
    group_ids = env.create(
        "res.groups",
        [{"name": n.split(" / ")[-1], "full_name": n, "xml_id": x} for x, (n, _) in GROUPS.items()],
    )
    groups = dict(zip(GROUPS, group_ids, strict=True))
    users = env.create(
        "res.users",
        [
            {
                "name": "OdooBot",
                "login": "__system__",
                "active": False,
                "group_ids": [(6, 0, [groups["base.group_system"]])],
            },
            {
                "name": "Administrator",
                "login": "admin",
                "group_ids": [(6, 0, [groups[g] for g in ADMIN_GROUPS])],
            },
            {
                "name": "emporion integration",
                "login": login,
                "group_ids": [(6, 0, [groups[g] for g in INTEGRATION_GROUPS])],
            },
        ],
    )
    env.store.table("res.users")[users[1]]["password_hash"] = hash_key("admin")
    env.store.touch("res.users", users[1])
    ids["admin"], ids["integration"], ids["groups"] = users[1], users[2], groups
    add_key(env, users[2], api_key, key_expires.strftime("%Y-%m-%d %H:%M:%S") if key_expires else None)
    env.create("uom.uom", [{"name": "Units"}, {"name": "kg"}])
    ids["taxes"] = dict(
        zip(
            ("19", "7", "19 incl."),
            env.create(
                "account.tax",
                [
                    {"name": "19%", "amount": 19.0},
                    {"name": "7%", "amount": 7.0},
                    {"name": "19% incl.", "amount": 19.0, "price_include": True},
                ],
            ),
            strict=True,
        )
    )
    _, bank = env.create(
        "account.journal",
        [
            {"name": "Customer Invoices", "code": "INV", "type": "sale"},
            {"name": "Bank", "code": "BNK1", "type": "bank"},
        ],
    )
    env.create("account.payment.method.line", [{"name": "Manual Payment", "journal_id": bank}])
    env.create("account.payment.term", [{"name": "Immediate Payment"}])
    (partners,) = env.create("stock.location", [{"name": "Partners", "usage": "view"}])
    customers, vendors = env.create(
        "stock.location",
        [
            {
                "name": "Customers",
                "complete_name": "Partners/Customers",
                "usage": "customer",
                "location_id": partners,
            },
            {
                "name": "Vendors",
                "complete_name": "Partners/Vendors",
                "usage": "supplier",
                "location_id": partners,
            },
        ],
    )
    (virtual,) = env.create("stock.location", [{"name": "Virtual Locations", "usage": "view"}])
    adjustment = (
        "Virtual Locations/Inventory adjustment" if env.version.major < 19 else "Inventory adjustment"
    )
    env.create(
        "stock.location",
        [
            {
                "name": "Inventory adjustment",
                "complete_name": adjustment,
                "usage": "inventory",
                "location_id": virtual if env.version.major < 19 else False,
            }
        ],
    )
    ids["customers"], ids["vendors"], ids["warehouses"] = customers, vendors, {}
    for code, name in (("WH", "Sandbox GmbH"), ("WH2", "Outlet")):
        ids["warehouses"][code] = _warehouse(env, code, name, customers, vendors)
    root = env.create("product.category", [{"name": "All"}])[0] if env.version.has_all_category else None
    ids["category_root"] = root
    (delivery_category,) = env.create(
        "product.category", [{"name": "Deliveries", "parent_id": root or False}]
    )
    (delivery_template,) = env.create(
        "product.template",
        [
            {
                "name": "Standard delivery",
                "default_code": "Delivery_007",
                "type": "service",
                "list_price": 4.9,
                "categ_id": delivery_category,
                "uom_id": 1,
                "taxes_id": [(6, 0, [ids["taxes"]["19"]])],
                "sale_ok": False,
            }
        ],
    )
    delivery_product = env.store.table("product.template")[delivery_template]
    variant = env.search("product.product", [("product_tmpl_id", "=", delivery_product["id"])])[0]
    (ids["carrier"],) = env.create(
        "delivery.carrier", [{"name": "Standard delivery", "product_id": variant, "fixed_price": 4.9}]
    )
    env.create("product.pricelist", [{"name": "Default", "currency_id": eur, "sequence": 1}])
    return ids


def _warehouse(env: Env, code: str, name: str, customers: int, vendors: int) -> int:
    (view,) = env.create("stock.location", [{"name": code, "complete_name": code, "usage": "view"}])
    (lot_stock,) = env.create(
        "stock.location",
        [{"name": "Stock", "complete_name": f"{code}/Stock", "usage": "internal", "location_id": view}],
    )
    (warehouse,) = env.create(
        "stock.warehouse", [{"name": name, "code": code, "lot_stock_id": lot_stock, "view_location_id": view}]
    )
    for location in (view, lot_stock):
        env.store.table("stock.location")[location]["warehouse_id"] = warehouse
    out_type, in_type = env.create(
        "stock.picking.type",
        [
            {
                "name": "Delivery Orders",
                "code": "outgoing",
                "sequence_code": "OUT",
                "warehouse_id": warehouse,
                "default_location_src_id": lot_stock,
                "default_location_dest_id": customers,
            },
            {
                "name": "Receipts",
                "code": "incoming",
                "sequence_code": "IN",
                "warehouse_id": warehouse,
                "default_location_src_id": vendors,
                "default_location_dest_id": lot_stock,
            },
        ],
    )
    env.write("stock.warehouse", [warehouse], {"out_type_id": out_type, "in_type_id": in_type})
    return warehouse


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
