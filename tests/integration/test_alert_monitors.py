"""The monitors end to end: real Tryton, sandbox shop, state database, SMTP server and chat receiver.

Each test brings about the real condition (unmappable products, stock booked out in the ERP, a shop
whose order feed fails) in a running engine and waits for the e-mail and the webhook messages, then
ends the condition and waits for the resolution.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.alerts.dispatcher import alerts_from_settings
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine
from emporion.state import StateStore
from emporion_devkit.demo.erp_changes import receive_stock
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.alerts import ChatReceiver, Mailbox
from tests.fixtures.tryton import RunningTryton
from tests.integration.alert_support import alerting_engine, alerts_block, eventually, hook_path
from tests.integration.engine_support import settings_for, shop_api

pytestmark = pytest.mark.tryton
FAST = "  check_interval: 0.3\n"


def generic(receiver: ChatReceiver, kind: str) -> list[dict[str, Any]]:
    return [body for body in receiver.bodies(hook_path("generic")) if body["kind"] == kind]


async def test_dead_letters_are_alerted_per_flow_naming_records_and_resolved_when_handled(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    smtp_server: Mailbox,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flows = """
  - name: broken
    source: erp
    target: shop
    price_list: Retail
"""
    alerts = alerts_block(smtp_server, chat_receiver, monkeypatch, extra=FAST)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows + alerts, monkeypatch)
    async with alerting_engine(settings) as engine:
        [raised] = await eventually(
            lambda: _async(generic(chat_receiver, "dead_letter")), "dead-letter alert"
        )
        dead = await engine.store.list_dead(flow="broken", limit=1000)
        assert dead and raised["details"]["open"] == len(dead)
        assert raised["subject"] == "broken" and raised["flow"] == "broken" and not raised["resolved"]
        assert dead[0].record in raised["message"] and "(price_lists.Retail)" in raised["message"]
        [mail] = await smtp_server.wait_for(1)
        assert str(mail["Subject"]) == "emporion [WARNING] Dead letters: broken (flow broken)"
        assert f"{len(dead)} open dead letters in flow broken" in mail.get_content()
        slack = chat_receiver.bodies(hook_path("slack"))
        assert len(slack) == 1 and dead[0].record in slack[0]["text"]

        await engine.store.discard_dead([letter.id for letter in dead if letter.id])
        await eventually(
            lambda: _async([b for b in generic(chat_receiver, "dead_letter") if b["resolved"]]), "resolution"
        )
        await smtp_server.wait_for(2)
        assert "[RESOLVED] Dead letters: broken" in smtp_server.subjects()[1]
    assert len(generic(chat_receiver, "dead_letter")) == 2  # the alert once, its end once


async def test_low_stock_is_alerted_when_the_erp_books_stock_out_and_resolved_when_it_comes_back(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    smtp_server: Mailbox,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sku = "SKU-00001"
    flows = f"""
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 1
    poll_interval: 0.5
    low_stock: {{default: 0, skus: {{{sku}: 10}}}}
"""
    # one more webhook that always fails: the sync and the other channels go on regardless
    alerts = alerts_block(smtp_server, chat_receiver, monkeypatch, extra=FAST, broken=True)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows + alerts, monkeypatch)
    api = shop_api(sandbox_shop)
    admin = tryton_server.admin()
    try:
        async with alerting_engine(settings) as engine:
            await eventually(lambda: engine.store.get_cursor("catalogue", "product"), "initial sync")
            [product] = api.get("/products", params={"sku": sku}).json()
            available = Decimal(product["stock_quantity"])
            await receive_stock(admin, sku, Decimal(6) - available)  # well below 10
            [raised] = await eventually(lambda: _async(generic(chat_receiver, "low_stock")), "low stock")
            assert raised["subject"] == sku and raised["flow"] == "catalogue"
            low = Decimal(raised["details"]["available"])
            assert raised["details"]["threshold"] == "10" and low < 10
            [mail] = await smtp_server.wait_for(1)
            assert str(mail["Subject"]) == f"emporion [WARNING] Low stock: {sku} (flow catalogue)"
            assert api.get("/products", params={"sku": sku}).json()[0]["stock_quantity"] == low  # as sent

            await receive_stock(admin, sku, Decimal(20))  # back above, synced despite the broken channel
            await eventually(
                lambda: _async([b for b in generic(chat_receiver, "low_stock") if b["resolved"]]),
                "resolution",
            )
            await smtp_server.wait_for(2)
            assert smtp_server.subjects()[1] == f"emporion [RESOLVED] Low stock: {sku} (flow catalogue)"
            assert api.get("/products", params={"sku": sku}).json()[0]["stock_quantity"] == low + 20
            [row] = await engine.store.list_alerts(kind="low_stock")
            assert (row.key, row.status) == (f"low_stock:catalogue:{sku}", "resolved")
    finally:
        await admin.close()
    teams = chat_receiver.bodies(hook_path("teams"))
    assert [card["summary"].split("]")[0] for card in teams] == ["[WARNING", "[RESOLVED"]


async def test_sync_lag_is_alerted_while_the_shop_feed_fails_and_resolved_when_it_reads_again(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    smtp_server: Mailbox,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flows = """
  - name: orders
    source: shop
    target: erp
    entities: [order]
    poll_interval: 0.3
    lag_threshold: 2
"""
    alerts = alerts_block(smtp_server, chat_receiver, monkeypatch, extra=FAST)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows + alerts, monkeypatch)
    async with alerting_engine(settings) as engine:
        await eventually(lambda: engine.store.get_cursor("orders", "order"), "order feed started")
        sandbox_shop.faults.set(rate_503=1.0, route="/orders*")
        [raised] = await eventually(lambda: _async(generic(chat_receiver, "sync_lag")), "lag alert")
        assert raised["subject"] == "orders" and raised["details"]["since_last_poll_seconds"] >= 2
        assert "change feed has not been read successfully" in raised["message"]
        # the failing shop also opens its circuit, which is an alert of its own
        [mail] = await smtp_server.wait_for_subject("Sync is lagging")
        assert str(mail["Subject"]) == "emporion [WARNING] Sync is lagging: orders (flow orders)"
        sandbox_shop.faults.clear()
        await eventually(
            lambda: _async([b for b in generic(chat_receiver, "sync_lag") if b["resolved"]]), "resolution"
        )
        await smtp_server.wait_for_subject("Sync is lagging", 2)
    assert len(generic(chat_receiver, "sync_lag")) == 2  # once (quiet period), then its end


async def _async(value: Any) -> Any:
    return value


async def test_an_order_short_of_stock_is_held_and_alerted(
    tryton_server: RunningTryton,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    smtp_server: Mailbox,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flows = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
  - name: orders
    source: shop
    target: erp
    entities: [order]
    orders:
      reference_prefix: "WEB-"
      shortage: hold
      carriers: {"*": DHL}
      payment_methods: {stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}
"""
    alerts = alerts_block(smtp_server, chat_receiver, monkeypatch)
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows + alerts, monkeypatch)
    store = await StateStore.connect(settings.state.url)
    engine = Engine(settings, store, alerts=alerts_from_settings(settings, store))
    try:
        await sync_flow(engine.runners["catalogue"])
        await engine.ensure_initial_sync()
        api = shop_api(sandbox_shop)
        [product] = api.get("/products", params={"sku": "SKU-00001"}).json()
        billing = {"first_name": "Short", "last_name": "Stock", "email": "ss@example.org", "country": "DE"}
        line = {"product_id": product["id"], "quantity": 5000}
        order = api.post("/orders", json={"billing": billing, "line_items": [line], "status": "processing"})
        order.raise_for_status()
        number = order.json()["number"]
        await engine.drain(engine.order_flows["orders"].flow)
        [raised] = generic(chat_receiver, "stock_short")
        assert raised["subject"] == f"order {number}" and raised["flow"] == "orders"
        assert "SKU-00001 ordered 5000" in raised["message"] and "ss@example.org" not in str(raised)
        [mail] = await smtp_server.wait_for(1)
        title = f"Stock short for a shop order: order {number} (flow orders)"
        assert str(mail["Subject"]) == f"emporion [WARNING] {title}"
        assert "Short" not in mail.get_content() and "ss@example.org" not in mail.get_content()
    finally:
        await engine.pool.close()
        await store.close()
