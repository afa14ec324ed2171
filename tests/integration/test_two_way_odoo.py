"""Both directions with Odoo as the ERP: the dev kit's Odoo sandbox, the WooCommerce sandbox, the engine.

The configuration guide's worked example ("Directions and field ownership") with an Odoo connection in
Tryton's place: Odoo owns prices and stock, the shop owns descriptions and images, either may rename;
the shop's accounts become partners, Odoo's B2B partners (customer rank, e-mail, the group's tag)
become accounts with their group and price list. Products made in the shop reach Odoo once; an edit
travels once, in the flow whose source owns the field, and its echo writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from emporion.config import Settings
from emporion.engine.worker import Engine
from emporion_devkit.erp.catalogue import PROMOTIONS, WHOLESALE
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration import odoo_erp_support as odoo_support
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.odoo_erp_support import OdooErp
from tests.integration.two_way_support import (
    CATALOGUE,
    CATALOGUE_BACK,
    CATALOGUE_FLOWS,
    CUSTOMER_FLOWS,
    CUSTOMERS,
    CUSTOMERS_BACK,
    initial_syncs,
    ok,
    settle,
    shop_category,
    shop_customers,
    shop_meta,
    shop_product,
    shop_products_with_sku,
    shop_simple,
    shop_variable,
    writes_per_record,
)

CATALOGUE_PAIR = (CATALOGUE, CATALOGUE_BACK)
CUSTOMER_PAIR = (CUSTOMERS, CUSTOMERS_BACK)
UNIT = "Units"  # the sandbox's unit of pieces (uom.uom)
WRITER_GROUP = "stock.group_stock_manager"  # Inventory/Administrator: Odoo lets it create products
SAMPLE = 4  # templates of the sample catalogue: enough for a simple product to edit, quick to copy


@pytest.fixture(params=["18-jsonrpc", "19-json2", "17-jsonrpc"])
def odoo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OdooErp]:
    """Odoo 18 over JSON-RPC, 19 over JSON-2 and 17, the integration user allowed to write products."""
    version, api = str(request.param).split("-")
    with odoo_support.odoo_erp(tmp_path, int(version), api, products=SAMPLE) as erp:
        sandbox = erp.sandbox
        group = sandbox.ids["groups"][WRITER_GROUP]
        sandbox.write("res.users", [sandbox.ids["integration"]], {"group_ids": [(4, group)]})
        yield erp


def two_way_settings(
    erp: OdooErp, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The worked example's four flows, Odoo as `erp` (its tag Wholesale a customer group)."""
    flows: list[dict[str, Any]] = yaml.safe_load(CATALOGUE_FLOWS) + yaml.safe_load(CUSTOMER_FLOWS)
    for flow in flows:
        if flow["name"] == CATALOGUE:
            flow["warehouses"] = odoo_support.odoo_config.WAREHOUSES
        if flow["name"] == CATALOGUE_BACK:
            flow["create_defaults"] = {"unit": UNIT}
    document = odoo_support.document(erp, shop, state_url, monkeypatch, flows)
    document["connections"]["erp"]["customer_groups"] = [WHOLESALE]
    return odoo_support.settings(document)


async def started(engine: Engine, pair: tuple[str, str]) -> None:
    """Both flows' first full sync (Odoo's side into the shop, then matched back), settled."""
    await initial_syncs(engine, pair)
    await settle(engine, pair)


# --- what Odoo holds (read as the merchant) ---------------------------------------------------------------


def odoo_templates(erp: OdooErp, sku: str) -> list[dict[str, Any]]:
    """The templates (archived ones too) with this SKU, with what the tests compare."""
    return erp.sandbox.search_read(
        "product.template",
        [("default_code", "=", sku)],
        ["name", "list_price", "description_sale", "categ_id", "uom_id", "product_variant_ids", "sale_ok"],
        {"active_test": False},
    )


def odoo_variants(erp: OdooErp, template: int) -> list[dict[str, Any]]:
    """The active variants of a template: SKU and price (with extras)."""
    return erp.sandbox.search_read(
        "product.product", [("product_tmpl_id", "=", template)], ["default_code", "lst_price"]
    )


def template_of(erp: OdooErp, sku: str) -> dict[str, Any]:
    """The template of the one variant with this SKU."""
    (variant,) = erp.sandbox.search_read("product.product", [("default_code", "=", sku)], ["product_tmpl_id"])
    (template,) = erp.sandbox.search_read(
        "product.template",
        [("id", "=", variant["product_tmpl_id"][0])],
        ["name", "list_price", "description_sale"],
    )
    return template


def categories_named(erp: OdooErp, name: str) -> list[int]:
    """The product categories with this name."""
    return [row["id"] for row in erp.sandbox.search_read("product.category", [("name", "=", name)], ["id"])]


def unpromoted_simple_sku(erp: OdooErp) -> str:
    """A sample product without variants that no promotion touches (its shop price is its list price)."""
    promoted = {
        item["product_id"][0]
        for item in erp.sandbox.search_read(
            "product.pricelist.item",
            [("pricelist_id.name", "=", PROMOTIONS)],
            ["product_id"],
        )
        if item["product_id"]
    }
    for sku in odoo_support.simple_skus(erp):
        if erp.sandbox.variant(sku) not in promoted:
            return sku
    raise AssertionError("the sample has no simple product without a promotion")


def b2b_partner(erp: OdooErp, name: str, email: str, number: str) -> int:
    """A business customer as the merchant enters it in Sales > Customers: a company with its number,
    e-mail, address, the Wholesale tag (its group) and the Wholesale pricelist."""
    sandbox = erp.sandbox
    tags = sandbox.search_read("res.partner.category", [("name", "=", WHOLESALE)], ["id"])
    tag = tags[0]["id"] if tags else sandbox.create("res.partner.category", [{"name": WHOLESALE}])[0]
    (pricelist,) = sandbox.search_read("product.pricelist", [("name", "=", WHOLESALE)], ["id"])
    (made,) = sandbox.create(
        "res.partner",
        [
            {
                "name": name,
                "is_company": True,
                "email": email,
                "customer_rank": 1,
                "ref": number,
                "street": "Am Hafen 2",
                "zip": "28217",
                "city": "Bremen",
                "category_id": [(6, 0, [tag])],
            }
        ],
    )
    sandbox.write("res.partner", [made], {"property_product_pricelist": pricelist["id"]})
    return int(made)


# --- the catalogue ------------------------------------------------------------------------------------------


async def test_products_made_in_the_shop_reach_odoo_once_with_variants_and_category(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    async with running_engine(two_way_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)) as engine:
        await started(engine, CATALOGUE_PAIR)
        category = shop_category(api, "Made in the shop")
        shop_simple(api, "SHOP-0001", "Linen apron", "24.90", category["id"], "Washed linen.")
        shop_variable(api, "SHOP-0002", "Canvas tote", category["id"], {"S": "12.00", "L": "15.00"})
        await settle(engine, CATALOGUE_PAIR)

        (made,) = categories_named(odoo, "Made in the shop")
        (apron,) = odoo_templates(odoo, "SHOP-0001")
        assert apron["name"] == "Linen apron" and Decimal(str(apron["list_price"])) == Decimal("24.90")
        assert apron["description_sale"] == "Washed linen."
        assert apron["categ_id"][0] == made and apron["uom_id"][1] == UNIT
        assert len(apron["product_variant_ids"]) == 1

        (tote,) = odoo.sandbox.search_read(
            "product.template", [("name", "=", "Canvas tote")], ["categ_id", "uom_id", "list_price"]
        )
        assert tote["categ_id"][0] == made and tote["uom_id"][1] == UNIT
        prices = {v["default_code"]: Decimal(str(v["lst_price"])) for v in odoo_variants(odoo, tote["id"])}
        assert prices == {"SHOP-0002-S": Decimal("12.00"), "SHOP-0002-L": Decimal("15.00")}

        # Odoo's new templates come back to the shop through the first flow and match, not duplicate
        for sku in ("SHOP-0001", "SHOP-0002"):
            assert shop_products_with_sku(api, sku) == 1
        tote_in_shop = shop_product(api, "SHOP-0002")
        assert len(ok(api.get(f"/products/{tote_in_shop['id']}/variations"))) == 2

        # a full sync again (as `emporion sync` would) creates nothing on either side
        before = await engine.store.last_journal_id()
        await initial_syncs(engine, CATALOGUE_PAIR)
        lines = await settle(engine, CATALOGUE_PAIR)
        again = [e for _, e in await engine.store.journal_after(before, limit=5000)]
        assert [e.key for e in again if e.action == "created"] == []
        assert lines == []
        assert len(odoo_templates(odoo, "SHOP-0001")) == 1
        assert len(odoo.sandbox.search_read("product.template", [("name", "=", "Canvas tote")], ["id"])) == 1
        assert categories_named(odoo, "Made in the shop") == [made]


async def test_owned_edits_travel_once_each_way_and_never_bounce(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    sku = unpromoted_simple_sku(odoo)
    async with running_engine(two_way_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)) as engine:
        await started(engine, CATALOGUE_PAIR)
        product = shop_product(api, sku)

        # the shop owns the description: it reaches Odoo, once
        ok(api.put(f"/products/{product['id']}", json={"description": "Written by marketing."}))
        lines = await settle(engine, CATALOGUE_PAIR)
        assert template_of(odoo, sku)["description_sale"] == "Written by marketing."
        assert writes_per_record(lines, "product") == {sku: 1}, lines
        assert [line.flow for line in lines] == [CATALOGUE_BACK]

        # Odoo owns the price: it reaches the shop, once, and the shop's description stays
        odoo.sandbox.set_price(template_of(odoo, sku)["id"], 55.5)
        lines = await settle(engine, CATALOGUE_PAIR)
        after = shop_product(api, sku)
        assert after["regular_price"] == "55.50"
        assert after["description"] == "Written by marketing."
        assert writes_per_record(lines, "product") == {sku: 1}, lines
        assert [line.flow for line in lines] == [CATALOGUE]

        # nothing bounces: the loops run again and write nothing
        assert await settle(engine, CATALOGUE_PAIR) == []
        kept = template_of(odoo, sku)
        assert kept["description_sale"] == "Written by marketing."
        assert Decimal(str(kept["list_price"])) == Decimal("55.50")
        assert shop_product(api, sku)["date_modified_gmt"] == after["date_modified_gmt"]


# --- customers ----------------------------------------------------------------------------------------------


async def test_a_shop_registration_becomes_one_partner_before_any_order(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    email = "anna.berg@example.com"
    async with running_engine(two_way_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)) as engine:
        await started(engine, CUSTOMER_PAIR)
        account = ok(
            api.post(
                "/customers",
                json={
                    "email": email,
                    "first_name": "Anna",
                    "last_name": "Berg",
                    "billing": {
                        "first_name": "Anna",
                        "last_name": "Berg",
                        "address_1": "Lindenweg 4",
                        "city": "Kassel",
                        "postcode": "34117",
                        "country": "DE",
                        "email": email,
                    },
                },
            )
        )
        lines = await settle(engine, CUSTOMER_PAIR)
        assert [line.flow for line in lines].count(CUSTOMERS) == 1, [(e.flow, e.action) for e in lines]
        assert await engine.store.list_conflicts(entities=["customer"], state=None) == []
        (partner,) = odoo_support.partners(odoo, email)
        (row,) = odoo.sandbox.search_read(
            "res.partner", [("id", "=", partner["id"])], ["name", "city", "zip", "customer_rank"]
        )
        assert row["name"] == "Anna Berg" and row["customer_rank"] > 0
        assert (row["city"], row["zip"]) == ("Kassel", "34117")
        assert [a["id"] for a in shop_customers(api, email)] == [account["id"]]  # its echo made no second

        # a full sync again matches, makes nothing
        await initial_syncs(engine, CUSTOMER_PAIR)
        await settle(engine, CUSTOMER_PAIR)
        assert [p["id"] for p in odoo_support.partners(odoo, email)] == [partner["id"]]
        assert len(shop_customers(api, email)) == 1


async def test_a_b2b_partner_made_in_odoo_becomes_a_shop_account_with_its_group(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    email = "einkauf@gartenbau-kern.example"
    async with running_engine(two_way_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)) as engine:
        await started(engine, CUSTOMER_PAIR)
        partner = b2b_partner(odoo, "Gartenbau Kern", email, "K-1001")
        await settle(engine, CUSTOMER_PAIR)
        (account,) = shop_customers(api, email)
        meta = shop_meta(account)
        assert meta.get("customer_group") == WHOLESALE and meta.get("price_list") == WHOLESALE
        assert meta.get("customer_number") == "K-1001"
        assert account["billing"]["city"] == "Bremen" and account["billing"]["address_1"] == "Am Hafen 2"
        assert [p["id"] for p in odoo_support.partners(odoo, email)] == [partner]  # its echo: no second

        # Odoo owns the group: a group typed into the shop is reverted, the partner keeps its tag
        ok(
            api.put(
                f"/customers/{account['id']}",
                json={"meta_data": [{"key": "customer_group", "value": "Retail"}]},
            )
        )
        lines = await settle(engine, CUSTOMER_PAIR)
        assert shop_meta(shop_customers(api, email)[0]).get("customer_group") == WHOLESALE
        assert [line.flow for line in lines] == [CUSTOMERS_BACK], lines
        (row,) = odoo.sandbox.search_read("res.partner", [("id", "=", partner)], ["category_id"])
        tags = odoo.sandbox.search_read("res.partner.category", [("id", "in", row["category_id"])], ["name"])
        assert [tag["name"] for tag in tags] == [WHOLESALE]
        assert await settle(engine, CUSTOMER_PAIR) == []
        assert len(shop_customers(api, email)) == 1
        assert [p["id"] for p in odoo_support.partners(odoo, email)] == [partner]
