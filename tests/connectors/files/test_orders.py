"""Orders as files: openTRANS 2.1 and CSV, written atomically, once per reference; progress read back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

from emporion.connectors.base import OutcomeStatus, Retryable, WriteItem
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.drop import original_name
from emporion.connectors.files.opentrans import BMECAT, OPENTRANS
from emporion.connectors.files.store import LocalStore
from emporion.connectors.roles import SaleOptions
from emporion.model import Customer, Order, OrderLine, OrderStatus
from emporion.testing.contract.orders import ADDRESS
from tests.connectors.files.erp import PRODUCTS, ExportingErp, settings
from tests.connectors.files.test_formats import write_export

NS = {"o": OPENTRANS, "b": BMECAT}


def order(reference: str = "SHOP-1001", status: OrderStatus = OrderStatus.PROCESSING) -> Order:
    """A shop order of two lines with tax, as the engine hands it over."""
    lines = [
        OrderLine(key="1", sku="4711", name="Schraube", quantity=Decimal(3), unit_price=Decimal("0.10"),
                  total=Decimal("0.30"), tax=Decimal("0.06")),
        OrderLine(key="2", sku="4712", name="Mutter", quantity=Decimal(2), unit_price=Decimal("1.25"),
                  total=Decimal("2.50"), tax=Decimal("0.48")),
    ]  # fmt: skip
    return Order(
        key="1001",
        number="1001",
        status=status,
        currency="EUR",
        created_at=datetime(2026, 12, 5, 10, 30, tzinfo=UTC),
        customer=Customer(key="email:ada@example.com", email="ada@example.com", first_name="Ada"),
        billing=ADDRESS,
        shipping=ADDRESS,
        lines=lines,
        shipping_total=Decimal("4.90"),
        tax_total=Decimal("0.54"),
        total=Decimal("8.24"),
        reference=reference,
    )


def stocked(root: Path) -> ExportingErp:
    """An ERP that exported the two articles the orders name."""
    erp = ExportingErp(root)
    erp.add("4711", "Schraube", Decimal("0.10"), Decimal(100))
    erp.add("4712", "Mutter", Decimal("1.25"), Decimal(100))
    erp.export_articles()
    erp.export_stock()
    return erp


def order_files(root: Path) -> list[str]:
    """The files the ERP sees in its orders folder (temporary and hidden ones it skips)."""
    folder = root / "orders"
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


async def test_opentrans_order_parses_back_with_its_parties_lines_and_totals(tmp_path: Path) -> None:
    stocked(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    (outcome,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref == {"id": "SHOP-1001"}
    assert order_files(tmp_path) == ["order-SHOP-1001.xml"]
    document = etree.parse(str(tmp_path / "orders" / "order-SHOP-1001.xml"))
    root = document.getroot()
    assert root.tag == f"{{{OPENTRANS}}}ORDER" and root.get("version") == "2.1"
    info = root.find("o:ORDER_HEADER/o:ORDER_INFO", NS)
    assert info is not None
    assert info.findtext("o:ORDER_ID", namespaces=NS) == "SHOP-1001"
    assert info.findtext("o:ORDER_DATE", namespaces=NS) == "2026-12-05T10:30:00+00:00"
    assert info.findtext("b:CURRENCY", namespaces=NS) == "EUR"
    roles = [p.findtext("o:PARTY_ROLE", namespaces=NS) for p in info.iterfind("o:PARTIES/o:PARTY", NS)]
    assert roles == ["buyer", "supplier", "delivery", "invoice_recipient"]
    delivery = info.find("o:PARTIES/o:PARTY[o:PARTY_ROLE='delivery']/o:ADDRESS", NS)
    assert delivery is not None and delivery.findtext("b:CITY", namespaces=NS) == "Berlin"
    assert delivery.findtext("b:ZIP", namespaces=NS) == "10115"
    items = root.findall("o:ORDER_ITEM_LIST/o:ORDER_ITEM", NS)
    assert [item.findtext("o:PRODUCT_ID/b:SUPPLIER_PID", namespaces=NS) for item in items] == ["4711", "4712"]
    first = items[0]
    assert first.findtext("o:LINE_ITEM_ID", namespaces=NS) == "1"
    assert first.findtext("o:QUANTITY", namespaces=NS) == "3"
    assert first.findtext("b:ORDER_UNIT", namespaces=NS) == "C62"
    assert first.findtext("o:PRODUCT_PRICE_FIX/b:PRICE_AMOUNT", namespaces=NS) == "0.10"
    assert first.findtext("o:PRODUCT_PRICE_FIX/o:TAX_DETAILS_FIX/b:TAX", namespaces=NS) == "0.2000"
    line_amounts = [Decimal(item.findtext("o:PRICE_LINE_AMOUNT", namespaces=NS) or "") for item in items]
    assert line_amounts == [Decimal("0.30"), Decimal("2.50")]
    assert root.findtext("o:ORDER_SUMMARY/o:TOTAL_ITEM_NUM", namespaces=NS) == "2"
    assert Decimal(root.findtext("o:ORDER_SUMMARY/o:TOTAL_AMOUNT", namespaces=NS) or "") == sum(line_amounts)


async def test_csv_order_with_decimal_comma_in_cp1252(tmp_path: Path) -> None:
    stocked(tmp_path)
    orders = {
        "folder": "orders",
        "format": "csv",
        "csv": {"encoding": "cp1252", "decimal_comma": True, "datetime_format": "%d.%m.%Y %H:%M"},
        "lines": {"columns": {"Bestellung": "order.reference", "Datum": "order.created_at", "Pos": "position",
                              "ArtNr": "line.sku", "Menge": "line.quantity", "Preis": "line.unit_price",
                              "Stadt": "order.shipping.city"}},
    }  # fmt: skip
    connector = FilesConnector("drop", settings(str(tmp_path), orders=orders))
    (outcome,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    assert outcome.status is OutcomeStatus.CREATED
    text = (tmp_path / "orders" / "order-SHOP-1001.csv").read_bytes().decode("cp1252").splitlines()
    assert text == [
        "Bestellung;Datum;Pos;ArtNr;Menge;Preis;Stadt",
        "SHOP-1001;05.12.2026 10:30;1;4711;3;0,10;Berlin",
        "SHOP-1001;05.12.2026 10:30;2;4712;2;1,25;Berlin",
    ]


class CrashingStore(LocalStore):
    """A local folder whose next rename of an order file fails, as a process killed right before it would."""

    crash_next = True

    async def _move(self, source: str, target: str) -> None:
        if self.crash_next and source.startswith("orders/.tmp-"):
            self.crash_next = False
            raise Retryable("killed before the rename")
        await super()._move(source, target)


async def test_no_half_written_order_is_ever_visible_and_a_cut_write_completes_once(tmp_path: Path) -> None:
    stocked(tmp_path)
    values = settings(str(tmp_path))
    store = CrashingStore(str(tmp_path), values.circuit.breaker("drop"))
    connector = FilesConnector("drop", values, store=store)
    item = WriteItem("1001", order())
    outcomes = None
    try:
        outcomes = await connector.write_sales([item], SaleOptions())
    except Retryable:
        pass
    assert outcomes is None
    assert order_files(tmp_path) == [], "nothing under a name the ERP reads before the rename"
    assert (tmp_path / "orders" / ".tmp-order-SHOP-1001.xml").exists()
    (again,) = await connector.write_sales([item], SaleOptions())
    assert again.ok and again.target_ref == {"id": "SHOP-1001"}
    assert order_files(tmp_path) == ["order-SHOP-1001.xml"]
    assert not (tmp_path / "orders" / ".tmp-order-SHOP-1001.xml").exists()


async def test_an_order_the_erp_took_away_is_never_written_again(tmp_path: Path) -> None:
    stocked(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    (first,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    assert first.status is OutcomeStatus.CREATED
    assert await connector.availability(["4711"], None) == {"4711": Decimal(97)}  # reserved until taken
    (tmp_path / "orders" / "order-SHOP-1001.xml").unlink()  # the ERP imported it
    assert await connector.availability(["4711"], None) == {"4711": Decimal(100)}
    (again,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    assert again.status is OutcomeStatus.MATCHED
    assert order_files(tmp_path) == []


async def test_a_cancellation_is_one_file_and_the_sale_reads_cancelled(tmp_path: Path) -> None:
    stocked(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    (first,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    cancelled = WriteItem("1001", order(status=OrderStatus.CANCELLED), first.target_ref)
    (outcome,) = await connector.write_sales([cancelled], SaleOptions())
    (twice,) = await connector.write_sales([cancelled], SaleOptions())
    assert outcome.status is OutcomeStatus.UPDATED and twice.ok
    assert order_files(tmp_path) == ["cancel-SHOP-1001.csv", "order-SHOP-1001.xml"]
    assert (
        (tmp_path / "orders" / "cancel-SHOP-1001.csv").read_text().startswith("reference;number;cancelled_at")
    )
    (sale,) = await connector.read("order", ["SHOP-1001"])
    assert isinstance(sale, Order) and sale.status is OrderStatus.CANCELLED
    assert await connector.availability(["4711"], None) == {"4711": Decimal(100)}


async def test_status_and_tracking_come_back_from_the_erps_files(tmp_path: Path) -> None:
    stocked(tmp_path)
    csv = {"encoding": "cp1252", "decimal_comma": True, "datetime_format": "%d.%m.%Y %H:%M"}
    progress = {
        "statuses": {"versendet": "shipped", "offen": "processing"},
        "orders": {"key": "Beleg", "pattern": "status_*.csv", "full": False, "csv": csv,
                   "columns": {"reference": "Bestellung", "status": "Status", "number": "Beleg"}},
        "shipments": {"key": "Paket", "pattern": "versand_*.csv", "full": False, "csv": csv,
                      "columns": {"reference": "Bestellung", "carrier": "Versender", "tracking": "Sendungen",
                                  "shipped_at": "Datum"}},
        "invoices": {"key": "Rechnung", "pattern": "rechnung_*.csv", "full": False, "csv": csv,
                     "columns": {"reference": "Bestellung", "number": "Rechnung", "total": "Betrag"}},
    }  # fmt: skip
    connector = FilesConnector("drop", settings(str(tmp_path), progress=progress))
    start = await connector.changes("order", None)
    (written,) = await connector.write_sales([WriteItem("1001", order())], SaleOptions())
    polled = await connector.changes("order", start.cursor)
    assert polled.keys == ["SHOP-1001"]
    write_export(tmp_path, "status_1.csv", "Beleg;Bestellung;Status\nAU-77;SHOP-1001;versendet\n")
    tracking = "00340434161094042557, 00340434161094042558"
    shipped = f"Paket;Bestellung;Versender;Sendungen;Datum\nP1;SHOP-1001;DHL;{tracking};06.12.2026 14:05\n"
    write_export(tmp_path, "versand_1.csv", shipped)
    write_export(tmp_path, "rechnung_1.csv", "Rechnung;Bestellung;Betrag\nRE-5;SHOP-1001;8,24\n")
    reported = await connector.changes("order", polled.cursor)
    assert reported.keys == ["SHOP-1001"]
    (sale,) = await connector.read("order", [str((written.target_ref or {})["id"])])
    assert isinstance(sale, Order)
    assert sale.status is OrderStatus.SHIPPED and sale.number == "AU-77" and sale.reference == "SHOP-1001"
    (shipment,) = sale.shipments
    assert shipment.carrier == "DHL"
    assert shipment.tracking_numbers == ["00340434161094042557", "00340434161094042558"]
    assert shipment.shipped_at == datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    (invoice,) = sale.invoices
    assert invoice.number == "RE-5" and invoice.total == Decimal("8.24")
    after = await connector.changes("order", reported.cursor)
    assert after.keys == []
    handled = (tmp_path / "processed").iterdir()
    assert sorted(original_name(p.name) for p in handled if not p.name.startswith(".")) == [
        "rechnung_1.csv",
        "status_1.csv",
        "versand_1.csv",
    ]


async def test_customers_are_matched_by_email_without_naming_it_in_files(tmp_path: Path) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": PRODUCTS}))
    customer = Customer(key="", email="Ada@Example.com")
    (first,) = await connector.write("customer", [WriteItem("c", customer)], [])
    (again,) = await connector.write("customer", [WriteItem("c", customer)], [])
    assert first.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
    assert first.target_ref == again.target_ref == {"id": "email:ada@example.com"}
    stored = [p.name for p in (tmp_path / "orders" / ".sent" / "customers").iterdir()]
    assert stored and all("example" not in name for name in stored)
