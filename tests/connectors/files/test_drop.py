"""Incoming files are handled exactly once: moved and journalled only when a stored cursor proves it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from emporion.connectors.base import Unmappable
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.journal import journal_path
from emporion.model import Product
from tests.connectors.files.erp import PRODUCTS, STOCK, ExportingErp, settings
from tests.connectors.files.test_formats import write_export


def journal(root: Path) -> list[dict[str, object]]:
    """The journal's entries (this month's)."""
    path = Path(journal_path(str(root / "processed"), datetime.now(UTC)))
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def names(folder: Path) -> set[str]:
    """The files (not folders, not hidden) in a folder."""
    return (
        {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
        if folder.exists()
        else set()
    )


async def test_a_file_is_reported_then_moved_and_journalled_by_the_next_poll(tmp_path: Path) -> None:
    erp = ExportingErp(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    start = await connector.changes("product", None)
    erp.add("4711", "Schraube", Decimal("0.12"))
    exported = erp.export_articles()
    first = await connector.changes("product", start.cursor)
    assert first.keys == ["4711"]
    assert exported.exists(), "a file stays until a stored cursor proves its keys were taken"
    second = await connector.changes("product", first.cursor)
    assert second.keys == []
    assert not exported.exists() and (tmp_path / "processed" / exported.name).exists()
    (entry,) = journal(tmp_path)
    assert entry["name"] == exported.name and entry["rows"] == 1 and entry["rejects"] == 0
    assert len(str(entry["sha256"])) == 64
    assert (await connector.changes("product", second.cursor)).keys == []
    (product,) = await connector.read("product", ["4711"])  # the handled export is still the truth
    assert isinstance(product, Product) and product.list_price == Decimal("0.12")


async def test_a_poll_repeated_with_the_old_cursor_after_a_crash_reports_again(tmp_path: Path) -> None:
    erp = ExportingErp(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    start = await connector.changes("product", None)
    erp.add("4711", "Schraube", Decimal("0.12"))
    erp.export_articles()
    lost = await connector.changes("product", start.cursor)  # the engine died before storing this
    assert lost.keys == ["4711"]
    again = await connector.changes("product", start.cursor)
    assert again.keys == ["4711"]
    erp.reprice("4711")
    erp.export_articles()
    after = await connector.changes("product", again.cursor)
    assert after.keys == ["4711"]
    # the cursor handed back twice (a crash after the move): nothing is lost or moved twice
    replay = await connector.changes("product", again.cursor)
    assert replay.keys == ["4711"]
    assert names(tmp_path / "processed") == {"artikel_00001.csv"}


async def test_a_delivery_already_journalled_is_set_aside_unread(tmp_path: Path) -> None:
    """The same file (name, content, time) uploaded again is a repeat: neither reported nor read."""
    erp = ExportingErp(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    start = await connector.changes("product", None)
    erp.add("4711", "Schraube", Decimal("0.12"))
    exported = erp.export_articles()
    content, stamp = exported.read_bytes(), exported.stat().st_mtime
    first = await connector.changes("product", start.cursor)
    second = await connector.changes("product", first.cursor)
    assert not exported.exists()
    exported.write_bytes(content)  # the transfer tool uploads it once more, keeping its time
    os.utime(exported, (stamp, stamp))
    third = await connector.changes("product", second.cursor)
    assert third.keys == []
    await connector.changes("product", third.cursor)
    assert not exported.exists() and len(journal(tmp_path)) == 1
    assert names(tmp_path / "processed" / "duplicates") == {exported.name}
    assert names(tmp_path / "processed") == {exported.name}


async def test_a_fixed_name_export_written_again_is_never_moved_unread(tmp_path: Path) -> None:
    """An ERP exporting deltas to one name: a new file under the name the cursor reports is read."""
    products = {**PRODUCTS, "pattern": "artikel.csv", "full": False}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": products}))
    start = await connector.changes("product", None)
    path = write_export(tmp_path, "artikel.csv", "ArtNr;Bezeichnung;VK\n1;Eins;5,00\n")
    os.utime(path, (2_000_000_000, 2_000_000_000))
    first = await connector.changes("product", start.cursor)
    assert first.keys == ["1"]
    write_export(tmp_path, "artikel.csv", "ArtNr;Bezeichnung;VK\n2;Zwei;3,00\n")  # before the next poll
    os.utime(path, (2_000_000_100, 2_000_000_100))
    second = await connector.changes("product", first.cursor)
    assert second.keys == ["2"] and path.exists()
    keys = [record.key for record in await connector.read("product", ["1", "2"])]
    assert keys == ["1", "2"], "the overwritten delta's rows are still part of the truth"
    write_export(tmp_path, "artikel.csv", "ArtNr;Bezeichnung;VK\n1;Eins;5,00\n")  # the first content again
    os.utime(path, (2_000_000_200, 2_000_000_200))
    third = await connector.changes("product", second.cursor)
    assert third.keys == ["1"], "equal content at another time is a new export, not a repeat"
    await connector.changes("product", third.cursor)
    assert len(journal(tmp_path)) == 3 and not path.exists()
    assert len(names(tmp_path / "processed")) == 3


async def test_deleted_and_changed_rows_of_a_full_export(tmp_path: Path) -> None:
    erp = ExportingErp(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    for sku in ("1", "2", "3"):
        erp.add(sku, f"Artikel {sku}", Decimal(5))
    erp.export_articles()
    start = await connector.changes("product", None)
    del erp.articles["2"]
    erp.reprice("3")
    erp.add("4", "Neu", Decimal(1))
    erp.export_articles()
    polled = await connector.changes("product", start.cursor)
    assert sorted(polled.keys) == ["2", "3", "4"]
    assert {record.key for record in await connector.read("product", ["1", "2", "3", "4"])} == {"1", "3", "4"}


async def test_stock_changes_report_their_product(tmp_path: Path) -> None:
    erp = ExportingErp(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    erp.add("4711", "Schraube", Decimal(1), Decimal(5))
    erp.add("4712", "Mutter", Decimal(1), Decimal(5))
    erp.export_articles()
    erp.export_stock()
    start = await connector.changes("product", None)
    erp.stock[("4712", "Hauptlager")] = Decimal(2)
    erp.stock[("4712", "Aussenlager")] = Decimal(1)
    erp.export_stock()
    assert (await connector.changes("product", start.cursor)).keys == ["4712"]
    (product,) = await connector.read("product", ["4712"])
    assert isinstance(product, Product)
    assert {level.warehouse: level.quantity for level in product.stock} == {
        "Aussenlager": Decimal(1),
        "Hauptlager": Decimal(2),
    }
    assert await connector.availability(["4712", "nope"], ["Hauptlager"]) == {"4712": Decimal(2)}


async def test_a_truncated_file_is_a_dead_letter_and_goes_to_rejects(tmp_path: Path) -> None:
    products = {**PRODUCTS, "pattern": "artikel_*.xml", "format": "xml", "csv": {}}  # XML: 1.5
    products["xml"] = {"record": "//Artikel", "fields": {"ArtNr": "ArtNr", "Bezeichnung": "Name", "VK": "VK"}}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": products}))
    start = await connector.changes("product", None)
    good = "<Export><Artikel><ArtNr>1</ArtNr><Name>Gut</Name><VK>1.5</VK></Artikel></Export>"
    write_export(tmp_path, "artikel_1.xml", good, "utf-8")
    write_export(tmp_path, "artikel_2.xml", "<Export>\n<Artikel><ArtNr>2</ArtNr>\n<Name>Ab", "utf-8")
    os.utime(tmp_path / "export" / "artikel_2.xml", (2_000_000_000, 2_000_000_000))
    polled = await connector.changes("product", start.cursor)
    assert "file:artikel_2.xml" in polled.keys and "1" in polled.keys
    (stand_in,) = await connector.read("product", ["file:artikel_2.xml"])
    assert isinstance(stand_in, Unmappable)
    assert stand_in.record == "file artikel_2.xml" and stand_in.field and stand_in.field.startswith("line 3")
    (product,) = await connector.read("product", ["1"])  # nothing else stops: the readable one is the truth
    assert isinstance(product, Product)
    await connector.changes("product", polled.cursor)
    assert names(tmp_path / "rejects") == {"artikel_2.xml", "artikel_2.xml.reason.txt"}
    assert names(tmp_path / "processed") == {"artikel_1.xml"}


async def test_rejected_rows_go_to_a_rejects_file_and_read_as_dead_letters(tmp_path: Path) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path)))
    start = await connector.changes("product", None)
    text = "ArtNr;Bezeichnung;VK\n1;Gut;1,00\n2;Kaputt\n;Ohne Nummer;3,00\n"
    write_export(tmp_path, "artikel_1.csv", text)
    polled = await connector.changes("product", start.cursor)
    assert sorted(polled.keys) == ["1", "2"]
    rejects = (tmp_path / "rejects" / "artikel_1.csv.rejects.csv").read_text().splitlines()
    assert rejects[0] == "row;column;reason"
    assert rejects[1].startswith("3;VK;") and rejects[2].startswith("4;ArtNr;")
    records = {record.key: record for record in await connector.read("product", ["1", "2"])}
    assert isinstance(records["1"], Product)
    broken = records["2"]
    assert (
        isinstance(broken, Unmappable)
        and broken.record == "file artikel_1.csv row 3"
        and broken.field == "VK"
    )


async def test_deltas_report_every_key_and_soft_deletes_leave(tmp_path: Path) -> None:
    stock = {**STOCK, "full": False, "change": {"soft_delete": "Geloescht"}}
    products = {**PRODUCTS, "full": False, "change": {"soft_delete": "Geloescht"}}
    connector = FilesConnector(
        "drop", settings(str(tmp_path), catalogue={"products": products, "stock": stock})
    )
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK;Geloescht\n1;Eins;1,00;N\n2;Zwei;2,00;N\n")
    start = await connector.changes("product", None)
    assert [record.key for record in await connector.read("product", ["1", "2"])] == ["1", "2"]
    write_export(tmp_path, "artikel_2.csv", "ArtNr;Bezeichnung;VK;Geloescht\n2;Zwei;2,00;J\n")
    os.utime(tmp_path / "export" / "artikel_2.csv", (2_000_000_000, 2_000_000_000))
    polled = await connector.changes("product", start.cursor)
    assert polled.keys == ["2"]
    assert [record.key for record in await connector.read("product", ["1", "2"])] == ["1"]  # folded on
    write_export(tmp_path, "artikel_3.csv", "ArtNr;Bezeichnung;VK;Geloescht\n1;Eins neu;1,50;N\n")
    os.utime(tmp_path / "export" / "artikel_3.csv", (2_000_000_100, 2_000_000_100))
    (one,) = await connector.read("product", ["1", "2"])
    assert isinstance(one, Product) and one.name == "Eins neu" and one.list_price == Decimal("1.50")


async def test_deltas_written_in_one_second_fold_in_the_order_the_erp_named_them(tmp_path: Path) -> None:
    """Processed copies carry a hash before their name; deltas of one second still fold by their names."""
    products = {**PRODUCTS, "full": False}
    connector = FilesConnector("drop", settings(str(tmp_path), catalogue={"products": products}))
    start = await connector.changes("product", None)
    for n, name in enumerate(["Eins", "Eins neu", "Eins neuer", "Eins am neuesten"], 1):
        path = write_export(tmp_path, f"artikel_{n}.csv", f"ArtNr;Bezeichnung;VK\n1;{name};1,00\n")
        os.utime(path, (2_000_000_000, 2_000_000_000))  # one second, as SFTP stamps whole seconds
    cursor = start.cursor
    for _ in range(3):  # handled, then moved to processed/ under hashed names
        cursor = (await connector.changes("product", cursor)).cursor
    assert len(names(tmp_path / "processed")) >= 4
    (one,) = await connector.read("product", ["1"])
    assert isinstance(one, Product) and one.name == "Eins am neuesten"


async def test_at_most_poll_files_per_poll_oldest_first(tmp_path: Path) -> None:
    erp = ExportingErp(tmp_path)
    connector = FilesConnector(
        "drop", settings(str(tmp_path), poll_files=1, catalogue={"stock": STOCK, "products": PRODUCTS})
    )
    start = await connector.changes("product", None)
    erp.add("1", "Eins", Decimal(1), Decimal(1))
    erp.export_articles()
    erp.export_stock()
    first = await connector.changes("product", start.cursor)
    assert first.more and first.keys == ["1"]
    second = await connector.changes("product", first.cursor)
    assert not second.more
    assert names(tmp_path / "processed") == {"artikel_00001.csv"}


async def test_an_export_still_being_written_in_place_waits_for_a_later_poll(tmp_path: Path) -> None:
    """An ERP that writes in place: a file younger than `settle_seconds` is neither read nor reported."""
    connector = FilesConnector("drop", settings(str(tmp_path), settle_seconds=60))
    start = await connector.changes("product", None)
    path = write_export(tmp_path, "artikel_1.csv", "ArtNr;Bezeichnung;VK\n1;Eins;1,00\n")
    early = await connector.changes("product", start.cursor)
    assert early.keys == [] and await connector.read("product", ["1"]) == []
    os.utime(path, (path.stat().st_mtime - 61, path.stat().st_mtime - 61))
    assert (await connector.changes("product", early.cursor)).keys == ["1"]


async def test_check_names_a_column_the_newest_export_lacks(tmp_path: Path) -> None:
    connector = FilesConnector("drop", settings(str(tmp_path)))
    write_export(tmp_path, "artikel_1.csv", "ArtNr;Name;VK\n1;Eins;1,00\n")
    results = {result.name.split(" ")[0]: result for result in await connector.check()}
    assert results["drop"].ok
    assert not results["products"].ok and "Bezeichnung" in results["products"].detail
    assert results["stock"].ok and results["stock"].detail == "no file yet"
    write_export(tmp_path, "artikel_2.csv", "ArtNr;Bezeichnung;VK\n1;Eins;1,00\n")
    os.utime(tmp_path / "export" / "artikel_2.csv", (2_000_000_000, 2_000_000_000))
    assert all(result.ok for result in await connector.check())
