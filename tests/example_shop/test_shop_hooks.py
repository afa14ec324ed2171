"""minishop's webhooks: subscriptions through the API, signed deliveries of changes, failures counted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.example_shop.server import MiniShop
from tests.example_shop.shop_hooks import HookSigning

Delivery = tuple[dict[str, str], bytes]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Delivery]]]:
    """An HTTP server on 127.0.0.1 keeping every POST it receives: its URL and the deliveries."""
    received: list[Delivery] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()


def wait_for(received: list[Delivery], count: int) -> list[Delivery]:
    """The deliveries once `count` have arrived (at most five seconds)."""
    deadline = time.monotonic() + 5
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return received


def test_changes_are_delivered_signed_to_subscribers(receiver: tuple[str, list[Delivery]]) -> None:
    url, received = receiver
    with MiniShop().serve() as shop:
        api = httpx.Client(base_url=shop.url, headers={"X-Api-Key": "minishop-key"})
        for topic in ("product.created", "product.updated", "order.created"):
            assert (
                api.post(
                    "/api/webhooks", json={"url": url, "topic": topic, "secret": "hook-secret"}
                ).status_code
                == 201
            )
        listed = api.get("/api/webhooks").json()["items"]
        assert [s["topic"] for s in listed] == ["product.created", "product.updated", "order.created"]
        assert all("secret" not in s for s in listed)
        product = api.post("/api/products", json={"sku": "A", "name": "first", "stock": 5}).json()
        api.put(f"/api/products/{product['id']}", json={"price": "2.00"})
        shop.save("categories", {"name": "not subscribed"})
        wait_for(received, 2)
        assert len(received) == 2
    topics = [json.loads(body)["topic"] for _, body in received]
    assert topics == ["product.created", "product.updated"]
    for headers, body in received:
        assert json.loads(body)["id"] == product["id"]
        signed = f"{headers['x-minishop-timestamp']}.".encode() + body
        expected = hmac.new(b"hook-secret", signed, hashlib.sha256).hexdigest()
        assert headers["x-minishop-signature"] == expected
        assert headers["x-minishop-topic"] == json.loads(body)["topic"]
        assert abs(int(headers["x-minishop-timestamp"]) - time.time()) < 10
    assert len({headers["x-minishop-delivery"] for headers, _ in received}) == 2


def test_signing_options_and_failed_deliveries(receiver: tuple[str, list[Delivery]]) -> None:
    url, received = receiver
    signing = HookSigning(algorithm="sha512", encoding="base64", signed="body")
    with MiniShop(signing=signing).serve() as shop:
        shop.subscribe(url, "customer.created", "s2")
        shop.subscribe("http://127.0.0.1:9/closed", "customer.created", "s2")
        shop.save("customers", {"email": "ann@example.com"})
        wait_for(received, 1)
        deadline = time.monotonic() + 5
        while shop.hooks.failed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (shop.hooks.delivered, shop.hooks.failed) == (1, 1)
    headers, body = received[0]
    expected = base64.b64encode(hmac.new(b"s2", body, hashlib.sha512).digest()).decode()
    assert headers["x-minishop-signature"] == expected
