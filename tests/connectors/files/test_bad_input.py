"""Every refused row lands in the rejects file; an unreadable file at the first export is a dead letter."""

from __future__ import annotations

import os
from pathlib import Path

from emporion.connectors.base import Unmappable
from emporion.connectors.files.connector import FilesConnector
from emporion.model import Product
from tests.connectors.files.erp import PRODUCTS, SALE_PRICES, STOCK, settings
from tests.connectors.files.test_drop import names
from tests.connectors.files.test_formats import write_export

XML_PRODUCTS = {
    **PRODUCTS,
    "pattern": "artikel_*.xml",
    "format": "xml",
    "csv": {},
    "xml": {"record": "//Artikel", "fields": {"ArtNr": "ArtNr", "Bezeichnung": "Name", "VK": "VK"}},
}


def rejects_of(root: Path, name: str) -> list[str]:
    """The lines of a file's rejects file."""
    return (root / "rejects" / f"{name}.rejects.csv").read_text(encoding="utf-8").splitlines()


async def test_a_bad_number_a_bad_date_and_an_empty_name_are_rejects_and_dead_letters(tmp_path: Path) -> None:
    catalogue = {"products": PRODUCTS, "sale_prices": SALE_PRICES}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue=catalogue))
    start = await connector.changes("product", None)
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n1;Gut;1,00\n2;Teuer;7,5,0\n3;;2,00\n")
    write_export(tmp_path, "aktion_1.csv", "Id;ArtNr;Preis;Von;Bis\nA;1;0,90;31.02.2026;\n")
    polled = await connector.changes("product", start.cursor)
    assert sorted(polled.keys) == ["1", "2", "3"]
    articles = rejects_of(tmp_path, "artikel_1.csv")
    assert articles[0] == "row;column;reason"
    assert articles[1].startswith("3;VK;not a number") and "7,5,0" not in articles[1]
    assert articles[2].startswith("4;Bezeichnung;")
    (sale,) = rejects_of(tmp_path, "aktion_1.csv")[1:]
    assert sale.startswith("2;Von;not a date")
    records = {record.key: record for record in await connector.read("product", ["1", "2", "3"])}
    assert all(isinstance(records[key], Unmappable) for key in ("1", "2", "3"))
    assert records["2"].record == "file artikel_1.csv row 3" and records["2"].field == "VK"
    assert records["3"].field == "Bezeichnung"
    assert records["1"].record == "file aktion_1.csv row 2" and records["1"].field == "Von"


async def test_a_bad_stock_quantity_is_a_reject_and_its_product_a_dead_letter(tmp_path: Path) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path)))
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n1;Eins;1,00\n2;Zwei;2,00\n")
    start = await connector.changes("product", None)
    write_export(tmp_path, "bestand_1.csv", "Id;ArtNr;Lager;Menge\nx;1;Haupt;viele\ny;2;Haupt;4\n")
    polled = await connector.changes("product", start.cursor)
    assert sorted(polled.keys) == ["1", "2"]
    (line,) = rejects_of(tmp_path, "bestand_1.csv")[1:]
    assert line.startswith("2;Menge;not a number")
    one, two = await connector.read("product", ["1", "2"])
    assert isinstance(one, Unmappable) and one.record == "file bestand_1.csv row 2" and one.field == "Menge"
    assert isinstance(two, Product) and two.stock[0].quantity == 4


async def test_rows_refused_in_the_first_export_are_written_to_its_rejects_file(tmp_path: Path) -> None:
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n1;Gut;1,00\n2;Teuer;zwei Euro\n")
    connector = FilesConnector("drop", settings(str(tmp_path)))
    await connector.changes("product", None)
    (line,) = rejects_of(tmp_path, "artikel_1.csv")[1:]
    assert line.startswith("3;VK;not a number")
    scanned = [record async for page in connector.scan("product") for record in page]
    assert [type(record).__name__ for record in scanned] == ["Product", "Unmappable"]


async def test_a_truncated_file_at_the_first_export_is_a_dead_letter_and_goes_to_rejects(
    tmp_path: Path,
) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": XML_PRODUCTS}))
    good = "<Export><Artikel><ArtNr>1</ArtNr><Name>Gut</Name><VK>1.5</VK></Artikel></Export>"
    write_export(tmp_path, "artikel_1.xml", good, "utf-8")
    write_export(tmp_path, "artikel_2.xml", "<Export>\n<Artikel><ArtNr>2</ArtNr>\n<Name>Ab", "utf-8")
    os.utime(tmp_path / "export" / "artikel_1.xml", (1_900_000_000, 1_900_000_000))
    os.utime(tmp_path / "export" / "artikel_2.xml", (2_000_000_000, 2_000_000_000))
    start = await connector.changes("product", None)  # both there when the feed starts
    (product,) = [record async for page in connector.scan("product") for record in page]
    assert isinstance(product, Product) and product.key == "1", "the readable export is the truth"
    polled = await connector.changes("product", start.cursor)
    assert polled.keys == ["file:artikel_2.xml"]
    (stand_in,) = await connector.read("product", polled.keys)
    assert isinstance(stand_in, Unmappable)
    assert stand_in.record == "file artikel_2.xml" and (stand_in.field or "").startswith("line 3")
    again = await connector.changes("product", polled.cursor)
    assert again.keys == []
    assert names(tmp_path / "rejects") == {"artikel_2.xml", "artikel_2.xml.reason.txt"}
    assert names(tmp_path / "processed") == {"artikel_1.xml"}


async def test_an_unreadable_delta_at_the_first_export_is_rejected_and_the_others_kept(
    tmp_path: Path,
) -> None:
    catalogue = {"products": PRODUCTS, "stock": {**STOCK, "full": False}}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue=catalogue))
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n1;Eins;1,00\n")
    write_export(tmp_path, "bestand_1.csv", "Id;ArtNr;Lager;Menge\nx;1;Haupt;4\n")
    (tmp_path / "export" / "bestand_2.csv").write_bytes(b"Id;Art\x81Nr;Lager;Menge\r\ny;1;Neben;2\r\n")
    start = await connector.changes("product", None)
    polled = await connector.changes("product", start.cursor)
    assert polled.keys == ["file:bestand_2.csv"]
    (stand_in,) = await connector.read("product", polled.keys)
    assert isinstance(stand_in, Unmappable) and stand_in.field == "row 1"
    (product,) = await connector.read("product", ["1"])
    assert isinstance(product, Product) and [level.quantity for level in product.stock] == [4]
    await connector.changes("product", polled.cursor)
    assert "bestand_2.csv" in names(tmp_path / "rejects")
    assert "bestand_2.csv" not in names(tmp_path / "export")
