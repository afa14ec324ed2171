"""Two orders placed in one second reach the work queue through the sandbox's webhooks, both of them.

The sandbox shop gives every delivery of one webhook within a second the same
`X-WC-Webhook-Delivery-ID`, as WooCommerce 10 does; the ingress keeps both deliveries, and a delivery
sent again is still a duplicate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from emporion.config import Settings, load_settings
from emporion.engine.connections import ConnectorPool
from emporion.engine.inbox import InboxProcessor
from emporion.server import WebhookSecrets, run_server
from emporion.state import StateStore
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.test_server_sandbox import hooks, stock_up, wait_for, write_config


async def test_two_orders_in_one_second_are_two_work_items(tmp_path: Path) -> None:
    with SandboxShop.serve() as shop:
        stock_up(shop)
        settings: Settings = load_settings(write_config(tmp_path, shop, free_port()))
        store = await StateStore.connect(settings.state.url)
        pool = ConnectorPool(settings)
        stop = anyio.Event()
        try:
            async with anyio.create_task_group() as group:
                await group.start(run_server, settings, store, pool, stop, WebhookSecrets(settings))

                async def three_hooks() -> list[dict[str, Any]]:
                    found = await anyio.to_thread.run_sync(hooks, shop)
                    return found if len([h for h in found if h["status"] == "active"]) == 3 else []

                await wait_for(three_hooks)
                pair: list[dict[str, Any]] = []
                for _ in range(5):  # until two orders' deliveries fall into one second
                    placed = await anyio.to_thread.run_sync(shop.place_orders, 2)
                    assert len(placed) == 2
                    await anyio.to_thread.run_sync(shop.sandbox.webhooks.idle)
                    ids = {
                        e["delivery_id"]
                        for e in shop.sandbox.webhooks.log()
                        if e.get("topic") == "order.created" and e["resource_id"] in {o["id"] for o in placed}
                    }
                    if len(ids) == 1:
                        pair = placed
                        break
                assert pair, "no two deliveries in one second"
                processor = InboxProcessor(settings, store, pool, worker="inbox-test")
                keys: set[str] = set()

                async def both_queued() -> bool:
                    await processor.process_once()
                    for item in await store.claim("shop-orders", "order", worker="w", limit=50):
                        keys.add(item.key)
                    return {str(order["id"]) for order in pair} <= keys

                await wait_for(both_queued)  # one delivery id, two orders: both kept and queued
                stop.set()
        finally:
            await pool.close()
            await store.close()
