"""The dev kit's Odoo sandbox as the ERP of end-to-end tests, and what the merchant does in it.

The sandbox runs per API mode (Odoo 18 over JSON-RPC, Odoo 19 over JSON-2) with the dev kit's sample
catalogue (the same plan as the Tryton sample: categories, templates with size/colour variants, the
Wholesale pricelist, dated promotions, stock in WH and WH2). The configuration is the demo's
(`emporion_devkit.demo.odoo_config`), its API key a secret from the environment. The merchant's changes
go through the sandbox's own merchant actions (Odoo's screens, as the superuser), and what Odoo holds
is read the same way, never through the connector under test.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml

from emporion.config import Settings, parse_settings
from emporion_devkit.demo import odoo_config
from emporion_devkit.erp.catalogue import PROMOTIONS
from emporion_devkit.sandbox.odoo import OdooSandbox
from emporion_devkit.sandbox.woocommerce import SandboxShop

API_KEY = "e2e-odoo-integration-key-0001"
PRODUCTS = 20  # the sample's templates (a fifth with variants)
WHOLESALE_DISCOUNT = Decimal("0.9")  # the sample's Wholesale pricelist: 10 % off the list price, globally


@dataclass
class OdooErp:
    """A running Odoo sandbox and the API mode the connection uses."""

    sandbox: OdooSandbox
    api: str

    @property
    def version(self) -> int:
        """The Odoo major version the sandbox plays."""
        return self.sandbox.version


@contextmanager
def odoo_erp(directory: Path, version: int, api: str, products: int = PRODUCTS) -> Iterator[OdooErp]:
    """The sandbox with the sample catalogue, started on 127.0.0.1 and stopped after the block."""
    sandbox = OdooSandbox(
        directory / f"odoo-{version}-{api}.sqlite",
        version=version,
        api_key=API_KEY,
        products=products,
    )
    sandbox.start()
    try:
        yield OdooErp(sandbox, api)
    finally:
        sandbox.stop()


# --- the configuration ----------------------------------------------------------------------------------


def document(
    erp: OdooErp,
    shop: SandboxShop,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    flows: list[dict[str, Any]],
    *,
    server_port: int | None = None,
) -> dict[str, Any]:
    """The configuration as data: the sandbox as `erp` (its key from env), the shop as `shop`, `flows`."""
    monkeypatch.setenv("TEST_ODOO_KEY", erp.sandbox.api_key)
    monkeypatch.setenv("TEST_SHOP_KEY", shop.consumer_key)
    monkeypatch.setenv("TEST_SHOP_SECRET", shop.consumer_secret)
    connection = odoo_config.odoo_connection(
        erp.sandbox.base_url, erp.sandbox.database, "env:TEST_ODOO_KEY", api=erp.api, page_size=7
    )
    shop_connection = odoo_config.shop_connection(shop.base_url, "env:TEST_SHOP_KEY", "env:TEST_SHOP_SECRET")
    settings = odoo_config.document(
        connection, shop_connection, state_url=state_url, server_port=server_port, flows=flows
    )
    settings["logging"] = {"format": "json", "level": "info"}
    return settings


def settings(document: dict[str, Any]) -> Settings:
    """The configuration validated as `emporion` reads it from a file."""
    return parse_settings(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def write_config(document: dict[str, Any], path: Path) -> Path:
    """The configuration as the file `emporion` commands read."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --- what Odoo holds (read as the merchant) ---------------------------------------------------------------


def templates(erp: OdooErp) -> list[dict[str, Any]]:
    """The sample's salable templates with their variants' ids (the carrier's service left out)."""
    return erp.sandbox.search_read(
        "product.template",
        [("sale_ok", "=", True), ("type", "!=", "service")],
        ["name", "default_code", "list_price", "product_variant_ids", "categ_id"],
    )


def simple_skus(erp: OdooErp) -> list[str]:
    """The SKUs of salable templates without variants, in id order."""
    return [str(t["default_code"]) for t in templates(erp) if len(t["product_variant_ids"]) == 1]


def variant_row(
    erp: OdooErp, sku: str, fields: list[str], context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One product.product by its SKU."""
    (row,) = erp.sandbox.search_read("product.product", [("default_code", "=", sku)], fields, context)
    return row


def warehouse_context(erp: OdooErp, code: str) -> dict[str, Any]:
    """The context that scopes Odoo's computed stock to one warehouse (its key differs by version)."""
    key = "warehouse" if erp.version == 17 else "warehouse_id"
    return {key: erp.sandbox.warehouse(code)}


def free_quantity(erp: OdooErp, sku: str, warehouses: list[str] = odoo_config.WAREHOUSES) -> int:
    """What the shop should show: Odoo's free_qty (on hand less reserved) summed over the warehouses."""
    total = Decimal(0)
    for code in warehouses:
        row = variant_row(erp, sku, ["free_qty"], warehouse_context(erp, code))
        total += Decimal(str(row["free_qty"]))
    return int(total)


def wholesale_price(erp: OdooErp, sku: str) -> Decimal:
    """The variant's price in the Wholesale pricelist: its list price with extras, 10 % off, to the cent."""
    row = variant_row(erp, sku, ["lst_price"])
    return (Decimal(str(row["lst_price"])) * WHOLESALE_DISCOUNT).quantize(Decimal("0.01"), ROUND_HALF_UP)


def promotions(erp: OdooErp, *, current: bool) -> list[dict[str, Any]]:
    """The Promotions pricelist's variant items in force now (`current`) or starting later."""
    (pricelist,) = erp.sandbox.search_read("product.pricelist", [("name", "=", PROMOTIONS)], ["id"])
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    dated = ("date_start", "<=", now) if current else ("date_start", ">", now)
    return erp.sandbox.search_read(
        "product.pricelist.item",
        [("pricelist_id", "=", pricelist["id"]), dated, ("applied_on", "=", "0_product_variant")],
        ["product_id", "percent_price", "date_start", "date_end"],
    )


def add_later_promotion(erp: OdooErp, sku: str, days: int) -> None:
    """A Promotions item for the SKU (30 % off) that starts in `days` days and lasts a week."""
    (pricelist,) = erp.sandbox.search_read("product.pricelist", [("name", "=", PROMOTIONS)], ["id"])
    start = datetime.now(UTC) + timedelta(days=days)
    erp.sandbox.create(
        "product.pricelist.item",
        [
            {
                "pricelist_id": pricelist["id"],
                "applied_on": "0_product_variant",
                "product_id": erp.sandbox.variant(sku),
                "compute_price": "percentage",
                "percent_price": 30.0,
                "date_start": start.strftime("%Y-%m-%d 00:00:00"),
                "date_end": (start + timedelta(days=7)).strftime("%Y-%m-%d 23:59:59"),
            }
        ],
    )


def attribute_value_of_a_variant(erp: OdooErp) -> tuple[int, str]:
    """A product.template.attribute.value without an extra price, and the SKU of a variant that has it."""
    variants = erp.sandbox.search_read(
        "product.product",
        [("product_template_attribute_value_ids", "!=", False), ("sale_ok", "=", True)],
        ["default_code", "product_template_attribute_value_ids"],
    )
    for variant in variants:
        for value in erp.sandbox.search_read(
            "product.template.attribute.value",
            [("id", "in", variant["product_template_attribute_value_ids"])],
            ["price_extra"],
        ):
            if not value["price_extra"]:
                return int(value["id"]), str(variant["default_code"])
    raise AssertionError("the sample has no variant with an attribute value without extra price")


def sales(erp: OdooErp, reference: str) -> list[dict[str, Any]]:
    """The sale.order rows whose customer reference is the shop order's."""
    return erp.sandbox.search_read(
        "sale.order",
        [("client_order_ref", "=", reference)],
        [
            "name",
            "state",
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "amount_total",
            "order_line",
        ],
        {"active_test": False},
    )


def sale(erp: OdooErp, reference: str) -> dict[str, Any]:
    """The one sale.order of a shop order (fails if there is none or more than one)."""
    found = sales(erp, reference)
    assert len(found) == 1, f"{len(found)} sales with customer reference {reference}"
    return found[0]


def partners(erp: OdooErp, email: str) -> list[dict[str, Any]]:
    """The top-level res.partner rows with this e-mail (child addresses left out)."""
    return erp.sandbox.search_read(
        "res.partner", [("email", "=ilike", email), ("parent_id", "=", False)], ["name", "email"]
    )


def reference(order: dict[str, Any]) -> str:
    """The shop order's sale reference in Odoo."""
    return f"{odoo_config.REFERENCE_PREFIX}{order['number']}"


# --- looking at the shop ----------------------------------------------------------------------------------


def by_sku(api: httpx.Client, sku: str) -> dict[str, Any] | None:
    """The shop's product with this SKU (any status), or None."""
    found = api.get("/products", params={"sku": sku, "status": "any"}).json()
    assert len(found) <= 1, f"{len(found)} products with SKU {sku} in the shop"
    return found[0] if found else None


def shop_products(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The shop's published simple products with more than five in stock, by SKU."""
    found = api.get("/products", params={"per_page": 100}).json()
    return {p["sku"]: p for p in found if p["type"] == "simple" and (p["stock_quantity"] or 0) > 5}


def order_for(
    api: httpx.Client, products: dict[str, dict[str, Any]], n: int, email: str | None = None
) -> dict[str, Any]:
    """A paid order of two products with shipping by customer n (or the e-mail given)."""
    skus = sorted(products)
    first, second = skus[n % len(skus)], skus[(n + 1) % len(skus)]
    body = {
        "billing": {
            "first_name": "Kunde",
            "last_name": f"Nummer {n}",
            "email": email or f"kunde{n}@example.org",
            "address_1": "Hauptstr. 1",
            "postcode": "10117",
            "city": "Berlin",
            "country": "DE",
        },
        "line_items": [
            {"product_id": products[first]["id"], "quantity": 1 + n % 2},
            {"product_id": products[second]["id"], "quantity": 1},
        ],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.90"}],
        "set_paid": True,
        "payment_method": "stripe",
        "status": "processing",
    }
    response = api.post("/orders", json=body)
    response.raise_for_status()
    return response.json()


async def eventually(probe: Callable[[], Awaitable[Any]], seconds: float, what: str) -> float:
    """Wait until `probe()` gives something truthy; the seconds it took (fails after `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await probe():
            return time.monotonic() - start
        await anyio.sleep(0.1)
    raise AssertionError(f"{what}: not reached within {seconds} s")


def shop_item(api: httpx.Client, sku: str) -> dict[str, Any]:
    """The shop's product with this SKU, else the variation with it (fails if there is none)."""
    found = api.get("/products", params={"sku": sku, "status": "any"}).json()
    if not found:
        variable = api.get("/products", params={"type": "variable", "per_page": 100}).json()
        for parent in variable:
            variations = api.get(f"/products/{parent['id']}/variations", params={"per_page": 100}).json()
            found += [v for v in variations if v["sku"] == sku]
    assert len(found) == 1, f"{len(found)} products or variations with SKU {sku} in the shop"
    return dict(found[0])


def parent_of(api: httpx.Client, sku: str) -> dict[str, Any]:
    """The variable product one of whose variations has this SKU."""
    parent = api.get(f"/products/{shop_item(api, sku)['parent_id']}").json()
    assert isinstance(parent, dict)
    return parent


def sku_of(erp: OdooErp, product_id: int) -> str:
    """A product.product's SKU (default_code)."""
    (row,) = erp.sandbox.search_read("product.product", [("id", "=", product_id)], ["default_code"])
    return str(row["default_code"])
