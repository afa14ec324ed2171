"""Sales read back from a real MariaDB and PostgreSQL Warenwirtschaft: progress, the feed, a procedure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from emporion.connectors.base import OutcomeStatus, Unmappable, WriteItem
from emporion.connectors.roles import SaleOptions
from emporion.connectors.sql.connector import SqlConnector
from emporion.model import Order, OrderStatus
from emporion.testing.contract.base import drain
from tests.connectors.sql import sales_schema as wawi

NOW = sa.func.current_timestamp()


@pytest.fixture
def url(erp_db_url: str) -> str:
    wawi.create_schema(erp_db_url)
    wawi.add_article(erp_db_url, "A-1", {"Haupt": "50"})
    return erp_db_url


@pytest.fixture
async def connector(url: str) -> AsyncIterator[SqlConnector]:
    connector = SqlConnector("wawi", wawi.connection_settings(url))
    yield connector
    await connector.close()


async def _sale(connector: SqlConnector, reference: str, **changes: Any) -> Order:
    order = wawi.order(reference, **changes)
    (outcome,) = await connector.write_sales([WriteItem(order.key, order)], SaleOptions())
    assert outcome.ok, outcome.error
    return order


async def _read(connector: SqlConnector, reference: str) -> Order:
    (sale,) = await connector.read("order", [reference])
    assert isinstance(sale, Order), sale
    return sale


def _take(url: str, reference: str, status: str = "offen") -> None:
    """The ERP takes the staged order: its own order document, the import row marked."""
    wawi.execute(
        url,
        sa.insert(wawi.auftrag).values(
            shop_referenz=reference, auftragsnr=f"AU-{reference}", status=status, geaendert_am=NOW
        ),
    )
    wawi.execute(
        url,
        sa.update(wawi.import_auftrag)
        .where(wawi.import_auftrag.c.shop_referenz == reference)
        .values(uebernommen_am=NOW),
    )


def _set_status(url: str, reference: str, status: str) -> None:
    statement = sa.update(wawi.auftrag).where(wawi.auftrag.c.shop_referenz == reference)
    wawi.execute(url, statement.values(status=status, geaendert_am=NOW))


async def test_a_staged_order_reads_back_as_written(connector: SqlConnector) -> None:
    """Not taken yet: the order as written (number, customer, lines, totals, currency), processing."""
    await _sale(connector, "WEB-1")
    sale = await _read(connector, "WEB-1")
    assert sale.key == sale.reference == "WEB-1" and sale.number == "N-WEB-1"
    assert sale.status is OrderStatus.PROCESSING and sale.currency == "EUR" and sale.total == Decimal("20.00")
    assert sale.customer.email == "ada@example.com" and sale.customer.key == "7"
    (line,) = sale.lines
    assert line.sku == "A-1" and line.quantity == Decimal(2) and line.total == Decimal("20.00")
    assert await connector.read("order", ["NO-SUCH"]) == []


async def test_progress_brings_status_number_shipments_and_invoices(
    url: str, connector: SqlConnector
) -> None:
    """The ERP's status (mapped), its number, carriers with tracking numbers, invoice and credit note."""
    await _sale(connector, "WEB-2")
    _take(url, "WEB-2")
    taken = await _read(connector, "WEB-2")
    assert (
        taken.status is OrderStatus.PROCESSING and taken.number == "AU-WEB-2" and taken.raw_status == "offen"
    )
    wawi.execute(
        url,
        sa.insert(wawi.lieferschein),
        [
            {
                "shop_referenz": "WEB-2",
                "versender": "DHL",
                "sendungsnummer": "00340434, 00340435",
                "geaendert_am": NOW,
            },
            {"shop_referenz": "WEB-2", "versender": "DPD", "sendungsnummer": None, "geaendert_am": NOW},
        ],
    )
    wawi.execute(
        url,
        sa.insert(wawi.rechnung),
        [
            {
                "shop_referenz": "WEB-2",
                "nummer": "RE-1",
                "betrag": Decimal("20.00"),
                "gutschrift": False,
                "geaendert_am": NOW,
            },
            {
                "shop_referenz": "WEB-2",
                "nummer": "GS-1",
                "betrag": Decimal("10.00"),
                "gutschrift": True,
                "geaendert_am": NOW,
            },
        ],
    )
    _set_status(url, "WEB-2", "versendet")
    shipped = await _read(connector, "WEB-2")
    assert shipped.status is OrderStatus.SHIPPED and shipped.raw_status == "versendet"
    dhl, dpd = shipped.shipments
    assert (dhl.carrier, dhl.tracking_numbers) == ("DHL", ["00340434", "00340435"])
    assert (dpd.carrier, dpd.tracking_numbers) == ("DPD", [])
    invoice, credit = sorted(shipped.invoices, key=lambda i: i.credit_note)
    assert (invoice.number, invoice.total, invoice.credit_note) == ("RE-1", Decimal("20.00"), False)
    assert (credit.number, credit.total, credit.credit_note) == ("GS-1", Decimal("10.00"), True)
    _set_status(url, "WEB-2", "erledigt")
    assert (await _read(connector, "WEB-2")).status is OrderStatus.COMPLETED


async def test_a_cancellation_reads_cancelled_until_the_erp_decides(
    url: str, connector: SqlConnector
) -> None:
    """A cancellation not handled reads cancelled; once handled the ERP's status counts (refused: shipped)."""
    order = await _sale(connector, "WEB-3")
    _take(url, "WEB-3")
    cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})
    await connector.write_sales([WriteItem(order.key, cancelled, {"id": "WEB-3"})], SaleOptions())
    assert (await _read(connector, "WEB-3")).status is OrderStatus.CANCELLED
    _set_status(url, "WEB-3", "versendet")
    assert (await _read(connector, "WEB-3")).status is OrderStatus.CANCELLED  # not handled yet
    handled = sa.update(wawi.import_storno).where(wawi.import_storno.c.shop_referenz == "WEB-3")
    wawi.execute(url, handled.values(uebernommen_am=NOW))
    assert (await _read(connector, "WEB-3")).status is OrderStatus.SHIPPED


async def test_an_unreadable_progress_row_stands_in_as_unmappable(url: str) -> None:
    """A status the strict map does not know makes that sale a stand-in naming the table and field."""
    progress = wawi.progress()
    progress["orders"]["columns"]["status"] = {
        "from": "status",
        "map": {"offen": "processing"},
        "strict": True,
    }
    connector = SqlConnector("wawi", wawi.connection_settings(url, progress=progress))
    try:
        await _sale(connector, "WEB-4")
        await _sale(connector, "WEB-5")
        _take(url, "WEB-4", status="gesperrt")
        _take(url, "WEB-5")
        bad, good = await connector.read("order", ["WEB-4", "WEB-5"])
    finally:
        await connector.close()
    assert isinstance(bad, Unmappable) and bad.key == "WEB-4" and bad.field == "status"
    assert "table auftrag" in (bad.record or "")
    assert isinstance(good, Order) and good.status is OrderStatus.PROCESSING


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "updated_at", "column": "geaendert_am", "lookback_seconds": 60},
        {"mode": "monotonic", "column": "id", "overlap": 2},
        {"mode": "full_diff"},
    ],
    ids=["updated_at", "monotonic", "full_diff"],
)
async def test_the_feed_reports_each_kind_of_news_once(url: str, change: dict[str, Any]) -> None:
    """A sale written, taken, shipped, invoiced and cancelled is reported each time, and not again."""
    connector = SqlConnector("wawi", wawi.connection_settings(url, progress=wawi.progress(change)))
    try:
        cursor = (await connector.changes("order", None)).cursor
        steps: list[tuple[str, Any]] = [
            ("written", lambda: _sale(connector, "WEB-6")),
            ("taken", lambda: _async(_take, url, "WEB-6")),
            (
                "shipped",
                lambda: _async(
                    wawi.execute,
                    url,
                    sa.insert(wawi.lieferschein).values(
                        shop_referenz="WEB-6", versender="DHL", sendungsnummer="1", geaendert_am=NOW
                    ),
                ),
            ),
            (
                "invoiced",
                lambda: _async(
                    wawi.execute,
                    url,
                    sa.insert(wawi.rechnung).values(
                        shop_referenz="WEB-6", nummer="RE-6", betrag=1, gutschrift=False, geaendert_am=NOW
                    ),
                ),
            ),
            ("cancelled", lambda: _cancel(connector, "WEB-6")),
        ]
        for step, act in steps:
            await act()
            batch = await drain(connector, "order", cursor)
            assert "WEB-6" in batch.keys, step
            cursor = batch.cursor
            assert (await drain(connector, "order", cursor)).keys == [], step
    finally:
        await connector.close()


async def _async(function: Any, *args: Any) -> None:
    function(*args)


async def _cancel(connector: SqlConnector, reference: str) -> None:
    cancelled = wawi.order(reference, status=OrderStatus.CANCELLED)
    (outcome,) = await connector.write_sales(
        [WriteItem(cancelled.key, cancelled, {"id": reference})], SaleOptions()
    )
    assert outcome.status is OutcomeStatus.UPDATED, outcome.error


PROCEDURES = {
    "mysql": [
        "CREATE TABLE proc_eingang (referenz VARCHAR(60) PRIMARY KEY, dokument LONGTEXT NOT NULL)",
        """CREATE PROCEDURE import_bestellung(IN ref VARCHAR(60), IN doc LONGTEXT)
        BEGIN
          INSERT IGNORE INTO proc_eingang (referenz, dokument) VALUES (ref, doc);
          INSERT IGNORE INTO auftrag (shop_referenz, auftragsnr, status, geaendert_am)
            VALUES (ref, CONCAT('AU-', ref), 'offen', CURRENT_TIMESTAMP);
        END""",
    ],
    "postgresql": [
        "CREATE TABLE proc_eingang (referenz VARCHAR(60) PRIMARY KEY, dokument TEXT NOT NULL)",
        """CREATE PROCEDURE import_bestellung(ref TEXT, doc TEXT) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO proc_eingang (referenz, dokument) VALUES (ref, doc) ON CONFLICT DO NOTHING;
          INSERT INTO auftrag (shop_referenz, auftragsnr, status, geaendert_am)
            VALUES (ref, 'AU-' || ref, 'offen', CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING;
        END $$""",
    ],
}


async def test_a_procedure_takes_each_order_once(url: str) -> None:
    """Where the ERP documents an import procedure, it is called with (reference, order JSON), once, the
    order in the ERP's names."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in PROCEDURES[engine.dialect.name]:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
    settings = wawi.connection_settings(url, orders={"procedure": "import_bestellung"})
    connector = SqlConnector("wawi", settings)
    try:
        order = wawi.order("WEB-7")
        options = SaleOptions(
            warehouse="Haupt",
            carriers={"*": "DHL"},
            payment_methods={"paypal": "PayPal"},
            taxes={"": "USt 19"},
        )
        (first,) = await connector.write_sales([WriteItem(order.key, order)], options)
        (again,) = await connector.write_sales([WriteItem(order.key, order)], options)
        sale = await _read(connector, "WEB-7")
    finally:
        await connector.close()
    assert first.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
    assert first.target_ref == again.target_ref == {"id": "WEB-7"}
    assert sale.number == "AU-WEB-7" and sale.status is OrderStatus.PROCESSING
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            (document,) = conn.execute(sa.text("SELECT dokument FROM proc_eingang")).scalars()
    finally:
        engine.dispose()
    sent = json.loads(document)
    assert sent["reference"] == "WEB-7" and sent["lines"][0]["sku"] == "A-1" and sent["total"] == "20"
    # the document speaks the ERP's names: the flow's sale options applied
    assert sent["payments"][0]["method"] == "PayPal" and sent["shipping_lines"][0]["method"] == "DHL"
    assert sent["lines"][0]["tax_class"] == "USt 19" and sent["custom"]["warehouse"] == "Haupt"


async def test_an_erp_that_clears_its_import_rows_gets_no_order_twice(
    url: str, connector: SqlConnector
) -> None:
    """Taken, then removed from the import table: a retried write finds the ERP's own order instead."""
    order = await _sale(connector, "WEB-8")
    _take(url, "WEB-8")
    wawi.execute(url, sa.delete(wawi.import_position))
    wawi.execute(url, sa.delete(wawi.import_auftrag))
    (again,) = await connector.write_sales([WriteItem(order.key, order)], SaleOptions())
    (linked,) = await connector.write_sales([WriteItem(order.key, order, {"id": "WEB-8"})], SaleOptions())
    assert again.status is OutcomeStatus.MATCHED and linked.status is OutcomeStatus.UNCHANGED
    assert wawi.count(url, wawi.import_auftrag) == 0
    sale = await _read(connector, "WEB-8")
    assert sale.reference == "WEB-8" and sale.number == "AU-WEB-8" and sale.status is OrderStatus.PROCESSING


async def test_scan_gives_each_sale_once_page_by_page(connector: SqlConnector) -> None:
    """Seven sales over pages of three: each once."""
    references = [f"WEB-9{n}" for n in range(7)]
    for reference in references:
        await _sale(connector, reference)
    pages = [page async for page in connector.scan("order")]
    keys = [record.key for page in pages for record in page]
    assert sorted(keys) == references and len(pages) == 3


async def test_a_late_commit_is_still_reported(url: str, connector: SqlConnector) -> None:
    """A shipment stamped when its transaction began but committed after a poll comes with a later poll."""
    await _sale(connector, "WEB-10")
    cursor = (await drain(connector, "order", None)).cursor
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(
                sa.insert(wawi.lieferschein).values(
                    shop_referenz="WEB-10", versender="DHL", sendungsnummer="77", geaendert_am=NOW
                )
            )
            before = await drain(connector, "order", cursor)
            assert "WEB-10" not in before.keys
            transaction.commit()
    finally:
        engine.dispose()
    after = await drain(connector, "order", before.cursor)
    assert "WEB-10" in after.keys
