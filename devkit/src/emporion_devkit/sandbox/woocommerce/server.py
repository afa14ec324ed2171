"""`SandboxShop`: a sandbox served by uvicorn in a background thread, for tests, demos and benchmarks."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emporion_devkit.sandbox.serving import ThreadedServer
from emporion_devkit.sandbox.woocommerce.faults import FaultInjector
from emporion_devkit.sandbox.woocommerce.latency import LatencyModel
from emporion_devkit.sandbox.woocommerce.sandbox import Sandbox


class SandboxShop:
    """A running WooCommerce-compatible sandbox: its URL, keys, fault injector and shopper simulator."""

    def __init__(
        self,
        db: str = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        trust_forwarded_proto: bool = True,
        utc_offset_minutes: int = 0,
        seed: int | None = None,
        currency: str = "EUR",
        latency: LatencyModel | None = None,
        timezone: str | None = None,
        webhook_delay: float = 0.0,
    ) -> None:
        self.sandbox = Sandbox(
            db,
            utc_offset_minutes=utc_offset_minutes,
            seed=seed,
            currency=currency,
            latency=latency,
            timezone=timezone,
            webhook_delay=webhook_delay,
        )
        self.host = host
        self.port = port
        self.trust_forwarded_proto = trust_forwarded_proto
        key = self.sandbox.keys.find(consumer_key) if consumer_key else None
        if key is None or (consumer_secret and key.consumer_secret != consumer_secret):
            key = self.sandbox.keys.add("read_write", consumer_key, consumer_secret)
        self.consumer_key = key.consumer_key
        self.consumer_secret = key.consumer_secret
        self._serving = ThreadedServer("the sandbox server")

    @classmethod
    @contextmanager
    def serve(
        cls,
        db: str = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        **options: Any,
    ) -> Iterator[SandboxShop]:
        """Serve a sandbox on `host:port` (0 = a free port) in a background thread until the block ends."""
        shop = cls(db, host, port, consumer_key, consumer_secret, **options)
        shop.start()
        try:
            yield shop
        finally:
            shop.stop()

    @property
    def base_url(self) -> str:
        """The store URL; the REST API is at `base_url + "/wp-json/wc/v3"`."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The REST API root."""
        return self.base_url + "/wp-json/wc/v3"

    @property
    def faults(self) -> FaultInjector:
        """The fault injector: `faults.set(rate_429=0.3, route="/products*")`, `faults.clear()`."""
        return self.sandbox.faults

    def add_key(self, permission: str = "read_write") -> tuple[str, str]:
        """Create another key with read, write or read_write permission: (consumer_key, consumer_secret)."""
        key = self.sandbox.keys.add(permission)
        return key.consumer_key, key.consumer_secret

    def place_orders(self, n: int, money_lines: bool = False) -> list[dict[str, Any]]:
        """Let simulated shoppers place `n` orders (coupons and fees too if `money_lines`); returns them."""
        return self.sandbox.shopper.place_orders(n, money_lines)

    def simulate_orders(self, rate: float, money_lines: bool = False) -> None:
        """Keep placing orders at `rate` per second in the background (0 stops)."""
        self.sandbox.shopper.run(rate, money_lines)

    def start(self) -> None:
        """Bind the socket and serve in a background thread."""
        self.port = self._serving.bind(self.host, self.port)
        self.sandbox.shop.base_url = self.base_url
        app = exact_date(self.sandbox.app(self.trust_forwarded_proto))
        self._serving.run(app, date_header=False, proxy_headers=False, timeout_keep_alive=30)

    def stop(self) -> None:
        """Stop serving and close the store."""
        self._serving.stop()
        self.sandbox.close()

    def wait(self) -> None:
        """Block until the server thread ends (the CLI waits here until interrupted)."""
        self._serving.wait()


def exact_date(app: ASGIApp) -> ASGIApp:
    """The app with a `Date` header taken when each answer starts, as a web server in front of PHP sends.

    uvicorn's own header is refreshed once a second and can lag a second behind, which a shop client
    that reads the shop's clock from it (the change feeds do) would see as the clock going back.
    """

    async def dated(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", email.utils.formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_dated)

    return dated
