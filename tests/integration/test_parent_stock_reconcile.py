"""A shop that keeps one stock for a variable product's variations on the product stays that way.

The merchant switches a synced variable product to one stock on the product (its variations read
`manage_stock: "parent"`, as in WooCommerce 10). Reconcile reports the product's stock against the sum
of the variants' stock in Tryton, the repair writes that sum to the product without giving the
variations stock of their own, two reconciles then find nothing, and a stock change in Tryton reaches
the product as the new sum. Real Tryton server, the WooCommerce sandbox over HTTP, a real state database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from emporion.engine.reconcile import Reconciler
from emporion.engine.sync import sync_flow
from emporion_devkit.demo.erp_changes import receive_stock
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for, shop_api
from tests.integration.test_catalogue_sync import by_sku, salable_templates
from tests.integration.test_reconcile import FLOW, drift_of

pytestmark = pytest.mark.tryton

SHARED = "available (shared by its variants)"


def stock_layout(api: httpx.Client, ident: int) -> tuple[Any, Any, dict[str, Any]]:
    """The product's manage_stock and stock, and each variation's manage_stock, as the shop holds them."""
    product = api.get(f"/products/{ident}", params={"context": "edit"}).json()
    listed = api.get(f"/products/{ident}/variations", params={"context": "edit", "per_page": 100}).json()
    return product["manage_stock"], product["stock_quantity"], {v["sku"]: v["manage_stock"] for v in listed}


async def test_one_stock_on_the_product_is_reconciled_repaired_and_synced_as_the_variants_sum(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = FLOW.format(extras="report", interval=86400)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows, monkeypatch)
    api = shop_api(sandbox_shop)
    admin = tryton_server.admin()
    try:
        async with running_engine(settings) as engine:
            reconciler = Reconciler(engine)
            runner = engine.runners["catalogue"]
            await sync_flow(runner)
            sku = next(t["code"] for t in await salable_templates(tryton_server) if len(t["products"]) > 1)
            ident = int(by_sku(api, sku)["id"])
            params = {"context": "edit", "per_page": 100}
            variations = api.get(f"/products/{ident}/variations", params=params).json()
            total = sum(int(v["stock_quantity"]) for v in variations)
            assert len(variations) > 1 and stock_layout(api, ident)[0] is False  # as the sync made it

            # the merchant keeps one stock for all variations on the product, and miscounts it by 5
            api.put(f"/products/{ident}", json={"manage_stock": True, "stock_quantity": total + 5})
            shared = [{"id": v["id"], "manage_stock": False} for v in variations]
            api.post(f"/products/{ident}/variations/batch", json={"update": shared}).raise_for_status()
            parents = {v["sku"]: "parent" for v in variations}
            assert stock_layout(api, ident) == (True, total + 5, parents)

            found = await reconciler.reconcile("catalogue")
            assert drift_of(found) == {("different", sku): [SHARED]}
            [field] = found.items[0].fields
            assert (int(field.expected), int(field.actual)) == (total, total + 5)

            repaired = await reconciler.reconcile("catalogue", repair=True)
            assert repaired.counts["repaired"] == 1
            await engine.drain(runner.flow)
            assert stock_layout(api, ident) == (True, total, parents)  # the sum, on the product only
            for _ in range(2):
                again = await reconciler.reconcile("catalogue")
                assert again.clean, drift_of(again)

            await receive_stock(admin, variations[0]["sku"], Decimal(4))
            await sync_flow(runner)
            assert stock_layout(api, ident) == (True, total + 4, parents)
            assert (await reconciler.reconcile("catalogue")).clean
    finally:
        await admin.close()
