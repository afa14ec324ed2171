"""A two-way catalogue on memory systems: a master per field, no echo, no ping-pong, conflicts and reverts.

The ERP owns every field but the shop's description and images; the name may be edited on either
side. Each test runs both flows until neither has work left, and counts the journal's write lines.
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from emporion.connectors.base import Unmappable
from emporion.console import render_plan, render_report
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import Category, Image, Product
from emporion.state import JournalEntry
from emporion.testing import MemorySystem
from tests.engine.conftest import Harness

OWNERSHIP = """
    ownership:
      default: erp
      fields: {description: shop, images: shop, name: either}
      conflict_fields: {description: report}
"""
FLOWS = f"""
  - name: erp-to-shop
    source: erp
    target: shop
    entities: [category, product]
{OWNERSHIP}
  - name: shop-to-erp
    source: shop
    target: erp
    entities: [category, product]
    create_defaults: {{unit: piece}}
"""
PAIR = "erp <> shop"
WRITES = {"created", "updated", "matched"}


def mug(key: str, **changes: object) -> Product:
    """Product MUG-1 as a system holds it under `key`."""
    values: dict[str, object] = {
        "key": key,
        "sku": "MUG-1",
        "name": "Mug",
        "description": "A mug.",
        "list_price": Decimal("8.50"),
    }
    return Product.model_validate({**values, **changes})


def by_sku(system: MemorySystem) -> dict[str, Product]:
    """A system's products by SKU."""
    return {p.sku: p for p in system.all("product") if isinstance(p, Product)}


def edit(system: MemorySystem, sku: str, **changes: object) -> None:
    """Someone edits a product in a system (the change feed reports it)."""
    system.put("product", by_sku(system)[sku].model_copy(update=changes))


def posts(system: MemorySystem) -> int:
    """How many write requests a memory system has taken."""
    return sum(1 for method, _ in system.requests if method == "POST")


async def settle(engine: Engine) -> None:
    """Poll both flows and work their queues until neither finds anything more to do."""
    for _ in range(10):
        busy = 0
        for flow in engine.settings.flows:
            busy += await engine.poll(flow)
            while handled := await engine.work(flow):
                busy += handled
        if not busy:
            return
    raise AssertionError("the two flows kept finding work: a ping-pong")


async def journal(engine: Engine) -> list[JournalEntry]:
    return [entry for _, entry in await engine.store.journal_after(0, 1000)]


async def writes(engine: Engine) -> list[tuple[str, str]]:
    """(flow, action) of every journal line that wrote a product."""
    return [(e.flow, e.action) for e in await journal(engine) if e.entity == "product" and e.action in WRITES]


async def started(harness: Harness, engine: Engine) -> None:
    """Both flows synced once and settled."""
    await engine.ensure_initial_sync()
    await settle(engine)


async def test_a_product_created_in_the_shop_reaches_the_erp_once(harness: Harness) -> None:
    harness.shop.put("product", mug("", description="Made in the shop."))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        lines = await writes(engine)
        await settle(engine)  # nothing left to bounce
        assert await writes(engine) == lines
        links = await engine.store.get_links("erp-to-shop", "product", [by_sku(harness.erp)["MUG-1"].key])
    erp = by_sku(harness.erp)
    assert list(erp) == ["MUG-1"] and list(by_sku(harness.shop)) == ["MUG-1"]
    assert erp["MUG-1"].description == "Made in the shop." and erp["MUG-1"].list_price == Decimal("8.50")
    # one create into the ERP; the reverse flow matched it without writing anything
    assert lines == [("shop-to-erp", "created"), ("erp-to-shop", "matched")]
    (link,) = links.values()
    assert link.fields and link.target_ref == {"id": by_sku(harness.shop)["MUG-1"].key}


async def test_a_description_edited_in_the_shop_reaches_the_erp_and_does_not_bounce(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before, shop_posts = len(await writes(engine)), posts(harness.shop)
        edit(harness.shop, "MUG-1", description="Now with a handle.")
        await settle(engine)
        lines = (await writes(engine))[before:]
        (line,) = [e for e in await journal(engine) if e.flow == "shop-to-erp" and e.action == "updated"]
    assert by_sku(harness.erp)["MUG-1"].description == "Now with a handle."
    assert lines == [("shop-to-erp", "updated")]  # one write for one change, no echo back
    assert line.detail and line.detail["fields"] == ["description"]
    assert posts(harness.shop) == shop_posts  # nothing was written to the shop


async def test_a_price_edited_in_the_erp_reaches_the_shop_and_does_not_bounce(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before, erp_posts = len(await writes(engine)), posts(harness.erp)
        edit(harness.erp, "MUG-1", list_price=Decimal("9.90"))
        await settle(engine)
        lines = (await writes(engine))[before:]
    assert by_sku(harness.shop)["MUG-1"].list_price == Decimal("9.90")
    assert lines == [("erp-to-shop", "updated")]
    assert posts(harness.erp) == erp_posts


async def test_changes_on_both_sides_between_two_syncs_both_arrive(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before = len(await writes(engine))
        edit(harness.shop, "MUG-1", description="Shop words.")
        edit(harness.erp, "MUG-1", list_price=Decimal("7.00"))
        await settle(engine)
        lines = sorted((await writes(engine))[before:])
        assert await engine.store.list_conflicts(state=None) == []
    for system in (harness.erp, harness.shop):
        product = by_sku(system)["MUG-1"]
        assert (product.description, product.list_price) == ("Shop words.", Decimal("7.00"))
    assert lines == [("erp-to-shop", "updated"), ("shop-to-erp", "updated")]


async def test_a_price_edited_in_the_shop_is_reverted(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before = len(await writes(engine))
        edit(harness.shop, "MUG-1", list_price=Decimal("1.00"))
        await settle(engine)
        lines = (await writes(engine))[before:]
        conflicts = await engine.store.list_conflicts(state=None)
    assert by_sku(harness.shop)["MUG-1"].list_price == Decimal("8.50")
    assert by_sku(harness.erp)["MUG-1"].list_price == Decimal("8.50")
    assert lines == [("erp-to-shop", "updated")]  # the owner's value written back, once
    # recorded, with the shop's edit, and resolved once both systems held the owner's value again
    (conflict,) = conflicts
    assert (conflict.field, conflict.owner, conflict.policy, conflict.state) == (
        "list_price",
        "erp",
        "revert",
        "resolved",
    )
    assert conflict.values["shop"] == "1"


async def test_a_description_edited_in_the_erp_is_reported_not_reverted(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before = len(await writes(engine))
        edit(harness.erp, "MUG-1", description="ERP words.")
        await settle(engine)
        (conflict,) = await engine.store.list_conflicts(flow=None, state="open")
        assert (await writes(engine))[before:] == []
        assert by_sku(harness.shop)["MUG-1"].description == "A mug."  # the shop's stays
        assert (conflict.pair, conflict.natural_key, conflict.field) == (PAIR, "MUG-1", "description")
        assert (conflict.owner, conflict.policy) == ("shop", "report")
        assert conflict.values == {"erp": "ERP words.", "shop": "A mug."}
        edit(harness.erp, "MUG-1", description="A mug.")  # the ERP agrees again
        await settle(engine)
        assert await engine.store.list_conflicts(state="open") == []
    assert by_sku(harness.erp)["MUG-1"].description == "A mug."


async def test_a_name_edited_on_both_sides_is_an_open_conflict_and_nothing_is_overwritten(
    harness: Harness,
) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        before = len(await writes(engine))
        edit(harness.erp, "MUG-1", name="Big mug")
        edit(harness.shop, "MUG-1", name="Mug XL")
        await settle(engine)
        conflicts = await engine.store.list_conflicts(state="open")
        assert (await writes(engine))[before:] == []
    assert [(c.field, c.owner) for c in conflicts] == [("name", "either")]
    assert conflicts[0].values == {"erp": "Big mug", "shop": "Mug XL"} or conflicts[0].values == {
        "shop": "Mug XL",
        "erp": "Big mug",
    }
    assert by_sku(harness.erp)["MUG-1"].name == "Big mug"
    assert by_sku(harness.shop)["MUG-1"].name == "Mug XL"


async def test_a_name_edited_on_one_side_travels_either_way(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        edit(harness.shop, "MUG-1", name="Mug XL", images=[Image(url="https://shop/mug.jpg")])
        await settle(engine)
        edit(harness.erp, "MUG-1", name="Mug XXL")
        await settle(engine)
        assert await engine.store.list_conflicts(state=None) == []
    for system in (harness.erp, harness.shop):
        product = by_sku(system)["MUG-1"]
        assert product.name == "Mug XXL" and [i.url for i in product.images] == ["https://shop/mug.jpg"]


async def test_a_plan_on_two_full_systems_reports_matches_differences_and_the_target_only(
    harness: Harness,
) -> None:
    harness.erp.put("product", mug("p1", list_price=Decimal("9.00"), name="Mug"))
    harness.erp.put("product", mug("p2", sku="JUG-1", name="Jug"))
    harness.shop.put("product", mug("", description="Shop text.", name="Tasse"))
    harness.shop.put("product", mug("", sku="CUP-7", name="Cup"))
    async with harness.engine(FLOWS) as engine:
        report = await sync_flow(engine.runners["erp-to-shop"], dry_run=True)
    products = next(e for e in report.entities if e.entity == "product")
    assert products.counts["create"] == 1 and products.counts["match"] == 1
    assert products.counts["conflict"] == 1
    (match,) = [p for p in products.planned if p.action == "match"]
    assert match.label == "MUG-1" and match.fields == ["available", "list_price"]  # the ERP owns stock
    assert "matched on SKU" in match.detail and "description: differs, shop owns it" in match.detail
    assert "name: conflict" in match.detail
    assert products.differs[("list_price", "erp")] == 1 and products.differs[("description", "shop")] == 1
    assert products.conflicts == [("MUG-1", "name")]
    assert (products.only_in_target, products.only_in_target_sample) == (1, ["CUP-7"])
    assert by_sku(harness.shop)["MUG-1"].list_price == Decimal("8.50")  # a plan writes nothing
    console = Console(record=True, width=200)
    render_plan(console, report)
    text = console.export_text()
    assert "only in the target: 1 product (CUP-7)" in text
    assert "conflict product MUG-1: name" in text and "differs: list_price (erp wins) in 1" in text


async def test_a_first_sync_reports_what_it_created_matched_and_left_in_conflict(harness: Harness) -> None:
    harness.erp.put("product", mug("p1", name="Mug"))
    harness.erp.put("product", mug("p2", sku="JUG-1", name="Jug"))
    harness.shop.put("product", mug("", name="Tasse"))
    async with harness.engine(FLOWS) as engine:
        report = await sync_flow(engine.runners["erp-to-shop"])
        (conflict,) = await engine.store.list_conflicts(state="open")
    products = next(e for e in report.entities if e.entity == "product")
    assert (products.counts["created"], products.counts["matched"]) == (1, 1)
    assert products.conflicts == [("MUG-1", "name")] and conflict.field == "name"
    assert by_sku(harness.shop)["MUG-1"].name == "Tasse"  # either side may own it: not overwritten
    console = Console(record=True, width=200)
    render_report(console, report, verified=False)
    text = console.export_text()
    assert "product: 1 created, 1 matched by SKU" in text and "conflict product MUG-1: name" in text


async def test_verify_of_a_two_way_flow_leaves_the_fields_the_target_owns_aside(harness: Harness) -> None:
    harness.erp.put("product", mug("p1"))
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        edit(harness.erp, "MUG-1", description="ERP words.")  # the shop owns it: reported, not written
        await settle(engine)
        report = await verify_flow(engine.runners["erp-to-shop"])
        edit(harness.erp, "MUG-1", description="A mug.", list_price=Decimal("3.00"))
        harness.shop.records["product"][by_sku(harness.shop)["MUG-1"].key] = Unmappable(
            key=by_sku(harness.shop)["MUG-1"].key,
            reason="price is not a number",
            record="MUG-1",
            field="price",
        )
        await settle(engine)
        (dead,) = await engine.store.list_dead("erp-to-shop")
    assert report.clean and not report.entities[1].mismatches
    assert (dead.key, dead.record, dead.field) == ("p1", "MUG-1", "price")


async def test_a_crash_between_the_write_and_its_commit_ends_in_a_match(harness: Harness) -> None:
    async with harness.engine(FLOWS) as engine:
        await started(harness, engine)
        harness.shop.put("product", mug("", description="Made in the shop."))
        shop_key = by_sku(harness.shop)["MUG-1"].key
        # the batch writes into the ERP, then the process dies before its links are committed
        lost = await engine.runners["shop-to-erp"].sync_keys("product", [shop_key], reason="change")
        assert lost.counts["created"] == 1
        before = len(await writes(engine))
        await settle(engine)
        lines = (await writes(engine))[before:]
        links = await engine.store.get_links("shop-to-erp", "product", [shop_key])
    assert list(by_sku(harness.erp)) == ["MUG-1"] and list(by_sku(harness.shop)) == ["MUG-1"]
    assert sorted(lines) == [("erp-to-shop", "matched"), ("shop-to-erp", "matched")]
    assert links[shop_key].target_ref == {"id": by_sku(harness.erp)["MUG-1"].key}


async def test_a_first_sync_on_two_full_systems_links_a_category_tree_at_once(harness: Harness) -> None:
    """Matched parents are linked in the batch that matched them: their children need no retry."""
    for system, prefix in ((harness.erp, "e"), (harness.shop, "s")):
        system.put("category", Category(key=f"{prefix}1", name="Kitchen", slug="kitchen"))
        system.put("category", Category(key=f"{prefix}2", name="Mugs", slug="mugs", parent_key=f"{prefix}1"))
        system.put("product", mug(f"{prefix}p", categories=[f"{prefix}2"]))
    async with harness.engine(FLOWS) as engine:
        report = await sync_flow(engine.runners["erp-to-shop"])
        queued = await engine.store.queue_depth("erp-to-shop")
    categories, products = report.entities
    assert (categories.counts["matched"], categories.counts["waiting"]) == (2, 0)
    assert (products.counts["matched"], products.counts["waiting"]) == (1, 0)
    assert not any(queued.values()), queued
