"""A fresh database: company, users and groups, API key, warehouses WH and WH2, taxes, journals, a carrier
(the sample catalogue is `sample.py`'s, the same story as with Tryton).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
