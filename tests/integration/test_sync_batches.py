"""A full sync keeps several product batches in flight: every record arrives once, failures surface as raised.

The source is the benchmarks' synthetic catalogue (the canonical records a Tryton catalogue gives,
made on the fly), the target the sandbox shop over real HTTP, the state database real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from bench.support.engine import FLOW, bench_engine, catalogue_settings
from bench.support.synthetic import SyntheticCatalogue

from emporion.connectors.base import Capabilities, CheckResult, Permanent
from emporion.connectors.roles import Role
from emporion.engine.flows import MissingRole
from emporion.engine.sync import PARALLEL_BATCHES, sync_flow
from emporion.model import Record
from emporion_devkit.sandbox.woocommerce import SandboxShop

PRODUCTS = 450  # five batches of 100 (the last one short), more than PARALLEL_BATCHES at once


class FailingCatalogue(SyntheticCatalogue):
    """A source whose connection breaks after its first page."""

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """The first page, then a failure (categories are read whole)."""
        async for page in super().scan(entity):
            yield page
            if entity == "product":
                raise Permanent("the ERP refused the next page")


def shop_total(shop: SandboxShop) -> int:
    """Products the shop holds (X-WP-Total)."""
    answer = httpx.get(
        f"{shop.api_url}/products",
        params={"per_page": 1},
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    )
    answer.raise_for_status()
    return int(answer.headers["X-WP-Total"])


async def test_batches_in_flight_sync_every_product_once(sandbox_shop: SandboxShop, state_url: str) -> None:
    assert PRODUCTS > PARALLEL_BATCHES * 100
    settings = catalogue_settings(sandbox_shop, state_url)  # type: ignore[arg-type]
    async with bench_engine(settings, SyntheticCatalogue(PRODUCTS)) as engine:
        report = await sync_flow(engine.runners[FLOW])
        products = report.entities[1]
        assert products.counts["created"] == PRODUCTS and not products.failed
        assert products.source_count == PRODUCTS
        assert await engine.store.count_links(FLOW, "product") == PRODUCTS
        variations = 0
        async for links in engine.store.iter_links(FLOW, "product"):
            variations += sum(len(link.target_ref["variations"]) for link in links if link.target_ref)
        assert variations == PRODUCTS // 10 * 4
    assert shop_total(sandbox_shop) == PRODUCTS
    # a second full sync finds everything unchanged and writes nothing
    async with bench_engine(settings, SyntheticCatalogue(PRODUCTS)) as engine:
        again = await sync_flow(engine.runners[FLOW])
        assert again.entities[1].counts == {"unchanged": PRODUCTS}


async def test_a_failing_source_raises_its_own_error(sandbox_shop: SandboxShop, sqlite_url: str) -> None:
    settings = catalogue_settings(sandbox_shop, sqlite_url)  # type: ignore[arg-type]
    async with bench_engine(settings, FailingCatalogue(PRODUCTS)) as engine:
        with pytest.raises(Permanent, match="refused the next page"):
            await sync_flow(engine.runners[FLOW])
        assert await engine.store.count_links(FLOW, "product") <= PRODUCTS


class FeedlessCatalogue:
    """A source that reads and scans but has no change feed: not a catalogue source."""

    name = "erp"

    def __init__(self) -> None:
        self.catalogue = SyntheticCatalogue(10)

    def capabilities(self) -> Capabilities:
        """As the synthetic catalogue's."""
        return self.catalogue.capabilities()

    async def check(self) -> list[CheckResult]:
        """Nothing to check."""
        return []

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """The synthetic catalogue's records."""
        return await self.catalogue.read(entity, keys)

    def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """The synthetic catalogue's pages."""
        return self.catalogue.scan(entity)

    async def close(self) -> None:
        """Nothing to close."""


async def test_a_source_without_a_change_feed_is_refused_naming_flow_connection_and_role(
    sandbox_shop: SandboxShop, sqlite_url: str
) -> None:
    settings = catalogue_settings(sandbox_shop, sqlite_url)  # type: ignore[arg-type]
    with pytest.raises(MissingRole) as refused:
        async with bench_engine(settings, FeedlessCatalogue()):  # type: ignore[arg-type]
            pass
    assert refused.value.role is Role.CATALOGUE_SOURCE and refused.value.connection == "erp"
    assert str(refused.value) == f"flow {FLOW} needs connection erp to be a catalogue source, which it is not"
