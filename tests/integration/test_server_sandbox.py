"""Webhooks end to end with the sandbox shop: registration, a real order delivery, inbox to work item."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import yaml
from typer.testing import CliRunner

from emporion.cli import app as cli
from emporion.config import Settings, load_settings
from emporion.engine.connections import ConnectorPool
from emporion.engine.inbox import InboxProcessor
from emporion.server import WebhookSecrets, run_server
from emporion.state import StateStore
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.offline import offline_erp

ORDER_TOPICS = ["order.created", "order.deleted", "order.updated"]


def write_config(tmp_path: Path, shop: SandboxShop, port: int) -> Path:
    """A configuration with the sandbox as an order source taking webhooks, state in tmp_path."""
    config = {
        "state": {"url": "sqlite:///state/emporion.db"},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "connections": {
            "shop": {
                "type": "woocommerce",
                "url": shop.base_url,
                "consumer_key": shop.consumer_key,
                "consumer_secret": shop.consumer_secret,
                "webhooks": True,
            },
            "erp": offline_erp(),
        },
        "flows": [{"name": "shop-orders", "source": "shop", "target": "erp", "entities": ["order"]}],
    }
    path = tmp_path / "emporion.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "state").mkdir(exist_ok=True)
    return path


def hooks(shop: SandboxShop) -> list[dict[str, Any]]:
    with httpx.Client(
        auth=(shop.consumer_key, shop.consumer_secret), headers={"X-Forwarded-Proto": "https"}
    ) as c:
        return c.get(f"{shop.api_url}/webhooks", params={"per_page": 100}).json()


def registered_secret(shop: SandboxShop, webhook_id: int) -> str:
    _, extra = shop.sandbox.store.get("webhook", webhook_id)
    return extra["secret"]


def stock_up(shop: SandboxShop) -> None:
    with httpx.Client(
        auth=(shop.consumer_key, shop.consumer_secret), headers={"X-Forwarded-Proto": "https"}
    ) as c:
        body = {
            "name": "Mug",
            "sku": "MUG-1",
            "regular_price": "9.00",
            "manage_stock": True,
            "stock_quantity": 50,
        }
        assert c.post(f"{shop.api_url}/products", json=body).status_code == 201


async def wait_for(check: Any, seconds: float = 10.0) -> Any:
    """Await `check()` until it returns something truthy (the shop delivers from its own thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await anyio.sleep(0.05)
    raise AssertionError("timed out")


async def test_a_shop_order_becomes_a_work_item_for_the_order_flow(tmp_path: Path) -> None:
    with SandboxShop.serve() as shop:
        stock_up(shop)
        settings: Settings = load_settings(write_config(tmp_path, shop, free_port()))
        store = await StateStore.connect(settings.state.url)
        pool = ConnectorPool(settings)
        secrets = WebhookSecrets(settings)
        stop = anyio.Event()
        try:
            async with anyio.create_task_group() as group:
                await group.start(run_server, settings, store, pool, stop, secrets)

                async def three_hooks() -> list[dict[str, Any]]:
                    found = await anyio.to_thread.run_sync(hooks, shop)
                    return found if len(found) == 3 else []

                registered = await wait_for(three_hooks)
                assert sorted(h["topic"] for h in registered if h["status"] == "active") == ORDER_TOPICS
                assert {h["delivery_url"] for h in registered} == {
                    f"{settings.server.public_url}/webhooks/shop"
                }
                assert {registered_secret(shop, h["id"]) for h in registered} == {secrets.get("shop")}
                assert await anyio.to_thread.run_sync(shop.sandbox.webhooks.idle)
                pings = [e for e in shop.sandbox.webhooks.log() if e.get("topic") == "ping"]
                assert len(pings) == 3 and {e["status"] for e in pings} == {200}

                [order] = await anyio.to_thread.run_sync(shop.place_orders, 1)
                processor = InboxProcessor(settings, store, pool, worker="inbox-test")

                async def queued() -> list[Any]:
                    await processor.process_once()
                    return await store.claim("shop-orders", "order", worker="w", limit=10)

                [item] = await wait_for(queued)
                assert (item.key, item.reason) == (str(order["id"]), "webhook")
                delivered = [e for e in shop.sandbox.webhooks.log() if e.get("topic") == "order.created"]
                assert [(e["resource_id"], e["status"]) for e in delivered] == [(order["id"], 200)]
                assert await store.inbox_claim(worker="again") == []  # all processed
                stop.set()
        finally:
            await pool.close()
            await store.close()


def test_webhooks_ensure_registers_and_reactivates(tmp_path: Path) -> None:
    runner = CliRunner()
    with SandboxShop.serve() as shop:
        config = write_config(tmp_path, shop, free_port())
        result = runner.invoke(cli, ["webhooks", "ensure", "-c", str(config)])
        assert result.exit_code == 0, result.output
        first = hooks(shop)
        assert sorted(h["topic"] for h in first) == ORDER_TOPICS
        secret_file = tmp_path / "state" / "secrets" / "webhook-shop"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip()
        assert {registered_secret(shop, h["id"]) for h in first} == {secret}

        assert runner.invoke(cli, ["webhooks", "ensure", "-c", str(config)]).exit_code == 0
        assert sorted(h["id"] for h in hooks(shop)) == sorted(h["id"] for h in first)  # nothing added

        with httpx.Client(
            auth=(shop.consumer_key, shop.consumer_secret), headers={"X-Forwarded-Proto": "https"}
        ) as client:
            disabled = first[0]
            client.put(f"{shop.api_url}/webhooks/{disabled['id']}", json={"status": "disabled"})
        assert runner.invoke(cli, ["webhooks", "ensure", "-c", str(config)]).exit_code == 0
        active = [h for h in hooks(shop) if h["status"] == "active"]
        assert sorted(h["topic"] for h in active) == ORDER_TOPICS
        assert secret_file.read_text().strip() == secret  # the secret survived the restart
        assert {registered_secret(shop, h["id"]) for h in active} == {secret}
