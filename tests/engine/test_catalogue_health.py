"""A catalogue flow comes clean and says so: dead letters close when their record syncs, a reconcile
tells a record the shop holds unlinked from one it lacks and reports briefly, a plan on an empty
shop shows creates and matches (memory systems, the real engine and state store)."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from emporion.cli.reconcile import EXAMPLES, render_reconcile
from emporion.connectors.base import Permanent
from emporion.engine.dead_letters import list_letters
from emporion.engine.reconcile import Reconciler
from emporion.engine.sync import sync_flow, verify_flow
from emporion.model import Product
from tests.engine.conftest import Harness
from tests.engine.test_catalogue_flow import FLOWS, product, seed_catalogue, shop_products, step


async def test_a_dead_letter_is_resolved_when_its_record_syncs_later(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    harness.erp.put("product", product(4))
    harness.shop.fail("MUG-4", Permanent("the shop refuses this name", record="MUG-4", field="name"), times=1)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()  # the initial sync dead-letters MUG-4 once
        (letter,) = await list_letters(engine.store, flow="catalogue")
        assert (letter.key, letter.status) == ("p4", "open")

        harness.erp.put("product", product(4, name="Mug 4 renamed"))
        await step(engine)  # the change syncs through the work queue

        assert shop_products(harness.shop)["MUG-4"].name == "Mug 4 renamed"
        assert await list_letters(engine.store, flow="catalogue") == []
        (resolved,) = await list_letters(engine.store, flow="catalogue", status="resolved")
        assert resolved.id == letter.id
        journal = await engine.store.journal_for("catalogue", "product", "p4")
        lines = [(line.action, line.detail or {}) for line in journal]
        assert ("resolved", {"dead_letter": letter.id, "label": "MUG-4", "error": letter.reason}) in lines


async def test_a_dead_letter_of_the_initial_sync_is_resolved_by_the_next_sync(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    harness.shop.fail("MUG-2", Permanent("busy lookup table", record="MUG-2", field="sku"), times=1)
    async with harness.engine(FLOWS) as engine:
        runner = engine.runners["catalogue"]
        first = await sync_flow(runner)
        assert [label for label, _ in first.entities[1].failed] == ["MUG-2"]
        second = await sync_flow(runner)  # `emporion sync` again: it writes MUG-2, and only MUG-2
        assert second.entities[1].counts["created"] == 1 and second.entities[1].counts["unchanged"] == 2
        assert await list_letters(engine.store, flow="catalogue") == []
        assert len(await list_letters(engine.store, flow="catalogue", status="resolved")) == 1


async def test_reconcile_calls_a_product_the_shop_holds_unlinked_not_missing(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        # a product that reached the shop without its link being kept (a lost answer, another install)
        harness.erp.put("product", product(4))
        harness.shop.put("product", Product(key="", sku="MUG-4", name="Mug 4", list_price=Decimal("8.50")))
        harness.erp.put("product", product(5))  # and one the shop does not hold at all
        await engine.store.enqueue("catalogue", "product", [], cursor=None)
        reconciler = Reconciler(engine)
        result = await reconciler.reconcile("catalogue", repair=True)
        kinds = {item.label: (item.kind, item.target_id) for item in result.items}
        held = next(p for p in harness.shop.all("product") if isinstance(p, Product) and p.sku == "MUG-4")
        assert kinds == {"MUG-4": ("unlinked", held.key), "MUG-5": ("missing", None)}
        assert result.counts["extra"] == 0  # the unlinked product is no extra either
        while await engine.work(engine.settings.flow("catalogue")):
            pass
        assert (
            len([p for p in harness.shop.all("product") if isinstance(p, Product) and p.sku == "MUG-4"]) == 1
        )
        for _ in range(2):  # two reconciles in a row: both clean
            again = await reconciler.reconcile("catalogue")
            assert again.clean, [(i.kind, i.label, i.fields) for i in again.items]


async def test_plan_on_an_empty_shop_creates_and_matches_instead_of_waiting(harness: Harness) -> None:
    seed_catalogue(harness.erp)
    harness.shop.put("product", Product(key="", sku="MUG-2", name="Mug 2", list_price=Decimal("8.50")))
    async with harness.engine(FLOWS) as engine:
        report = await sync_flow(engine.runners["catalogue"], dry_run=True)
        categories, products = report.entities
        assert categories.counts == {"create": 2}
        assert products.counts == {"create": 2, "match": 1}
        assert {(p.label, p.action) for p in products.planned} == {
            ("MUG-1", "create"),
            ("MUG-2", "match"),
            ("MUG-3", "create"),
        }
        assert engine.runners["catalogue"].planned_categories == set()  # a plan leaves nothing behind
        await sync_flow(engine.runners["catalogue"])  # the sync does what the plan said
    assert sorted(shop_products(harness.shop)) == ["MUG-1", "MUG-2", "MUG-3"]
    assert len(harness.shop.all("product")) == 3


def rendered(result: object, *, full: bool = False) -> str:
    out = Console(width=150, file=io.StringIO(), record=True)
    render_reconcile(out, result, full=full)  # type: ignore[arg-type]
    return out.export_text()


async def test_a_reconcile_report_is_short_names_examples_and_says_what_to_do(harness: Harness) -> None:
    for n in range(1, 41):
        harness.erp.put("product", product(n, categories=[]))
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        for stored in harness.shop.all("product"):
            assert isinstance(stored, Product)
            harness.shop.put("product", stored.model_copy(update={"list_price": Decimal("1.00")}))
        result = await Reconciler(engine).reconcile("catalogue")
    assert result.counts["different"] == 40
    short = rendered(result)
    lines = short.splitlines()
    assert len(lines) <= 8, short
    assert "40 records drifted (40 different)" in lines[0]
    assert "list_price 40" in short  # the field that differs, with how many records
    examples = [line for line in lines if "list_price 8.50 -> 1.00" in line]
    assert len(examples) == EXAMPLES
    assert "... and 37 more" in short
    assert "emporion reconcile --repair" in short and "--full" in short
    full = rendered(result, full=True)
    assert all(f"MUG-{n}" in full for n in range(1, 41))


async def test_verify_counts_a_linked_record_queued_for_a_rewrite_as_linked(harness: Harness) -> None:
    # An order moved stock: its products are marked to be written again (link state "drift"). They are
    # linked all the same; verify compares them instead of calling them "not linked yet"
    seed_catalogue(harness.erp)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await engine.store.queue_repairs("catalogue", "product", ["p1"], stale=["p1"], reason="order stock")
        (link,) = (await engine.store.get_links("catalogue", "product", ["p1"])).values()
        assert link.state == "drift"
        report = await verify_flow(engine.runners["catalogue"])
        products = report.entities[1]
        assert products.linked == products.source_count == 3
        assert report.clean
        harness.erp.put("product", product(1, name="Mug 1 renamed"))  # the shop has the old name
        report = await verify_flow(engine.runners["catalogue"])
        assert [m.label for m in report.entities[1].mismatches] == ["MUG-1"]
