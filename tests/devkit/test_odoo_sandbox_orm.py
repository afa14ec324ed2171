"""The Odoo sandbox's ORM semantics over the wire: domains, write_date on no-op writes, computed stock,
x2many commands, archived records, many2one format, missing records and access errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emporion_devkit.sandbox.odoo import OdooSandbox
from tests.devkit.test_odoo_sandbox_wire import KEY, execute_kw, jsonrpc


@pytest.fixture(params=[17, 18])
def odoo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OdooSandbox]:
    """A JSON-RPC sandbox (17 and 18)."""
    with OdooSandbox(tmp_path / "o.sqlite", version=request.param, api_key=KEY) as sandbox:
        yield sandbox


def call(sandbox: OdooSandbox, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """execute_kw as the integration user; the result, or the error's data when it failed."""
    uid = jsonrpc(sandbox.base_url, "common", "login", "emporion", "emporion", KEY)["result"]
    answer = execute_kw(sandbox.base_url, uid, model, method, list(args), kwargs)
    return answer["result"] if "result" in answer else answer["error"]["data"]


def codes(sandbox: OdooSandbox, domain: list[Any]) -> set[str]:
    """The default codes of the variants matching a domain."""
    rows = call(sandbox, "product.product", "search_read", domain, fields=["default_code"])
    return {row["default_code"] for row in rows}


def test_domains_prefix_operators_and_dotted_paths(odoo: OdooSandbox) -> None:
    every = codes(odoo, [])
    assert "SKU-00001" in every and len(every) > 20
    assert codes(odoo, [("default_code", "=", "SKU-00001")]) == {"SKU-00001"}
    assert codes(odoo, ["|", ("default_code", "=", "SKU-00001"), ("default_code", "=", "SKU-00002")]) == {
        "SKU-00001",
        "SKU-00002",
    }
    assert "SKU-00001" not in codes(odoo, ["!", ("default_code", "=", "SKU-00001")])
    assert codes(odoo, [("default_code", "in", ["SKU-00002", "NOPE"])]) == {"SKU-00002"}
    assert codes(odoo, [("default_code", "=like", "VAR-%-S-RED")]) <= {
        c for c in every if c.endswith("-S-RED")
    }
    assert codes(odoo, [("default_code", "=ilike", "sku-00001")]) == {"SKU-00001"}
    assert codes(odoo, [("default_code", "ilike", "-s-red")]) == {c for c in every if c.endswith("-S-RED")}
    assert codes(odoo, [("default_code", "not like", "VAR")]) == {c for c in every if "VAR" not in c}
    variants = codes(odoo, [("product_tmpl_id.default_code", "=", False)])
    assert variants and all(c.startswith("VAR-") for c in variants)
    shirts = codes(odoo, [("categ_id", "child_of", "Clothing")])
    assert shirts and shirts < every
    by_name = codes(odoo, [("categ_id", "=", "Shirts")])
    assert by_name <= shirts
    cheap = call(
        odoo,
        "product.template",
        "search_read",
        [("list_price", "<", 50), ("list_price", ">=", 5)],
        fields=["list_price"],
    )
    assert all(5 <= row["list_price"] < 50 for row in cheap)
    # like wraps the value in % without escaping it: % and _ inside stay wildcards, as in Odoo's SQL
    assert codes(odoo, [("default_code", "like", "SKU-0000_")]) >= {"SKU-00001", "SKU-00002"}
    assert codes(odoo, [("default_code", "ilike", "sku%00001")]) == {"SKU-00001"}
    bad = call(odoo, "product.product", "search", [("default_code", "~", "x")])
    assert bad["name"] == "builtins.ValueError"


def test_search_order_offset_limit_and_count(odoo: OdooSandbox) -> None:
    ids = call(odoo, "product.template", "search", [], order="id desc", limit=3, offset=1)
    every = call(odoo, "product.template", "search", [], order="id desc")
    assert ids == every[1:4]
    assert call(odoo, "product.template", "search_count", []) == len(every)


def test_a_write_that_changes_nothing_still_bumps_write_date(odoo: OdooSandbox) -> None:
    (partner,) = call(odoo, "res.partner", "create", [{"name": "Ada", "email": "ada@example.com"}])
    odoo.restamp("res.partner", [partner], "2020-01-01 00:00:00")
    assert call(odoo, "res.partner", "write", [partner], {"name": "Ada"}) is True
    (after,) = call(odoo, "res.partner", "read", [partner], ["write_date", "name"])
    assert after["name"] == "Ada"
    assert after["write_date"] > "2020-01-01 00:00:00"
    assert len(after["write_date"]) == 19 and after["write_date"][10] == " "


def test_stock_is_computed_per_warehouse_by_the_versions_context_key(odoo: OdooSandbox) -> None:
    key = "warehouse" if odoo.version == 17 else "warehouse_id"
    sku = "SKU-00001"
    (variant,) = call(odoo, "product.product", "search", [("default_code", "=", sku)])
    before = {
        code: call(
            odoo, "product.product", "read", [variant], ["free_qty"], context={key: odoo.warehouse(code)}
        )[0]["free_qty"]
        for code in ("WH", "WH2")
    }
    everywhere = call(odoo, "product.product", "read", [variant], ["qty_available"])[0]["qty_available"]
    assert everywhere == before["WH"] + before["WH2"]
    odoo.restamp("product.product", [variant], "2020-01-01 00:00:00")
    odoo.receive_stock(sku, 5, "WH2")
    after = call(
        odoo,
        "product.product",
        "read",
        [variant],
        ["free_qty", "write_date"],
        context={key: odoo.warehouse("WH2")},
    )[0]
    assert after["free_qty"] == before["WH2"] + 5
    assert after["write_date"] == "2020-01-01 00:00:00"  # a stock move never touches the product
    quants = call(odoo, "stock.quant", "search_read", [("product_id", "=", variant)], fields=["write_date"])
    assert max(q["write_date"] for q in quants) > "2020-01-01 00:00:00"
    by_name = call(odoo, "product.product", "read", [variant], ["free_qty"], context={key: "Outlet"})[0]
    assert by_name["free_qty"] == after["free_qty"]
    other_key = "warehouse_id" if key == "warehouse" else "warehouse"
    ignored = call(
        odoo,
        "product.product",
        "read",
        [variant],
        ["qty_available"],
        context={other_key: odoo.warehouse("WH2")},
    )[0]
    assert ignored["qty_available"] == everywhere + 5


def test_x2many_commands_archived_records_and_many2one_format(odoo: OdooSandbox) -> None:
    (partner,) = call(
        odoo,
        "res.partner",
        "create",
        [
            {
                "name": "Ada",
                "email": "ada@example.com",
                "child_ids": [(0, 0, {"type": "invoice", "name": "Ada B"})],
            }
        ],
    )
    (child,) = call(
        odoo,
        "res.partner",
        "search_read",
        [("parent_id", "=", partner)],
        fields=["parent_id", "type", "display_name"],
    )
    assert child["parent_id"] == [partner, "Ada"] and child["type"] == "invoice"
    assert child["display_name"] == "Ada, Ada B"
    assert call(odoo, "res.partner", "read", [child["id"]], ["commercial_partner_id"])[0][
        "commercial_partner_id"
    ][0] == (partner)
    assert call(odoo, "res.partner", "read", [partner], ["child_ids", "phone"])[0] == {
        "id": partner,
        "child_ids": [child["id"]],
        "phone": False,
    }
    call(odoo, "res.partner", "write", [child["id"]], {"active": False})
    assert call(odoo, "res.partner", "search", [("parent_id", "=", partner)]) == []
    assert call(
        odoo, "res.partner", "search", [("parent_id", "=", partner)], context={"active_test": False}
    ) == [child["id"]]
    assert call(odoo, "res.partner", "read", [99999, partner], ["name"]) == [{"id": partner, "name": "Ada"}]
    missing = call(odoo, "res.partner", "write", [99999], {"name": "x"})
    assert missing["name"] == "odoo.exceptions.MissingError"


def test_access_errors_name_the_group(odoo: OdooSandbox) -> None:
    denied = call(odoo, "product.template", "create", [{"name": "x"}])
    assert denied["name"] == "odoo.exceptions.AccessError"
    assert "Sales/Administrator" in denied["message"]
    odoo.write(
        "res.users",
        [odoo.ids["integration"]],
        {"group_ids": [(6, 0, [odoo.ids["groups"]["base.group_user"]])]},
    )
    no_sales = call(odoo, "sale.order", "search", [])
    assert no_sales["name"] == "odoo.exceptions.AccessError"
    assert "Sales/User: Own Documents Only" in no_sales["message"]


def test_a_failed_call_rolls_back(odoo: OdooSandbox) -> None:
    count = call(odoo, "res.partner", "search_count", [])
    failed = call(odoo, "res.partner", "create", [{"name": "A"}, {"name": "B", "country_id": 99999}])
    assert failed["name"] == "odoo.exceptions.ValidationError"
    assert call(odoo, "res.partner", "search_count", []) == count
    time.sleep(0)


def test_a_promotion_is_a_dated_pricelist_item_naming_its_template(odoo: OdooSandbox) -> None:
    item = odoo.add_promotion("SKU-00002", 15.0, "2026-01-01 00:00:00", "2099-12-31 23:59:59")
    (row,) = call(
        odoo,
        "product.pricelist.item",
        "read",
        [item],
        ["pricelist_id", "product_id", "product_tmpl_id", "percent_price", "date_start", "date_end"],
    )
    assert row["pricelist_id"][1] == "Promotions (EUR)"
    assert row["product_id"][1].startswith("[SKU-00002] ")
    assert row["product_tmpl_id"] and row["percent_price"] == 15.0
    running = call(
        odoo,
        "product.pricelist.item",
        "search",
        [
            ("date_start", "<=", "2030-06-01 00:00:00"),
            "|",
            ("date_end", "=", False),
            ("date_end", ">=", "2030-06-01"),
        ],
    )
    assert item in running


def test_images_are_served_for_the_templates_that_have_one(odoo: OdooSandbox) -> None:
    with_image = call(odoo, "product.template", "search", [("image_1920", "!=", False)])
    without = call(odoo, "product.template", "search", [("image_1920", "=", False)])
    assert with_image and without
    shown = httpx.get(f"{odoo.base_url}/web/image/product.template/{with_image[0]}/image_1920")
    assert shown.status_code == 200 and shown.content.startswith(b"\x89PNG")


def test_17_says_product_for_a_storable_type(odoo: OdooSandbox) -> None:
    (row,) = call(
        odoo, "product.template", "search_read", [("default_code", "=", "SKU-00001")], fields=["type"]
    )
    assert row["type"] == ("product" if odoo.version == 17 else "consu")


def test_sale_writes_by_keyword_fail_where_an_override_renames_the_argument(odoo: OdooSandbox) -> None:
    """On 17 and 18 sale_stock's `sale.order.write(self, values)` refuses `vals=`; by position it works."""
    partner = call(odoo, "res.partner", "create", [{"name": "Writer"}])[0]
    order = call(odoo, "sale.order", "create", [{"partner_id": partner}])[0]
    refused = call(odoo, "sale.order", "write", [order], vals={"client_order_ref": "K"})
    assert refused["name"] == "builtins.TypeError" and "'vals'" in refused["message"]
    assert call(odoo, "sale.order", "write", [order], {"client_order_ref": "P"}) is True
    assert call(odoo, "res.partner", "write", [partner], vals={"name": "By keyword"}) is True
