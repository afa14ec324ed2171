"""A shop connection under faults, over real HTTP: Retry-After pauses it, the breaker stops and probes."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, RateLimited, Retryable, WriteItem
from emporion.connectors.circuit import CircuitBreaker, CircuitOpen, CircuitState
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.model import Product
from emporion_devkit.sandbox.woocommerce import SandboxShop


def connector_for(shop: SandboxShop, **options: Any) -> WooCommerceConnector:
    return WooCommerceConnector("shop", shop.base_url, shop.consumer_key, shop.consumer_secret, **options)


async def test_a_429_pauses_the_connection_for_its_retry_after(sandbox_shop: SandboxShop) -> None:
    connector = connector_for(sandbox_shop)
    try:
        sandbox_shop.faults.set(rate_429=1.0, retry_after=1.5, count=1)
        with pytest.raises(RateLimited) as caught:
            await connector.count("product")
        assert caught.value.after == 1.5
        started = time.monotonic()
        assert await connector.count("product") == 0  # the next request waits for the pause, then works
        assert time.monotonic() - started >= 1.4
        assert connector.circuit.state is CircuitState.CLOSED  # one 429 is no storm
    finally:
        await connector.close()


async def test_the_breaker_opens_on_a_storm_fails_fast_and_closes_after_a_good_probe(
    sandbox_shop: SandboxShop,
) -> None:
    breaker = CircuitBreaker("shop", failure_threshold=3, cooldown=1.0, max_cooldown=4.0)
    connector = connector_for(sandbox_shop, circuit=breaker)
    try:
        storm = sandbox_shop.faults.set(rate_503=1.0)
        for _ in range(3):
            with pytest.raises(Retryable):
                await connector.count("product")
        assert breaker.state is CircuitState.OPEN
        hits = storm.hits
        with pytest.raises(CircuitOpen) as caught:
            await connector.count("product")
        assert 0 < (caught.value.after or 0) <= 1.0
        assert storm.hits == hits  # failed fast: the shop saw nothing

        await asyncio.sleep(1.0)
        with pytest.raises(Retryable):  # the probe goes, fails: open again for twice as long
            await connector.count("product")
        assert breaker.state is CircuitState.OPEN and breaker.cooldown == 2.0
        assert storm.hits == hits + 1

        sandbox_shop.faults.clear()
        await asyncio.sleep(2.0)
        assert await connector.count("product") == 0
        assert breaker.state is CircuitState.CLOSED and breaker.opened == 2
    finally:
        await connector.close()


async def test_a_create_whose_answer_was_lost_is_matched_not_duplicated_nor_refused(
    sandbox_shop: SandboxShop,
) -> None:
    connector = connector_for(sandbox_shop, timeout=1.0)
    product = Product(key="erp-LATE-1", sku="LATE-1", name="Late", list_price=Decimal("9.90"))
    try:
        # the first batch lands 1.2 s after it was sent, when the client has given up (1 s); the
        # outcome is unknown, so the client waits, looks the SKU up and sends only what is missing;
        # a create it sends again arrives after the first and is matched, never a second product
        sandbox_shop.faults.set(route="/products/batch", methods=["POST"], latency=0.7, count=1)
        sandbox_shop.faults.set(route="/products/batch", methods=["POST"], latency=0.5, count=2)
        [outcome] = await connector.write("product", [WriteItem(product.key, product)], [])
        assert outcome.ok, outcome.error
        assert outcome.status in (OutcomeStatus.CREATED, OutcomeStatus.MATCHED)
        [again] = await connector.write("product", [WriteItem(product.key, product)], [])
        assert again.ok and again.status is OutcomeStatus.MATCHED, again.error
        skus = [record.sku for page in [p async for p in connector.scan("product")] for record in page]  # type: ignore[attr-defined]
        assert skus == ["LATE-1"]
    finally:
        await connector.close()
