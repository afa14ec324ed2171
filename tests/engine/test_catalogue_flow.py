"""A catalogue flow on memory systems: initial sync, changes through the feed, skips, removals, failures."""

from __future__ import annotations

from decimal import Decimal

from emporion.connectors.base import Permanent, Retryable
from emporion.engine.worker import Engine
from emporion.model import Category, Product, StockLevel
from emporion.testing import MemorySystem
from tests.engine.conftest import Harness

FLOWS = """
  - name: catalogue
    source: erp
    target: shop
    entities: [category, product]
"""


def seed_catalogue(erp: MemorySystem) -> None:
    """Two categories and three products in the ERP."""
    erp.put("category", Category(key="c1", name="Kitchen", slug="kitchen"))
    erp.put("category", Category(key="c2", name="Mugs", slug="mugs", parent_key="c1"))
    for n in range(1, 4):
        erp.put("product", product(n))


def product(n: int, **changes: object) -> Product:
    """ERP product `n`: SKU MUG-n in the Mugs category, five in stock."""
    values: dict[str, object] = {
        "key": f"p{n}",
        "sku": f"MUG-{n}",
        "name": f"Mug {n}",
        "list_price": Decimal("8.50"),
        "categories": ["c2"],
        "stock": [StockLevel(warehouse="WH", quantity=Decimal(5))],
    }
    return Product.model_validate({**values, **changes})


def shop_products(shop: MemorySystem) -> dict[str, Product]:
    """The shop's products by SKU."""
    return {p.sku: p for p in shop.all("product") if isinstance(p, Product)}


async def step(engine: Engine) -> None:
    """One round of the engine's loop for the flow: poll the feed, then work the queue until it is empty."""
    flow = engine.settings.flow("catalogue")
    await engine.poll(flow)
    while await engine.work(flow):
        pass


async def test_initial_sync_brings_the_catalogue_into_the_shop(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
    categories = {c.name: c for c in harness.shop.all("category") if isinstance(c, Category)}
    assert set(categories) == {"Kitchen", "Mugs"}
    assert categories["Mugs"].parent_key == categories["Kitchen"].key  # the shop's own id of the parent
    products = shop_products(harness.shop)
    assert set(products) == {"MUG-1", "MUG-2", "MUG-3"}
    assert products["MUG-1"].categories == [categories["Mugs"].key]
    assert products["MUG-1"].list_price == Decimal("8.50") and products["MUG-1"].available == Decimal(5)


async def test_a_change_reaches_the_shop_through_the_feed(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        harness.erp.put("product", product(2, list_price=Decimal("9.90")))
        await step(engine)
    assert shop_products(harness.shop)["MUG-2"].list_price == Decimal("9.90")
    assert shop_products(harness.shop)["MUG-1"].list_price == Decimal("8.50")


async def test_an_unchanged_record_is_not_written_again(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        writes_before = harness.shop.committed
        harness.erp.put("product", product(1))  # a change in the ERP that changes nothing the shop shows
        await step(engine)
        assert engine.processed["unchanged"] == 1
    assert harness.shop.committed == writes_before


async def test_a_removed_record_is_unpublished(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        harness.erp.remove("product", "p3")
        await step(engine)
    products = shop_products(harness.shop)
    assert products["MUG-3"].active is False and products["MUG-3"].name == "Mug 3"
    assert products["MUG-1"].active is True


async def test_a_permanent_failure_becomes_a_dead_letter(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    harness.shop.fail("MUG-4", Permanent("the shop refuses this name", record="MUG-4", field="name"))
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        harness.erp.put("product", product(4))
        await step(engine)
        (dead,) = await engine.store.list_dead("catalogue")
    assert (dead.entity, dead.key, dead.field, dead.record) == ("product", "p4", "name", "MUG-4")
    assert "MUG-4" not in shop_products(harness.shop)


async def test_a_transient_failure_is_retried(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    harness.shop.fail("MUG-5", Retryable("the shop is busy"), times=1)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        harness.erp.put("product", product(5))
        flow = engine.settings.flow("catalogue")
        await engine.poll(flow)
        assert await engine.work(flow) == 1
        assert engine.processed["retry"] == 1 and "MUG-5" not in shop_products(harness.shop)
        assert await engine.store.queued_keys("catalogue", "product", ["p5"]) == {"p5"}
        while "MUG-5" not in shop_products(harness.shop):  # the retry is due within retry.max
            await step(engine)
        assert await engine.store.list_dead("catalogue") == []
