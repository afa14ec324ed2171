"""The SQL change feed on MariaDB and PostgreSQL in each change mode: changes, inserts, deletes, sub-rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.feed import PAGES_PER_POLL
from emporion.testing.contract import drain
from tests.connectors.sql.conftest import Wawi

MODES = ["monotonic", "updated_at", "full_diff"]
Build = Callable[..., SqlConnector]


@pytest.mark.parametrize("mode", MODES)
async def test_changed_inserted_and_soft_deleted_articles_are_reported(
    wawi: Wawi, make_connector: Build, mode: str
) -> None:
    """A change, a new article and one marked deleted are reported; the deleted one then reads as absent."""
    changed, deleted, quiet = (wawi.article(f"F-{n}", f"Feed {n}") for n in range(3))
    connector = make_connector(mode=mode)
    start = await connector.changes("product", None)
    assert start.keys == []

    wawi.update("artikel", {"art_id": changed}, bezeichnung="Neu")
    wawi.update("artikel", {"art_id": deleted}, geloescht="J")
    added = wawi.article("F-NEW", "Neu angelegt")
    batch = await drain(connector, "product", start.cursor)

    assert set(batch.keys) == {str(changed), str(deleted), str(added)}
    assert str(quiet) not in batch.keys
    records = await connector.read("product", batch.keys)
    assert sorted(record.key for record in records) == sorted([str(changed), str(added)])
    assert (await drain(connector, "product", batch.cursor)).keys == []


async def test_a_row_deleted_for_good_is_reported_by_the_full_diff(wawi: Wawi, make_connector: Build) -> None:
    """Without a deleted mark, the full diff sees the key vanish and reports it (read: absent)."""
    kept, removed = wawi.article("D-1", "Bleibt"), wawi.article("D-2", "Weg")
    connector = make_connector(mode="full_diff")
    start = await connector.changes("product", None)

    wawi.delete("artikel", {"art_id": removed})
    batch = await drain(connector, "product", start.cursor)

    assert batch.keys == [str(removed)]
    assert await connector.read("product", batch.keys) == []
    assert [r.key for r in await connector.read("product", [str(kept)])] == [str(kept)]


@pytest.mark.parametrize("mode", MODES)
async def test_changes_in_prices_stock_and_variants_report_their_product(
    wawi: Wawi, make_connector: Build, mode: str
) -> None:
    """A changed price, stock row or variant reports the product of its SKU (a variant: its product)."""
    priced, stocked, varied, untouched = (wawi.article(f"S-{n}", f"Sub {n}") for n in range(4))
    wawi.insert("preis", {"artnr": "S-0", "preisgruppe": "VK", "preis": Decimal("9.99")})
    wawi.insert("artikel_variante", {"var_id": 77, "art_id": varied, "artnr": "S-2-R", "farbe": "Rot"})
    connector = make_connector(mode=mode)
    start = await connector.changes("product", None)

    wawi.update("preis", {"artnr": "S-0"}, preis=Decimal("8.99"))
    wawi.update("lager_bestand", {"artnr": "S-1", "lager": "HAUPT"}, menge=Decimal(0))
    wawi.insert("lager_bestand", {"artnr": "S-2-R", "lager": "HAUPT", "menge": Decimal(3)})
    batch = await drain(connector, "product", start.cursor)

    assert set(batch.keys) == {str(priced), str(stocked), str(varied)}
    assert str(untouched) not in batch.keys


async def test_a_deleted_stock_row_reports_its_product_by_sku(wawi: Wawi, make_connector: Build) -> None:
    """Full diff keys stock by SKU: a stock row deleted for good still reports its product."""
    art_id = wawi.article("DS-1", "Lager weg")
    connector = make_connector(mode="full_diff")
    start = await connector.changes("product", None)

    wawi.delete("lager_bestand", {"artnr": "DS-1", "lager": "NEBEN"})
    batch = await drain(connector, "product", start.cursor)

    assert batch.keys == [str(art_id)]
    (product,) = await connector.read("product", batch.keys)
    assert [level.warehouse for level in product.stock] == ["HAUPT"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
async def test_categories_and_customers_have_their_own_feed(
    wawi: Wawi, make_connector: Build, mode: str
) -> None:
    """Warengruppen and customers are followed like articles."""
    wawi.insert("warengruppe", {"wg_id": 1, "bezeichnung": "Alt"}, {"wg_id": 2, "bezeichnung": "Ruhig"})
    wawi.insert("kunde", {"kd_nr": 5, "email": "a@example.org"}, {"kd_nr": 6, "email": "b@example.org"})
    connector = make_connector(mode=mode)
    categories = await connector.changes("category", None)
    customers = await connector.changes("customer", None)

    wawi.update("warengruppe", {"wg_id": 1}, bezeichnung="Neu")
    wawi.update("kunde", {"kd_nr": 6}, vorname="Bea")

    assert (await drain(connector, "category", categories.cursor)).keys == ["1"]
    assert (await drain(connector, "customer", customers.cursor)).keys == ["6"]


@pytest.mark.parametrize("mode", ["monotonic", "updated_at"])
async def test_a_poll_cut_at_the_page_limit_says_more_and_resumes(
    wawi: Wawi, make_connector: Build, mode: str
) -> None:
    """More changed rows than a poll reads: `more`, and following it reports each key once."""
    total = 3 * PAGES_PER_POLL + 4
    connector = make_connector(mode=mode, page_size=3)
    start = await connector.changes("category", None)
    wawi.insert("warengruppe", *({"wg_id": n, "bezeichnung": f"G{n}"} for n in range(1, total + 1)))

    first = await connector.changes("category", start.cursor)
    assert first.more and len(first.keys) == 3 * PAGES_PER_POLL
    rest = await drain(connector, "category", first.cursor)

    assert sorted(first.keys + rest.keys, key=int) == [str(n) for n in range(1, total + 1)]
    assert (await drain(connector, "category", rest.cursor)).keys == []


async def test_the_cursor_holds_each_source_and_a_damaged_one_is_refused(
    wawi: Wawi, make_connector: Build
) -> None:
    """The cursor is JSON with one state per source; a foreign text is a Permanent error, not a restart."""
    wawi.article("C-1", "Cursor")
    connector = make_connector(mode="full_diff")
    start = await connector.changes("product", None)
    assert start.cursor is not None
    states = json.loads(start.cursor)["s"]
    assert set(states) == {"products", "variants", "prices", "sale_prices", "stock", "images"} - {"images"}

    with pytest.raises(Permanent):
        await connector.changes("product", "not a cursor")


async def test_a_source_whose_mode_changed_starts_from_now(wawi: Wawi, make_connector: Build) -> None:
    """A cursor from another change mode primes the source again: nothing old is reported."""
    wawi.article("M-1", "Modus")
    before = await make_connector(mode="full_diff").changes("product", None)
    after = await make_connector(mode="updated_at").changes("product", before.cursor)
    assert after.keys == []
    assert json.loads(after.cursor or "{}")["s"]["products"]["m"] == "updated_at"
