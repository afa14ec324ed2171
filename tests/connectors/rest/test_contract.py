"""The connector contract, run against minishop described in YAML (tests/example_shop/minishop.yaml).

The declarative connector is built by the plugin from settings parsed as the engine parses them, in
two variants: an API key with page numbers, and OAuth 2 client credentials with an opaque cursor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import GRAPHQL_PLUGIN, PLUGIN
from emporion.connectors.rest.settings import GraphQLConnection, RestConnection
from emporion.model import Address, Customer, Product, Record
from emporion.testing.contract import (
    CatalogueSourceContract,
    CatalogueTargetContract,
    ConnectorContract,
    CustomerSourceContract,
    CustomerTargetContract,
    OrderSourceContract,
    RateLimitedConnectionContract,
    WebhookSourceContract,
)
from emporion.testing.contract.catalogue import Commit
from tests.example_shop.server import MiniShop, now
from tests.example_shop.shop_auth import Gate

DESCRIPTION = Path(__file__).resolve().parents[2] / "example_shop" / "minishop.yaml"
API_KEY = "contract-key"
CLIENT_ID, CLIENT_SECRET = "rest-client", "rest-client-secret"  # the test shop's own
CURSOR = {"kind": "cursor", "param": "cursor", "next": "$.next_cursor", "size_param": "limit", "size": 3}


def description(shop: MiniShop, auth: dict[str, Any], paging: dict[str, Any] | None = None) -> RestConnection:
    """minishop.yaml for a running shop with `auth` and (each entity) `paging`, as the engine reads it."""
    data = yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))
    data["url"] = f"{shop.url}/api"
    data["auth"] = auth
    for entity in data["entities"].values():
        if paging is not None:
            entity["paging"] = {**paging, "total": "$.total"}
    return RestConnection.model_validate(data)


VARIANTS: dict[str, tuple[Callable[[], MiniShop], Callable[[MiniShop], RestConnection]]] = {
    "api_key+page": (
        lambda: MiniShop(api_key=API_KEY, per_page=3),
        lambda shop: description(shop, {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"}),
    ),
    "oauth2+cursor": (
        lambda: MiniShop(
            per_page=3,
            paging="cursor",
            gate=Gate("oauth2", client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
        ),
        lambda shop: description(
            shop,
            {
                "kind": "oauth2",
                "token_url": f"{shop.url}/oauth/token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            CURSOR,
        ),
    ),
}


@pytest.fixture(params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    """Which auth and paging the shop and its description use."""
    return str(request.param)


@pytest.fixture
def running_shop(variant: str) -> Iterator[MiniShop]:
    """A minishop in the variant's auth and paging mode, with pages of three."""
    with VARIANTS[variant][0]().serve() as shop:
        yield shop


def stamped_earlier(shop: MiniShop, kind: str, ident: int, stamp: str) -> None:
    """Give record `ident` the change stamp `stamp` (a change begun then and committed now)."""
    with shop._lock:
        shop.records[kind][ident]["modified"] = stamp


class DescribedMinishop:
    """The connector of each contract part: built by the plugin from the parsed description."""

    plugin = PLUGIN
    shop: MiniShop
    kinds: ClassVar[dict[str, str]] = {
        "product": "products",
        "category": "categories",
        "customer": "customers",
    }

    @pytest.fixture
    async def connector(self, running_shop: MiniShop, variant: str) -> AsyncIterator[Any]:
        self.shop = running_shop
        connector = PLUGIN.build("minishop", VARIANTS[variant][1](running_shop))
        assert isinstance(connector, DeclarativeConnector)
        yield connector
        await connector.close()


class TestDescribedMinishop(DescribedMinishop, ConnectorContract):
    pass


class TestDescribedMinishopBudget(DescribedMinishop, RateLimitedConnectionContract):
    pass


class TestDescribedMinishopAsCatalogueSource(DescribedMinishop, CatalogueSourceContract):
    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        body = {"name": "Tea", "price": "4.50", "stock": 5}
        return [
            str(self.shop.save("products", {**body, "sku": f"SRC-{tag}-{n}"})["id"]) for n in range(count)
        ]

    async def touch(self, connector: Any, key: str) -> None:
        self.shop.save("products", {"name": f"Touched {time.monotonic_ns()}"}, int(key))

    async def begin_change(self, connector: Any, key: str) -> Commit:
        began = now()

        async def commit() -> None:
            self.shop.save("products", {"name": "Committed late"}, int(key))
            stamped_earlier(self.shop, "products", int(key), began)

        return commit


class TestDescribedMinishopAsCatalogueTarget(DescribedMinishop, CatalogueTargetContract):
    async def seed(self, connector: Any, record: Record) -> str:
        assert isinstance(record, Product)
        body = {"sku": record.sku, "name": record.name, "price": str(record.list_price or 0)}
        return str(self.shop.save("products", body)["id"])

    def bad_record(self, tag: str) -> tuple[Record, str]:
        """A product in a category minishop does not have (priced: minishop cannot read a null price)."""
        product = Product(
            key=f"bad-{tag}", sku=f"BAD-{tag}", name="Bad", list_price=Decimal(1), categories=["999999"]
        )
        return product, "categories"

    async def fail_transiently(self, connector: Any) -> None:
        self.shop.fail_next(503, times=3)  # the search before create, and its two quick retries


class TestDescribedMinishopAsCustomerSource(DescribedMinishop, CustomerSourceContract):
    async def seed(self, connector: Any, count: int, tag: str) -> list[str]:
        return [str(self.shop.save("customers", {"email": self.email(tag, n)})["id"]) for n in range(count)]

    async def move(self, connector: Any, key: str, to: Address) -> None:
        self.shop.save("customers", {"billing": to.model_dump(mode="json")}, int(key))


class TestDescribedMinishopAsCustomerTarget(DescribedMinishop, CustomerTargetContract):
    async def seed(self, connector: Any, customer: Customer) -> str:
        body = {"email": customer.email, "first_name": customer.first_name, "last_name": customer.last_name}
        return str(self.shop.save("customers", body)["id"])


class TestDescribedMinishopAsOrderSource(DescribedMinishop, OrderSourceContract):
    async def place_order(self, connector: Any, email: str, tag: str) -> str:
        sku = f"ORDER-{tag}"
        if not any(product["sku"] == sku for product in self.shop.all("products")):
            self.shop.save("products", {"sku": sku, "name": "Tea", "price": "4.50", "stock": 100})
        return str(self.shop.place_order(email, [(sku, 1)])["id"])


def minishop_delivery(secret: str, key: str, topic: str = "product.updated") -> tuple[dict[str, str], bytes]:
    """A delivery as minishop signs it (shop_hooks.py): HMAC-SHA256 of "{timestamp}.{body}", hex."""
    body = json.dumps({"id": int(key), "topic": topic, "modified": now()}).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Minishop-Topic": topic,
        "X-Minishop-Delivery": hashlib.sha256(body).hexdigest()[:16],
        "X-Minishop-Timestamp": timestamp,
        "X-Minishop-Signature": signature,
    }
    return headers, body


class TestDescribedMinishopAsWebhookSource(DescribedMinishop, WebhookSourceContract):
    signature_header = "X-Minishop-Signature"

    def signed_delivery(self, secret: str, key: str) -> tuple[dict[str, str], bytes]:
        return minishop_delivery(secret, key)


PRODUCT_FIELDS = "id sku name price stock active description modified"


def graphql_description(shop: MiniShop) -> GraphQLConnection:
    """minishop's GraphQL API (products only: it has no categories, customers or order mutations)."""
    listing = (
        "query Products($skip: Int, $take: Int, $since: String) {"
        " products(skip: $skip, take: $take, updatedAfter: $since)"
        f" {{ items {{ {PRODUCT_FIELDS} }} totalItems }} }}"
    )
    product = {
        "list": {"query": listing, "items": "$.data.products.items"},
        "get": {
            "query": f"query Product($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}",
            "variables": {"id": "{id}"},
            "result": "$.data.product",
        },
        "paging": {
            "kind": "offset",
            "param": "skip",
            "size_param": "take",
            "size": 3,
            "total": "$.data.products.totalItems",
        },
        "changed_since": {"param": "since", "stamp": "$.modified", "overlap_seconds": 5},
        "money": "string",
        "fields": {
            "sku": "$.sku",
            "name": "$.name",
            "description": "$.description",
            "active": "$.active",
            "list_price": "$.price",
            "available": "$.stock",
        },
    }
    return GraphQLConnection.model_validate(
        {
            "type": "graphql",
            "url": f"{shop.url}/graphql",
            "auth": {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"},
            "entities": {"product": product},
        }
    )


class GraphQLMinishop:
    """The connector of each contract part over minishop's GraphQL API, built by the graphql plugin."""

    plugin = GRAPHQL_PLUGIN
    shop: MiniShop

    @pytest.fixture
    def running_shop(self) -> Iterator[MiniShop]:
        with MiniShop(api_key=API_KEY, per_page=3).serve() as shop:
            yield shop

    @pytest.fixture
    async def connector(self, running_shop: MiniShop) -> AsyncIterator[Any]:
        self.shop = running_shop
        connector = GRAPHQL_PLUGIN.build("minishop-graphql", graphql_description(running_shop))
        assert isinstance(connector, DeclarativeConnector)
        yield connector
        await connector.close()


class TestGraphQLMinishop(GraphQLMinishop, ConnectorContract):
    pass


class TestGraphQLMinishopBudget(GraphQLMinishop, RateLimitedConnectionContract):
    pass


class TestGraphQLMinishopAsCatalogueSource(GraphQLMinishop, CatalogueSourceContract):
    seed = TestDescribedMinishopAsCatalogueSource.seed
    touch = TestDescribedMinishopAsCatalogueSource.touch
    begin_change = TestDescribedMinishopAsCatalogueSource.begin_change


async def test_check_reports_a_refused_key_per_entity_without_raising() -> None:
    """`check` with a wrong API key says, for each described entity, that reading failed and why."""
    with MiniShop(api_key=API_KEY, per_page=3).serve() as shop:
        settings = description(shop, {"kind": "api_key", "key": "wrong-key", "header": "X-Api-Key"})
        connector = PLUGIN.build("minishop", settings)
        try:
            results = await connector.check()
        finally:
            await connector.close()
    names = ["read categories", "read products", "read customers", "read orders"]
    assert sorted(result.name for result in results) == sorted(names)
    assert not any(result.ok for result in results)
    assert all("wrong-key" not in result.detail for result in results)
