"""CSV (cp1252, decimal comma, German dates), XLSX and XML files read into rows; what is refused and where."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from emporion.connectors.base import Unmappable
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.formats import UnreadableFile, parse_csv, parse_xlsx, parse_xml
from emporion.connectors.files.settings import CsvOptions, XmlOptions
from emporion.model import Category, Customer, Product
from tests.connectors.files.erp import PRODUCTS, SALE_PRICES, settings

GERMAN = CsvOptions(encoding="cp1252", decimal_comma=True, date_format="%d.%m.%Y")


def write_export(root: Path, name: str, text: str, encoding: str = "cp1252") -> Path:
    """An export file in the drop's export folder."""
    folder = root / "export"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def test_cp1252_csv_rows_carry_their_place_and_text_as_written() -> None:
    text = 'ArtNr;Bezeichnung;VK\n4711;Größe XL \u2013 Bügel;1.234,56\n\n4712;"Tür; weiß";9,90\n'
    data = text.encode("cp1252")
    parsed = parse_csv("artikel.csv", data, GERMAN)
    assert [row["Bezeichnung"] for row in parsed.rows] == ["Größe XL \u2013 Bügel", "Tür; weiß"]
    assert parsed.rows[0]["VK"] == "1.234,56"
    assert [row["_where"] for row in parsed.rows] == ["file artikel.csv row 2", "file artikel.csv row 4"]
    assert parsed.rejects == []


def test_a_byte_the_encoding_lacks_rejects_its_row_naming_row_and_column() -> None:
    data = "ArtNr;Bezeichnung;VK\n4711;Gut;1,00\n4712;Gr\xf6\xdfe;2,00\n".encode("latin-1")
    parsed = parse_csv("artikel.csv", data, CsvOptions(encoding="utf-8"), key_column="ArtNr")
    assert [row["ArtNr"] for row in parsed.rows] == ["4711"]
    (reject,) = parsed.rejects
    assert (reject.row, reject.column, reject.key) == (3, "Bezeichnung", "4712")
    assert "utf-8" in reject.reason


def test_a_header_that_does_not_decode_refuses_the_whole_file() -> None:
    data = "ArtNr;Gr\xf6\xdfe\n1;2\n".encode("latin-1")
    with pytest.raises(UnreadableFile) as raised:
        parse_csv("artikel.csv", data, CsvOptions(encoding="utf-8"))
    assert raised.value.where == "row 1"


def test_a_short_row_is_a_reject_naming_the_missing_column() -> None:
    parsed = parse_csv("a.csv", b"ArtNr;Bezeichnung;VK\n4711;Nur Name\n", GERMAN, key_column="ArtNr")
    (reject,) = parsed.rejects
    assert (reject.row, reject.column, reject.key) == (2, "VK", "4711")


async def test_decimal_comma_and_german_dates_become_numbers_and_times(tmp_path: Path) -> None:
    """Through the connector: `1.234,56` is 1234.56 and a sale from `01.12.2026` starts that day."""
    connector = FilesConnector(
        "drop", settings(str(tmp_path), catalogue={"products": PRODUCTS, "sale_prices": SALE_PRICES})
    )
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n4711;Größe XL;1.234,56\n")
    write_export(tmp_path, "aktion_1.csv", "Id;ArtNr;Preis;Von;Bis\n1;4711;999,00;01.12.2026;31.12.2099\n")
    (product,) = await connector.read("product", ["4711"])
    assert isinstance(product, Product)
    assert product.name == "Größe XL" and product.list_price == Decimal("1234.56")
    assert product.sale_price is not None and product.sale_price.price == Decimal("999.00")
    assert product.sale_price.start == datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_bad_number_is_a_dead_letter_naming_file_row_and_column(tmp_path: Path) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path)))
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n4711;Gut;1,00\n4712;Schlecht;zwölf\n")
    records = {record.key: record for record in await connector.read("product", ["4711", "4712"])}
    assert isinstance(records["4711"], Product)
    bad = records["4712"]
    assert isinstance(bad, Unmappable)
    assert bad.record == "file artikel_1.csv row 3" and bad.field == "VK"
    assert "zwölf" not in bad.reason


def xlsx_bytes(sheet: str = "Artikel") -> bytes:
    """A workbook as an ERP exports it: a title sheet first, then the articles with typed cells."""
    book = Workbook()
    book.active.title = "Info"
    book.active.append(["Export vom", datetime(2026, 12, 5)])
    articles = book.create_sheet(sheet)
    articles.append(["ArtNr", "Bezeichnung", "VK", "Stand"])
    articles.append(["4711", "Schraube", 12.5, datetime(2026, 12, 1, 8, 30)])
    articles.append([None, None, None, None])
    articles.append([4712, "Mutter", 3, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_rows_come_typed_from_the_named_sheet() -> None:
    parsed = parse_xlsx("artikel.xlsx", xlsx_bytes(), "Artikel")
    assert [row["ArtNr"] for row in parsed.rows] == ["4711", 4712]
    assert parsed.rows[0]["VK"] == 12.5 and parsed.rows[0]["Stand"] == datetime(2026, 12, 1, 8, 30)
    assert parsed.rows[1]["_where"] == "file artikel.xlsx row 4"


def test_xlsx_without_the_sheet_or_no_workbook_at_all_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="no sheet"):
        parse_xlsx("artikel.xlsx", xlsx_bytes(), "Preise")
    with pytest.raises(UnreadableFile, match="not an XLSX"):
        parse_xlsx("artikel.xlsx", b"ArtNr;VK\n", None)


async def test_xlsx_products_through_the_connector(tmp_path: Path) -> None:
    products = {**PRODUCTS, "pattern": "artikel_*.xlsx", "format": "xlsx", "sheet": "Artikel"}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": products}))
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "artikel_1.xlsx").write_bytes(xlsx_bytes())
    records = {record.key: record for record in await connector.read("product", ["4711", "4712"])}
    assert isinstance(records["4711"], Product) and records["4711"].list_price == Decimal("12.5")
    assert isinstance(records["4712"], Product) and records["4712"].list_price == Decimal(3)


BMECAT = b"""<?xml version="1.0" encoding="UTF-8"?>
<BMECAT xmlns="http://www.bmecat.org/bmecat/2005" version="2005">
  <T_NEW_CATALOG>
    <PRODUCT>
      <SUPPLIER_PID>4711</SUPPLIER_PID>
      <PRODUCT_DETAILS><DESCRIPTION_SHORT>Schraube M4</DESCRIPTION_SHORT></PRODUCT_DETAILS>
      <PRODUCT_PRICE_DETAILS><PRODUCT_PRICE price_type="net_list">
        <PRICE_AMOUNT>0.12</PRICE_AMOUNT></PRODUCT_PRICE></PRODUCT_PRICE_DETAILS>
    </PRODUCT>
    <PRODUCT>
      <SUPPLIER_PID>4712</SUPPLIER_PID>
      <PRODUCT_DETAILS><DESCRIPTION_SHORT>Mutter M4</DESCRIPTION_SHORT></PRODUCT_DETAILS>
    </PRODUCT>
  </T_NEW_CATALOG>
</BMECAT>
"""
XML_OPTIONS = XmlOptions(
    record="//b:PRODUCT",
    fields={
        "ArtNr": "b:SUPPLIER_PID",
        "Bezeichnung": "b:PRODUCT_DETAILS/b:DESCRIPTION_SHORT",
        "VK": "b:PRODUCT_PRICE_DETAILS/b:PRODUCT_PRICE[@price_type='net_list']/b:PRICE_AMOUNT",
    },
    namespaces={"b": "http://www.bmecat.org/bmecat/2005"},
)


def test_xml_records_and_columns_by_xpath_with_namespaces() -> None:
    parsed = parse_xml("katalog.xml", BMECAT, XML_OPTIONS)
    assert parsed.rows[0] == {
        "ArtNr": "4711",
        "Bezeichnung": "Schraube M4",
        "VK": "0.12",
        "_where": "file katalog.xml record 1 line 4",
    }
    assert parsed.rows[1]["VK"] is None  # a path that finds nothing: an empty column


def test_truncated_xml_is_refused_as_a_whole_with_its_line() -> None:
    with pytest.raises(UnreadableFile) as raised:
        parse_xml("katalog.xml", BMECAT[:300], XML_OPTIONS)
    assert raised.value.where is not None and raised.value.where.startswith("line ")


def test_xml_entities_are_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<BMECAT xmlns='http://www.bmecat.org/bmecat/2005'><PRODUCT><SUPPLIER_PID>&x;</SUPPLIER_PID>"
        "</PRODUCT></BMECAT>"
    ).encode()
    with pytest.raises(UnreadableFile, match="DOCTYPE"):
        parse_xml("katalog.xml", hostile, XML_OPTIONS)


async def test_categories_from_xml_and_customers_from_csv(tmp_path: Path) -> None:
    categories = {
        "key": "Nr",
        "pattern": "gruppen_*.xml",
        "format": "xml",
        "xml": {"record": "//Gruppe", "fields": {"Nr": "@nr", "Name": "Name", "Ober": "@ober"}},
        "columns": {"name": "Name", "parent": "Ober"},
    }
    customers = {
        "key": "KdNr",
        "pattern": "kunden_*.csv",
        "csv": {"encoding": "cp1252"},
        "columns": {"email": "Mail", "first_name": "Vorname", "last_name": "Nachname", "billing.city": "Ort"},
    }
    connector = FilesConnector(
        "drop", settings(str(tmp_path), catalogue={"categories": categories, "customers": customers})
    )
    groups = (
        '<Gruppen><Gruppe nr="1"><Name>Werkzeug</Name></Gruppe>'
        '<Gruppe nr="2" ober="1"><Name>Zangen</Name></Gruppe></Gruppen>'
    )
    write_export(tmp_path, "gruppen_1.xml", groups, "utf-8")
    write_export(
        tmp_path, "kunden_1.csv", "KdNr;Mail;Vorname;Nachname;Ort\n10001;jörg@example.com;Jörg;Müller;Köln\n"
    )
    assert connector.capabilities().reads == {"category", "customer", "order"}
    pages = [page async for page in connector.scan("category")]
    (tools, pliers) = [record for page in pages for record in page]
    assert isinstance(pliers, Category) and (pliers.key, pliers.name, pliers.parent_key) == (
        "2",
        "Zangen",
        "1",
    )
    assert isinstance(tools, Category) and tools.parent_key is None
    (customer,) = await connector.read("customer", ["10001"])
    assert isinstance(customer, Customer) and customer.last_name == "Müller"
    assert customer.billing is not None and customer.billing.city == "Köln"
