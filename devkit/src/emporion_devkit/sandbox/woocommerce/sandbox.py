"""The composition root of one sandbox shop: store, shop, keys, faults, webhooks and the shopper."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emporion_devkit.sandbox.woocommerce import render
from emporion_devkit.sandbox.woocommerce.accounts import CouponResource, CustomerResource
from emporion_devkit.sandbox.woocommerce.app import RestRequest, SandboxApp, json_response
from emporion_devkit.sandbox.woocommerce.auth import ApiKey, KeyRing
from emporion_devkit.sandbox.woocommerce.catalog import CategoryResource, ProductResource, VariationResource
from emporion_devkit.sandbox.woocommerce.clock import Clock
from emporion_devkit.sandbox.woocommerce.errors import ApiError, no_route
from emporion_devkit.sandbox.woocommerce.faults import FaultInjector
from emporion_devkit.sandbox.woocommerce.latency import LatencyModel, LatencyRuntime
from emporion_devkit.sandbox.woocommerce.order_children import NoteResource, RefundResource
from emporion_devkit.sandbox.woocommerce.orders import OrderResource
from emporion_devkit.sandbox.woocommerce.shop import Shop
from emporion_devkit.sandbox.woocommerce.shopper import Shopper
from emporion_devkit.sandbox.woocommerce.store import Store
from emporion_devkit.sandbox.woocommerce.taxes import TaxResource
from emporion_devkit.sandbox.woocommerce.traffic import Traffic
from emporion_devkit.sandbox.woocommerce.webhooks import Dispatcher, WebhookResource


class Sandbox:
    """Everything one sandbox shop is made of, and the operations that need more than the shop core."""

    def __init__(
        self,
        db: str = ":memory:",
        utc_offset_minutes: int = 0,
        seed: int | None = None,
        currency: str = "EUR",
        latency: LatencyModel | None = None,
        timezone: str | None = None,
        webhook_delay: float = 0.0,
    ) -> None:
        self.store = Store(db)
        self.latency = LatencyRuntime(latency) if latency is not None else None
        self.shop = Shop(self.store, Clock(utc_offset_minutes, timezone), currency)
        resources = (
            ProductResource(),
            VariationResource(),
            CategoryResource(),
            OrderResource(),
            TaxResource(),
        )
        for resource in (*resources, NoteResource(), RefundResource(), CustomerResource(), CouponResource()):
            self.shop.register(resource)
        self.keys = KeyRing(self.store)
        self.faults = FaultInjector(seed)
        self.traffic = Traffic()
        self.webhooks = Dispatcher(self.shop, self.faults, delay=webhook_delay)
        self.shop.register(WebhookResource(self.webhooks))
        self.shop.listeners.append(self.webhooks.notify)
        self.shopper = Shopper(self.shop, seed)

    def app(self, trust_forwarded_proto: bool = True) -> SandboxApp:
        """The ASGI app serving this sandbox."""
        return SandboxApp(self, trust_forwarded_proto)

    def set_latency(self, model: LatencyModel | None) -> None:
        """Serve under a latency model from now on (None: answer at once)."""
        self.latency = LatencyRuntime(model) if model is not None else None

    # -- operations that depend on the caller's key ------------------------------------------------

    def create(self, kind: str, data: dict[str, Any], parent: int, key: ApiKey | None) -> dict[str, Any]:
        """Create a record; a webhook without a secret gets the creating key's consumer secret."""
        if kind == "webhook" and not data.get("secret") and key is not None:
            data = {**data, "secret": key.consumer_secret}
        return self.shop.create(kind, data, parent)

    def batch(self, kind: str, body: dict[str, Any], parent: int, key: ApiKey | None) -> dict[str, Any]:
        """A batch request (webhooks created in it get the key's secret by default too)."""
        if kind == "webhook" and key is not None and isinstance(body.get("create"), list):
            body = {
                **body,
                "create": [
                    {**item, "secret": item.get("secret") or key.consumer_secret}
                    if isinstance(item, dict)
                    else item
                    for item in body["create"]
                ],
            }
        answer = self.shop.batch(kind, body, parent)
        if kind in render.KINDS:  # batch answers are in edit form
            answer = {name: [render.edit(item) for item in items] for name, items in answer.items()}
        return answer

    def get(self, kind: str, record_id: int, parent: int | None) -> dict[str, Any]:
        """One record; `/products/<id>` also answers for a variation id, as WooCommerce does."""
        try:
            return self.shop.get(kind, record_id, parent)
        except ApiError:
            if kind != "product":
                raise
            return self.variation_as_product(record_id)

    def variation_as_product(self, record_id: int) -> dict[str, Any]:
        """A variation read through `/products/<id>`: its document with type and parent_id."""
        found = self.store.get("variation", record_id)
        if found is None:
            raise self.shop.resources["product"].not_found()
        return self.shop.resources["variation"].as_product(self.shop, *found)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Stop the helpers and close the store."""
        self.shopper.stop()
        self.webhooks.stop()
        self.store.close()

    # -- /__sandbox/ control routes ----------------------------------------------------------------

    async def control(self, rest: RestRequest, route: str) -> Response:
        """Fault injection, the shopper simulator and the webhook delivery log over HTTP."""
        if rest.key is None:
            raise ApiError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        method = rest.method
        if route == "faults":
            if method == "GET":
                return json_response(self.faults.describe())
            if method == "POST":
                try:
                    rule = self.faults.set(**rest.body_json())
                except (TypeError, ValueError) as error:
                    raise ApiError(400, "rest_invalid_param", str(error)) from None
                return json_response({"id": rule.id, **self.faults.describe()[-1]}, 201)
            if method == "DELETE":
                self.faults.clear()
                return json_response({"cleared": True})
        if route == "latency":
            return self.control_latency(rest)
        if route == "orders/simulate" and method == "POST":
            body = rest.body_json()
            placed = self.shopper.place_orders(int(body.get("count", 1)), bool(body.get("money_lines")))
            return json_response(placed, 201)
        if route == "timezone" and method in ("GET", "PUT"):  # WordPress' timezone_string (no REST route)
            if method == "PUT":
                try:
                    self.shop.clock.set_zone(rest.body_json().get("timezone") or None)
                except ValueError as error:
                    raise ApiError(400, "rest_invalid_param", str(error)) from None
            zone = self.shop.clock.zone
            return json_response({"timezone": str(zone) if zone else None})
        if route == "traffic" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.traffic.clear()
            return json_response(self.traffic.describe())
        if route == "webhooks/deliveries" and method == "GET":
            return json_response(self.webhooks.log())
        raise no_route()

    def control_latency(self, rest: RestRequest) -> Response:
        """GET the latency model and its counters, POST `{"name": "wc10", "scale": 3}`, DELETE it."""
        if rest.method == "POST":
            settings = dict(rest.body_json())
            try:
                self.set_latency(LatencyModel.named(str(settings.pop("name", "wc10")), **settings))
            except (TypeError, ValueError) as error:
                raise ApiError(400, "rest_invalid_param", str(error)) from None
        elif rest.method == "DELETE":
            self.set_latency(None)
        elif rest.method != "GET":
            raise no_route()
        return json_response(self.latency.describe() if self.latency is not None else {"name": None})
