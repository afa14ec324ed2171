"""The catalogue both ways on real Tryton and the sandbox shop: shop-made products, owned fields, conflicts.

Tryton owns prices and stock, the shop owns descriptions and images, either side may rename (the
configuration guide's worked example). Each edit travels once, in the flow whose source owns the
field; its echo comes back through the other flow's feed and is found unchanged, so the journal holds
one write per edit across both flows.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from emporion.cli import app
from emporion.engine.worker import Engine
from emporion_devkit.demo.erp_changes import set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.two_way_support import (
    ACCOUNTING_CATEGORY,
    CATALOGUE,
    CATALOGUE_BACK,
    CATALOGUE_FLOWS,
    UNIT,
    categories_named,
    category_names,
    initial_syncs,
    nested,
    ok,
    product_row,
    set_description,
    settle,
    shop_category,
    shop_product,
    shop_products_with_sku,
    shop_simple,
    shop_variable,
    templates,
    two_way_config,
    two_way_settings,
    variants,
    writes_per_record,
)

pytestmark = pytest.mark.tryton

PAIR = (CATALOGUE, CATALOGUE_BACK)
cli = CliRunner()


@pytest.fixture
def config(tmp_path: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str) -> Path:
    return two_way_config(tmp_path, tryton_server, sandbox_shop, sqlite_url, CATALOGUE_FLOWS)


async def started(engine: Engine) -> None:
    """Both flows' first full sync (Tryton's catalogue into the shop, then matched back), settled."""
    await initial_syncs(engine, PAIR)
    await settle(engine, PAIR)


async def simple_sku(tryton: RunningTryton) -> str:
    """A salable product of the sample catalogue without variants."""
    rows = await tryton.rpc(
        "product.template",
        "search_read",
        [("salable", "=", True), ("type", "=", "goods"), ("code", "like", "SKU-%")],
        0,
        None,
        None,
        ["code", "products"],
    )
    return next(row["code"] for row in rows if len(row["products"]) == 1)


def invoke(*args: str) -> tuple[int, str]:
    """Run an `emporion` command; its exit code and what it printed."""
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


async def test_products_made_in_the_shop_reach_tryton_once_with_variants_category_and_defaults(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        category = shop_category(api, "Made in the shop")
        shop_simple(api, "SHOP-0001", "Linen apron", "24.90", category["id"], "Washed linen.")
        shop_variable(api, "SHOP-0002", "Canvas tote", category["id"], {"S": "12.00", "L": "15.00"})
        await settle(engine, PAIR)

        (apron,) = await templates(tryton_server, "SHOP-0001")
        assert apron["name"] == "Linen apron" and apron["list_price"] == Decimal("24.90")
        assert nested(apron, "default_uom", "symbol") == UNIT
        assert nested(apron, "account_category", "name") == ACCOUNTING_CATEGORY
        assert await category_names(tryton_server, apron["categories"]) == ["Made in the shop"]
        (apron_variant,) = await variants(tryton_server, apron["id"])
        assert apron_variant["code"] == "SHOP-0001" and apron_variant["description"] == "Washed linen."

        (tote,) = await templates(tryton_server, "SHOP-0002")
        codes = {v["code"] for v in await variants(tryton_server, tote["id"])}
        assert codes == {"SHOP-0002-S", "SHOP-0002-L"}
        assert tote["categories"] == apron["categories"]
        assert nested(tote, "default_uom", "symbol") == UNIT
        assert await categories_named(tryton_server, "Made in the shop") == 1

        # Tryton's new templates come back to the shop through the first flow and match, not duplicate
        for sku in ("SHOP-0001", "SHOP-0002"):
            assert shop_products_with_sku(api, sku) == 1
        tote_in_shop = shop_product(api, "SHOP-0002")
        assert len(ok(api.get(f"/products/{tote_in_shop['id']}/variations"))) == 2

        # a full sync again (as `emporion sync` would) creates nothing on either side
        before = await engine.store.last_journal_id()
        await initial_syncs(engine, PAIR)
        lines = await settle(engine, PAIR)
        again = [e for _, e in await engine.store.journal_after(before, limit=5000)]
        created = [e.key for e in again if e.action == "created"]
        assert created == []
        assert lines == []
        assert len(await templates(tryton_server, "SHOP-0001")) == 1
        assert len(await templates(tryton_server, "SHOP-0002")) == 1
        assert await categories_named(tryton_server, "Made in the shop") == 1


async def test_owned_edits_travel_once_each_way_and_never_bounce(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    sku = await simple_sku(tryton_server)
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        product = shop_product(api, sku)

        # the shop owns the description: it reaches Tryton, once
        ok(api.put(f"/products/{product['id']}", json={"description": "Written by marketing."}))
        lines = await settle(engine, PAIR)
        assert (await product_row(tryton_server, sku))["description"] == "Written by marketing."
        assert writes_per_record(lines, "product") == {sku: 1}, lines
        assert [line.flow for line in lines] == [CATALOGUE_BACK]

        # Tryton owns the price: it reaches the shop, once, and the shop's description stays
        admin = tryton_server.admin()
        try:
            await set_list_price(admin, sku, Decimal("55.50"))
        finally:
            await admin.close()
        lines = await settle(engine, PAIR)
        after = shop_product(api, sku)
        assert after["regular_price"] == "55.50"
        assert after["description"] == "Written by marketing."
        assert writes_per_record(lines, "product") == {sku: 1}, lines
        assert [line.flow for line in lines] == [CATALOGUE]

        # nothing bounces: the loops run again and write nothing
        assert await settle(engine, PAIR) == []
        assert (await product_row(tryton_server, sku))["description"] == "Written by marketing."
        assert shop_product(api, sku)["date_modified_gmt"] == after["date_modified_gmt"]


async def test_an_edit_on_each_side_between_two_syncs_both_arrive(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    sku = await simple_sku(tryton_server)
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        product = shop_product(api, sku)
        ok(api.put(f"/products/{product['id']}", json={"description": "New copy from the shop."}))
        admin = tryton_server.admin()
        try:
            await set_list_price(admin, sku, Decimal("19.95"))
        finally:
            await admin.close()

        lines = await settle(engine, PAIR)
        row = await product_row(tryton_server, sku)
        assert row["description"] == "New copy from the shop."
        assert nested(row, "template", "list_price") == Decimal("19.95")
        after = shop_product(api, sku)
        assert after["regular_price"] == "19.95" and after["description"] == "New copy from the shop."
        assert writes_per_record(lines, "product") == {sku: 2}, lines
        assert sorted(line.flow for line in lines) == sorted(PAIR)
        assert await settle(engine, PAIR) == []


async def test_non_owned_edits_are_reverted_or_reported_as_configured(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    sku = await simple_sku(tryton_server)
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        product = shop_product(api, sku)
        price = product["regular_price"]
        description = product["description"]

        # a price typed into the shop (Tryton owns prices, conflicts: revert): Tryton's is back
        ok(api.put(f"/products/{product['id']}", json={"regular_price": "1.11"}))
        lines = await settle(engine, PAIR)
        assert shop_product(api, sku)["regular_price"] == price
        assert str(nested(await product_row(tryton_server, sku), "template", "list_price")) == price
        assert writes_per_record(lines, "product") == {sku: 1}, lines
        assert [line.flow for line in lines] == [CATALOGUE]

        # a description typed into Tryton (the shop owns it, description: report): an open conflict
        await set_description(tryton_server, sku, "Edited in the ERP by mistake.")
        lines = await settle(engine, PAIR)
        assert lines == []  # neither side overwritten
        assert (await product_row(tryton_server, sku))["description"] == "Edited in the ERP by mistake."
        assert shop_product(api, sku)["description"] == description
        conflicts = await engine.store.list_conflicts(state="open")
        found = [c for c in conflicts if c.natural_key == sku]
        assert [(c.entity, c.field, c.owner, c.policy) for c in found] == [
            ("product", "description", "shop", "report")
        ], conflicts
        assert set(found[0].values) == {"erp", "shop"}
        assert await settle(engine, PAIR) == []  # reported once, not written in turns
        assert len([c for c in await engine.store.list_conflicts(state="open") if c.natural_key == sku]) == 1

    # operators see it: `emporion conflicts` and the reconcile report
    code, output = await anyio.to_thread.run_sync(invoke, "conflicts", "-c", str(config))
    assert code == 0, output
    assert sku in output and "description" in output and "report" in output
    result = await anyio.to_thread.run_sync(
        lambda: cli.invoke(app, ["reconcile", "-c", str(config), "--json"])
    )
    reports: list[dict[str, Any]] = json.loads(result.stdout)
    mentioned = json.dumps(reports)
    assert sku in mentioned and "description" in mentioned and "conflict" in mentioned, result.stdout
    assert (await product_row(tryton_server, sku))["description"] == "Edited in the ERP by mistake."
