"""What Tryton does not keep of a shop's product (a short description) is neither drift nor a conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from emporion.engine.sync import verify_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.two_way_support import (
    CATALOGUE,
    CATALOGUE_BACK,
    CATALOGUE_FLOWS,
    initial_syncs,
    ok,
    settle,
    shop_simple,
    templates,
    two_way_config,
    two_way_settings,
)

pytestmark = pytest.mark.tryton

PAIR = (CATALOGUE, CATALOGUE_BACK)


async def test_a_short_description_tryton_cannot_hold_is_no_conflict_and_no_drift(
    tmp_path: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str
) -> None:
    config = two_way_config(tmp_path, tryton_server, sandbox_shop, sqlite_url, CATALOGUE_FLOWS)
    api = shop_api(sandbox_shop)
    async with running_engine(two_way_settings(config)) as engine:
        await initial_syncs(engine, PAIR)
        await settle(engine, PAIR)
        made = shop_simple(api, "SHOP-0009", "Oak board", "31.00", None, "Oiled oak.")
        ok(api.put(f"/products/{made['id']}", json={"short_description": "A board for bread."}))
        await settle(engine, PAIR)
        assert len(await templates(tryton_server, "SHOP-0009")) == 1

        conflicts = await engine.store.list_conflicts(state=None)
        assert [c.field for c in conflicts if c.natural_key == "SHOP-0009"] == []
        back = await verify_flow(engine.runners[CATALOGUE_BACK])
        products = next(e for e in back.entities if e.entity == "product")
        assert not [m for m in products.mismatches if m.label == "SHOP-0009"], products.mismatches
        assert back.clean, back
