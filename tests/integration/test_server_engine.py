"""`runtime.run(serve=True)`: the HTTP server and the inbox processor run in the engine's process."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import anyio
import httpx

from emporion import runtime
from emporion.config import Settings
from emporion.engine.worker import Engine
from emporion.server import WebhookSecrets
from emporion.state import StateStore
from emporion_devkit.erp.tryton_server import free_port
from tests.fixtures.offline import offline_shop


async def test_run_serves_webhooks_and_processes_the_inbox(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings.model_validate(
        {
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "server": {"host": "127.0.0.1", "port": port},
            "connections": {
                "shop": offline_shop(webhooks=True, webhook_secret="s3cret"),
            },
        }
    )
    store = await StateStore.connect(settings.state.url)
    engine = Engine(settings, store)
    body = b'{"id": 1}'
    signature = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",  # as WooCommerce sends it
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Signature": signature,
    }
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            secrets = WebhookSecrets(settings)
            group.start_soon(lambda: runtime.run(engine, stop=stop, serve=True, secrets=secrets))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                for _ in range(200):
                    try:
                        health = await client.get("/healthz")
                        break
                    except httpx.ConnectError:
                        await anyio.sleep(0.02)
                assert health.status_code == 200
                posted = await client.post("/webhooks/shop", content=body, headers=headers)
                assert posted.status_code == 200
            await anyio.sleep(1.5)  # the inbox processor polls at least every second
            stop.set()
        assert await store.inbox_claim(worker="after") == []  # processed (no flow wanted it)
        delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()  # no Delivery-ID header was sent
        assert not await store.inbox_add("shop", delivery_id, "order.created", {}, body)  # kept before
    finally:
        await engine.pool.close()
        await store.close()
