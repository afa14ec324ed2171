"""Webhook health end to end: a shop webhook disabled (then deleted) is registered again, the orders
placed meanwhile are caught up into real Tryton by polling, and a WEBHOOK_DISABLED alert arrives.

The order flow polls only once an hour here, so only the webhooks or the catch-up bring orders in.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import httpx
import pytest
from pydantic import SecretStr

from emporion import runtime
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import ServerSettings
from emporion.connectors.woocommerce.settings import WooCommerceConnection
from emporion.engine.worker import Engine
from emporion.server import WebhookSecrets
from emporion.state import StateStore
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.alerts import ChatReceiver, Mailbox
from tests.fixtures.tryton import RunningTryton
from tests.integration.alert_support import alerts_block, eventually, hook_path
from tests.integration.engine_support import place_order, settings_for, shop_api

pytestmark = pytest.mark.tryton

FLOWS = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    poll_interval: 0.5
  - name: orders
    source: shop
    target: erp
    entities: [order]
    poll_interval: 3600
    orders:
      reference_prefix: "WEB-"
      shortage: accept
      carriers: {"*": DHL}
      payment_methods: {stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}
      reconcile_interval: 3600
"""


def our_hooks(api: httpx.Client) -> list[dict[str, Any]]:
    return [
        h for h in api.get("/webhooks", params={"per_page": 100}).json() if h["name"].startswith("emporion")
    ]


async def all_active(api: httpx.Client) -> bool:
    hooks = our_hooks(api)
    return len(hooks) == 3 and all(h["status"] == "active" for h in hooks)


async def test_a_disabled_or_deleted_webhook_is_registered_again_caught_up_and_alerted(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    smtp_server: Mailbox,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = "  webhook_check_interval: 3\n  check_interval: 0.5\n"
    alerts = alerts_block(smtp_server, chat_receiver, monkeypatch, quiet_period=0, extra=extra)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, FLOWS + alerts, monkeypatch)
    port = free_port()
    settings.server = ServerSettings(host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}")
    shop = settings.connections["shop"]
    assert isinstance(shop, WooCommerceConnection)
    update = {"webhooks": True, "webhook_secret": SecretStr("hook-s3cret")}
    settings.connections["shop"] = shop.model_copy(update=update)
    api = shop_api(sandbox_shop)

    async def sale_of(order: dict[str, Any]) -> list[Any]:
        reference = f"WEB-{order['number']}"
        return await tryton_server.rpc(
            "sale.sale", "search_read", [("reference", "=", reference)], 0, 1, None, ["state"]
        )

    def webhook_alerts() -> list[dict[str, Any]]:
        return [b for b in chat_receiver.bodies(hook_path("generic")) if b["kind"] == "webhook_disabled"]

    store = await StateStore.connect(settings.state.url)
    engine = Engine(settings, store, alerts=alerts_from_settings(settings, store))
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            secrets = WebhookSecrets(settings)
            group.start_soon(partial(runtime.run, engine, stop=stop, serve=True, secrets=secrets))
            await eventually(lambda: all_active(api), "webhooks registered")
            await eventually(lambda: engine.store.get_cursor("orders", "order"), "order flow started")
            await eventually(lambda: engine.store.get_cursor("catalogue", "product"), "catalogue synced")
            [product] = api.get("/products", params={"sku": "SKU-00001"}).json()
            assert webhook_alerts() == []  # the first registration is not news

            # WooCommerce disabled the webhooks (delivery failures); an order comes in meanwhile
            for hook in our_hooks(api):
                api.put(f"/webhooks/{hook['id']}", json={"status": "disabled"}).raise_for_status()
            first = place_order(api, "wh@example.org", product["id"], 1, set_paid=True)
            [raised] = await eventually(lambda: _now(webhook_alerts()), "webhook alert")
            assert raised["subject"] == "shop" and not raised["resolved"]
            assert raised["details"]["webhooks"] == dict.fromkeys(
                ["order.created", "order.deleted", "order.updated"], "disabled"
            )
            assert raised["details"]["queued"] >= 1
            assert "hook-s3cret" not in str(raised)
            await eventually(lambda: all_active(api), "webhooks active again")
            await eventually(lambda: sale_of(first), f"sale of order {first['number']}")

            # someone deleted them; another order comes in meanwhile
            for hook in our_hooks(api):
                api.delete(f"/webhooks/{hook['id']}", params={"force": "true"}).raise_for_status()
            second = place_order(api, "wh@example.org", product["id"], 1, set_paid=True)
            await eventually(lambda: _now(webhook_alerts()[1:]), "second webhook alert")
            assert set(webhook_alerts()[1]["details"]["webhooks"].values()) == {"missing"}
            await eventually(lambda: all_active(api), "webhooks registered again")
            await eventually(lambda: sale_of(second), f"sale of order {second['number']}")
            mails = await smtp_server.wait_for(2)
            subjects = [str(m["Subject"]) for m in mails if "webhook" in str(m["Subject"])]
            assert subjects == ["emporion [WARNING] Shop webhook was disabled or missing: shop"] * 2
            stop.set()
    finally:
        await engine.pool.close()
        await store.close()


async def _now(value: Any) -> Any:
    return value
