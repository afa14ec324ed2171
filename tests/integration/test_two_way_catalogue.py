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
from emporion.engine.sync import sync_flow
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


async def salable_codes(tryton: RunningTryton) -> dict[str, dict[str, Any]]:
    """The sample catalogue's salable goods by SKU, with their name, price and variants."""
    rows = await tryton.rpc(
        "product.template",
        "search_read",
        [("salable", "=", True), ("type", "=", "goods")],
        0,
        None,
        None,
        ["code", "name", "list_price", "products"],
    )
    return {row["code"]: row for row in rows if row["code"]}


async def test_the_first_run_on_two_full_systems_reports_and_settles_by_owner(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    catalogue = await salable_codes(tryton_server)
    same, renamed = [code for code, row in sorted(catalogue.items()) if len(row["products"]) == 1][:2]
    # the shop already sells two of Tryton's SKUs, its own copy and prices; and two products of its own
    shop_simple(api, same, catalogue[same]["name"], "1.00", None, "Shop copy one.")
    shop_simple(api, renamed, "Named in the shop", "2.00", None, "Shop copy two.")
    own = shop_category(api, "Shop only")
    shop_simple(api, "SHOP-1001", "Shop-made bowl", "9.50", own["id"], "Thrown by hand.")
    shop_simple(api, "SHOP-1002", "Shop-made cup", "6.50", own["id"], "Glazed blue.")

    async with running_engine(two_way_settings(config)) as engine:
        plans = {name: await sync_flow(engine.runners[name], dry_run=True) for name in PAIR}
    products = {name: next(e for e in plans[name].entities if e.entity == "product") for name in PAIR}
    there, back = products[CATALOGUE], products[CATALOGUE_BACK]
    assert (there.counts["create"], there.counts["match"], there.only_in_target) == (len(catalogue) - 2, 2, 2)
    assert (back.counts["create"], back.counts["match"], back.only_in_target) == (2, 2, len(catalogue) - 2)
    assert len(back.only_in_target_sample) == 10  # a sample of them, by SKU
    assert set(there.only_in_target_sample) == {"SHOP-1001", "SHOP-1002"}
    for report in (there, back):
        assert report.differs[("description", "shop")] == 2, report.differs  # the owners decide
        assert report.differs[("list_price", "erp")] == 2, report.differs
        assert report.differs[("name", "conflict")] == 1, report.differs  # either, and both differ
        assert report.conflicts == [(renamed, "name")]
        matched = {p.label: p.detail for p in report.planned if p.action == "match"}
        assert set(matched) == {same, renamed} and all("matched on SKU" in d for d in matched.values())
    assert await templates(tryton_server, "SHOP-1001") == []  # a plan writes nothing
    assert shop_products_with_sku(api, next(iter(set(catalogue) - {same, renamed}))) == 0

    # what `emporion plan` prints, then `emporion sync` as the merchant runs them
    code, output = await anyio.to_thread.run_sync(invoke, "plan", "-c", str(config))
    assert code == 0, output
    assert "product differs: description (shop wins) in 2" in output, output
    assert "product differs: list_price (erp wins) in 2" in output, output
    assert f"conflict product {renamed}: name" in output, output
    assert "only in the target: 2 product (SHOP-1001, SHOP-1002)" in output, output
    assert f"only in the target: {len(catalogue) - 2} product" in output, output
    code, output = await anyio.to_thread.run_sync(invoke, "sync", "-c", str(config))
    # the first flow creates Tryton's others in the shop, so the second matches them there
    assert f"product: {len(catalogue) - 2} created, 2 matched by SKU" in output, output
    assert f"product: 2 created, {len(catalogue)} matched by SKU" in output, output
    assert f"conflict product {renamed}: name" in output, output

    # settled by the owners: the shop's copy in Tryton, Tryton's prices in the shop, the names left
    for sku, text in ((same, "Shop copy one."), (renamed, "Shop copy two.")):
        assert (await product_row(tryton_server, sku))["description"] == text
        assert Decimal(shop_product(api, sku)["regular_price"]) == catalogue[sku]["list_price"]
    assert shop_product(api, renamed)["name"] == "Named in the shop"
    assert nested(await product_row(tryton_server, renamed), "template", "name") == catalogue[renamed]["name"]
    for sku in ("SHOP-1001", "SHOP-1002"):
        (made,) = await templates(tryton_server, sku)
        assert nested(made, "default_uom", "symbol") == UNIT
        assert await category_names(tryton_server, made["categories"]) == ["Shop only"]
    for sku in catalogue:
        assert shop_products_with_sku(api, sku) == 1
    code, output = await anyio.to_thread.run_sync(invoke, "conflicts", "-c", str(config))
    assert code == 0 and renamed in output and "name" in output and "either" in output, output
