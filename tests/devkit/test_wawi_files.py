"""The sample Warenwirtschaft's file drop: CSV exports the file connector reads, orders in, status out."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncssh
import pytest
import sqlalchemy as sa

from emporion.connectors.files.formats import parse_file
from emporion.connectors.files.opentrans import order_document
from emporion.connectors.files.settings import FileSource
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.settings import CATEGORY_FIELDS, PRODUCT_FIELDS, SALE_PRICE_FIELDS
from emporion.model import Address, Customer, Order, OrderLine, OrderStatus
from emporion_devkit.sftp import SftpServer
from emporion_devkit.wawi import erp, schema
from emporion_devkit.wawi.files import FileDrop
from emporion_devkit.wawi.files_config import files_catalogue, files_progress
from emporion_devkit.wawi.opentrans import OrderFileError, read_order
from emporion_devkit.wawi.sample import SampleSpec, fill

SPEC = SampleSpec(products=20, variant_share=0.2)


@pytest.fixture
def drop(tmp_path: Path) -> Iterator[FileDrop]:
    """The Warenwirtschaft in SQLite with its drop folder."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wawi.sqlite'}")
    schema.create(engine)
    fill(engine, SPEC)
    try:
        yield FileDrop(engine, tmp_path / "drop")
    finally:
        engine.dispose()


def newest(drop: FileDrop, prefix: str) -> Path:
    return sorted(drop.export_dir.glob(f"{prefix}_*"))[-1]


def test_catalogue_exports_are_german_csv_the_configured_sources_read(drop: FileDrop) -> None:
    written = drop.export_catalogue()
    assert sorted(p.name.split("_")[0] for p in written) == sorted(
        ["warengruppen", "artikel", "varianten", "preise", "aktionen", "bestand"]
    )
    assert not list(drop.export_dir.glob(".tmp-*"))  # renamed into place, nothing half written
    header = newest(drop, "warengruppen").read_bytes().split(b"\r\n")[0]
    assert header == "ID;Name;Übergeordnet".encode("cp1252")  # cp1252, `;`, CRLF
    sources = files_catalogue()
    fields = {"categories": CATEGORY_FIELDS, "products": PRODUCT_FIELDS, "sale_prices": SALE_PRICE_FIELDS}
    for name, prefix in (
        ("categories", "warengruppen"),
        ("products", "artikel"),
        ("sale_prices", "aktionen"),
    ):
        source = FileSource.model_validate(sources[name])
        path = newest(drop, prefix)
        parsed = parse_file(path.name, path.read_bytes(), source, source.key)
        assert parsed.rows and not parsed.rejects
        assert RowMapper(source, fields[name]).columns() <= set(parsed.rows[0])  # the mapping's columns exist
    articles = newest(drop, "artikel").read_text(encoding="cp1252").splitlines()
    assert articles[1].split(";")[3].count(",") == 1  # VK netto with a decimal comma
    promotions = newest(drop, "aktionen").read_text(encoding="cp1252").splitlines()
    assert datetime.strptime(promotions[1].split(";")[3], "%d.%m.%Y")  # German dates


def test_only_changed_tables_are_exported_again(drop: FileDrop) -> None:
    drop.export_catalogue()
    assert drop.export_catalogue() == []
    erp.set_price(drop.engine, "SKU-00001", Decimal("12.50"))
    again = drop.export_catalogue()
    assert sorted(p.name.split("_")[0] for p in again) == ["artikel", "preise"]
    assert ";12,50;" in newest(drop, "artikel").read_text(encoding="cp1252")


def test_articles_as_xml_read_by_the_configured_xpaths(drop: FileDrop) -> None:
    drop.articles_as_xml = True
    drop.export_catalogue()
    source = FileSource.model_validate(files_catalogue(articles_as_xml=True)["products"])
    path = newest(drop, "artikel")
    parsed = parse_file(path.name, path.read_bytes(), source, source.key)
    assert path.suffix == ".xml" and len(parsed.rows) == SPEC.products and not parsed.rejects
    assert RowMapper(source, PRODUCT_FIELDS).columns() <= set(parsed.rows[0])


def shop_order(reference: str, sku: str, quantity: int) -> Order:
    address = Address(
        first_name="Mia", last_name="Wagner", street="Gartenweg 5", postcode="20095", city="Hamburg"
    )
    return Order(
        key="1042",
        number="1042",
        reference=reference,
        status=OrderStatus.PROCESSING,
        currency="EUR",
        created_at=datetime(2026, 12, 5, 10, 30, tzinfo=UTC),
        customer=Customer(key="", email="mia.wagner@example.org"),
        billing=address,
        shipping=address,
        lines=[
            OrderLine(
                key="1", sku=sku, name="Becher", quantity=Decimal(quantity), unit_price=Decimal("8.00"),
                total=Decimal(8 * quantity), tax=Decimal("1.52") * quantity,
            )
        ],
        shipping_total=Decimal("4.90"),
        total=Decimal(8 * quantity) + Decimal("1.52") * quantity + Decimal("4.90"),
    )  # fmt: skip


def test_opentrans_orders_are_imported_once_and_taken(drop: FileDrop) -> None:
    before = erp.stock_of(drop.engine, "SKU-00001")
    document = order_document(shop_order("WEB-1042", "SKU-00001", 2), buyer_id="WEBSHOP", supplier_id="WAWI")
    drop.order_dir.mkdir(parents=True)
    (drop.order_dir / "auftrag-WEB-1042.xml").write_bytes(document)
    (drop.order_dir / ".tmp-auftrag-WEB-1043.xml").write_bytes(document[:40])  # still being written
    taken = drop.import_orders()
    assert taken.orders == ["WEB-1042"]
    assert (drop.order_dir / "archiv" / "auftrag-WEB-1042.xml").exists()
    assert (drop.order_dir / ".tmp-auftrag-WEB-1043.xml").exists()  # left alone
    assert sum(erp.stock_of(drop.engine, "SKU-00001").values()) == sum(before.values()) - 2
    with drop.engine.connect() as conn:
        header = conn.execute(sa.select(schema.import_auftrag)).one()
        lines = conn.execute(sa.select(schema.import_position)).all()
    assert (header.kunde_email, header.vorname, header.nachname, header.ort) == (
        "mia.wagner@example.org", "Mia", "Wagner", "Hamburg",
    )  # fmt: skip
    assert header.summe == Decimal("23.94") and header.versandkosten == Decimal("4.90")
    assert [(line.artikelnr, line.menge, line.einzelpreis) for line in lines] == [
        ("SKU-00001", Decimal(2), Decimal("8.00"))
    ]
    shutil.copy(drop.order_dir / "archiv" / "auftrag-WEB-1042.xml", drop.order_dir / "auftrag-WEB-1042.xml")
    assert drop.import_orders().orders == []  # the same file again stages nothing twice


def test_cancellation_files_cancel_the_taken_order_and_broken_files_are_set_aside(drop: FileDrop) -> None:
    before = erp.stock_of(drop.engine, "SKU-00001")
    drop.order_dir.mkdir(parents=True)
    document = order_document(shop_order("WEB-8", "SKU-00001", 1), buyer_id="", supplier_id="")
    (drop.order_dir / "auftrag-WEB-8.xml").write_bytes(document)
    (drop.order_dir / "auftrag-WEB-9.xml").write_bytes(document[: len(document) // 2])  # truncated
    assert drop.import_orders().orders == ["WEB-8"]
    assert (drop.order_dir / "fehler" / "auftrag-WEB-9.xml").exists()
    assert "line" in (drop.order_dir / "fehler" / "auftrag-WEB-9.xml.grund.txt").read_text()
    (drop.order_dir / "cancel-WEB-8.csv").write_text("reference;number;cancelled_at\nWEB-8;8;2026-12-05\n")
    assert drop.import_orders().cancelled == ["WEB-8"]
    assert erp.stock_of(drop.engine, "SKU-00001") == before  # the goods are back
    assert (drop.order_dir / "archiv" / "cancel-WEB-8.csv").exists()
    with drop.engine.connect() as conn:
        status = conn.execute(
            sa.select(schema.auftrag.c.status).where(schema.auftrag.c.shop_referenz == "WEB-8")
        )
        assert status.scalar_one() == erp.CANCELLED


def test_a_broken_order_file_is_refused_naming_it() -> None:
    with pytest.raises(OrderFileError, match=r"auftrag-x\.xml.*line"):
        read_order(b"<ORDER><ORDER_HEADER>", "auftrag-x.xml")
    with pytest.raises(OrderFileError, match="no ORDER_ID"):
        read_order(b"<ORDER/>", "auftrag-y.xml")


def test_progress_files_carry_status_shipment_and_invoice_once(drop: FileDrop) -> None:
    drop.order_dir.mkdir(parents=True)
    document = order_document(shop_order("WEB-7", "SKU-00001", 1), buyer_id="", supplier_id="")
    (drop.order_dir / "auftrag-WEB-7.xml").write_bytes(document)
    drop.import_orders()
    erp.ship(drop.engine, "WEB-7", "JJD0009", "DHL")
    erp.invoice(drop.engine, "WEB-7")
    written = {p.name.split("_")[0]: p for p in drop.export_progress()}
    assert set(written) == {"status", "versand", "rechnungen"}
    progress = files_progress()
    shipments = FileSource.model_validate(progress["shipments"])
    parsed = parse_file(written["versand"].name, written["versand"].read_bytes(), shipments, shipments.key)
    assert [(r["Shop-Referenz"], r["Versender"], r["Sendungsnummer"]) for r in parsed.rows] == [
        ("WEB-7", "DHL", "JJD0009")
    ]
    status = FileSource.model_validate(progress["orders"])
    rows = parse_file(written["status"].name, written["status"].read_bytes(), status, status.key).rows
    assert [r["Status"] for r in rows] == [erp.DONE] and rows[0]["Status"] in progress["statuses"]
    assert drop.export_progress() == []  # nothing changed: nothing written


def test_the_dev_kit_sftp_server_serves_the_drop_and_its_host_key_is_checked(tmp_path: Path) -> None:
    async def listing(server: SftpServer, known_hosts: str) -> list[str]:
        async with (
            asyncssh.connect(
                "127.0.0.1",
                port=server.port,
                username=server.user,
                client_keys=[str(server.client_key)],
                known_hosts=known_hosts,
            ) as conn,
            conn.start_sftp_client() as sftp,
        ):
            return sorted(await sftp.listdir(str(server.root)))

    with SftpServer(tmp_path / "sshd", tmp_path / "drop") as server:
        (server.root / "artikel_1.csv").write_text("x")
        assert "artikel_1.csv" in asyncio.run(listing(server, str(server.known_hosts)))
        assert server.location.startswith("sftp://") and server.location.endswith(str(tmp_path / "drop"))
        stranger = SftpServer(tmp_path / "other", tmp_path / "drop", port=server.port)
        stranger._configure()  # another host key for the same address
        with pytest.raises((asyncssh.HostKeyNotVerifiable, asyncssh.DisconnectError)):
            asyncio.run(listing(server, str(stranger.known_hosts)))
