"""The webhook inbox: duplicate deliveries are refused, pending ones are leased and marked processed."""

from __future__ import annotations

import asyncio

from emporion.state import StateStore


async def test_duplicate_delivery_is_refused(store: StateStore) -> None:
    body = b'{"id": 42}'
    assert await store.inbox_add("woo", "d-1", "product.updated", {"x-wc-webhook-id": "7"}, body) is True
    assert await store.inbox_add("woo", "d-1", "product.updated", {}, body) is False
    assert await store.inbox_add("other-shop", "d-1", "product.updated", {}, body) is True


async def test_claim_and_mark_processed(store: StateStore) -> None:
    for n in range(5):
        await store.inbox_add("woo", f"d-{n}", "order.created", {"n": n}, f"body {n}".encode())
    first = await store.inbox_claim(worker="a", limit=3)
    assert [d.delivery_id for d in first] == ["d-0", "d-1", "d-2"]
    assert first[0].headers == {"n": 0} and first[0].body == b"body 0" and first[0].received_at.tzinfo
    rest = await store.inbox_claim(worker="b", limit=10)
    assert [d.delivery_id for d in rest] == ["d-3", "d-4"]
    assert await store.inbox_mark_processed([d.id for d in first]) == 3
    assert await store.inbox_mark_processed([first[0].id]) == 0
    assert await store.inbox_claim(worker="c", limit=10) == []  # rest is still leased by b
    assert await store.inbox_claim(worker="c", limit=10, source="nobody") == []


async def test_expired_inbox_lease_is_claimable_again(store: StateStore) -> None:
    await store.inbox_add("woo", "d-1", "order.created", {}, b"{}")
    [held] = await store.inbox_claim(worker="a", lease_seconds=0.2)
    await asyncio.sleep(0.3)
    [again] = await store.inbox_claim(worker="b")
    assert again.id == held.id
