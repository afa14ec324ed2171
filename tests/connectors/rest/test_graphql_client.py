"""The client on a GraphQL shop (minishop's /graphql): variables, errors, paging, cost budget."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import TypeAdapter

from emporion.connectors.base import AuthError, Permanent, RateLimited
from emporion.connectors.rest.client import Missing, RestClient
from emporion.connectors.rest.settings import Call, Paging
from tests.connectors.rest import NAME, client
from tests.example_shop.server import MiniShop
from tests.example_shop.shop_graphql import CostBudget

KEY = {"kind": "api_key", "key": "minishop-key"}
PRODUCTS = Call(
    query="query Products($skip: Int, $take: Int, $since: String) {"
    " products(skip: $skip, take: $take, updatedAfter: $since) { items { id sku price } totalItems } }",
    variables={"since": "{since}"},
    items="$.data.products.items",
)
PRODUCT = Call(
    query="query Product($id: ID!) { product(id: $id) { id sku } }",
    variables={"id": "{id}"},
    result="$.data.product",
)
CREATE = Call(
    query="mutation Create($input: ProductInput!) { createProduct(input: $input) {"
    " __typename ... on Product { id sku } ... on ErrorResult { errorCode message } } }",
    variables={"input": "{body}"},
    result="$.data.createProduct",
    error="$.data.createProduct.message",
)
COST = {
    "cost": "$.extensions.cost.actualQueryCost",
    "cost_remaining": "$.extensions.cost.throttleStatus.currentlyAvailable",
}


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> Iterator[MiniShop]:
    """A minishop with five products A..E and the cost budget the test names (maximum, restore rate)."""
    maximum, restore = getattr(request, "param", (1000.0, 50.0))
    with MiniShop(cost=CostBudget(maximum, restore)).serve() as running:
        for sku in "ABCDE":
            running.save("products", {"sku": sku, "name": f"product {sku}", "price": "1.50"})
        yield running


def graphql(shop: MiniShop, **more: object) -> RestClient:
    """A `type: graphql` client of the shop's /graphql."""
    return client(f"{shop.url}/graphql", more.pop("auth", KEY), type="graphql", **more)  # type: ignore[arg-type]


async def test_variables_are_rendered_and_results_read(shop: MiniShop) -> None:
    rest = graphql(shop)
    try:
        created = await rest.call(
            CREATE, {"body": {"sku": "F", "name": "sixth", "price": "9.99"}}, record="F"
        )
        assert created.body["data"]["createProduct"]["sku"] == "F"
        found = await rest.call(PRODUCT, {"id": created.body["data"]["createProduct"]["id"]}, read=True)
        assert found.body["data"]["product"]["sku"] == "F"
        assert rest.requests_sent["GraphQL mutation Create"] == 1
    finally:
        await rest.close()


async def test_an_error_result_a_null_and_errors_are_typed(shop: MiniShop) -> None:
    rest = graphql(shop, retries=0)
    try:
        with pytest.raises(Permanent, match="SKU A exists") as caught:
            await rest.call(CREATE, {"body": {"sku": "A", "name": "again"}}, record="A")
        assert caught.value.record == "A"
        with pytest.raises(Missing, match="record 99"):
            await rest.call(PRODUCT, {"id": "99"}, record="99", read=True)
        broken = Call(query="query { products { nothing } }")
        with pytest.raises(Permanent, match="Cannot query field 'nothing'") as failed:
            await rest.call(broken, record="X", read=True)
        assert failed.value.record == "X" and not isinstance(failed.value, Missing)
    finally:
        await rest.close()


async def test_forbidden_is_an_auth_error(shop: MiniShop) -> None:
    rest = graphql(shop, auth={"kind": "api_key", "key": "wrong-key"}, retries=0)
    try:
        with pytest.raises(AuthError, match="FORBIDDEN") as caught:
            await rest.call(PRODUCT, {"id": "1"}, read=True)
        assert NAME in str(caught.value) and "wrong-key" not in str(caught.value)
    finally:
        await rest.close()


async def test_offset_paging_by_variables_until_the_total(shop: MiniShop) -> None:
    paging = TypeAdapter(Paging).validate_python(
        {
            "kind": "offset",
            "param": "skip",
            "size_param": "take",
            "size": 2,
            "total": "$.data.products.totalItems",
        }
    )
    rest = graphql(shop)
    before = shop.requests
    try:
        pages = [page async for page in rest.pages(PRODUCTS, paging, {"since": "2000-01-01T00:00:00"})]
    finally:
        await rest.close()
    assert [[item["sku"] for item in page.items] for page in pages] == [["A", "B"], ["C", "D"], ["E"]]
    assert [page.total for page in pages] == [5, 5, 5] and shop.requests - before == 3


@pytest.mark.parametrize("shop", [(100.0, 100.0)], indirect=True)
async def test_a_low_cost_budget_slows_the_client_down_before_it_is_throttled(shop: MiniShop) -> None:
    rest = graphql(shop, rate=COST | {"low_water": 0.5}, retries=0)
    started = time.monotonic()
    try:
        for _ in range(12):  # 21 points each, 252 in all: more than the bucket holds
            await rest.call(PRODUCTS, {"since": "2000-01-01T00:00:00"}, read=True)
    finally:
        await rest.close()
    assert rest.headroom.slowdowns > 0 and rest.headroom.restore_rate is not None
    assert time.monotonic() - started > 1.0  # waited for points to come back instead of being refused


@pytest.mark.parametrize("shop", [(30.0, 5.0)], indirect=True)
async def test_throttled_is_rate_limited_and_holds_the_budget(shop: MiniShop) -> None:
    rest = graphql(shop, retries=0)
    try:
        await rest.call(PRODUCTS, {"since": "2000-01-01T00:00:00"}, read=True)
        with pytest.raises(RateLimited, match="throttled") as caught:
            await rest.call(PRODUCTS, {"since": "2000-01-01T00:00:00"}, read=True)
        assert caught.value.after is not None and caught.value.after > 0
        assert rest.budget.paused_for > 0
    finally:
        await rest.close()
