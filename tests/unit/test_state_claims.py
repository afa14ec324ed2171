"""Link claims: one creator per new key, even when several workers race; an abandoned claim expires."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from emporion.state import Link, StateStore, utc_now


async def test_only_one_of_many_concurrent_claims_wins(store: StateStore) -> None:
    results = await asyncio.gather(
        *(store.claim_link("orders", "customer", "a@example.com", owner=f"w{i}") for i in range(8))
    )
    winners = [r for r in results if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, Link) and r.state == "pending" for r in results if r is not None)


async def test_claim_is_reentrant_and_synced_link_is_returned(store: StateStore) -> None:
    assert await store.claim_link("orders", "customer", "b@example.com", owner="w1") is None
    assert await store.claim_link("orders", "customer", "b@example.com", owner="w1") is None  # its own
    await store.record(
        links=[Link("orders", "customer", "b@example.com", {"id": 7}, "b@example.com", None, "synced")]
    )
    found = await store.claim_link("orders", "customer", "b@example.com", owner="w2")
    assert found is not None and found.state == "synced" and found.target_ref == {"id": 7}


async def test_abandoned_claim_expires(state_url: str) -> None:
    now = [utc_now()]
    store = await StateStore.connect(state_url, clock=lambda: now[0])
    try:
        assert (
            await store.claim_link("orders", "customer", "c@example.com", owner="dead", lease_seconds=30)
            is None
        )
        held = await store.claim_link("orders", "customer", "c@example.com", owner="w2", lease_seconds=30)
        assert held is not None and held.state == "pending"
        now[0] += timedelta(seconds=31)
        assert (
            await store.claim_link("orders", "customer", "c@example.com", owner="w2", lease_seconds=30)
            is None
        )
        assert (
            await store.claim_link("orders", "customer", "c@example.com", owner="w3", lease_seconds=30)
            is not None
        )
    finally:
        await store.close()
