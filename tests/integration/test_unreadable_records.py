"""A source record the connector cannot read is a dead letter, never taken for deleted.

Shop to shop (the engine works with any two connectors): one product in the source shop is broken the
way a plugin or a hand edit in its database breaks it; the flow dead-letters it with record and field,
sends the others, and does not unpublish the copy the target already holds.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from emporion.config import Settings, parse_settings
from emporion.engine.sync import sync_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.engine_support import running_engine, shop_api


def break_product(shop: SandboxShop, product_id: int, **values: object) -> None:
    """Write values into a stored product that the shop's API would refuse."""
    store = shop.sandbox.store
    found = store.get("product", product_id)
    assert found is not None
    doc, _ = found
    doc.update(values)
    with store.lock:
        store.db.execute(
            'UPDATE "product" SET doc = ? WHERE id = ?', (orjson.dumps(doc).decode(), product_id)
        )


def published_products(
    api: httpx.Client, name: str, sku: str, price: str, count: int
) -> list[dict[str, Any]]:
    """`count` published simple products made through the shop's API: "<name> n", SKU "<sku>-n"."""
    return [
        api.post(
            "/products",
            json={"name": f"{name} {n}", "sku": f"{sku}-{n}", "regular_price": price, "status": "publish"},
        ).json()
        for n in range(count)
    ]


def mirror_settings(
    source: SandboxShop,
    target: SandboxShop,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    options: str = "",
) -> Settings:
    """A product flow from one sandbox shop into another (`options`: more keys of the flow, inline)."""
    for name, shop in (("SOURCE", source), ("TARGET", target)):
        monkeypatch.setenv(f"{name}_KEY", shop.consumer_key)
        monkeypatch.setenv(f"{name}_SECRET", shop.consumer_secret)
    extra = f", {options}" if options else ""
    return parse_settings(
        f"""
state: {{url: "{state_url}"}}
connections:
  source: {{type: woocommerce, url: "{source.base_url}", consumer_key: env:SOURCE_KEY,
           consumer_secret: env:SOURCE_SECRET}}
  target: {{type: woocommerce, url: "{target.base_url}", consumer_key: env:TARGET_KEY,
           consumer_secret: env:TARGET_SECRET}}
flows:
  - {{name: mirror, source: source, target: target, entities: [product], on_remove: unpublish{extra}}}
"""
    )


async def test_an_unreadable_source_record_is_a_dead_letter_and_its_target_copy_stays(
    sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxShop.serve() as target:
        source_api, target_api = shop_api(sandbox_shop), shop_api(target)
        made = published_products(source_api, "Mug", "MUG", "4.50", 5)
        settings = mirror_settings(sandbox_shop, target, sqlite_url, monkeypatch)
        async with running_engine(settings) as engine:
            runner = engine.runners["mirror"]
            await sync_flow(runner)
            broken = made[1]
            break_product(sandbox_shop, broken["id"], regular_price="4,50 EUR")
            result = await runner.sync_keys(
                "product", [str(p["id"]) for p in made], reason="test", force=True
            )
            await engine.store.record(links=result.links, journal=result.journal, dead=result.dead)
            dead = await engine.store.list_dead(flow="mirror")
            after = {p["sku"]: p for p in target_api.get("/products", params={"per_page": 50}).json()}

    assert [(d.key, d.record, d.field) for d in dead] == [
        (str(broken["id"]), f"product {broken['id']}", "regular_price")
    ]
    assert "regular_price is not a number" in dead[0].reason and "4,50" not in dead[0].reason
    assert result.counts["updated"] == 4 and result.counts["failed"] == 1
    assert after[broken["sku"]]["status"] == "publish"  # not taken for removed: not unpublished
    assert sorted(after) == [f"MUG-{n}" for n in range(5)]


async def test_reconcile_and_verify_name_unreadable_records_and_never_take_them_for_removed(
    sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emporion.engine.reconcile import Reconciler
    from emporion.engine.sync import verify_flow

    with SandboxShop.serve() as target:
        source_api, target_api = shop_api(sandbox_shop), shop_api(target)
        made = published_products(source_api, "Jug", "JUG", "7.00", 4)
        settings = mirror_settings(
            sandbox_shop, target, sqlite_url, monkeypatch, "reconcile: {extras: unpublish}"
        )
        async with running_engine(settings) as engine:
            await sync_flow(engine.runners["mirror"])
            copies = {p["sku"]: p for p in target_api.get("/products", params={"per_page": 50}).json()}
            break_product(sandbox_shop, made[0]["id"], regular_price="7,00 EUR")  # unreadable at the source
            break_product(target, copies["JUG-1"]["id"], sale_price="cheap")  # unreadable copy in the shop
            report = await verify_flow(engine.runners["mirror"])
            result = await Reconciler(engine).reconcile("mirror", repair=True)
            after = {p["sku"]: p for p in target_api.get("/products", params={"per_page": 50}).json()}

    items = {(item.kind, item.label): item for item in result.items}
    assert result.counts["unreadable"] == 1
    assert set(items) == {("different", "JUG-1")}  # the unreadable source is no removal, no extra
    assert [(f.field, f.expected) for f in items[("different", "JUG-1")].fields] == [
        ("sale_price", "readable")
    ]
    assert after["JUG-0"]["status"] == "publish"  # neither unpublished as removed nor as an extra
    [mismatch] = next(e for e in report.entities if e.entity == "product").mismatches
    assert mismatch.label == "JUG-1" and mismatch.diffs[0].field == "sale_price"
