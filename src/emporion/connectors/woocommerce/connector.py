"""The WooCommerce connector: categories, products (with variations), orders, customers over REST v3."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    ConnectorError,
    FeedKind,
    Outcome,
    Permanent,
    SharedRateBudget,
    WriteItem,
    map_or_unmappable,
    numeric_keys,
)
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.roles import Delivery, RequestObserver, WebhookHint
from emporion.connectors.woocommerce import feed, lookup, webhooks
from emporion.connectors.woocommerce.auth import AuthMode, SignatureMethod
from emporion.connectors.woocommerce.categories import CategoryWriter
from emporion.connectors.woocommerce.checks import run_checks
from emporion.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient, json_body
from emporion.connectors.woocommerce.customer_writes import CustomerWriter
from emporion.connectors.woocommerce.customers import CustomerReader
from emporion.connectors.woocommerce.mapping import category_from_wc, product_from_wc
from emporion.connectors.woocommerce.order_mapping import CUSTOMER_META
from emporion.connectors.woocommerce.orders import ORDERS, OrderGateway
from emporion.connectors.woocommerce.products import ProductWriter
from emporion.connectors.woocommerce.writer import gather_all
from emporion.model import Record

ENTITIES = frozenset({"category", "product", "order", "customer"})
# products and categories are read as stored (`context=edit`: no wpautop, no texturize) and in id
# order (the default date order repeats and skips products created in the same second)
EDIT = {"context": "edit"}
BY_ID = {"orderby": "id", "order": "asc", **EDIT}


class WooCommerceConnector:
    """Reads and writes a WooCommerce store's catalogue for the engine (see connectors.base)."""

    def __init__(
        self,
        name: str,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 30,
        max_rps: float | None = None,
        max_concurrency: int = 4,
        batch_size: int = 100,
        signature_method: SignatureMethod = "HMAC-SHA256",
        auth_mode: AuthMode = "auto",
        headers: Mapping[str, str] | None = None,
        change_overlap: float = 120.0,
        circuit: CircuitBreaker | None = None,
        retries: int = 0,
        page_size: int = MAX_PER_PAGE,
        customer_roles: Sequence[str] = ("customer",),
        customer_meta: Mapping[str, str] = CUSTOMER_META,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.circuit = circuit or CircuitBreaker(name)
        self.client = WooCommerceClient(
            url,
            consumer_key,
            consumer_secret,
            verify=verify,
            timeout=timeout,
            max_rps=max_rps,
            max_concurrency=max_concurrency,
            signature_method=signature_method,
            auth_mode=auth_mode,
            headers=headers,
            batch_size=batch_size,
            circuit=self.circuit,
            retries=retries,
            page_size=page_size,
        )
        self.change_overlap = timedelta(seconds=change_overlap)
        self._products = ProductWriter(self.client)
        self._categories = CategoryWriter(self.client)
        self.orders = OrderGateway(self.client, self.change_overlap)
        self.customers = CustomerReader(self.client, customer_roles, customer_meta)
        self._customers = CustomerWriter(self.customers)

    def capabilities(self) -> Capabilities:
        """Categories, products, orders and customers, both ways, in batches of up to 100, polled."""
        return Capabilities(
            reads=ENTITIES,
            writes=ENTITIES,
            batch_size=self.client.batch_size,
            feed=FeedKind.POLL,
            natural_keys={"product": "sku", "category": "slug", "order": "number", "customer": "email"},
        )

    async def check(self) -> list[CheckResult]:
        """Reachability, authentication, read and write permission, WooCommerce version."""
        return await run_checks(self.client, self.url)

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Ids changed since `cursor` (modified_after with overlap; categories, customers by fingerprint)."""
        if _entity(entity) == "order":
            return await self.orders.changes(cursor)
        if entity == "customer":
            return await self.customers.changes(cursor)
        if entity == "product":
            return await feed.product_changes(self.client, cursor, self.change_overlap)
        return await feed.category_changes(self.client, cursor)

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records by WooCommerce id (`include=`, 100 a request, as stored); missing ids left out."""
        if _entity(entity) == "order":
            return await self.orders.read(keys)
        if entity == "customer":
            return await self.customers.read(keys)
        ids, unusable = numeric_keys(keys, entity)
        records: list[Record] = list(unusable)
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = ids[start : start + MAX_PER_PAGE]
            if _entity(entity) == "category":
                found = await self.client.get_all(lookup.CATEGORIES, {"include": chunk, **BY_ID})
                records.extend(_category(data) for data in found)
            else:
                found = await self.client.get_all(lookup.PRODUCTS, {"include": chunk, **BY_ID})
                records.extend(await self._with_variations(found))
        return records

    async def count(self, entity: str) -> int:
        """How many categories, (parent) products or customers the shop holds, from `X-WP-Total`."""
        if _entity(entity) == "customer":
            return await self.customers.count()
        path = {"category": lookup.CATEGORIES, "product": lookup.PRODUCTS, "order": ORDERS}[_entity(entity)]
        response = await self.client.request("GET", path, params={"per_page": 1, "_fields": "id"})
        total = response.headers.get("X-WP-Total")
        return int(total) if total is not None else len(json_body("GET", path, response))

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every category, product (with its variations), order or customer, one page of 100 at a time."""
        if _entity(entity) == "order":
            async for orders in self.orders.scan():
                yield orders
            return
        if entity == "customer":
            async for customers in self.customers.scan():
                yield customers
            return
        path = lookup.CATEGORIES if _entity(entity) == "category" else lookup.PRODUCTS
        async for page in self.client.iter_pages(path, BY_ID):
            if entity == "category":
                yield [_category(data) for data in page]
            else:
                yield list(await self._with_variations(page))

    async def _with_variations(self, products: Sequence[dict[str, Any]]) -> list[Record]:
        """Products as canonical records, the variations of variable ones read back (one request each)."""

        async def one(data: dict[str, Any]) -> Record:
            """One product, with its variations when it is variable."""
            key = str(data.get("id", ""))
            if data.get("type") != "variable":
                return map_or_unmappable(key, functools.partial(product_from_wc, data))
            variations = await self.client.get_all(f"{lookup.PRODUCTS}/{data['id']}/variations", BY_ID)
            return map_or_unmappable(key, functools.partial(product_from_wc, data, variations))

        return await gather_all([one(data) for data in products])

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Upsert and delete (permanently) in batches; per-item failures come back as FAILED outcomes."""
        if _entity(entity) == "order":
            if deletes:
                raise Permanent("orders are never deleted in the shop", field="entity")
            return await self.orders.write(upserts)
        if entity == "customer":  # matched by e-mail (or number) before made; never deleted
            return await self._customers.write(upserts, deletes)
        if entity == "category":
            return await self._categories.write(upserts, deletes)
        return await self._products.write(upserts, deletes)

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing products by SKU, categories by slug (else name), customers by e-mail: {key: {"id": …}}."""
        if _entity(entity) == "customer":
            return await self.customers.lookup(natural_keys)
        if _entity(entity) == "product":
            found = await lookup.find_products_by_sku(self.client, natural_keys)
            return {sku: {"id": int(data["id"])} for sku, data in found.items()}
        if _entity(entity) == "category":
            slugs = await lookup.find_categories_by_slug(self.client, natural_keys)
            named: dict[str, int] = {}
            if rest := [key for key in natural_keys if key not in slugs]:
                every = await lookup.all_categories_by_name(self.client)
                by_name = {name: ident for (name, _), ident in every.items()}
                named = {key: by_name[key] for key in rest if key in by_name}
            return {key: {"id": ident} for key, ident in (slugs | named).items()}
        raise Permanent(f"the WooCommerce connector looks up no {entity} records", field="entity")

    async def orders_by_email(self, email: str, limit: int = 20) -> list[str]:
        """Ids of the orders whose billing e-mail is `email` (WooCommerce's search, then an exact match)."""
        found = await self.client.get(ORDERS, {"search": email, "per_page": min(limit, MAX_PER_PAGE)})
        wanted = email.strip().lower()
        return [
            str(order["id"])
            for order in found or []
            if str((order.get("billing") or {}).get("email", "")).strip().lower() == wanted
        ]

    def requests_per_second(self) -> float | None:
        """The configured request rate, for a budget shared by several processes."""
        return self.client.budget.max_rps

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request to the shop (metrics, correlation id)."""
        self.client.observe(observer)

    async def window(self, days: int) -> list[str]:
        """Order ids for the sliding reconcile: open orders and orders modified in the last `days` days."""
        return await self.orders.window(days)

    def webhook_topics(self, entities: Sequence[str]) -> list[str]:
        """The topics to register for flows reading `entities` from this shop (orders, customers)."""
        return webhooks.topics_for(entities)

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """The topic in a request's `X-WC-Webhook-Topic` header ("" for the ping)."""
        return webhooks.topic_of(headers)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether a delivery carries WooCommerce's signature of its raw body for `secret`."""
        return webhooks.verify_webhook(body, webhooks.header(headers, webhooks.SIGNATURE_HEADER), secret)

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        """A delivery's id (its body's hash when WooCommerce sent none), topic and X-WC-* headers."""
        return webhooks.delivery(headers, body)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
        """The entity and keys a delivery names (to re-read), or None for pings and other topics."""
        return webhooks.parse_webhook(headers, body)

    def is_ping(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a delivery is WooCommerce's activation ping (answer 200, nothing to re-read)."""
        return webhooks.is_ping(headers, body)

    async def ensure_webhooks(
        self,
        delivery_url: str,
        secret: str,
        topics: Sequence[str] = webhooks.CATALOGUE_TOPICS,
        *,
        installation: str,
    ) -> list[str]:
        """Make sure an active webhook of `installation` exists for each topic; their ids."""
        return await webhooks.ensure_webhooks(self.client, delivery_url, secret, topics, installation)

    async def webhook_states(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> dict[str, str]:
        """Per topic, the webhook of `installation`: active, disabled, paused, missing or outdated."""
        return await webhooks.webhook_states(self.client, delivery_url, secret, topics, installation)

    def share_budget(self, shared: SharedRateBudget) -> None:
        """Take this connection's request starts from a budget shared with other processes."""
        self.client.budget.share(shared)

    async def close(self) -> None:
        """Close the connection's HTTP client."""
        await self.client.close()

    async def __aenter__(self) -> WooCommerceConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _category(data: dict[str, Any]) -> Record:
    """A category, or its Unmappable stand-in."""
    return map_or_unmappable(str(data.get("id", "")), functools.partial(category_from_wc, data))


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise Permanent(f"the WooCommerce connector does not handle {entity!r}", field="entity")
    return entity


__all__ = ["ConnectorError", "WooCommerceConnector"]
