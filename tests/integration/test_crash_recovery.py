"""Crashes at the worst moments of starting up: nothing the engine was about to queue is skipped."""

from __future__ import annotations

import pytest

from emporion.engine.sync import sync_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine
from tests.integration.test_order_flow import settings_for

pytestmark = pytest.mark.tryton


class Killed(Exception):
    """Stands for the process dying at this point."""


async def test_a_crash_while_the_order_flow_starts_does_not_skip_the_earlier_orders(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings, worker="first") as engine:
        await sync_flow(engine.runners["catalogue-shop"])
        placed = sandbox_shop.place_orders(3)
        earlier = {str(o["id"]) for o in placed if o["status"] in ("processing", "on-hold", "completed")}
        assert earlier, "the shopper placed no importable order"

        async def killed() -> int:
            raise Killed

        # dies while it looks back over the sliding window, before it has queued the earlier orders
        monkeypatch.setattr(engine.order_flows["orders-shop"], "reconcile_window", killed)
        with pytest.raises(Killed):
            await engine.ensure_initial_sync()

    async with running_engine(settings, worker="restarted") as engine:
        await engine.ensure_initial_sync()
        queued = await engine.store.claim("orders-shop", "order", worker="check", limit=100)
        assert earlier <= {item.key for item in queued}
