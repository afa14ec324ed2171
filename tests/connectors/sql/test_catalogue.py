"""The SQL catalogue read side on MariaDB and PostgreSQL: reads, scans in pages, mapping, unmappable rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from emporion.connectors.base import Unmappable
from emporion.connectors.rows.reserve import reserve_levels
from emporion.connectors.sql.connector import SqlConnector
from emporion.model import Category, Customer, Product, StockLevel
from emporion.testing.contract import drain
from tests.connectors.sql import sales_schema
from tests.connectors.sql.conftest import Wawi, settings, warengruppe


async def test_a_product_is_read_with_its_variants_prices_sale_price_and_stock(
    wawi: Wawi, make_connector
) -> None:
    """A product joins its variants (by art_id) and the prices, promotion and stock of its SKUs."""
    art_id = wawi.article("SHIRT", "Hemd", "19.90", beschreibung="Baumwolle", warengruppen="3,7")
    wawi.insert(
        "artikel_variante",
        {"var_id": 1, "art_id": art_id, "artnr": "SHIRT-R", "farbe": "Rot", "vk_netto": Decimal("19.90")},
        {"var_id": 2, "art_id": art_id, "artnr": "SHIRT-B", "farbe": "Blau", "vk_netto": Decimal("21.00")},
    )
    wawi.insert(
        "preis",
        {"artnr": "SHIRT", "preisgruppe": "HAENDLER", "preis": Decimal("15.00")},
        {"artnr": "SHIRT-B", "preisgruppe": "HAENDLER", "preis": Decimal("16.50")},
    )
    now = datetime.now()
    wawi.insert(
        "aktion",
        {
            "artnr": "SHIRT",
            "preis": Decimal("17.00"),
            "von": now - timedelta(days=1),
            "bis": now + timedelta(days=3),
        },
    )
    wawi.insert("lager_bestand", {"artnr": "SHIRT-R", "lager": "HAUPT", "menge": Decimal("4")})
    connector = make_connector()

    (product,) = await connector.read("product", [str(art_id)])

    assert isinstance(product, Product), product
    assert product.key == str(art_id) and product.sku == "SHIRT" and product.name == "Hemd"
    assert product.description == "Baumwolle" and product.list_price == Decimal("19.90")
    assert product.currency == "EUR" and product.categories == ["3", "7"]
    assert product.sale_price is not None and product.sale_price.price == Decimal("17.00")
    assert product.price_lists == {"HAENDLER": Decimal("15.00")}
    assert {level.warehouse: level.quantity for level in product.stock} == {
        "HAUPT": Decimal(5),
        "NEBEN": Decimal("2.5"),
    }
    variants = {variant.sku: variant for variant in product.variants}
    assert set(variants) == {"SHIRT-R", "SHIRT-B"}
    assert variants["SHIRT-B"].attributes == {"Farbe": "Blau"}
    assert variants["SHIRT-B"].price_lists == {"HAENDLER": Decimal("16.50")}
    assert [(level.warehouse, level.quantity) for level in variants["SHIRT-R"].stock] == [
        ("HAUPT", Decimal(4))
    ]
    assert product.attributes == {"Farbe": ["Blau", "Rot"]} or set(product.attributes["Farbe"]) == {
        "Rot",
        "Blau",
    }


async def test_missing_and_soft_deleted_keys_are_left_out(wawi: Wawi, make_connector) -> None:
    """Keys that do not exist, are no numbers for a numeric key, or whose row is marked deleted are absent."""
    kept = wawi.article("KEEP", "Bleibt")
    gone = wawi.article("GONE", "Geloescht", geloescht="J")
    connector = make_connector()

    records = await connector.read("product", [str(kept), str(gone), "424242", "not-a-number"])

    assert [record.key for record in records] == [str(kept)]


async def test_a_row_that_cannot_be_mapped_is_an_unmappable_naming_table_row_and_column(
    wawi: Wawi, make_connector
) -> None:
    """A bad number makes that product a stand-in naming table, row and field; the other is read."""
    good = wawi.article("GOOD", "Gut", "12.50")
    bad = wawi.article("BAD", "Kaputt", "zwölf")
    connector = make_connector()

    records = {record.key: record for record in await connector.read("product", [str(good), str(bad)])}

    assert isinstance(records[str(good)], Product)
    stand_in = records[str(bad)]
    assert isinstance(stand_in, Unmappable)
    assert stand_in.field == "list_price"
    assert stand_in.record is not None and "artikel" in stand_in.record and str(bad) in stand_in.record
    assert "zwölf" not in stand_in.reason


async def test_scan_pages_by_key_and_gives_each_record_once(wawi: Wawi, make_connector) -> None:
    """Seven articles in pages of three: three pages, each key once, soft-deleted rows left out."""
    keys = {str(wawi.article(f"SCAN-{n}", f"Artikel {n}")) for n in range(7)}
    hidden = wawi.article("SCAN-X", "Weg", geloescht="X")
    connector = make_connector(page_size=3)

    pages = [page async for page in connector.scan("product")]

    scanned = [record.key for page in pages for record in page]
    assert sorted(scanned) == sorted(keys) and str(hidden) not in scanned
    assert len(pages) == 3 and all(len(page) <= 3 for page in pages)


async def test_categories_and_customers_are_mapped(wawi: Wawi, make_connector) -> None:
    """Warengruppen with their parent, customers with their names (read and scanned)."""
    wawi.insert(
        "warengruppe",
        {"wg_id": 3, "bezeichnung": "Kleidung"},
        {"wg_id": 7, "bezeichnung": "Hemden", "ober_id": 3},
    )
    wawi.insert(
        "kunde", {"kd_nr": 10001, "email": "erika@example.org", "vorname": "Erika", "nachname": "Muster"}
    )
    connector = make_connector()

    categories = {record.key: record for record in await connector.read("category", ["3", "7"])}
    (customer,) = [record for page in [p async for p in connector.scan("customer")] for record in page]

    assert isinstance(categories["7"], Category) and categories["7"].parent_key == "3"
    assert categories["7"].name == "Hemden"
    assert isinstance(customer, Customer) and customer.key == "10001"
    assert customer.email == "erika@example.org" and customer.first_name == "Erika"


async def test_product_keys_and_stock_by_sku(wawi: Wawi, make_connector) -> None:
    """SKUs of products and variants name their product; stock is summed over the warehouses asked for."""
    art_id = wawi.article("MUG", "Tasse")
    wawi.insert("artikel_variante", {"var_id": 5, "art_id": art_id, "artnr": "MUG-W", "farbe": "Weiss"})
    connector = make_connector()

    assert await connector.product_keys(["MUG", "MUG-W", "NOPE"]) == {
        "MUG": str(art_id),
        "MUG-W": str(art_id),
    }
    assert await connector.catalogue.stock(["MUG", "MUG-W"]) == {
        "MUG": {"HAUPT": Decimal(5), "NEBEN": Decimal("2.5")},
        "MUG-W": {},
    }
    assert await connector.availability(["MUG", "MUG-W", "NOPE"], None) == {
        "MUG": Decimal("7.5"),
        "MUG-W": Decimal(0),
    }
    assert await connector.availability(["MUG"], ["NEBEN"]) == {"MUG": Decimal("2.5")}


async def test_a_query_source_is_read_like_a_table(wawi: Wawi, make_connector) -> None:
    """A read-only SELECT (with a join) as the products' source: read and scanned through its columns."""
    art_id = wawi.article("Q-1", "Abfrage")
    query = (
        "SELECT a.art_id, a.artnr, a.bezeichnung, a.vk_netto, a.aktiv, a.geloescht, a.version, "
        "a.geaendert_am, a.beschreibung, a.warengruppen, w.bezeichnung AS gruppe "
        "FROM artikel a LEFT JOIN warengruppe w ON w.wg_id = 3 WHERE a.aktiv = 1"
    )
    products = {
        "query": query,
        "key": "art_id",
        "columns": {"sku": "artnr", "name": "bezeichnung", "list_price": "vk_netto"},
    }
    connector = make_connector(products=products)

    (product,) = await connector.read("product", [str(art_id)])
    scanned = [record.key for page in [p async for p in connector.scan("product")] for record in page]

    assert isinstance(product, Product) and product.name == "Abfrage" and scanned == [str(art_id)]


async def test_published_stock_keeps_back_orders_the_erp_has_not_taken(wawi: Wawi, make_connector) -> None:
    """Quantities on staged orders not taken yet come off the stock, warehouse by warehouse, never below 0."""
    import_tables = [
        table for table in sales_schema.metadata.sorted_tables if table.name.startswith("import_")
    ]
    sales_schema.metadata.create_all(wawi.engine, tables=import_tables)
    art_id = wawi.article("RES", "Reserviert")  # HAUPT 5, NEBEN 2.5
    with wawi.engine.begin() as connection:
        connection.execute(
            sales_schema.import_auftrag.insert(),
            [
                {"id": 1, "shop_referenz": "WC-1", "uebernommen_am": None},
                {"id": 2, "shop_referenz": "WC-2", "uebernommen_am": datetime(2026, 1, 2)},
            ],
        )
        connection.execute(
            sales_schema.import_position.insert(),
            [
                {"import_auftrag_id": 1, "pos": 1, "artikelnr": "RES", "menge": Decimal(6)},
                {"import_auftrag_id": 2, "pos": 1, "artikelnr": "RES", "menge": Decimal(100)},  # taken
            ],
        )
    connector = make_connector(orders=sales_schema.order_import())

    (product,) = await connector.read("product", [str(art_id)])

    assert isinstance(product, Product)
    assert {level.warehouse: level.quantity for level in product.stock} == {
        "HAUPT": 0,
        "NEBEN": Decimal("1.5"),
    }
    assert await connector.availability(["RES"], None) == {"RES": Decimal("1.5")}


async def test_an_sqlite_database_is_read_and_followed(tmp_path: Path) -> None:
    """SQLite (a file, its clock answering text): categories read, scanned and followed by updated_at."""
    url = f"sqlite:///{tmp_path / 'wawi.db'}"
    engine = sa.create_engine(url)
    warengruppe.create(engine)
    stamp = sa.text("CURRENT_TIMESTAMP")
    with engine.begin() as connection:
        for wg_id, name in ((1, "Alt"), (2, "Ruhig")):
            connection.execute(warengruppe.insert().values(wg_id=wg_id, bezeichnung=name, geaendert_am=stamp))
    connector = SqlConnector("wawi", settings(url, mode="updated_at"))
    try:
        start = await connector.changes("category", None)
        with engine.begin() as connection:
            connection.execute(
                warengruppe.update()
                .where(warengruppe.c.wg_id == 2)
                .values(bezeichnung="Neu", geaendert_am=stamp)
            )
        batch = await drain(connector, "category", start.cursor)
        (category,) = await connector.read("category", batch.keys)
        scanned = [record.key for page in [p async for p in connector.scan("category")] for record in page]
    finally:
        await connector.close()
        engine.dispose()

    assert start.keys == [] and batch.keys == ["2"]
    assert isinstance(category, Category) and category.name == "Neu"
    assert scanned == ["1", "2"]


def test_staged_quantities_are_kept_back_in_the_warehouses_the_erp_ships_from() -> None:
    """With `reserve_warehouses` pending units come off those warehouses in order, then the others by
    name; a warehouse they are not needed from keeps its stock, and nothing goes below zero."""
    levels = [
        StockLevel(warehouse="DF", quantity=Decimal(9)),  # damaged goods: not shipped from
        StockLevel(warehouse="HL", quantity=Decimal(2)),
        StockLevel(warehouse="AL", quantity=Decimal(3)),
    ]

    def kept(pending: int, first: list[str] | None) -> dict[str, Decimal]:
        return {level.warehouse: level.quantity for level in reserve_levels(levels, Decimal(pending), first)}

    assert kept(4, ["HL", "AL"]) == {"DF": 9, "HL": 0, "AL": 1}
    assert kept(20, ["HL", "AL"]) == {"DF": 0, "HL": 0, "AL": 0}
    assert kept(10, None) == {"AL": 0, "DF": 2, "HL": 2}
