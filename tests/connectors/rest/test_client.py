"""The REST client against the running example shop: rendered calls, typed errors, retries, budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from decimal import Decimal

import pytest

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable, UnknownOutcome
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen
from emporion.connectors.rest.client import Missing, RestClient
from emporion.connectors.rest.settings import Call
from tests.connectors.rest import NAME, client, connection
from tests.example_shop.server import MiniShop
from tests.example_shop.shop_rate import RateLimit

KEY = {"kind": "api_key", "key": "minishop-key"}
GET = Call(path="/api/products/{id}", result="$")
CREATE = Call(method="POST", path="/api/products", body="{body}", idempotency_header="Idempotency-Key")
UPDATE = Call(method="PUT", path="/api/products/{id}", body={"price": "{price}", "stock": "{quantity}"})


@pytest.fixture
def shop() -> Iterator[MiniShop]:
    """A minishop with one product (id 1, SKU A)."""
    with MiniShop().serve() as running:
        running.save("products", {"sku": "A", "name": "first", "price": "1.00"})
        yield running


@pytest.fixture
async def rest(shop: MiniShop) -> AsyncIterator[RestClient]:
    """A client of the shop; closed after the test."""
    rest = client(shop.url, KEY)
    yield rest
    await rest.close()


async def test_calls_are_rendered_and_answers_decoded(shop: MiniShop, rest: RestClient) -> None:
    created = await rest.call(CREATE, {"body": {"sku": "B", "name": "second", "price": "2.50"}}, record="B")
    assert created.body["sku"] == "B" and created.headers["content-type"] == "application/json"
    ident = created.body["id"]
    await rest.call(UPDATE, {"id": ident, "price": "3.00", "quantity": 4}, record="B")
    assert (await rest.call(GET, {"id": ident}, read=True)).body | {"modified": None} == {
        "id": ident,
        "sku": "B",
        "name": "second",
        "price": "3.00",
        "stock": 4,
        "active": True,
        "category_ids": [],
        "description": "",
        "modified": None,
    }
    assert (
        rest.requests_sent["GET /api/products/{id}"] == 1
        and rest.requests_sent["PUT /api/products/{id}"] == 1
    )


async def test_404_is_missing_naming_the_record(rest: RestClient) -> None:
    with pytest.raises(Missing, match="record SKU-9") as caught:
        await rest.call(GET, {"id": 999}, record="SKU-9", read=True)
    assert NAME in str(caught.value) and "no product 999" in str(caught.value)


async def test_a_refusal_is_permanent_naming_the_record_field_and_message(rest: RestClient) -> None:
    with pytest.raises(Permanent) as caught:
        await rest.call(UPDATE, {"id": 1, "price": "-1", "quantity": 1}, record="A")
    error = caught.value
    assert not isinstance(error, Retryable | Missing | AuthError)
    assert (error.record, error.field) == ("A", "price")
    assert "HTTP 422" in str(error) and "a price cannot be negative" in str(error)
    with pytest.raises(Permanent, match="HTTP 409: SKU A exists"):
        await rest.call(CREATE, {"body": {"sku": "A", "name": "again"}}, record="A")


async def test_a_value_the_call_needs_and_the_write_lacks_is_permanent(rest: RestClient) -> None:
    with pytest.raises(Permanent, match=r"\{quantity\}.*record A"):
        await rest.call(UPDATE, {"id": 1, "price": "2"}, record="A")


async def test_5xx_is_retryable_and_reads_are_retried(shop: MiniShop) -> None:
    rest = client(shop.url, KEY, retries=2)
    try:
        shop.fail_next(503, times=2)
        assert (await rest.call(GET, {"id": 1}, read=True)).body["sku"] == "A"
        shop.fail_next(502, times=3)
        with pytest.raises(Retryable, match="HTTP 502") as caught:
            await rest.call(GET, {"id": 1}, read=True)
        assert caught.value.after == 1.0  # the shop's Retry-After
        shop.fail_next(503)
        with pytest.raises(UnknownOutcome):  # a write's 5xx: the shop may have written it
            await rest.call(UPDATE, {"id": 1, "price": "2", "quantity": 1}, record="A")
    finally:
        await rest.close()


async def test_429_is_rate_limited_with_retry_after_and_pauses_the_budget(shop: MiniShop) -> None:
    rest = client(shop.url, KEY, retries=0)
    try:
        shop.fail_next(429)
        with pytest.raises(RateLimited) as caught:
            await rest.call(GET, {"id": 1}, read=True)
        assert caught.value.after == 1.0 and rest.budget.paused_for > 0.5
        started = time.monotonic()
        await rest.call(GET, {"id": 1}, read=True)
        assert time.monotonic() - started > 0.5  # waited for the shop's Retry-After
    finally:
        await rest.close()


async def test_a_spent_limit_is_rate_limited_and_low_headroom_slows_down(shop: MiniShop) -> None:
    shop.rate_limit = RateLimit(4, window=1.0)
    quick = client(shop.url, KEY, retries=0)
    try:
        with pytest.raises(RateLimited):
            for _ in range(6):
                await quick.call(GET, {"id": 1}, read=True)
    finally:
        await quick.close()
    await asyncio.sleep(1.0)
    shop.rate_limit = RateLimit(4, window=1.0)
    rate = {
        "remaining_header": "X-RateLimit-Remaining",
        "reset_header": "X-RateLimit-Reset",
        "low_water": 0.5,
    }
    paced = client(shop.url, KEY, retries=0, rate=rate)
    try:
        started = time.monotonic()
        for _ in range(10):
            await paced.call(GET, {"id": 1}, read=True)
        assert shop.rate_limit.refused == 0 and paced.headroom.slowdowns > 0
        assert time.monotonic() - started > 1.5  # ten requests at four a second
    finally:
        await paced.close()


async def test_max_requests_per_second_paces_the_calls(shop: MiniShop) -> None:
    rest = client(shop.url, KEY, rate={"max_requests_per_second": 10})
    try:
        started = time.monotonic()
        await asyncio.gather(*(rest.call(GET, {"id": 1}, read=True) for _ in range(15)))
        assert time.monotonic() - started > 0.4 and rest.requests_per_second() == 10
    finally:
        await rest.close()


async def test_the_circuit_opens_after_repeated_failures(shop: MiniShop) -> None:
    circuit = CircuitBreaker(NAME, failure_threshold=3, cooldown=30)
    rest = RestClient(NAME, connection(shop.url, KEY, retries=0), circuit)
    try:
        shop.fail_next(503, times=3)
        for _ in range(3):
            with pytest.raises(Retryable):
                await rest.call(GET, {"id": 1}, read=True)
        with pytest.raises(CircuitOpen):
            await rest.call(GET, {"id": 1}, read=True)
        assert shop.requests == 3  # the fourth call never reached the shop
    finally:
        await rest.close()


class Recorder:
    """A request observer that keeps the headers it saw and the answers' statuses."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.statuses: list[tuple[str, int]] = []

    async def before(self, headers: MutableMapping[str, str]) -> None:
        self.headers.append(dict(headers))
        headers["X-Correlation-Id"] = "corr-1"

    async def after(self, method: str, status: int) -> None:
        self.statuses.append((method, status))


async def test_observers_and_idempotency_keys(rest: RestClient) -> None:
    recorder = Recorder()
    rest.observe_requests(recorder)
    await rest.call(CREATE, {"body": {"sku": "C", "name": "third"}}, record="C", idempotency_key="write-7")
    await rest.call(GET, {"id": 1}, read=True)
    assert recorder.statuses == [("POST", 200), ("GET", 200)]
    assert recorder.headers[0]["idempotency-key"] == "write-7"
    assert "idempotency-key" not in recorder.headers[1]


async def test_a_redirect_is_not_followed(shop: MiniShop, rest: RestClient) -> None:
    with pytest.raises(Permanent, match="redirected"):
        await rest.call(Call(path="/api/products/"), read=True)


async def test_a_timeout_is_retryable_and_a_written_timeout_unknown(shop: MiniShop) -> None:
    rest = client(shop.url, KEY, retries=0, timeout=0.3)
    try:
        shop.slow_next(1.0)
        with pytest.raises(Retryable, match="timed out") as caught:
            await rest.call(GET, {"id": 1}, read=True)
        assert not isinstance(caught.value, UnknownOutcome)
        shop.slow_next(1.0)
        with pytest.raises(UnknownOutcome, match="timed out"):
            await rest.call(CREATE, {"body": {"sku": "T", "name": "timed out"}}, record="T")
        assert [p["sku"] for p in shop.all("products")] == [
            "A",
            "T",
        ]  # written: look it up, never repeat blindly
    finally:
        await rest.close()


async def test_a_shop_that_is_not_there_is_retryable() -> None:
    rest = client("http://127.0.0.1:9", KEY, retries=1)
    try:
        with pytest.raises(Retryable, match="failed \\(ConnectError\\)"):
            await rest.call(GET, {"id": 1}, read=True)
        with pytest.raises(Retryable) as caught:  # never sent: safe to repeat, not an unknown outcome
            await rest.call(CREATE, {"body": {"sku": "X"}}, record="X")
        assert not isinstance(caught.value, UnknownOutcome)
    finally:
        await rest.close()


async def test_decimals_travel_as_exact_json_numbers(rest: RestClient) -> None:
    body = {"sku": "D", "name": "decimal", "price": Decimal("19.90"), "weight": Decimal("0.1")}
    created = await rest.call(CREATE, {"body": body}, record="D")
    price, weight = created.body["price"], created.body["weight"]
    assert isinstance(price, Decimal) and price == Decimal("19.9")  # the shop keeps a float: 19.9
    assert isinstance(weight, Decimal) and str(weight) == "0.1"  # never 0.1000000000000000055...
    assert isinstance(created.body["id"], int)


async def test_a_list_in_a_query_parameter_goes_comma_joined_or_repeated(
    shop: MiniShop, rest: RestClient
) -> None:
    shop.save("products", {"sku": "B", "name": "second", "price": "2.00"})
    shop.save("products", {"sku": "C", "name": "third", "price": "3.00"})
    joined = Call(path="/api/products", params={"sku": "{skus}"}, items="$.items")
    repeated = joined.model_copy(update={"lists": "repeat"})
    for call, query in ((joined, "sku=A%2CC"), (repeated, "sku=A&sku=C")):
        answer = await rest.call(call, {"skus": ["A", "C"]}, read=True)
        assert shop.last_listing == query
        assert sorted(item["sku"] for item in rest.items_of(call, answer)) == ["A", "C"]
    await rest.call(repeated, {"skus": [True, Decimal("4.90")]}, read=True)
    assert shop.last_listing == "sku=true&sku=4.90"
