"""emporion's Medusa subscriber (scripts/medusa/src/subscribers/) delivering to the Medusa connection.

The session's Medusa loads the subscriber and delivers to the URL and secret the `medusa` fixture put
in its environment (EMPORION_TEST_MEDUSA_WEBHOOK_URL / _SECRET). A hub on that URL's port keeps every
delivery's headers and raw body and, when asked, relays it unchanged to emporion's own ingress. A
price change, a stock change and a placed order each arrive signed; the connection (preset medusa
plus the `webhooks:` block a merchant adds) verifies them and names the right entity and key; a
tampered body fails; and an order placed in Medusa becomes a sale through the ingress, no feed polled.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emporion.config import parse_settings
from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import PLUGIN
from emporion.connectors.rest.settings import RestConnection
from emporion.engine.inbox import InboxProcessor
from emporion.engine.worker import Engine
from emporion.model import Order, Product, StockLevel
from emporion.server import WebhookSecrets, run_server
from emporion.testing import MemorySystem, forget_systems, system
from emporion_devkit.erp.tryton_server import free_port
from tests.fixtures.medusa import RunningMedusa, admin, create_product, place_order, post
from tests.integration.engine_support import running_engine

URL_ENV = "EMPORION_TEST_MEDUSA_WEBHOOK_URL"
SECRET_ENV = "EMPORION_TEST_MEDUSA_WEBHOOK_SECRET"
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "connectors" / "medusa-subscriber.md"


def guide_configuration() -> dict[str, Any]:
    """The configuration example of docs/connectors/medusa-subscriber.md (its YAML block with `webhooks:`)."""
    blocks = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    (block,) = [block for block in blocks if "webhooks:" in block]
    return dict(yaml.safe_load(block))


# the block the guide tells a merchant to add to the Medusa connection, as the guide writes it
WEBHOOKS: dict[str, Any] = guide_configuration()["connections"]["shop"]["webhooks"]
Delivery = tuple[dict[str, str], bytes]


class Hub:
    """The subscriber's delivery URL in the tests: keeps each delivery, relays it when told where."""

    def __init__(self) -> None:
        """No deliveries yet, nothing to relay to."""
        self.deliveries: list[Delivery] = []
        self.relay_to: str | None = None
        self.refuse_once: str | None = None  # a topic whose next delivery is answered 503
        self.relayed: list[tuple[str, int]] = []  # (body, status) of each delivery relayed

    async def _take(self, request: Request) -> Response:
        """Keep one delivery; relay it unchanged (headers and raw body) and answer as the relay did."""
        headers, body = dict(request.headers), await request.body()
        self.deliveries.append((headers, body))
        if self.refuse_once is not None and headers.get("x-medusa-topic") == self.refuse_once:
            self.refuse_once = None
            return Response(status_code=503)
        target = self.relay_to
        if target is None:
            return Response(status_code=200)
        kept = {k: v for k, v in headers.items() if k.startswith("x-medusa-") or k == "content-type"}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                relayed = await client.post(target, content=body, headers=kept)
        except httpx.TransportError:
            return Response(status_code=502)  # emporion stopped meanwhile: the subscriber retries
        self.relayed.append((body.decode(), relayed.status_code))
        return Response(relayed.content, status_code=relayed.status_code)

    @classmethod
    def running(cls, port: int) -> Iterator[Hub]:
        """Serve a hub on 127.0.0.1:`port` (any path) until the block ends."""
        hub = cls()
        app = Starlette(routes=[Route("/{path:path}", hub._take, methods=["POST"])])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            yield hub
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()

    async def wait(self, wanted: Callable[[str, dict[str, Any]], bool], seconds: float = 20.0) -> Delivery:
        """The first delivery whose topic and body are `wanted` (fails after `seconds`)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for headers, body in list(self.deliveries):
                if wanted(headers.get("x-medusa-topic", ""), json.loads(body)):
                    return headers, body
            await anyio.sleep(0.05)
        seen = [(h.get("x-medusa-topic"), b[:120]) for h, b in self.deliveries[-10:]]
        raise AssertionError(f"no such delivery within {seconds} s; the last ones: {seen}")


@pytest.fixture(scope="module")
def hub(medusa: RunningMedusa) -> Iterator[Hub]:
    """The hub on the port the session's Medusa delivers to."""
    port = urlsplit(os.environ[URL_ENV]).port
    assert port is not None
    yield from Hub.running(port)


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The secret the session's Medusa signs with, also as MEDUSA_WEBHOOK_SECRET for `env:`."""
    value = os.environ[SECRET_ENV]
    monkeypatch.setenv("MEDUSA_WEBHOOK_SECRET", value)
    return value


def hooked(medusa: RunningMedusa) -> dict[str, Any]:
    """The merchant's Medusa connection: the preset, its url, key and ids, and the `webhooks:` block."""
    return {
        "type": "rest",
        "preset": "medusa",
        "url": medusa.url,
        "auth": {"kind": "basic", "username": medusa.secret_key},
        "options": {
            "currency": medusa.currency,
            "stock_location_id": medusa.stock_location_id,
            "sales_channel_id": medusa.sales_channel_id,
        },
        "webhooks": WEBHOOKS,
    }


@pytest.fixture
async def connector(medusa: RunningMedusa, secret: str) -> AsyncIterator[DeclarativeConnector]:
    """The connector of the hooked Medusa connection."""
    connector = PLUGIN.build("medusa", RestConnection.model_validate(hooked(medusa)))
    assert isinstance(connector, DeclarativeConnector)
    yield connector
    await connector.close()


async def wait_for(found: Callable[[], list[Any]], seconds: float = 20.0, count: int = 1) -> list[Any]:
    """What `found` returns once it has `count` items (fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(result := found()) >= count:
            return result
        await anyio.sleep(0.05)
    raise AssertionError(f"fewer than {count} within {seconds} s: {found()}")


def about(topic: str, ident: str) -> Callable[[str, dict[str, Any]], bool]:
    """Matches a delivery of `topic` naming `ident`."""
    return lambda named, body: named == topic and body.get("id") == ident


def assert_names(
    connector: DeclarativeConnector, delivery: Delivery, secret: str, entity: str, key: str
) -> None:
    """The delivery verifies with the secret and names `entity` and `key`."""
    headers, body = delivery
    assert connector.verify_webhook(headers, body, secret)
    hint = connector.parse_webhook(headers, body)
    assert hint is not None and (hint.entity, hint.keys) == (entity, [key])
    assert hint.delivery_id.startswith(headers["x-medusa-delivery"])


async def test_a_price_change_arrives_signed_naming_the_product(
    medusa: RunningMedusa, hub: Hub, connector: DeclarativeConnector, secret: str
) -> None:
    """A variant's new price is a product-variant.updated delivery naming the variant's product."""
    product = await create_product(medusa, "HOOK-PRICE", "Hooked tea", Decimal("4.50"), 5)
    variant = product["variants"][0]
    async with admin(medusa) as client:
        await post(
            client,
            f"/admin/products/{product['id']}/variants/{variant['id']}",
            {"prices": [{"currency_code": medusa.currency, "amount": Decimal("5.25")}]},
        )
    delivery = await hub.wait(about("product-variant.updated", product["id"]))
    assert_names(connector, delivery, secret, "product", product["id"])


async def test_a_deleted_variant_arrives_naming_its_product(
    medusa: RunningMedusa, hub: Hub, connector: DeclarativeConnector, secret: str
) -> None:
    """One of two variants deleted: product-variant.deleted names the product (found among the deleted)."""
    sizes = [{"sku": "HOOK-DEL-S", "value": "S"}, {"sku": "HOOK-DEL-M", "value": "M"}]
    product = await create_product(medusa, "HOOK-DEL", "Shirt", Decimal("9.00"), 2, variants=sizes)
    async with admin(medusa) as client:
        gone = await client.delete(f"/admin/products/{product['id']}/variants/{product['variants'][1]['id']}")
    assert gone.status_code == 200, gone.text
    delivery = await hub.wait(about("product-variant.deleted", product["id"]))
    assert_names(connector, delivery, secret, "product", product["id"])


async def test_a_stock_change_arrives_signed_naming_the_product(
    medusa: RunningMedusa, hub: Hub, connector: DeclarativeConnector, secret: str
) -> None:
    """A stocked quantity set at the location is an inventory-level.updated delivery naming the product."""
    product = await create_product(medusa, "HOOK-STOCK", "Stocked tea", Decimal("3.00"), 5)
    item_id = product["variants"][0]["inventory_items"][0]["inventory_item_id"]
    async with admin(medusa) as client:
        await post(
            client,
            f"/admin/inventory-items/{item_id}/location-levels/{medusa.stock_location_id}",
            {"stocked_quantity": 17},
        )
    delivery = await hub.wait(about("inventory-level.updated", product["id"]))
    assert_names(connector, delivery, secret, "product", product["id"])


async def test_a_placed_order_arrives_signed_and_a_tampered_one_fails(
    medusa: RunningMedusa, hub: Hub, connector: DeclarativeConnector, secret: str
) -> None:
    """order.placed names the order; one changed byte or another secret fails verification."""
    product = await create_product(medusa, "HOOK-ORDER", "Ordered tea", Decimal("2.00"), 20)
    order = await place_order(medusa, "hook@example.org", [(product["variants"][0]["id"], 2)])
    headers, body = await hub.wait(about("order.placed", order["id"]))
    assert_names(connector, (headers, body), secret, "order", order["id"])
    assert json.loads(body)["topic"] == "order.placed" and json.loads(body)["occurred_at"]
    tampered = body.replace(order["id"].encode(), order["id"][:-1].encode() + b"x")
    assert tampered != body and not connector.verify_webhook(headers, tampered, secret)
    assert not connector.verify_webhook(headers, body, "another-secret")


async def test_a_refused_delivery_is_retried_with_the_same_id_and_body(
    medusa: RunningMedusa, hub: Hub, connector: DeclarativeConnector, secret: str
) -> None:
    """A 503 from emporion: the same delivery (id, body) comes again, signed anew, naming the customer."""
    hub.refuse_once = "customer.created"
    async with admin(medusa) as client:
        made = await post(client, "/admin/customers", {"email": "retry@example.org", "first_name": "Ada"})
    ident = made["customer"]["id"]
    await hub.wait(lambda topic, body: hub.refuse_once is None and body.get("id") == ident)
    both = await wait_for(lambda: [d for d in hub.deliveries if json.loads(d[1]).get("id") == ident], count=2)
    first, again = both[:2]
    assert first[1] == again[1] and first[0]["x-medusa-delivery"] == again[0]["x-medusa-delivery"]
    assert_names(connector, again, secret, "customer", ident)


@asynccontextmanager
async def serving(engine: Engine, secrets: WebhookSecrets) -> AsyncIterator[None]:
    """emporion's HTTP server (webhook ingress) beside the engine, until the block ends."""
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        await group.start(run_server, engine.settings, engine.store, engine.pool, stop, secrets)
        try:
            yield
        finally:
            stop.set()


@pytest.fixture
def erp() -> Iterator[MemorySystem]:
    """The ERP: an in-memory system that sells the product the order is for."""
    forget_systems()
    erp = system("erp")
    erp.put(
        "product",
        Product(key="p1", sku="HOOK-E2E", name="Sencha", list_price=Decimal("4.50"),
                stock=[StockLevel(warehouse="WH", quantity=Decimal(50))]),
    )  # fmt: skip
    yield erp
    forget_systems()


async def test_an_order_placed_in_medusa_is_taken_in_through_the_ingress_without_a_poll(
    medusa: RunningMedusa, hub: Hub, secret: str, erp: MemorySystem, tmp_path: Path
) -> None:
    """The subscriber's delivery, relayed to emporion's ingress, is a sale once the inbox is processed
    and the queue worked, the order feed never polled."""
    port = free_port()
    orders_flow = {"name": "orders", "source": "shop", "target": "erp", "entities": ["order"]}
    config = {
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "connections": {"erp": {"type": "memory"}, "shop": hooked(medusa)},
        "flows": [orders_flow | {"orders": {"reference_prefix": "MED-", "shortage": "accept"}}],
    }
    product = await create_product(medusa, "HOOK-E2E", "Sencha", Decimal("4.50"), 30)
    async with running_engine(parse_settings(yaml.safe_dump(config, sort_keys=False))) as engine:
        await engine.ensure_initial_sync()
        async with serving(engine, WebhookSecrets(engine.settings, tmp_path / "secrets")):
            hub.relay_to = f"http://127.0.0.1:{port}/webhooks/shop"
            try:
                order = await place_order(medusa, "e2e@example.org", [(product["variants"][0]["id"], 3)])
                await hub.wait(about("order.placed", order["id"]))
                relayed = await wait_for(lambda: [s for body, s in hub.relayed if order["id"] in body])
                assert set(relayed) == {200}, "emporion's ingress took the delivery"
                processor = InboxProcessor(engine.settings, engine.store, engine.pool, worker="inbox-test")
                flow = engine.order_flows["orders"].flow
                deadline = time.monotonic() + 30
                sales: list[Order] = []
                while not sales and time.monotonic() < deadline:
                    await processor.process_once()
                    await engine.drain(flow, poll=False)
                    sales = [
                        s for s in erp.all("order")
                        if isinstance(s, Order) and any(line.sku == "HOOK-E2E" for line in s.lines)
                    ]  # fmt: skip
                    await anyio.sleep(0.1)
            finally:
                hub.relay_to = None
    (sale,) = sales
    assert [(line.sku, line.quantity) for line in sale.lines] == [("HOOK-E2E", Decimal(3))]


SUBSCRIBER = GUIDE.parents[2] / "scripts" / "medusa" / "src" / "subscribers" / "emporion-webhooks.js"


def test_the_guide_connection_follows_every_event_the_subscriber_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guide's connection parses, and its topics are exactly the events the subscriber follows."""
    monkeypatch.setenv("MEDUSA_SECRET_KEY", "sk_test")
    monkeypatch.setenv("MEDUSA_WEBHOOK_SECRET", "whsec_test")
    connection = RestConnection.model_validate(guide_configuration()["connections"]["shop"])
    assert connection.webhooks is not None and connection.webhooks.subscribe is None
    source = SUBSCRIBER.read_text(encoding="utf-8")
    lists = re.findall(r"const [A-Z]+_EVENTS = \[(.*?)\]", source)
    sent = {event for found in lists for event in re.findall(r'"([a-z-]+\.[a-z_]+)"', found)}
    followed = {topic for topics in connection.webhooks.topics.values() for topic in topics}
    assert len(lists) == 5 and sent == followed
