"""The dev kit's Warenwirtschaft behind a file drop on a real SFTP server, and the configuration that maps it.

The ERP is the sample Warenwirtschaft in a SQLite file (`emporion_devkit.wawi`); its file side
(`wawi.files.FileDrop`) exports the catalogue as German CSV (cp1252, `;`, decimal comma, 31.12.2026)
into `export/`, imports the openTRANS order files emporion writes into `import/` (archiving each
file it read into `import/archiv/`) and writes its progress (status, shipments, invoices) as delta
CSV files. The drop folder is served by a private OpenSSH sshd on 127.0.0.1
(`emporion_devkit.sftp.SftpServer`: its own host key, checked through a known_hosts file, and a
client key); emporion reaches it only through `sftp://`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from emporion_devkit.sftp import SftpServer
from emporion_devkit.wawi import sample, schema
from emporion_devkit.wawi.files import ARCHIVE, EXPORT_FOLDER, ORDER_FOLDER, FileDrop
from emporion_devkit.wawi.opentrans import read_order

PRODUCTS = 20
PRICE_LIST = "Endkunde"
SHOP_WAREHOUSES = ["HL", "AL"]
ORDER_PREFIX = "WEB-"
GERMAN_CSV = {
    "delimiter": ";",
    "encoding": "cp1252",
    "decimal_comma": True,
    "date_format": "%d.%m.%Y",
    "datetime_format": "%d.%m.%Y %H:%M:%S",
}


@dataclass
class Drop:
    """The Warenwirtschaft (its database and its file side) and the SFTP server serving its drop."""

    engine: sa.Engine
    files: FileDrop
    server: SftpServer

    @property
    def root(self) -> Path:
        return self.files.root


@contextmanager
def sftp_drop(tmp_path: Path) -> Iterator[Drop]:
    """The sample Warenwirtschaft in SQLite, its drop folder served over SFTP on 127.0.0.1."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wawi.db'}")
    schema.create(engine)
    sample.fill(engine, sample.SampleSpec(products=PRODUCTS))
    root = tmp_path / "drop"
    for folder in (EXPORT_FOLDER, ORDER_FOLDER):
        (root / folder).mkdir(parents=True)
    server = SftpServer(tmp_path / "ssh", root)
    server.start()
    try:
        yield Drop(engine, FileDrop(engine, root), server)
    finally:
        server.stop()
        engine.dispose()


def source(pattern: str, key: str, columns: dict[str, Any], **more: Any) -> dict[str, Any]:
    """One entity's export files: German CSV, full exports unless `full` is given."""
    return {"pattern": pattern, "format": "csv", "csv": GERMAN_CSV, "key": key, "columns": columns, **more}


def files_connection(drop: Drop, *, articles_as_xml: bool = False) -> dict[str, Any]:
    """The `type: files` connection on the SFTP drop: catalogue exports in, orders out, progress back."""
    articles: dict[str, Any] = source(
        "artikel_*.csv",
        "Artikelnummer",
        {
            "sku": "Artikelnummer",
            "name": "Bezeichnung",
            "description": "Beschreibung",
            "list_price": "VK netto",
            "weight": "Gewicht",
            "categories": "Warengruppe",
            "active": "Aktiv",
            "salable": "Im Shop",
            "custom.ean": "EAN",
        },
    )
    if articles_as_xml:
        fields = {
            "Artikelnummer": "ARTIKELNR",
            "Bezeichnung": "BEZEICHNUNG",
            "Beschreibung": "BESCHREIBUNG",
            "VK netto": "VK_NETTO",
            "Gewicht": "GEWICHT",
            "EAN": "EAN",
            "Warengruppe": "WARENGRUPPE",
            "Aktiv": "AKTIV",
            "Im Shop": "IM_SHOP",
        }
        articles = {
            **articles,
            "pattern": "artikel_*.xml",
            "format": "xml",
            "xml": {"record": "//ARTIKEL", "fields": fields},
        }
    return {
        "type": "files",
        "location": drop.server.location,
        "private_key": f"file:{drop.server.client_key}",
        "known_hosts": str(drop.server.known_hosts),
        "incoming": EXPORT_FOLDER,
        "processed": "processed",
        "rejects": "rejects",
        "settle_seconds": 0,  # this ERP writes each export under a temporary name and renames it
        "currency": "EUR",
        "catalogue": {
            "categories": source("warengruppen_*.csv", "ID", {"name": "Name", "parent": "Übergeordnet"}),
            "products": articles,
            "variants": source(
                "varianten_*.csv",
                "Artikelnummer",
                {
                    "product": "Vaterartikel",
                    "sku": "Artikelnummer",
                    "list_price": "VK netto",
                    "active": "Aktiv",
                    "attributes.Farbe": "Farbe",
                    "attributes.Größe": "Größe",
                },
            ),
            "prices": source(
                "preise_*.csv", "ID", {"sku": "Artikelnummer", "price_list": "Preisgruppe", "price": "Preis"}
            ),
            "sale_prices": source(
                "aktionen_*.csv",
                "ID",
                {"sku": "Artikelnummer", "price": "Aktionspreis", "start": "Gültig von", "end": "Gültig bis"},
            ),
            "stock": source(
                "bestand_*.csv", "ID", {"sku": "Artikelnummer", "warehouse": "Lager", "quantity": "Menge"}
            ),
        },
        "orders": {"folder": ORDER_FOLDER, "format": "opentrans", "buyer_id": "SHOP", "supplier_id": "WAWI"},
        "progress": {
            "orders": source(
                "status_*.csv",
                "Shop-Referenz",
                {"reference": "Shop-Referenz", "number": "Auftragsnummer", "status": "Status"},
                full=False,
            ),
            "shipments": source(
                "versand_*.csv",
                "Lieferschein",
                {
                    "reference": "Shop-Referenz",
                    "carrier": "Versender",
                    "tracking": "Sendungsnummer",
                    "shipped_at": "Versendet am",
                },
                full=False,
            ),
            "invoices": source(
                "rechnungen_*.csv",
                "Rechnung",
                {
                    "reference": "Shop-Referenz",
                    "number": "Rechnung",
                    "total": "Betrag",
                    "credit_note": "Gutschrift",
                },
                full=False,
            ),
            "statuses": {
                "offen": "processing",
                "in_bearbeitung": "processing",
                "versendet": "shipped",
                "abgeschlossen": "completed",
                "storniert": "cancelled",
            },
        },
    }


def catalogue_flow(poll_interval: float = 1.0) -> dict[str, Any]:
    """The catalogue flow from the drop into the shop: two warehouses, the Endkunde price group."""
    return {
        "name": "catalogue",
        "source": "wawi",
        "target": "shop",
        "entities": ["category", "product"],
        "poll_interval": poll_interval,
        "warehouses": SHOP_WAREHOUSES,
        "price_list": PRICE_LIST,
    }


def order_flow(poll_interval: float = 1.0) -> dict[str, Any]:
    """The order flow: the shop's orders as openTRANS files into the drop, progress files back."""
    return {
        "name": "orders",
        "source": "shop",
        "target": "wawi",
        "entities": ["order"],
        "poll_interval": poll_interval,
        "batch_size": 5,
        "orders": {"reference_prefix": ORDER_PREFIX, "shortage": "accept", "tracking_note": "customer"},
    }


def order_files(drop: Drop) -> Counter[str]:
    """How many order files the drop holds per order reference (waiting, and archived by the ERP)."""
    folder = drop.root / ORDER_FOLDER
    counts: Counter[str] = Counter()
    for path in [*folder.glob("*.xml"), *(folder / ARCHIVE).glob("*.xml")]:
        if not path.name.startswith("."):
            counts[read_order(path.read_bytes(), path.name).reference] += 1
    return counts


def stock_of(drop: Drop, sku: str) -> int:
    """What the shop should show for a SKU: its stock in the shop's warehouses."""
    levels = drop_stock(drop, sku)
    return int(sum(quantity for warehouse, quantity in levels.items() if warehouse in SHOP_WAREHOUSES))


def drop_stock(drop: Drop, sku: str) -> dict[str, Any]:
    """The Warenwirtschaft's stock of a SKU per warehouse code."""
    from emporion_devkit.wawi import erp

    return erp.stock_of(drop.engine, sku)


def group_price(drop: Drop, sku: str, group: str = PRICE_LIST) -> Any:
    """The SKU's price in a price group."""
    prices, groups = schema.artikel_preis, schema.preisgruppe
    with drop.engine.connect() as conn:
        return conn.execute(
            sa.select(prices.c.preis)
            .join(groups, groups.c.id == prices.c.preisgruppe_id)
            .where(prices.c.artikelnr == sku, groups.c.name == group)
        ).scalar_one()
