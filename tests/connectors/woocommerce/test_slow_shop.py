"""Writes that survive a slow shop: lost answers settled by SKU, the SKU lock and taken SKUs matched,
back-off on 429 and 5xx, and a write pace that grows on a fast shop and shrinks on a slow one.

Against the sandbox shop over real HTTP; every request body the connector sends is logged, so that
"nothing written twice" is checked on the wire.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.errors import WooError
from emporion.model import Product
from emporion_devkit.sandbox.woocommerce import LatencyModel, SandboxShop


def connector_for(
    shop: SandboxShop, start_concurrency: int = 1, batch_seconds: float = 4.0, **options: Any
) -> WooCommerceConnector:
    connector = WooCommerceConnector(
        "shop", shop.base_url, shop.consumer_key, shop.consumer_secret, **options
    )
    connector.client.pace_writes(batch_seconds, start_concurrency)
    return connector


class Wire:
    """Every SKU a connector sent in a products batch (create or update), counted."""

    def __init__(self, connector: WooCommerceConnector) -> None:
        self.writes: Counter[str] = Counter()
        self.batches = 0

        async def log(request: httpx.Request) -> None:
            if request.method == "POST" and request.url.path.endswith("/products/batch"):
                self.batches += 1
                body = json.loads(request.content)
                for item in [*body.get("create", []), *body.get("update", [])]:
                    self.writes[item.get("sku") or f"id:{item.get('id')}"] += 1

        connector.client._http.event_hooks["request"].append(log)

    @property
    def twice(self) -> list[str]:
        return [sku for sku, count in self.writes.items() if count > 1]


def products(prefix: str, n: int) -> list[Product]:
    return [
        Product(
            key=f"erp-{prefix}-{i:03d}", sku=f"{prefix}-{i:03d}", name=f"P {i}", list_price=Decimal("9.50")
        )
        for i in range(n)
    ]


async def write(connector: WooCommerceConnector, items: list[Product]) -> dict[str, Any]:
    outcomes = await connector.write("product", [WriteItem(p.key, p, None) for p in items], [])
    return {outcome.key: outcome for outcome in outcomes}


def shop_skus(shop: SandboxShop) -> Counter[str]:
    with httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    ) as client:
        found: Counter[str] = Counter()
        page = 1
        while batch := client.get("products", params={"per_page": 100, "page": page, "orderby": "id"}).json():
            found.update(p["sku"] for p in batch)
            page += 1
        return found


@pytest.fixture
def shop() -> Iterator[SandboxShop]:
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0) as served:
        yield served


async def test_a_batch_that_timed_out_but_was_written_is_linked_not_sent_again(shop: SandboxShop) -> None:
    # The shop takes the batch, answers only after 2 s; the connector gives up after 0.5 s.
    shop.faults.set(route="/products/batch", methods=["POST"], latency=2.0, count=1)
    items = products("LOST", 30)
    async with connector_for(shop, timeout=0.5) as connector:
        wire = Wire(connector)
        outcomes = await write(connector, items)
        assert connector.client.recovered == 30
    assert all(o.ok and o.status is OutcomeStatus.CREATED for o in outcomes.values())
    assert wire.batches == 1 and wire.twice == []
    assert shop_skus(shop) == Counter({p.sku: 1 for p in items})
    assert len({o.target_ref["id"] for o in outcomes.values()}) == 30


async def test_a_lost_batch_is_still_settled_when_the_busy_shop_fails_a_lookup(shop: SandboxShop) -> None:
    items = products("BUSY", 10)
    async with connector_for(shop, timeout=0.5) as connector:
        wire = Wire(connector)
        shop.faults.set(route="/products/batch", methods=["POST"], latency=1.0, count=1)

        async def busy_lookups() -> None:
            await asyncio.sleep(0.25)  # the search before create is done, the batch is on its way
            shop.faults.set(route="/products", methods=["GET"], rate_503=1.0, count=1)

        # the first look after the lost answer fails (the shop is still busy), a later one finds all
        busy = asyncio.create_task(busy_lookups())
        outcomes = await write(connector, items)
        await busy
        assert connector.client.recovered == 10
        assert shop.faults.injected["503"] == 1
    assert all(o.ok and o.status is OutcomeStatus.CREATED for o in outcomes.values())
    assert wire.batches == 1 and wire.twice == []
    assert shop_skus(shop) == Counter({p.sku: 1 for p in items})


async def test_a_lost_batch_the_shop_had_not_started_is_sent_once_more(shop: SandboxShop) -> None:
    # 503 from a proxy: the shop never saw it. After the wait nothing is found, so all is sent again.
    shop.faults.set(route="/products/batch", methods=["POST"], rate_503=1.0, count=1)
    items = products("NOTSEEN", 5)
    async with connector_for(shop, start_concurrency=2) as connector:
        outcomes = await write(connector, items)
        assert connector.client.recovered == 0
        assert connector.client.pace.shrunk == 1  # a 5xx halved the batches in flight (2 -> 1)
    assert all(o.ok and o.status is OutcomeStatus.CREATED for o in outcomes.values())
    assert shop_skus(shop) == Counter({p.sku: 1 for p in items})


async def test_a_lost_batch_still_running_when_sent_again_is_matched_not_duplicated(
    shop: SandboxShop,
) -> None:
    # The shop starts the first attempt only after 5 s: the connector finds nothing, sends again, and
    # the late first attempt then meets taken SKUs. Each product exists once, no dead letter.
    shop.faults.set(route="/products/batch", methods=["POST"], latency=5.0, count=1)
    items = products("LATE", 10)
    async with connector_for(shop, timeout=0.5) as connector:
        outcomes = await write(connector, items)
    assert all(o.ok for o in outcomes.values())
    await asyncio.sleep(3.5)  # let the late first attempt arrive
    assert shop_skus(shop) == Counter({p.sku: 1 for p in items})


async def test_two_writers_of_the_same_skus_create_each_once_and_agree(shop: SandboxShop) -> None:
    items = products("TWIN", 40)
    async with connector_for(shop) as first, connector_for(shop) as second:
        wires = [Wire(first), Wire(second)]
        a, b = await asyncio.gather(write(first, items), write(second, items))
    assert all(o.ok for o in [*a.values(), *b.values()])
    assert {k: o.target_ref["id"] for k, o in a.items()} == {k: o.target_ref["id"] for k, o in b.items()}
    assert shop_skus(shop) == Counter({p.sku: 1 for p in items})
    # what one writer created the other matched, and left alone: it held what was sent already
    statuses = Counter(o.status for o in [*a.values(), *b.values()])
    assert statuses[OutcomeStatus.CREATED] == 40
    assert all(wire.twice == [] for wire in wires)
    assert sum(wire.writes.total() for wire in wires) == 80  # one create each, no update after a match


async def test_two_writers_on_a_slow_shop_meet_the_sku_lock_and_match_instead(monkeypatch: Any) -> None:
    # Under the latency model batch items are written one by one, so two writers' creates of one SKU
    # interleave and meet WooCommerce's SKU lock or a taken SKU: each becomes a match, none a failure.
    model = LatencyModel.named("wc10", time_scale=0.1, background_s=0.0)
    items = products("LOCK", 30)
    refusals: Counter[str] = Counter()
    original = WooError.from_body.__func__  # type: ignore[attr-defined]

    def counting(cls: type[WooError], body: Any, status: int | None = None) -> WooError:
        error = original(cls, body, status)
        refusals[error.code] += 1
        return error

    monkeypatch.setattr(WooError, "from_body", classmethod(counting))
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0, latency=model) as slow:
        async with connector_for(slow, timeout=3.0) as first, connector_for(slow, timeout=3.0) as second:
            a, b = await asyncio.gather(write(first, items), write(second, items))
        assert shop_skus(slow) == Counter({p.sku: 1 for p in items})
    assert all(o.ok for o in [*a.values(), *b.values()]), [o.error for o in [*a.values(), *b.values()]]
    assert {k: o.target_ref["id"] for k, o in a.items()} == {k: o.target_ref["id"] for k, o in b.items()}
    # every SKU was refused to one writer, by the lock (while the other inserted it) or as taken
    assert refusals["woocommerce_rest_product_not_created"] + refusals["product_invalid_sku"] >= 30
    assert refusals["woocommerce_rest_product_not_created"] >= 1


async def test_a_matched_product_that_differs_is_updated(shop: SandboxShop) -> None:
    items = products("DIFF", 3)
    async with connector_for(shop) as first, connector_for(shop) as second:
        await write(first, items)
        changed = [p.model_copy(update={"list_price": Decimal("12.00")}) for p in items]
        # the second writer believes the shop empty (its lookup misses them) and creates: refused
        second_wire = Wire(second)

        async def nothing(_items: Any) -> dict[str, int]:
            return {}

        second._products._resolve = nothing  # type: ignore[method-assign]
        outcomes = await write(second, changed)
    assert all(o.ok and o.status is OutcomeStatus.MATCHED for o in outcomes.values())
    assert second_wire.batches == 2  # the refused create, then the update of what differs
    async with connector_for(shop) as reader:
        read = await reader.read("product", [str(o.target_ref["id"]) for o in outcomes.values()])
    assert {p.list_price for p in read} == {Decimal("12.00")}  # type: ignore[union-attr]


async def test_a_sku_held_in_the_trash_is_not_adopted_but_says_what_to_do(
    shop: SandboxShop,
) -> None:
    # WooCommerce keeps a trashed product's SKU taken and names it in `resource_id`; the product is not
    # in the shop's catalogue, so linking it would hide the record: it stays a failure until handled
    [item] = products("TRASHED", 1)
    async with connector_for(shop) as connector:
        [outcome] = (await write(connector, [item])).values()
        ident = outcome.target_ref["id"]
        await connector.client.request("DELETE", f"products/{ident}")  # to the trash, SKU still taken
        again = item.model_copy(update={"key": "erp-other"})
        [refused] = (await write(connector, [again])).values()
    assert not refused.ok
    assert f"held by product {ident} in the shop's trash" in str(refused.error)
    assert shop_skus(shop) == Counter()  # nothing adopted, nothing created


def test_the_sku_lock_and_a_taken_sku_mean_the_product_exists() -> None:
    # as recorded from WooCommerce 10.0.2 (products-batch-sku-lock-concurrent.json)
    lock = WooError.from_body(
        {
            "code": "woocommerce_rest_product_not_created",
            "message": "The product with SKU (REC-LOCK-01) you are trying to insert is already present in "
            "the lookup table",
            "data": {"status": 400},
        }
    )
    taken = WooError.from_body(
        {
            "code": "product_invalid_sku",
            "message": "Invalid or duplicated SKU.",
            "data": {"status": 400, "resource_id": 523, "unique_sku": "REC-LOCK-02-1"},
        }
    )
    assert lock.sku_exists and lock.sku_lock and lock.resource_id is None
    assert lock.transient  # never a dead letter: at worst the record is matched on the next attempt
    assert taken.sku_exists and taken.resource_id == 523 and not taken.transient


async def test_429_backs_off_and_the_write_goes_through(shop: SandboxShop) -> None:
    shop.faults.set(route="/products/batch", methods=["POST"], rate_429=1.0, retry_after=0.2, count=1)
    items = products("RATE", 5)
    async with connector_for(shop, start_concurrency=4, retries=1) as connector:
        wire = Wire(connector)
        outcomes = await write(connector, items)
        assert connector.client.pace.shrunk == 1
        assert connector.client.pace.concurrency == 2  # halved; one batch alone proves no more
    assert all(o.ok for o in outcomes.values())
    assert wire.batches == 2  # refused (nothing written), then sent again


async def test_concurrency_grows_on_a_fast_shop(shop: SandboxShop) -> None:
    # a shop far away but with room to spare: each batch waits 0.3 s on the way, parallel ones no longer
    shop.faults.set(route="/products/batch", methods=["POST"], latency=0.3)
    async with connector_for(shop, batch_size=10) as connector:
        assert connector.client.pace.concurrency == 1
        outcomes = await write(connector, products("FAST", 100))
        assert connector.client.pace.concurrency == 4  # the configured max_concurrency
        assert connector.client.pace.loads[4] > 0
    assert len(outcomes) == 100 and all(o.ok for o in outcomes.values())


async def test_concurrency_shrinks_on_a_slow_shop_and_batches_get_smaller() -> None:
    # WooCommerce 10 on two cores (the sandbox's calibrated model) at three times the per-item cost,
    # run 10 times faster than real time: parallel batches only add latency there.
    model = LatencyModel.named("wc10", scale=3.0, time_scale=0.1, background_s=0.0)
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0, latency=model) as slow:
        async with connector_for(slow, batch_seconds=0.5) as connector:
            outcomes = await write(connector, products("SLOW", 300))
            pace = connector.client.pace
            assert pace.grown >= 1 and pace.shrunk >= 1
            # most batches went out with fewer than four in flight: four only add latency there
            assert pace.loads[4] < pace.loads[1] + pace.loads[2] + pace.loads[3], pace.loads
            assert connector.client.pace.batch_size("products") < 100
    assert all(o.ok for o in outcomes.values())
