"""The running engine polls the sandbox shop's orders slowly while its webhooks deliver, fast when they stop.

`emporion run` with its server against the sandbox WooCommerce shop (which registers and delivers real
signed webhooks) and an ERP in memory: before any delivery the order feed is polled every
`poll_interval`; after a delivery only every `webhook_poll_interval`; when the webhooks are disabled
in the shop, the next order is found by the slow poll, no delivery follows, and the feed is fast again.
"""

from __future__ import annotations

import inspect
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx

from emporion import runtime
from emporion.config import Settings
from emporion.engine.worker import Engine
from emporion.model import Order, Product, StockLevel
from emporion.server import WebhookSecrets
from emporion.state import StateStore
from emporion.testing import system
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.engine.conftest import memory_plugin  # noqa: F401  (autouse: the memory connector is known)

FAST, SLOW = 0.2, 3.0


def admin(shop: SandboxShop) -> httpx.Client:
    return httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    )


async def polls_within(engine: Engine, seconds: float) -> int:
    """How often the order feed was polled during the next `seconds`."""
    pacer = engine.feed_pacers["orders"]["order"]
    before = pacer.polls
    await anyio.sleep(seconds)
    return pacer.polls - before


async def until(check: Any, seconds: float) -> Any:
    """Call `check` (plain or async) until it answers something truthy, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        await anyio.sleep(0.05)
    raise AssertionError("timed out")


async def test_polling_slows_while_webhooks_deliver_and_speeds_up_when_they_stop(tmp_path: Path) -> None:
    erp = system(f"erp-pace-{time.monotonic_ns()}")
    erp.put(
        "product",
        Product(key="p1", sku="MUG-1", name="Mug", stock=[StockLevel(warehouse="WH", quantity=Decimal(90))]),
    )
    port = free_port()
    with SandboxShop.serve() as shop, admin(shop) as client:
        body = {
            "name": "Mug",
            "sku": "MUG-1",
            "regular_price": "9.00",
            "manage_stock": True,
            "stock_quantity": 90,
        }
        assert client.post("/products", json=body).status_code == 201
        settings = Settings.model_validate(
            {
                "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
                "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
                "connections": {
                    "shop": {
                        "type": "woocommerce",
                        "url": shop.base_url,
                        "consumer_key": shop.consumer_key,
                        "consumer_secret": shop.consumer_secret,
                        "webhooks": True,
                    },
                    "erp": {"type": "memory", "system": erp.name},
                },
                "flows": [
                    {
                        "name": "orders",
                        "source": "shop",
                        "target": "erp",
                        "entities": ["order"],
                        "poll_interval": FAST,
                        "webhook_poll_interval": SLOW,
                    }
                ],
            }
        )
        store = await StateStore.connect(settings.state.url)
        engine = Engine(settings, store, worker="pace-test")
        stop = anyio.Event()
        secrets = WebhookSecrets(settings, tmp_path / "secrets")

        def sales() -> list[Order]:
            return [sale for sale in erp.all("order") if isinstance(sale, Order)]

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(lambda: runtime.run(engine, stop=stop, serve=True, secrets=secrets))

                async def registered() -> list[dict[str, Any]]:
                    hooks = await anyio.to_thread.run_sync(lambda: client.get("/webhooks").json())
                    return hooks if len([h for h in hooks if h["status"] == "active"]) == 3 else []

                hooks = await until(registered, 15)
                await until(lambda: "orders" in engine.feed_pacers, 15)
                assert (
                    await polls_within(engine, 1.0) >= 2
                )  # no delivery seen yet: every poll_interval (0.2 s)

                [first] = await anyio.to_thread.run_sync(shop.place_orders, 1)
                await until(lambda: len(sales()) == 1, 15)  # delivered, then worked
                pacer = engine.feed_pacers["orders"]["order"]
                await until(lambda: pacer.slowed, 10)
                assert await polls_within(engine, 2.0) <= 1  # webhooks deliver: every webhook_poll_interval

                for hook in hooks:  # a person disables the webhooks in the shop
                    await anyio.to_thread.run_sync(
                        lambda h=hook: client.put(f"/webhooks/{h['id']}", json={"status": "disabled"})
                    )
                [second] = await anyio.to_thread.run_sync(shop.place_orders, 1)
                # the slow poll finds it (the ERP gets it), no delivery follows: fast again
                await until(lambda: len(sales()) == 2, 3 * SLOW)
                await until(lambda: not pacer.slowed, 3 * SLOW)
                await anyio.sleep(SLOW)
                assert await polls_within(engine, 1.0) >= 2  # every poll_interval again
                stop.set()
        finally:
            await engine.pool.close()
            await store.close()
    assert {sale.reference for sale in sales()} == {f"ORDERS-{first['number']}", f"ORDERS-{second['number']}"}
