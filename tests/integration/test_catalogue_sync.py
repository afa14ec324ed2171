"""Tryton -> WooCommerce catalogue sync end to end: real Tryton server, sandbox shop, real state database."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from rich.console import Console

from emporion.config import Settings
from emporion.connectors.roles import BudgetedConnection
from emporion.console import render_plan, render_report
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import Product
from emporion_devkit.demo.erp_changes import receive_stock, rename, set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for, shop_api

pytestmark = pytest.mark.tryton

SIMPLE_SKU = "SKU-00001"


CATALOGUE_FLOW = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 1
    mapping:
      custom.origin: {constant: tryton}
"""


def all_products(api: httpx.Client) -> list[dict[str, Any]]:
    products, page = [], 1
    while True:
        params = {"per_page": 100, "page": page, "orderby": "id", "order": "asc"}  # date order skips
        response = api.get("/products", params=params)
        response.raise_for_status()
        products += response.json()
        if page >= int(response.headers["X-WP-TotalPages"]):
            return products
        page += 1


def by_sku(api: httpx.Client, sku: str) -> dict[str, Any]:
    found = api.get("/products", params={"sku": sku}).json()
    assert len(found) == 1, f"expected exactly one product {sku} in the shop, found {len(found)}"
    return found[0]


async def simple_skus(tryton: RunningTryton) -> list[str]:
    """SKUs of salable simple products (one variant), in catalogue order."""
    return [t["code"] for t in await salable_templates(tryton) if len(t["products"]) == 1]


async def salable_templates(tryton: RunningTryton) -> list[dict[str, Any]]:
    return await tryton.rpc(
        "product.template",
        "search_read",
        [("salable", "=", True), ("type", "!=", "service")],  # carriers' services are not catalogue
        0,
        None,
        None,
        ["code", "name", "products"],
    )


async def eventually(probe: Callable[[], Awaitable[Any]], seconds: float) -> None:
    """Wait until `probe()` gives something truthy, failing after `seconds`."""
    for _ in range(int(seconds / 0.2)):
        if await probe():
            return
        await anyio.sleep(0.2)
    raise AssertionError(f"not reached within {seconds} s")


@pytest.fixture
def ready(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Settings]:
    return lambda: settings_for(tryton_server, {"shop": sandbox_shop}, state_url, CATALOGUE_FLOW, monkeypatch)


async def test_initial_sync_matches_existing_products_and_verifies_clean(
    ready: Callable[[], Settings], tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    # the merchant already sells two of the ERP's products in the shop, created by hand
    existing = api.post(
        "/products/batch",
        json={
            "create": [
                {"name": "hand made", "sku": SIMPLE_SKU, "regular_price": "1.00"},
                {"name": "x", "sku": "SKU-00002"},
            ]
        },
    ).json()["create"]
    settings = ready()
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        report = await verify_flow(runner, await sync_flow(runner))
    if not report.clean:
        render_report(Console(width=200), report)
    assert report.clean
    products = report.entities[1]
    assert products.counts["matched"] == 2
    templates = await salable_templates(tryton_server)
    shop_products = all_products(api)
    assert (
        len(shop_products)
        == len(templates)
        == products.source_count
        == products.linked
        == products.target_count
    )
    assert len({p["sku"] for p in shop_products}) == len(shop_products)  # no duplicates
    matched = by_sku(api, SIMPLE_SKU)
    assert matched["id"] == existing[0]["id"] and matched["name"] != "hand made"

    # a variable product arrives with all its variations, attributes and prices
    variable = next(t for t in templates if len(t["products"]) > 1)
    shop_variable = by_sku(api, variable["code"])
    assert shop_variable["type"] == "variable"
    variations = api.get(f"/products/{shop_variable['id']}/variations", params={"per_page": 100}).json()
    assert len(variations) == len(variable["products"])
    assert all(
        v["sku"].startswith(variable["code"]) and v["attributes"] and v["regular_price"] for v in variations
    )

    # categories keep their tree, custom fields travel as meta_data
    categories = {c["id"]: c for c in api.get("/products/categories", params={"per_page": 100}).json()}
    assert any(c["parent"] in categories for c in categories.values())
    simple = by_sku(api, "SKU-00003")
    meta = {m["key"]: m["value"] for m in simple["meta_data"]}
    assert meta["origin"] == "tryton" and len(meta["ean"]) == 13
    assert simple["manage_stock"] is True and simple["categories"]


async def test_changes_arrive_and_unchanged_records_send_nothing(
    ready: Callable[[], Settings], tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    async with running_engine(ready()) as engine:
        runner = engine.runners["catalogue"]
        flow = runner.flow
        await sync_flow(runner)
        simple, other, dropped = (await simple_skus(tryton_server))[:3]
        before = by_sku(api, simple)
        other_before = by_sku(api, other)

        admin = tryton_server.admin()
        try:
            await set_list_price(admin, simple, Decimal("77.70"))
            await rename(admin, simple, "Renamed in Tryton")
            await receive_stock(admin, simple, Decimal(10), "WH")
            await receive_stock(admin, other, Decimal(5), "WH2")  # a warehouse this shop does not use
        finally:
            await admin.close()
        await engine.drain(flow)

        after = by_sku(api, simple)
        assert after["regular_price"] == "77.70"
        assert after["name"] == "Renamed in Tryton"
        link = (await engine.store.find_links_by_natural_key(flow.name, "product", [simple]))[simple]
        (erp_product,) = await runner.source.read("product", [link.source_key])
        in_wh = sum(level.quantity for level in erp_product.stock if level.warehouse == "WH")  # type: ignore[attr-defined]
        assert after["stock_quantity"] == max(0, int(in_wh) - 1) and in_wh >= 10  # safety stock 1
        assert after["stock_quantity"] != before["stock_quantity"]
        # stock in WH2 does not feed this shop: the product was re-read, found unchanged, and not written
        other_after = by_sku(api, other)
        assert other_after["date_modified_gmt"] == other_before["date_modified_gmt"]
        assert engine.processed["unchanged"] >= 1

        # a no-op cycle: nothing changed, nothing is written
        written_before = sum(engine.processed[k] for k in ("created", "updated", "matched"))
        await engine.drain(flow)
        assert sum(engine.processed[k] for k in ("created", "updated", "matched")) == written_before
        assert by_sku(api, simple)["date_modified_gmt"] == after["date_modified_gmt"]

        # a product that stops being salable is unpublished, not deleted
        template = by_sku(api, dropped)
        rows = await tryton_server.rpc("product.template", "search", [("code", "=", dropped)], 0, None, None)
        await tryton_server.rpc("product.template", "write", rows, {"salable": False})
        await engine.drain(flow)
        assert api.get(f"/products/{template['id']}").json()["status"] == "draft"
        report = await verify_flow(runner)
        assert not report.entities[1].mismatches and not report.entities[1].missing


async def test_two_shops_with_their_own_mapping_price_list_and_buffer(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxShop.serve(db=":memory:") as second:
        flows = """
  - name: retail
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 0
  - name: wholesale
    source: erp
    target: second
    warehouses: [WH, WH2]
    safety_stock: 2
    price_list: Wholesale
    mapping:
      name: {template: "{{ name }} (wholesale)"}
"""
        settings = settings_for(
            tryton_server, {"shop": sandbox_shop, "second": second}, sqlite_url, flows, monkeypatch
        )
        async with running_engine(settings) as engine:
            for runner in engine.runners.values():
                assert (await verify_flow(runner, await sync_flow(runner))).clean
        (tryton_product,) = await tryton_server.connector().read(
            "product",
            [
                str(
                    (
                        await tryton_server.rpc(
                            "product.template", "search", [("code", "=", SIMPLE_SKU)], 0, 1, None
                        )
                    )[0]
                )
            ],
        )
        stock = {level.warehouse: level.quantity for level in tryton_product.stock}  # type: ignore[attr-defined]
        retail, wholesale = by_sku(shop_api(sandbox_shop), SIMPLE_SKU), by_sku(shop_api(second), SIMPLE_SKU)
        assert Decimal(retail["regular_price"]) == tryton_product.list_price  # type: ignore[attr-defined]
        assert Decimal(wholesale["regular_price"]) == tryton_product.price_lists["Wholesale"]  # type: ignore[attr-defined]
        assert wholesale["regular_price"] != retail["regular_price"]
        assert retail["stock_quantity"] == int(stock["WH"])
        assert wholesale["stock_quantity"] == max(0, int(stock["WH"] + stock["WH2"]) - 2)
        assert wholesale["name"].endswith("(wholesale)") and not retail["name"].endswith("(wholesale)")


async def test_unmappable_records_go_to_dead_letters_with_record_and_field(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = """
  - name: broken
    source: erp
    target: shop
    price_list: Retail
"""
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows, monkeypatch)
    async with running_engine(settings) as engine:
        report = await sync_flow(engine.runners["broken"])
        dead = await engine.store.list_dead(flow="broken", limit=1000)
    products = report.entities[1]
    assert not report.clean
    assert products.failed and len(dead) == len(products.failed) == products.source_count
    assert dead[0].field == "price_lists.Retail" and dead[0].record and dead[0].payload
    assert all_products(shop_api(sandbox_shop)) == []


async def test_running_engine_follows_the_change_feed(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = CATALOGUE_FLOW.replace("safety_stock: 1", "safety_stock: 1\n    poll_interval: 0.5")
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings) as engine:
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(partial(engine.run, stop=stop))
            await eventually(lambda: engine.store.get_cursor("catalogue", "product"), 60)
            sku = (await simple_skus(tryton_server))[0]
            admin = tryton_server.admin()
            try:
                await set_list_price(admin, sku, Decimal("42.42"))
            finally:
                await admin.close()

            async def price_arrived() -> bool:
                return by_sku(api, sku)["regular_price"] == "42.42"

            await eventually(price_arrived, 30)
            stop.set()


class MethodLog:
    """Keeps the HTTP method of every request a connection sends (a `RequestObserver`)."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def before(self, headers: MutableMapping[str, str]) -> None:
        """Nothing to add before a request."""

    async def after(self, method: str, status: int) -> None:
        """Keep the method of one answered request."""
        self.methods.append(method)


def observed(engine: Engine, connection: str) -> MethodLog:
    """A log of the requests `connection` sends from now on."""
    connector = engine.pool.get(connection)
    assert isinstance(connector, BudgetedConnection)
    log = MethodLog()
    connector.observe_requests(log)
    return log


def shop_snapshot(api: httpx.Client) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every product and category of the shop, as the REST API shows them."""
    categories = api.get("/products/categories", params={"per_page": 100}).json()
    return all_products(api), categories


async def test_plan_on_an_empty_shop_shows_categories_and_products_to_create(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    before = shop_snapshot(api)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, CATALOGUE_FLOW, monkeypatch)
    async with running_engine(settings) as engine:
        requests = observed(engine, "shop")
        runner = engine.runners["catalogue"]
        report = await sync_flow(runner, dry_run=True)
        products = [
            p
            async for page in runner.source.scan("product")
            for p in page
            if isinstance(p, Product) and runner.mapper.accepts(p)
        ]
        assert await engine.store.count_links("catalogue", "product") == 0
        assert await engine.store.get_cursor("catalogue", "product") is None
    categories, planned = report.entities
    assert categories.counts["create"] == categories.source_count > 0
    assert not categories.counts["match"] and not categories.failed
    assert [p for p in products if p.categories], "the test catalogue has no product in a category"
    # the sync creates the categories first: their products are creates, not waiting for them
    assert planned.counts == {"create": len(products)}
    assert {item.label for item in planned.planned} == {p.sku for p in products}
    output = Console(width=200, file=io.StringIO(), record=True)
    render_plan(output, report)
    shown = output.export_text()
    assert f"product create    {planned.planned[0].label}" in shown
    # a plan only reads: the shop saw no write and holds what it held
    assert requests.methods and set(requests.methods) == {"GET"}
    assert shop_snapshot(api) == before


async def test_plan_against_a_shop_that_holds_the_products_reports_them_matched(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = shop_api(sandbox_shop)
    # another installation (its own state database) has already filled the shop
    first = settings_for(
        tryton_server,
        {"shop": sandbox_shop},
        f"sqlite:///{tmp_path / 'first.db'}",
        CATALOGUE_FLOW,
        monkeypatch,
    )
    async with running_engine(first) as engine:
        assert (
            await verify_flow(engine.runners["catalogue"], await sync_flow(engine.runners["catalogue"]))
        ).clean
    before = shop_snapshot(api)
    fresh = settings_for(
        tryton_server,
        {"shop": sandbox_shop},
        f"sqlite:///{tmp_path / 'fresh.db'}",
        CATALOGUE_FLOW,
        monkeypatch,
    )
    async with running_engine(fresh) as engine:
        requests = observed(engine, "shop")
        report = await sync_flow(engine.runners["catalogue"], dry_run=True)
    categories, products = report.entities
    assert categories.counts == {"match": categories.source_count}
    assert products.counts == {"match": products.source_count} and products.source_count == len(before[0])
    assert {item.label for item in products.planned} == {p["sku"] for p in before[0]}
    assert all(item.action == "match" for item in [*categories.planned, *products.planned])
    assert set(requests.methods) == {"GET"}
    assert shop_snapshot(api) == before
