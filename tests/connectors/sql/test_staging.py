"""Orders into import tables on real MariaDB and PostgreSQL: once, whole, or not at all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from emporion.connectors.base import ConnectorError, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import SaleOptions
from emporion.connectors.sql.catalogue import SqlCatalogue
from emporion.connectors.sql.sales import SqlSales
from emporion.connectors.sql.settings import SqlConnection
from emporion.connectors.sql.staging import ImportTables, Staged, find_order, stage_order
from emporion.model import Customer, OrderStatus, Payment, Refund, ShippingLine
from tests.connectors.sql import sales_schema as wawi


@pytest.fixture
def url(erp_db_url: str) -> str:
    """The test database with the Warenwirtschaft's tables."""
    wawi.create_schema(erp_db_url)
    return erp_db_url


@pytest.fixture
def settings(url: str) -> SqlConnection:
    return wawi.connection_settings(url)


@contextmanager
def sales_of(settings: SqlConnection) -> Iterator[SqlSales]:
    """The sales side over the real catalogue read side of the same database, disposed afterwards."""
    db = wawi.database(settings)
    try:
        yield SqlSales(db, settings, SqlCatalogue(db, settings))
    finally:
        db.dispose()


@pytest.fixture
def sales(settings: SqlConnection) -> Iterator[SqlSales]:
    """The sales side for the default settings."""
    with sales_of(settings) as side:
        yield side


def _rows(url: str, table: sa.Table) -> list[dict[str, object]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]
    finally:
        engine.dispose()


async def test_an_order_lands_with_its_lines_and_payments(url: str, sales: SqlSales) -> None:
    """Header, line and payment rows carry the mapped values: Decimal money, UTC time, a template, ids."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-1001")
    (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref == {"id": "WEB-1001"}
    (header,) = _rows(url, wawi.import_auftrag)
    assert header["shop_referenz"] == "WEB-1001" and header["bestellnr"] == "N-WEB-1001"
    assert header["summe"] == Decimal("20.00") and header["waehrung"] == "EUR"
    assert header["bestellt_am"] == datetime(2026, 12, 1, 10, 30)  # naive column: the time in UTC
    assert header["ort"] == "10115 Berlin" and header["uebernommen_am"] is None
    (line,) = _rows(url, wawi.import_position)
    assert line["import_auftrag_id"] == header["id"] and line["pos"] == 1
    assert (
        line["artikelnr"] == "A-1"
        and line["menge"] == Decimal("2.000")
        and line["gesamt"] == Decimal("20.00")
    )
    assert line["artikel_id"] is not None  # the ERP's own key of the article
    (payment,) = _rows(url, wawi.import_zahlung)
    assert payment["import_auftrag_id"] == header["id"] and payment["betrag"] == Decimal("20.00")


async def test_the_flows_sale_options_land_in_the_erps_names(url: str, sales: SqlSales) -> None:
    """Payment method, carrier, tax class and warehouse are staged as the flow maps them to the ERP."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-1010")
    options = SaleOptions(
        warehouse="Haupt",
        carriers={"flat_rate": "DHL Paket", "*": "Spedition"},
        taxes={"": "USt 19 %", "reduced-rate": "USt 7 %"},
        payment_methods={"paypal": "PayPal Plus", "*": "Vorkasse"},
    )
    (outcome,) = await sales.write_sales([WriteItem(order.key, order)], options)
    assert outcome.status is OutcomeStatus.CREATED
    (header,) = _rows(url, wawi.import_auftrag)
    assert header["versandart"] == "DHL Paket" and header["lager"] == "Haupt"
    (line,) = _rows(url, wawi.import_position)
    assert line["steuer"] == "USt 19 %"
    (payment,) = _rows(url, wawi.import_zahlung)
    assert payment["zahlungsart"] == "PayPal Plus"
    assert order.payments[0].method == "paypal"  # the shop's order itself keeps the shop's names

    other = wawi.order("WEB-1011").model_copy(
        update={
            "payments": [Payment(method="bacs", amount=Decimal(20))],
            "shipping_lines": [ShippingLine(key="s1", method="local_pickup")],
        }
    )
    reduced = other.lines[0].model_copy(update={"tax_class": "reduced-rate"})
    other = other.model_copy(update={"lines": [reduced]})
    await sales.write_sales([WriteItem(other.key, other)], options)
    second = _rows(url, wawi.import_auftrag)[1]
    assert second["versandart"] == "Spedition", "a method the map lacks takes its * carrier"
    assert _rows(url, wawi.import_position)[1]["steuer"] == "USt 7 %"
    assert _rows(url, wawi.import_zahlung)[1]["zahlungsart"] == "Vorkasse"


async def test_without_sale_options_the_shops_names_are_staged(url: str, sales: SqlSales) -> None:
    """No maps: the shop's method, shipping method and tax class as they are; no warehouse (NULL)."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-1012")
    await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    (header,) = _rows(url, wawi.import_auftrag)
    assert header["versandart"] == "flat_rate" and header["lager"] is None
    assert _rows(url, wawi.import_position)[0]["steuer"] == ""
    assert _rows(url, wawi.import_zahlung)[0]["zahlungsart"] == "paypal"


async def test_writing_an_order_again_finds_it_and_adds_nothing(url: str, sales: SqlSales) -> None:
    """A retried write (answer lost, not linked) is matched by reference: one header, one line."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-1002")
    (first,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    (again,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    (linked,) = await sales.write_sales([WriteItem(order.key, order, first.target_ref)], SaleOptions())
    assert first.status is OutcomeStatus.CREATED
    assert again.status is OutcomeStatus.MATCHED and linked.status is OutcomeStatus.UNCHANGED
    assert again.target_ref == first.target_ref == linked.target_ref
    assert wawi.count(url, wawi.import_auftrag) == 1 and wawi.count(url, wawi.import_position) == 1


async def test_a_line_the_database_refuses_leaves_no_header(url: str, sales: SqlSales) -> None:
    """The order is one transaction: a refused line (CHECK menge > 0) rolls its header back too."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-1003", quantity="0")
    (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, ConnectorError)
    assert wawi.count(url, wawi.import_auftrag) == 0 and wawi.count(url, wawi.import_position) == 0


async def test_an_unknown_sku_fails_naming_the_line(url: str, sales: SqlSales) -> None:
    """An SKU the ERP has no article for fails the order before anything is written."""
    order = wawi.order("WEB-1004", sku="NO-SUCH")
    (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert outcome.error.field == "lines[0].sku" and "N-WEB-1004" in (outcome.error.record or "")
    assert wawi.count(url, wawi.import_auftrag) == 0


async def test_a_mapping_path_the_order_lacks_is_named(url: str) -> None:
    """A column mapped to a path the canonical order does not have fails naming the column."""
    columns = {"bestellnr": "order.no_such_field"}
    settings = wawi.connection_settings(
        url, orders=wawi.order_import(orders={"table": "import_auftrag", "columns": columns})
    )
    with sales_of(settings) as sales:
        wawi.add_article(url, "A-1", {"Haupt": "5"})
        order = wawi.order("WEB-1005")
        (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert isinstance(outcome.error, Permanent) and outcome.error.field == "bestellnr"
    assert outcome.error.record == "order N-WEB-1005"


def test_two_writers_at_once_end_in_one_row(url: str, settings: SqlConnection) -> None:
    """Two connections write the same order concurrently: the loser hits the unique key, writes nothing,
    and finds the winner's row in a fresh transaction."""
    tables = ImportTables(settings)
    order = wawi.order("WEB-2001")
    first_inserted, results = threading.Event(), {}
    engines = [sa.create_engine(url), sa.create_engine(url)]

    def winner() -> None:
        with engines[0].begin() as conn:
            results["winner"] = stage_order(conn, tables, order)
            first_inserted.set()
            time.sleep(1.0)  # the other writer is blocked on the unique key meanwhile

    def loser() -> None:
        first_inserted.wait(10)
        with engines[1].begin() as conn:
            results["loser"] = stage_order(conn, tables, order)
        with engines[1].begin() as conn:
            results["found"] = find_order(conn, tables, order.reference or "")

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()
    assert results == {"winner": Staged.CREATED, "loser": Staged.DUPLICATE, "found": True}
    assert wawi.count(url, wawi.import_auftrag) == 1 and wawi.count(url, wawi.import_position) == 1


@contextmanager
def committed_later(url: str, statement: sa.Executable, seconds: float = 1.5) -> Iterator[None]:
    """Another process's write, held in its open transaction and committed `seconds` into the block."""
    engine = sa.create_engine(url)
    other = engine.connect()
    held = other.begin()
    other.execute(statement)
    timer = threading.Timer(seconds, held.commit)
    timer.start()
    try:
        yield
    finally:
        timer.join()
        other.close()
        engine.dispose()


async def test_a_unique_key_violation_is_matched(url: str, sales: SqlSales) -> None:
    """Another process inserts the reference and commits while our insert waits on the unique key: the
    write is MATCHED, in a fresh transaction, and adds no row."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-2002")
    other = sa.insert(wawi.import_auftrag).values(shop_referenz="WEB-2002", bestellnr="other")
    with committed_later(url, other):
        (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref == {"id": "WEB-2002"}
    assert wawi.count(url, wawi.import_auftrag) == 1 and wawi.count(url, wawi.import_position) == 0


async def test_customers_are_matched_by_email_in_any_case(url: str, sales: SqlSales) -> None:
    """One row per customer: the same e-mail in other case finds the first row and its generated id."""
    ada = Customer(key="", email="Ada@Example.com", first_name="Ada", last_name="Lovelace")
    (first,) = await sales.write("customer", [WriteItem("ada@example.com", ada)], [])
    shouted = ada.model_copy(update={"email": "ADA@EXAMPLE.COM"})
    (again,) = await sales.write("customer", [WriteItem("ada@example.com", shouted)], [])
    assert first.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
    assert first.target_ref == again.target_ref and first.target_ref is not None
    (row,) = _rows(url, wawi.import_kunde)
    assert str(row["id"]) == first.target_ref["id"] and row["vorname"] == "Ada"


async def test_a_cancelled_order_inserts_one_cancellation_row(url: str, sales: SqlSales) -> None:
    """A staged order cancelled in the shop gets one cancellation row, however often it is written."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-3001")
    (first,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})
    outcomes = [
        (await sales.write_sales([WriteItem(order.key, cancelled, first.target_ref)], SaleOptions()))[0]
        for _ in range(2)
    ]
    assert [o.status for o in outcomes] == [OutcomeStatus.UPDATED, OutcomeStatus.UNCHANGED]
    assert wawi.count(url, wawi.import_storno, shop_referenz="WEB-3001") == 1
    never = wawi.order("WEB-3002", status=OrderStatus.CANCELLED)
    (outcome,) = await sales.write_sales([WriteItem(never.key, never)], SaleOptions())
    assert outcome.status is OutcomeStatus.UNCHANGED and wawi.count(url, wawi.import_storno) == 1


async def test_without_a_cancellation_import_a_cancellation_fails_clearly(url: str) -> None:
    """No cancellations table: nothing is updated and the failure says the ERP has no such import."""
    settings = wawi.connection_settings(url, orders=wawi.order_import(cancellations=None))
    with sales_of(settings) as sales:
        wawi.add_article(url, "A-1", {"Haupt": "5"})
        order = wawi.order("WEB-3003")
        (first,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
        cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})
        (outcome,) = await sales.write_sales(
            [WriteItem(order.key, cancelled, first.target_ref)], SaleOptions()
        )
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert "no cancellation import" in outcome.error.reason and outcome.error.field == "status"


async def test_a_refund_becomes_one_return_row(url: str, sales: SqlSales) -> None:
    """A shop refund is one return row, found again by order reference and refund key."""
    wawi.add_article(url, "A-1", {"Haupt": "5"})
    order = wawi.order("WEB-4001")
    (first,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
    refunded = order.model_copy(update={"refunds": [Refund(key="r1", amount=Decimal("10.00"))]})
    item = WriteItem(f"{order.key}/r1", refunded, first.target_ref)
    (made,) = await sales.write("return", [item], [])
    (again,) = await sales.write("return", [item], [])
    assert made.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
    (row,) = _rows(url, wawi.import_retoure)
    assert (
        row["shop_referenz"] == "WEB-4001" and row["erstattung"] == "r1" and row["betrag"] == Decimal("10.00")
    )


async def test_availability_holds_back_orders_the_erp_has_not_taken(url: str, sales: SqlSales) -> None:
    """Stock less staged, untaken, uncancelled orders; taken or cancelled ones no longer count."""
    wawi.add_article(url, "A-1", {"Haupt": "5", "Zweit": "3"})
    for reference in ("WEB-5001", "WEB-5002", "WEB-5003"):
        order = wawi.order(reference)
        (outcome,) = await sales.write_sales([WriteItem(order.key, order)], SaleOptions())
        assert outcome.ok, outcome.error
    assert await sales.availability(["A-1", "NO-SUCH"], None) == {"A-1": Decimal(2)}
    wawi.execute(
        url,
        sa.update(wawi.import_auftrag)
        .where(wawi.import_auftrag.c.shop_referenz == "WEB-5001")
        .values(uebernommen_am=datetime(2026, 12, 2)),
    )
    cancelled = wawi.order("WEB-5002", status=OrderStatus.CANCELLED)
    await sales.write_sales([WriteItem(cancelled.key, cancelled, {"id": "WEB-5002"})], SaleOptions())
    assert await sales.pending(["A-1"]) == {"A-1": Decimal(2)}
    assert await sales.availability(["A-1"], ["Haupt"]) == {"A-1": Decimal(3)}


async def test_check_describes_the_import_and_progress(url: str, sales: SqlSales) -> None:
    """Every import table and progress source is found with its columns; the lines say what is set up."""
    results = {result.name: result for result in await sales.check()}
    assert all(result.ok for result in results.values()), results
    assert results["orders"].detail.startswith("orders: table import_auftrag by shop_referenz")
    assert "lines import_position" in results["orders"].detail
    assert set(results) == {"orders", "progress.orders", "progress.shipments", "progress.invoices"}
    assert "updated_at" in results["progress.shipments"].detail


async def test_check_names_a_missing_column_and_a_reference_without_unique_key(url: str) -> None:
    """A mapped column the table lacks, and an orders table whose reference is not unique, are reported."""
    wawi.execute(url, sa.text("CREATE TABLE import_kopf (id INTEGER PRIMARY KEY, ref VARCHAR(60))"))
    bad = {"table": "import_auftrag", "columns": {"bestellnr": "order.number", "fehlt": "order.total"}}
    for orders, expected in (
        (wawi.order_import(orders=bad), "import_auftrag has no column fehlt"),
        (
            wawi.order_import(
                orders={"table": "import_kopf", "columns": {}},
                reference_column="ref",
                key_column=None,
                taken_column=None,
                lines=None,
                payments=None,
            ),
            "import_kopf.ref has no unique key",
        ),
    ):
        settings = wawi.connection_settings(url, orders=orders)
        with sales_of(settings) as sales:
            results = await sales.check()
        (line,) = [result for result in results if result.name == "orders"]
        assert not line.ok and expected in line.detail


async def test_a_customer_written_concurrently_is_matched(url: str, sales: SqlSales) -> None:
    """Another process inserts the e-mail and commits while our insert waits on the unique key: MATCHED."""
    other = sa.insert(wawi.import_kunde).values(email="grace@example.com", vorname="Grace")
    with committed_later(url, other):
        grace = Customer(key="", email="grace@example.com", first_name="Grace")
        (outcome,) = await sales.write("customer", [WriteItem("grace@example.com", grace)], [])
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref
    (row,) = _rows(url, wawi.import_kunde)
    assert str(row["id"]) == outcome.target_ref["id"]
