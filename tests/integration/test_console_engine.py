"""The console against a running engine: real Tryton, sandbox shop, webhooks, pause and correlation ids."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr

from emporion.engine.inbox import InboxProcessor
from emporion.logs import configure_logging
from emporion.metrics import REGISTRY
from emporion.ops.service import ConsoleService
from emporion.server import WebhookSecrets, create_app, serve_app
from emporion.state import StateStore
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.console_support import running_console, token
from tests.integration.engine_support import place_order, running_engine, shop_api
from tests.integration.test_order_flow import sales_by_reference, settings_for, start
from tests.integration.test_server_ingress import signed

pytestmark = pytest.mark.tryton
SECRET = "whsec-console-e2e"


async def until(check: Callable[[], Awaitable[object]]) -> None:
    """Wait until `check` is truthy (the caller bounds the wait)."""
    while not await check():  # noqa: ASYNC110 - the state database has no notifications to wait on
        await anyio.sleep(0.5)


async def drained(store: StateStore, flow: str) -> bool:
    """Whether the flow's work queue is empty."""
    return not await store.queue_depth(flow)


def place_paid_order(shop: httpx.Client, email: str, product_id: int) -> dict:
    """A paid order with full addresses, as the ERP needs them for a sale."""
    address = {"first_name": "Trace", "last_name": "Customer", "address_1": "Hauptstr. 1"}
    address |= {"city": "Berlin", "postcode": "10115", "country": "DE"}
    return place_order(
        shop,
        email,
        product_id,
        1,
        status="processing",
        payment_method="stripe",
        payment_method_title="Card",
        set_paid=True,
        billing=address | {"email": email},
        shipping=address,
    )


def simple_product(shop: httpx.Client) -> dict:
    """A simple product of the synced catalogue."""
    return next(
        p
        for p in shop.get("/products", params={"per_page": 50}).json()
        if p["type"] == "simple" and p["sku"].startswith("SKU-")
    )


def json_lines(text: str) -> list[dict]:
    """The JSON log lines of captured stderr."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def counted(name: str, flow: str, entity: str) -> float:
    """The sum of a metric's samples for (flow, entity) in this process, over their other labels."""
    text = generate_latest(REGISTRY).decode()
    total = 0.0
    for labels, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        if f'flow="{flow}"' in labels and f'entity="{entity}"' in labels:
            total += float(value)
    return total


async def test_one_order_is_followed_by_its_correlation_id_from_webhook_to_sale(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    shop_settings = settings.connections["shop"].model_copy(
        update={"webhooks": True, "webhook_secret": SecretStr(SECRET)}
    )
    settings.connections["shop"] = shop_settings
    sent: list[tuple[str, str | None]] = []  # (host, X-Correlation-ID) of every request the engine sends

    async def record(request: httpx.Request) -> None:
        sent.append((request.url.host + str(request.url.port), request.headers.get("x-correlation-id")))

    configure_logging("json", "info")
    try:
        async with running_engine(settings, worker="w1") as engine:
            await start(engine)
            for name in ("shop", "erp"):
                engine.pool.get(name).client._http.event_hooks["request"].append(record)
            shop = shop_api(sandbox_shop)
            simple = simple_product(shop)
            order = place_paid_order(shop, "trace@example.org", simple["id"])
            before = counted("emporion_work_processed_total", "orders-shop", "order")
            latencies = counted("emporion_sync_latency_seconds_count", "orders-shop", "order")
            capsys.readouterr()
            app = create_app(settings, engine.store, WebhookSecrets(settings, tmp_path / "secrets"))
            stop = anyio.Event()
            async with anyio.create_task_group() as group:
                port = await group.start(serve_app, app, "127.0.0.1", 0, stop)
                body = json.dumps({"id": order["id"], "number": order["number"]}).encode()
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                    posted = await client.post("/webhooks/shop", content=body, headers=signed(body, SECRET))
                    assert posted.status_code == 200
                stop.set()
            sent.clear()
            assert await InboxProcessor(settings, engine.store, engine.pool).process_once() == 1
            flow = engine.order_flows["orders-shop"].flow
            await engine.drain(flow)
            assert len(await sales_by_reference(tryton_server, f"WEB-{order['number']}")) == 1
            assert counted("emporion_work_processed_total", "orders-shop", "order") > before
            assert counted("emporion_sync_latency_seconds_count", "orders-shop", "order") > latencies
    finally:
        configure_logging("pretty", "info")
    lines = json_lines(capsys.readouterr().err)
    (stored,) = [line for line in lines if line.get("event") == "webhook" and line.get("outcome") == "stored"]
    correlation = stored["correlation_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", correlation)
    followed = [line for line in lines if line.get("correlation_id") == correlation]
    synced = [line for line in followed if line.get("event") == "synced"]
    assert synced and synced[0]["flow"] == "orders-shop" and synced[0]["entity"] == "order"
    # the requests for this order, to the shop and to the ERP, carried the id
    marked = {host for host, header in sent if header == correlation}
    shop_host = httpx.URL(sandbox_shop.base_url)
    erp_host = httpx.URL(tryton_server.url)
    assert shop_host.host + str(shop_host.port) in marked
    assert erp_host.host + str(erp_host.port) in marked
    assert "trace@example.org" not in "\n".join(json.dumps(line) for line in followed)
    requests = generate_latest(REGISTRY).decode()
    for connection in ("shop", "erp"):
        pattern = rf'emporion_connection_requests_total\{{connection="{connection}",method="(GET|POST|PUT)",'
        assert re.search(pattern + r'status="200"\} [1-9]', requests), connection


async def test_pause_stops_a_running_engines_flow_and_resume_restarts_it(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        service = ConsoleService(settings, engine.store, engine.pool)
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: engine.run(stop=stop))
            with anyio.fail_after(240):  # the initial catalogue sync
                await until(lambda: engine.store.count_links("catalogue-shop", "product"))
                await until(lambda: drained(engine.store, "catalogue-shop"))
            await service.pause("catalogue-shop", "user:test")
            await anyio.sleep(1.5)  # a batch claimed before the pause may still finish
            result = await service.resync_flow("catalogue-shop")
            assert result.queued > 0
            await anyio.sleep(4)  # several work-loop rounds: nothing is taken while paused
            depth = await engine.store.queue_depth("catalogue-shop")
            assert sum(depth.values()) == result.queued
            (status,) = [f for f in await service.flows() if f.name == "catalogue-shop"]
            assert status.state == "paused" and status.queued == result.queued
            await service.resume("catalogue-shop", "user:test")
            with anyio.fail_after(120):
                await until(lambda: drained(engine.store, "catalogue-shop"))
            stop.set()


async def test_records_are_found_by_sku_order_number_and_email_and_shown_on_both_sides(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        shop = shop_api(sandbox_shop)
        simple = simple_product(shop)
        order = place_paid_order(shop, "finder@example.org", simple["id"])
        flow = engine.order_flows["orders-shop"].flow
        await engine.store.enqueue(flow.name, "order", [str(order["id"])], reason="webhook")
        await engine.drain(flow)
    async with running_console(settings, tmp_path / "secrets") as server:
        admin = await token(server.store, "admin")

        async def search(term: str) -> dict:
            response = await server.client.get("/api/v1/search", params={"q": term}, headers=admin)
            assert response.status_code == 200, response.text
            return response.json()

        by_sku = await search(simple["sku"])
        (product,) = [r for r in by_sku["records"] if r["entity"] == "product"]
        assert by_sku["kind"] == "sku" and product["flow"] == "catalogue-shop"
        assert product["source"]["sku"] == simple["sku"]  # read from Tryton now
        assert product["target"]["sku"] == simple["sku"]  # read from the shop now
        assert product["link"]["target_ref"]["id"] == simple["id"]
        assert product["journal"] and product["journal"][-1]["action"] == "created"

        by_number = await search(order["number"])
        (found,) = by_number["records"]
        assert by_number["kind"] == "order" and found["key"] == str(order["id"])
        assert found["source"]["number"] == order["number"] and found["journal"]
        by_email = await search("finder@example.org")
        assert by_email["kind"] == "email"
        assert [r["key"] for r in by_email["records"]] == [str(order["id"])]
        assert (await search("nobody@example.org"))["records"] == []
