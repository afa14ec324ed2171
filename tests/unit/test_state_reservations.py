"""Stock reservations of orders the ERP has not taken yet: set, summed over flows, released."""

from __future__ import annotations

from decimal import Decimal

from emporion.state import StateStore


async def test_reservations_sum_over_flows_and_release(store: StateStore) -> None:
    await store.reserve("shop-a", "100", {"SKU-1": Decimal(2), "SKU-2": Decimal(1)})
    await store.reserve("shop-b", "7", {"SKU-1": Decimal(1)})
    assert await store.reserved(["SKU-1", "SKU-2", "SKU-3"]) == {"SKU-1": Decimal(3), "SKU-2": Decimal(1)}
    await store.reserve("shop-a", "100", {"SKU-1": Decimal(1)})  # the order changed: replaced, not added
    assert await store.reserved(["SKU-1", "SKU-2"]) == {"SKU-1": Decimal(2)}
    await store.release_reservations("shop-b", ["7"])
    assert await store.reserved(["SKU-1"]) == {"SKU-1": Decimal(1)}
