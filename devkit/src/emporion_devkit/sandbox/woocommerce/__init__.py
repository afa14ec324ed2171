"""A WooCommerce-compatible sandbox shop: REST API v3, webhooks, faults and simulated shoppers over HTTP.

with SandboxShop.serve(db=":memory:") as shop:
    shop.base_url, shop.consumer_key, shop.consumer_secret
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from emporion_devkit.sandbox.woocommerce.faults import FaultInjector, FaultRule
from emporion_devkit.sandbox.woocommerce.latency import LatencyModel
from emporion_devkit.sandbox.woocommerce.sandbox import Sandbox
from emporion_devkit.sandbox.woocommerce.server import SandboxShop


def create_app(
    db: str = ":memory:",
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    trust_forwarded_proto: bool = True,
    base_url: str = "http://127.0.0.1:8801",
    **options: Any,
) -> Starlette:
    """A Starlette app serving a new sandbox; `app.state.sandbox` holds its keys, faults and shopper.

    A read_write key is registered (generated unless given); `base_url` is the store URL used in links.
    """
    sandbox = Sandbox(db, **options)
    sandbox.shop.base_url = base_url
    key = sandbox.keys.add("read_write", consumer_key, consumer_secret)
    app = Starlette()
    app.router.default = sandbox.app(trust_forwarded_proto)
    app.state.sandbox = sandbox
    app.state.consumer_key, app.state.consumer_secret = key.consumer_key, key.consumer_secret
    return app


__all__ = ["FaultInjector", "FaultRule", "LatencyModel", "Sandbox", "SandboxShop", "create_app"]
