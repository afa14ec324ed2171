"""A catalogue with `&` in names and multi-line descriptions, synced into an empty shop that stores
text as WooCommerce 10 does (`&` as `&amp;`, descriptions rendered in view context): verify is clean,
two reconciles in a row find no drift, no product is written twice, no dead letter is left, and a
sync again writes nothing; at once, under the latency model calibrated on the real shop, and on a
host three times slower.

Real Tryton server, the WooCommerce sandbox over HTTP, a real state database.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from emporion.cli.reconcile import render_reconcile
from emporion.engine.dead_letters import list_letters
from emporion.engine.reconcile import Reconciler
from emporion.engine.sync import sync_flow, verify_flow
from emporion.state import DeadLetter
from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.sandbox.woocommerce.latency import LatencyModel
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for, shop_api
from tests.integration.test_catalogue_sync import CATALOGUE_FLOW, by_sku, observed, salable_templates

pytestmark = pytest.mark.tryton

NAMES = ("Salt & Pepper Mill", 'Café & Bar "Deluxe" <b>XL</b>', "Towel & Co – 100 % cotton")  # noqa: RUF001
DESCRIPTION = "First line & more.\nSecond line with <em>emphasis</em>.\n\nA new paragraph: 100 % cotton."


def products_by_id(api: httpx.Client) -> list[dict[str, Any]]:
    """Every product of the shop, paged in id order (the date order repeats and skips)."""
    found: list[dict[str, Any]] = []
    for page in range(1, 100):
        params = {"per_page": 100, "page": page, "orderby": "id", "order": "asc", "_fields": "id,sku"}
        listed = api.get("/products", params=params).json()
        found += listed
        if len(listed) < 100:
            return found
    raise AssertionError("more than 9,900 products")


async def text_with_ampersands(tryton: RunningTryton) -> dict[str, str]:
    """Give three simple products and one variable product names with `&`, and multi-line descriptions."""
    templates = await salable_templates(tryton)
    simple = [t for t in templates if len(t["products"]) == 1][: len(NAMES)]
    variable = next(t for t in templates if len(t["products"]) > 1)
    renamed: dict[str, str] = {}
    for template, name in [*zip(simple, NAMES, strict=True), (variable, "Shirt & Tie")]:
        await tryton.rpc("product.template", "write", [template["id"]], {"name": name})
        await tryton.rpc("product.product", "write", template["products"], {"description": DESCRIPTION})
        renamed[template["code"]] = name
    return renamed


@pytest.mark.parametrize("scale", [None, 1.0, 3.0], ids=["instant", "wc10-latency", "wc10-latency-x3"])
async def test_text_the_shop_escapes_and_renders_syncs_once_and_stays_clean(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    scale: float | None,
) -> None:
    if scale is not None:  # the latency model calibrated on the real shop, or three times slower
        sandbox_shop.sandbox.set_latency(LatencyModel.named("wc10", scale=scale))
    renamed = await text_with_ampersands(tryton_server)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, CATALOGUE_FLOW, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        planned = await sync_flow(runner, dry_run=True)
        assert set(planned.entities[1].counts) == {"create"}  # an empty shop: everything is created

        report = await verify_flow(runner, await sync_flow(runner))
        for entity in report.entities:
            assert not (entity.failed or entity.missing), (entity.failed, entity.missing)
            assert not entity.mismatches, [(m.label, m.diffs) for m in entity.mismatches]
        assert report.clean
        assert await list_letters(engine.store) == []
        skus = [product["sku"] for product in products_by_id(api)]
        assert len(skus) == len(set(skus)) == report.entities[1].source_count  # none written twice

        # the shop really holds what WooCommerce would: `&amp;`, and <p> only when viewed
        for sku, name in renamed.items():
            shown = by_sku(api, sku)
            assert shown["name"] == name.replace("&", "&amp;")
            assert shown["description"].startswith("<p>First line &amp; more.<br />")

        reconciler = Reconciler(engine)
        for _ in range(2):
            result = await reconciler.reconcile("catalogue")
            drift = [(item.kind, item.label, [d.field for d in item.fields]) for item in result.items]
            assert result.clean and not drift, drift
            records = planned.entities[0].source_count + len(planned.entities[1].planned)
            assert result.counts["compared"] == records

        requests = observed(engine, "shop")
        again = await sync_flow(runner)
        counts: dict[str, Any] = {entity.entity: dict(entity.counts) for entity in again.entities}
        assert counts == {
            "category": {"unchanged": again.entities[0].source_count},
            "product": {"unchanged": again.entities[1].source_count},
        }
        assert set(requests.methods) <= {"GET"}  # a sync again writes nothing to the shop


async def test_products_the_shop_holds_unlinked_are_no_missing_and_their_dead_letters_close(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop holds the catalogue (written by an attempt whose answers were lost), the state does not."""
    first = settings_for(
        tryton_server, {"shop": sandbox_shop}, f"sqlite:///{tmp_path / 'a.db'}", CATALOGUE_FLOW, monkeypatch
    )
    async with running_engine(first) as engine:
        assert (
            await verify_flow(engine.runners["catalogue"], await sync_flow(engine.runners["catalogue"]))
        ).clean
    fresh = settings_for(
        tryton_server, {"shop": sandbox_shop}, f"sqlite:///{tmp_path / 'b.db'}", CATALOGUE_FLOW, monkeypatch
    )
    async with running_engine(fresh) as engine:
        runner = engine.runners["catalogue"]
        products = [
            p async for page in runner.source.scan("product") for p in page if runner.mapper.accepts(p)
        ]
        refused = [
            DeadLetter(
                "catalogue",
                "product",
                product.key,
                f"The product with SKU ({product.sku}) you are trying to insert is already present in the "
                "lookup table",
                "sku",
                product.sku,
            )
            for product in products[:2]
        ]
        await engine.store.record(dead=refused)

        result = await Reconciler(engine).reconcile("catalogue")
        assert result.counts["missing"] == result.counts["extra"] == 0
        assert result.counts["unlinked"] == len(products) + result.counts["category.source"]
        output = Console(width=160, file=io.StringIO(), record=True)
        render_reconcile(output, result)
        shown = output.export_text()
        assert f"unlinked {result.counts['unlinked']}: in the target already: `emporion sync`" in shown

        report = await sync_flow(runner)
        assert report.entities[1].counts["matched"] == len(products)
        assert await list_letters(engine.store) == []
        resolved = await list_letters(engine.store, status="resolved")
        assert sorted(letter.key for letter in resolved) == sorted(p.key for p in products[:2])
        assert (await Reconciler(engine).reconcile("catalogue")).clean
