"""Declarative webhooks on minishop: real deliveries, signed by the shop, checked by the description.

A small receiver runs on 127.0.0.1 and keeps every delivery's headers and raw body; the connector
registers it with the shop (`ensure_webhooks`), a product changes, and the shop delivers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import PLUGIN
from emporion.connectors.rest.webhooks import fresh
from tests.connectors.rest.test_contract import API_KEY, description
from tests.example_shop.server import MiniShop
from tests.example_shop.shop_hooks import HookSigning

AUTH = {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"}
SECRET = "delivery-secret"
INSTALLATION = "install0000001"


class Receiver:
    """An HTTP endpoint that keeps the deliveries it is sent: (headers, raw body)."""

    def __init__(self) -> None:
        """No deliveries yet."""
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    async def _take(self, request: Request) -> JSONResponse:
        """Keep one delivery."""
        self.deliveries.append((dict(request.headers), await request.body()))
        return JSONResponse({"ok": True})

    @classmethod
    def running(cls) -> Iterator[Receiver]:
        """Serve a receiver on 127.0.0.1 and a free port until the block ends."""
        receiver = cls()
        app = Starlette(routes=[Route("/hooks", receiver._take, methods=["POST"])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
        try:
            yield receiver
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()

    def wait(self, count: int, seconds: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        """The deliveries, once `count` have arrived (fails after `seconds`)."""
        deadline = time.monotonic() + seconds
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.deliveries) >= count, "the shop delivered nothing"
        return self.deliveries


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver of deliveries."""
    yield from Receiver.running()


async def delivered(
    shop: MiniShop, receiver: Receiver, connector: DeclarativeConnector
) -> tuple[str, dict[str, str], bytes]:
    """Register for product topics, change a product; its id and the shop's signed delivery."""
    topics = connector.webhook_topics(["product"])
    ids = await connector.ensure_webhooks(receiver.url, SECRET, topics, installation=INSTALLATION)
    assert len(ids) == len(topics) == 3
    made = shop.save("products", {"sku": "HOOK-1", "name": "Tea", "price": "1"})
    ((headers, body),) = receiver.wait(1)
    return str(made["id"]), headers, body


async def test_a_real_delivery_passes_and_names_the_product(
    shop: MiniShop, receiver: Receiver, connector: DeclarativeConnector
) -> None:
    """The shop's own signed delivery verifies and names the product and its topic."""
    key, headers, body = await delivered(shop, receiver, connector)
    assert connector.verify_webhook(headers, body, SECRET)
    hint = connector.parse_webhook(headers, body)
    assert hint is not None and hint.entity == "product" and hint.keys == [key]
    assert hint.topic == "product.created" == connector.webhook_topic(headers)
    again = connector.delivery(headers, body)
    assert again.delivery_id == hint.delivery_id and again.delivery_id.startswith(
        headers["x-minishop-delivery"]
    )


async def test_a_tampered_body_or_wrong_secret_fails(
    shop: MiniShop, receiver: Receiver, connector: DeclarativeConnector
) -> None:
    """One changed byte, another secret or none: the signature fails."""
    _, headers, body = await delivered(shop, receiver, connector)
    assert not connector.verify_webhook(headers, body.replace(b'"id": ', b'"id": 1'), SECRET)
    assert not connector.verify_webhook(headers, body, "another-secret")
    assert not connector.verify_webhook(headers, body, "")


async def test_an_old_timestamp_is_refused_even_when_signed(
    shop: MiniShop, receiver: Receiver, connector: DeclarativeConnector
) -> None:
    """A delivery signed an hour ago is a replay: refused though its signature is right."""
    _, headers, body = await delivered(shop, receiver, connector)
    old = str(int(time.time()) - 3600)
    replayed = {**headers, "x-minishop-timestamp": old}
    replayed["x-minishop-signature"] = HookSigning().sign(SECRET, old, body)  # the shop's own signing
    assert not connector.verify_webhook(replayed, body, SECRET)
    now = str(int(time.time()))
    current = {
        **headers,
        "x-minishop-timestamp": now,
        "x-minishop-signature": HookSigning().sign(SECRET, now, body),
    }
    assert connector.verify_webhook(current, body, SECRET)
    hooks = connector.settings.webhooks
    assert hooks is not None and not fresh(hooks, headers, now=time.time() + 3600)


async def test_registration_is_idempotent_and_per_installation(
    shop: MiniShop, receiver: Receiver, connector: DeclarativeConnector
) -> None:
    """Registering twice keeps one webhook per topic; another installation's are its own."""
    topics = connector.webhook_topics(["product"])
    ours = await connector.ensure_webhooks(receiver.url, SECRET, topics, installation=INSTALLATION)
    assert await connector.ensure_webhooks(receiver.url, SECRET, topics, installation=INSTALLATION) == ours
    theirs = await connector.ensure_webhooks(receiver.url, SECRET, topics, installation="other0000000001")
    assert not set(ours) & set(theirs) and len(shop.hooks.listed()) == 2 * len(topics)
    assert await connector.webhook_states(
        receiver.url, SECRET, topics, installation=INSTALLATION
    ) == dict.fromkeys(topics, "active")
    rotated = await connector.webhook_states(receiver.url, "rotated", topics, installation=INSTALLATION)
    assert set(rotated.values()) == {"outdated"}
    assert all(SECRET not in str(hook) for hook in shop.hooks.listed())


async def test_a_shop_without_registration_is_polled(shop: MiniShop) -> None:
    """Without a subscribe call nothing is registered (the engine polls)."""
    settings = description(shop, AUTH)
    assert settings.webhooks is not None
    settings.webhooks = settings.webhooks.model_copy(update={"subscribe": None})
    connector = PLUGIN.build("minishop", settings)
    assert isinstance(connector, DeclarativeConnector)
    try:
        topics = connector.webhook_topics(["product"])
        assert (
            await connector.ensure_webhooks("http://127.0.0.1:9/hooks", SECRET, topics, installation="x")
            == []
        )
    finally:
        await connector.close()
