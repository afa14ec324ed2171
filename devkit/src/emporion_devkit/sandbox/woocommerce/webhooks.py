"""Webhooks as WooCommerce delivers them: the webhook resource and a background dispatcher.

A delivery POSTs the resource's GET representation built at delivery time (`{"id"}` for deleted),
signed with base64(HMAC-SHA256(raw body, secret)) in `X-WC-Webhook-Signature`. A product's or
variation's is the `context=view` form WooCommerce builds it in (descriptions through wpautop and
wptexturize, `&` as `&amp;`), not the form it stores. Changes to one record
within a short window coalesce into one delivery; failures are not retried, and a webhook becomes
`disabled` once it fails again after more than five consecutive failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from emporion_devkit.sandbox.woocommerce import render
from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.resource import Resource
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec
from emporion_devkit.sandbox.woocommerce.shop import WC_VERSION, WP_VERSION, Event

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.faults import FaultInjector
    from emporion_devkit.sandbox.woocommerce.shop import Shop

RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
MAX_FAILURES = 5
HOOKS = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post"],
    "order.restored": ["untrashed_post"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
}


def php_json(payload: Any) -> bytes:
    """JSON the way `wp_json_encode` writes it: compact, ASCII only, slashes escaped."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def signature(body: bytes, secret: str) -> str:
    """X-WC-Webhook-Signature of a raw delivery body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookResource(Resource):
    """`/webhooks`: subscriptions to resource events (secret write-only, no trash)."""

    kind = "webhook"
    route = "webhooks"
    label = "webhook"
    id_code = "woocommerce_rest_webhook_invalid_id"
    id_message = "Invalid webhook ID."
    statuses = ("all", "active", "paused", "disabled")
    fields: ClassVar[dict[str, FieldSpec]] = {
        "name": "string",
        "status": ("enum", "active", "paused", "disabled"),
        "topic": "string",
        "delivery_url": "string",
        "secret": "string",
    }

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def validate_new(self, shop: Shop, data: dict) -> None:
        """A webhook needs a valid topic and delivery URL."""
        if not data.get("topic"):
            raise ApiError(
                400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid."
            )
        if not data.get("delivery_url"):
            raise ApiError(
                400,
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            )

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a webhook request: topic split into resource and event, hooks, secret kept aside."""
        if "topic" in data:
            resource, _, event = data["topic"].partition(".")
            if not ((resource in RESOURCES and event in EVENTS) or (resource == "action" and event)):
                raise ApiError(
                    400,
                    "woocommerce_rest_webhook_invalid_topic",
                    "Webhook topic is required and must be valid.",
                )
            doc.update(topic=data["topic"], resource=resource, event=event)
            doc["hooks"] = HOOKS.get(data["topic"], [event] if resource == "action" else [])
        if "delivery_url" in data:
            if not data["delivery_url"].startswith(("http://", "https://")):
                raise ApiError(
                    400,
                    "woocommerce_rest_webhook_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                )
            doc["delivery_url"] = data["delivery_url"]
        if "secret" in data:
            extra["secret"] = data["secret"]
        extra.setdefault("secret", secrets.token_urlsafe(32))
        extra.setdefault("failure_count", 0)
        if "name" in data:
            doc["name"] = data["name"]
        elif creating:
            doc["name"] = "Webhook created on " + time.strftime("%B %d, %Y @ %I:%M %p", time.gmtime())
        if "status" in data:
            if data["status"] == "active" and doc["status"] != "active":
                extra["failure_count"] = 0
            doc["status"] = data["status"]

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a webhook."""
        columns = super().columns(doc, extra)
        columns["code"] = doc["topic"]
        return columns

    def after_save(self, shop: Shop, before: dict | None, doc: dict, extra: dict) -> None:
        """Refresh the dispatcher's subscriptions; a webhook turning active gets the ping."""
        self.dispatcher.forget()
        if doc["status"] == "active" and (before is None or before.get("status") != "active"):
            self.dispatcher.ping(doc["id"], doc["delivery_url"])

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Refresh the dispatcher's subscriptions."""
        self.dispatcher.forget()


class Dispatcher:
    """Delivers webhook events from a background thread, coalescing rapid changes of one record.

    A record's delivery waits until it has been quiet for `window` seconds (at most `max_delay` after its
    first change), plus `delay` seconds (WooCommerce delivers asynchronously, from a WP-Cron run: about
    11 s later on the recorded shop), then carries the record as it is at that moment. Delivery ids are
    WooCommerce's `wp_hash(webhook id . time())`: two deliveries of one webhook in one second share one.
    """

    def __init__(
        self,
        shop: Shop,
        faults: FaultInjector,
        window: float = 0.1,
        max_delay: float = 1.0,
        timeout: float = 5.0,
        delay: float = 0.0,
    ) -> None:
        self.shop = shop
        self.delay = delay
        self._salt = secrets.token_bytes(32)
        self.faults = faults
        self.window = window
        self.max_delay = max_delay
        self._first: dict[tuple[Any, ...], float] = {}
        self.timeout = timeout
        self._due: dict[tuple[Any, ...], float] = {}
        self._wake = threading.Condition()
        self._subscriptions: list[tuple[int, str, str]] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._log: deque[dict[str, Any]] = deque(maxlen=2000)
        self._busy = False

    # -- subscriptions -----------------------------------------------------------------------------

    def forget(self) -> None:
        """Reload active webhooks before the next event."""
        self._subscriptions = None

    def subscriptions(self) -> list[tuple[int, str, str]]:
        """(id, resource, event) of every active webhook."""
        subs = self._subscriptions
        if subs is None:
            rows, _ = self.shop.store.select("webhook", ["status = 'active'"], [], "id", 10**6, 0)
            subs = [(doc["id"], doc["resource"], doc["event"]) for doc, _ in rows]
            self._subscriptions = subs
        return subs

    # -- queueing ----------------------------------------------------------------------------------

    def notify(self, events: list[Event]) -> None:
        """Queue deliveries for committed changes (called by the shop after each write)."""
        subs = self.subscriptions()
        if not subs:
            return
        now = time.monotonic()
        with self._wake:
            for resource, event, record_id, kind in events:
                for webhook_id, wanted_resource, wanted_event in subs:
                    if wanted_resource == resource and wanted_event == event:
                        key = ("event", webhook_id, kind, record_id, event)
                        first_seen = self._first.setdefault(key, now)
                        due = min(now + self.window, first_seen + self.max_delay) + self.delay
                        self._due[key] = due
            self._wake.notify()
        self._ensure_thread()

    def ping(self, webhook_id: int, url: str) -> None:
        """Queue the form-encoded `webhook_id=<id>` ping WooCommerce sends when a webhook is activated."""
        with self._wake:
            self._due[("ping", webhook_id, url)] = time.monotonic()
            self._wake.notify()
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None and not self._stopping:
            self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread (pending deliveries are dropped)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being delivered (for tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._wake:
                if not self._due and not self._busy:
                    return True
            time.sleep(0.01)
        return False

    def log(self) -> list[dict[str, Any]]:
        """The most recent deliveries (newest last)."""
        return list(self._log)

    # -- delivering --------------------------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            while True:
                with self._wake:
                    while not self._stopping:
                        now = time.monotonic()
                        ready = [key for key, due in self._due.items() if due <= now]
                        if ready:
                            for key in ready:
                                del self._due[key]
                                self._first.pop(key, None)
                            self._busy = True
                            break
                        wait = min(self._due.values(), default=now + 1.0) - now
                        self._wake.wait(timeout=max(wait, 0.005))
                    if self._stopping:
                        return
                for key in sorted(ready, key=lambda k: k[1:]):
                    try:
                        self._ping(client, key[1], key[2]) if key[0] == "ping" else self._deliver(
                            client, *key[1:]
                        )
                    except Exception as error:  # a delivery must never kill the dispatcher
                        self._log.append({"webhook_id": key[1], "error": type(error).__name__})
                with self._wake:
                    self._busy = False

    def _ping(self, client: httpx.Client, webhook_id: int, url: str) -> None:
        headers = {"User-Agent": self._agent(), "Content-Type": "application/x-www-form-urlencoded"}
        entry: dict[str, Any] = {"webhook_id": webhook_id, "topic": "ping", "url": url}
        try:
            entry["status"] = client.post(
                url, content=f"webhook_id={webhook_id}", headers=headers
            ).status_code
        except httpx.HTTPError as error:
            entry["status"], entry["error"] = 0, type(error).__name__
        self._log.append(entry)

    def _agent(self) -> str:
        return f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"

    def _payload(self, kind: str, record_id: int, event: str) -> dict[str, Any] | None:
        if event == "deleted":
            return {"id": record_id}
        found = self.shop.store.get(kind, record_id)
        if found is None:
            return None
        doc, extra = found
        resource = self.shop.resources[kind]
        if kind == "variation":  # the payload is what a GET answers (context=view)
            return render.view(resource.as_product(self.shop, doc, extra))  # type: ignore[attr-defined]
        payload = resource.present(self.shop, doc, extra)
        return render.view(payload) if kind in render.KINDS else payload

    def _deliver(self, client: httpx.Client, webhook_id: int, kind: str, record_id: int, event: str) -> None:
        found = self.shop.store.get("webhook", webhook_id)
        if found is None or found[0]["status"] != "active":
            return
        webhook, extra = found
        payload = self._payload(kind, record_id, event)
        if payload is None:
            return
        body = php_json(payload)
        delivery_id = self.delivery_id(webhook_id)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self._agent(),
            "X-WC-Webhook-Source": self.shop.base_url + "/",
            "X-WC-Webhook-Topic": webhook["topic"],
            "X-WC-Webhook-Resource": webhook["resource"],
            "X-WC-Webhook-Event": webhook["event"],
            "X-WC-Webhook-Signature": signature(body, extra["secret"]),
            "X-WC-Webhook-ID": str(webhook_id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        copies = self.faults.webhook_copies(webhook["topic"])
        entry: dict[str, Any] = {
            "webhook_id": webhook_id,
            "delivery_id": delivery_id,
            "topic": webhook["topic"],
            "resource_id": record_id,
            "copies": copies,
            "status": None,
        }
        status = 200  # a lost delivery looks delivered to the sender
        for _ in range(copies):
            try:
                status = client.post(webhook["delivery_url"], content=body, headers=headers).status_code
            except httpx.HTTPError as error:
                status, entry["error"] = 0, type(error).__name__
        entry["status"] = status
        self._log.append(entry)
        self._record(webhook_id, 200 <= status < 303)

    def delivery_id(self, webhook_id: int, moment: float | None = None) -> str:
        """`X-WC-Webhook-Delivery-ID`: `wp_hash(webhook id . time())`, the same within one second."""
        second = int(time.time() if moment is None else moment)
        return hmac.new(self._salt, f"{webhook_id}{second}".encode(), hashlib.md5).hexdigest()

    def _record(self, webhook_id: int, success: bool) -> None:
        """WooCommerce's failure tracking: reset on success, disable past the limit."""
        resource = self.shop.resources["webhook"]
        with self.shop.operation():
            found = self.shop.store.get("webhook", webhook_id)
            if found is None:
                return
            doc, extra = found
            failures = extra.get("failure_count", 0)
            if success:
                if failures == 0:
                    return
                extra["failure_count"] = 0
            elif failures > MAX_FAILURES:
                doc["status"] = "disabled"
                self.forget()
            else:
                extra["failure_count"] = failures + 1
            self.shop.store.put("webhook", webhook_id, doc, extra, resource.columns(doc, extra))
