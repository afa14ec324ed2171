"""The inbox processor: deliveries become work items for the flows that read them, then are done."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from emporion.config import Settings
from emporion.engine.connections import ConnectorPool
from emporion.engine.inbox import InboxProcessor
from emporion.state import StateStore
from tests.fixtures.offline import offline_erp, offline_shop


def make_settings() -> Settings:
    shop = offline_shop()
    erp = offline_erp()
    flows = [
        {"name": "a-orders", "source": "shop", "target": "erp", "entities": ["order"]},
        {"name": "b-orders", "source": "shop", "target": "erp", "entities": ["order"], "enabled": False},
        {"name": "c-products", "source": "shop", "target": "erp", "entities": ["product"]},
        {"name": "d-orders", "source": "other", "target": "erp", "entities": ["order"]},
    ]
    return Settings.model_validate(
        {
            "connections": {"shop": shop | {"webhooks": True}, "other": shop, "erp": erp},
            "flows": flows,
        }
    )


@pytest.fixture
async def processor(store: StateStore) -> AsyncIterator[InboxProcessor]:
    settings = make_settings()
    pool = ConnectorPool(settings)
    try:
        yield InboxProcessor(settings, store, pool, worker="inbox-test")
    finally:
        await pool.close()


async def deliver(store: StateStore, source: str, delivery_id: str, topic: str, body: bytes) -> None:
    assert await store.inbox_add(source, delivery_id, topic, {"x-wc-webhook-topic": topic}, body)


async def test_deliveries_become_coalesced_work_for_matching_flows(
    store: StateStore, processor: InboxProcessor
) -> None:
    order = json.dumps({"id": 101, "status": "processing"}).encode()
    await deliver(store, "shop", "d1", "order.created", order)
    await deliver(store, "shop", "d2", "order.updated", order)
    await deliver(store, "shop", "d3", "order.deleted", b'{"id": 102}')
    await deliver(store, "shop", "d4", "product.updated", b'{"id": 7, "type": "simple"}')
    await deliver(store, "other", "d5", "order.created", b'{"id": 9}')
    assert await processor.process_once() == 5
    depth = await store.queue_depth()
    assert depth == {("a-orders", "order"): 2, ("c-products", "product"): 1, ("d-orders", "order"): 1}
    items = await store.claim("a-orders", "order", worker="w", limit=10)
    assert sorted((i.key, i.reason) for i in items) == [("101", "webhook"), ("102", "webhook")]
    assert await store.inbox_claim(worker="again") == []
    assert await processor.process_once() == 0


async def test_pings_junk_and_unknown_sources_are_marked_processed(
    store: StateStore, processor: InboxProcessor
) -> None:
    await deliver(store, "shop", "p1", "", b"webhook_id=3")
    await deliver(store, "shop", "j1", "order.created", b"\xff\xfe secret-ish junk")
    await deliver(store, "shop", "j2", "order.created", b"[1, 2]")
    await deliver(store, "gone", "g1", "order.created", b'{"id": 5}')
    with capture_logs() as logs:
        assert await processor.process_once() == 4
    assert await store.queue_depth() == {}
    assert await store.inbox_claim(worker="again") == []
    assert "secret-ish" not in repr(logs)
    assert any(e.get("connection") == "gone" for e in logs)
