"""Reconciliation end to end: the shop is changed behind emporion's back, reconcile reports and repairs it.

Real Tryton server, the WooCommerce sandbox over HTTP, and a real state database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import httpx
import pytest

from emporion.alerts import AlertKind, RecordingAlerts
from emporion.engine.reconcile import Reconciler, ReconcileResult
from emporion.engine.sync import sync_flow
from emporion.model import status_name
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for, shop_api
from tests.integration.test_catalogue_sync import by_sku, eventually, simple_skus
from tests.integration.test_order_flow import drain_orders, sales_by_reference
from tests.integration.test_order_flow import settings_for as order_settings

pytestmark = pytest.mark.tryton

FLOW = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 1
    poll_interval: 0.5
    mapping:
      custom.origin: {{constant: tryton}}
    reconcile: {{extras: {extras}, interval: {interval}}}
"""


def drift_of(result: ReconcileResult) -> dict[tuple[str, str], list[str]]:
    """(kind, record label) -> the fields that differ, for every drift item."""
    return {(item.kind, item.label): sorted(d.field for d in item.fields) for item in result.items}


def tamper(api: httpx.Client, price_sku: str, stock_sku: str, deleted_sku: str) -> dict[str, Any]:
    """Change the shop by hand: a price, a stock level, a deleted product, and a product nobody syncs."""
    price_id = by_sku(api, price_sku)["id"]
    api.put(f"/products/{price_id}", json={"regular_price": "1.11"}).raise_for_status()
    stock_id = by_sku(api, stock_sku)["id"]
    api.put(f"/products/{stock_id}", json={"stock_quantity": 999}).raise_for_status()
    deleted_id = by_sku(api, deleted_sku)["id"]
    api.delete(f"/products/{deleted_id}", params={"force": "true"}).raise_for_status()
    extra = api.post("/products", json={"name": "Made by hand", "sku": "HAND-1", "regular_price": "5.00"})
    extra.raise_for_status()
    return {"deleted_id": deleted_id, "extra": extra.json()}


async def test_reconcile_reports_exactly_the_drift_and_repairs_it(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = FLOW.format(extras="unpublish", interval=86400)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, state_url, flows, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings) as engine:
        alerts = RecordingAlerts()
        engine.alerts = alerts
        reconciler = Reconciler(engine)
        runner = engine.runners["catalogue"]
        await sync_flow(runner)

        first = await reconciler.reconcile("catalogue")
        assert first.clean and first.status == "clean", drift_of(first)
        linked = await engine.store.count_links("catalogue", "product")
        assert first.counts["compared"] == linked + await engine.store.count_links("catalogue", "category")
        assert first.counts["product.target"] == linked and not alerts.alerts

        price_sku, stock_sku, deleted_sku = (await simple_skus(tryton_server))[:3]
        before = {sku: by_sku(api, sku) for sku in (price_sku, stock_sku)}
        tampered = tamper(api, price_sku, stock_sku, deleted_sku)

        found = await reconciler.reconcile("catalogue")
        # WooCommerce drops a sale price that is not below the new regular price
        dropped = ["sale_price"] if before[price_sku]["sale_price"] else []
        assert drift_of(found) == {
            ("different", price_sku): ["list_price", *dropped],
            ("different", stock_sku): ["available"],
            ("missing", deleted_sku): [],
            ("extra", "HAND-1"): [],
        }
        assert found.status == "drift" and found.drift == 4 and not found.counts["repaired"]
        price = next(i for i in found.items if i.label == price_sku).fields[0]
        assert str(price.expected) == before[price_sku]["regular_price"] and str(price.actual) == "1.11"
        stock = next(i for i in found.items if i.label == stock_sku).fields[0]
        assert int(stock.expected) == before[stock_sku]["stock_quantity"] and int(stock.actual) == 999
        missing = next(i for i in found.items if i.kind == "missing")
        assert missing.target_id == str(tampered["deleted_id"]) and "no longer" in missing.detail
        assert await engine.store.queue_depth("catalogue") == {}  # a report only: nothing queued

        saved = await engine.store.get_report(found.report_id or 0)
        assert saved is not None and saved.status == "drift" and saved.counts == dict(found.counts)
        assert saved.items and {(i["kind"], i["label"]) for i in saved.items} == set(drift_of(found))
        assert {"field": "list_price", "expected": before[price_sku]["regular_price"], "actual": "1.11"} in [
            f for i in saved.items for f in i["fields"]
        ]
        [alert] = alerts.of(AlertKind.DRIFT)
        assert alert.subject == "catalogue" and not alert.resolved and "4 records drifted" in alert.message

        repaired = await reconciler.reconcile("catalogue", repair=True)
        assert repaired.status == "repaired" and repaired.counts["repaired"] == 4
        assert await engine.store.queue_depth("catalogue") == {("catalogue", "product"): 3}
        assert api.get(f"/products/{tampered['extra']['id']}").json()["status"] == "draft"  # the policy

        await engine.drain(runner.flow)
        assert by_sku(api, price_sku)["regular_price"] == before[price_sku]["regular_price"]
        assert by_sku(api, stock_sku)["stock_quantity"] == before[stock_sku]["stock_quantity"]
        assert by_sku(api, deleted_sku)["id"] != tampered["deleted_id"]  # created again, exactly once
        journal = await engine.store.journal_for("catalogue", "product", missing.key)
        assert journal[0].action == "created" and journal[0].reason == "repair"

        again = await reconciler.reconcile("catalogue")
        assert again.clean, drift_of(again)
        assert alerts.alerts[-1].kind is AlertKind.DRIFT and alerts.alerts[-1].resolved
        listed = await engine.store.list_reports("catalogue")
        assert [r.status for r in listed] == ["clean", "repaired", "drift", "clean"]


async def test_scheduled_reconcile_repairs_by_itself_in_a_running_engine(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = FLOW.format(extras="delete", interval=1)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings) as engine:
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(partial(engine.run, stop=stop))
            await eventually(lambda: engine.store.get_cursor("catalogue", "product"), 90)
            price_sku, stock_sku, deleted_sku = (await simple_skus(tryton_server))[:3]
            before = by_sku(api, price_sku)["regular_price"]
            tampered = tamper(api, price_sku, stock_sku, deleted_sku)

            async def repaired() -> bool:
                extra = api.get(f"/products/{tampered['extra']['id']}")
                restored = api.get("/products", params={"sku": deleted_sku}).json()
                return (
                    by_sku(api, price_sku)["regular_price"] == before
                    and extra.status_code == 404
                    and len(restored) == 1
                )

            await eventually(repaired, 90)
            stop.set()
        reports = await engine.store.list_reports("catalogue", limit=50)
        assert any(r.status == "repaired" and r.repair for r in reports)


async def test_order_reconcile_finds_shop_orders_without_a_sale_and_queues_them(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = order_settings(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings) as engine:
        await sync_flow(engine.runners["catalogue-shop"])
        await engine.ensure_initial_sync()  # the order feed starts now; the window is empty
        flow = engine.order_flows["orders-shop"].flow
        placed = sandbox_shop.place_orders(4)
        importable = {
            str(o["number"]) for o in placed if status_name(o["status"]) in flow.orders.import_statuses
        }
        assert importable, "the shopper placed no importable order"
        reconciler = Reconciler(engine)

        found = await reconciler.reconcile("orders-shop")  # the feed has not seen them (a lost webhook)
        assert {i.label for i in found.items} == importable and {i.kind for i in found.items} == {"missing"}
        assert found.counts["waiting"] == len(placed) - len(importable)
        repaired = await reconciler.reconcile("orders-shop", repair=True)
        keys = [item.key for item in repaired.items]
        assert await engine.store.queued_keys(flow.name, "order", keys) == set(keys)

        await drain_orders(engine)
        for number in importable:
            assert len(await sales_by_reference(tryton_server, f"WEB-{number}")) == 1
        assert (await reconciler.reconcile("orders-shop")).clean
