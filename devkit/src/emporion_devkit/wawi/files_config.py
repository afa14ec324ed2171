"""The emporion configuration of the sample Warenwirtschaft's file drop (`type: files`).

The same ERP as `wawi.config` describes for its database, seen through the files it exports
(`wawi/files.py`): German CSV full exports of the catalogue (or articles as XML), the openTRANS order
files it imports, and delta files of its order status, shipments and invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emporion_devkit.wawi.config import CURRENCY, STATUSES

GERMAN_CSV = {
    "delimiter": ";",
    "encoding": "cp1252",
    "decimal_comma": True,
    "date_format": "%d.%m.%Y",
    "datetime_format": "%d.%m.%Y %H:%M:%S",
}


def _file(pattern: str, key: str, columns: dict[str, str], *, full: bool = True) -> dict[str, Any]:
    """One export file kind: German CSV, a full export unless said otherwise."""
    return {"pattern": pattern, "key": key, "columns": columns, "csv": GERMAN_CSV, "full": full}


def files_catalogue(articles_as_xml: bool = False) -> dict[str, Any]:
    """The Warenwirtschaft's catalogue exports: one full export per table (see wawi/files.py)."""
    articles = _file(
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
        tags = ["ARTIKELNR", "BEZEICHNUNG", "BESCHREIBUNG", "VK_NETTO", "GEWICHT", "EAN", "WARENGRUPPE"]
        articles = {
            "pattern": "artikel_*.xml",
            "format": "xml",
            "xml": {"record": "//ARTIKEL", "fields": {tag: tag for tag in [*tags, "AKTIV", "IM_SHOP"]}},
            "key": "ARTIKELNR",
            "columns": {
                "sku": "ARTIKELNR",
                "name": "BEZEICHNUNG",
                "description": "BESCHREIBUNG",
                "list_price": "VK_NETTO",
                "weight": "GEWICHT",
                "categories": "WARENGRUPPE",
                "active": "AKTIV",
                "salable": "IM_SHOP",
                "custom.ean": "EAN",
            },
            "csv": GERMAN_CSV,  # the XML export writes numbers with a decimal comma too
        }
    return {
        "categories": _file("warengruppen_*.csv", "ID", {"name": "Name", "parent": "Übergeordnet"}),
        "products": articles,
        "variants": _file(
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
        "prices": _file(
            "preise_*.csv", "ID", {"sku": "Artikelnummer", "price_list": "Preisgruppe", "price": "Preis"}
        ),
        "sale_prices": _file(
            "aktionen_*.csv",
            "ID",
            {"sku": "Artikelnummer", "price": "Aktionspreis", "start": "Gültig von", "end": "Gültig bis"},
        ),
        "stock": _file(
            "bestand_*.csv", "ID", {"sku": "Artikelnummer", "warehouse": "Lager", "quantity": "Menge"}
        ),
    }


def files_progress() -> dict[str, Any]:
    """The Warenwirtschaft's progress files: deltas of order status, shipments and invoices."""
    return {
        "statuses": STATUSES,
        "orders": _file(
            "status_*.csv",
            "Shop-Referenz",
            {"reference": "Shop-Referenz", "status": "Status", "number": "Auftragsnummer"},
            full=False,
        ),
        "shipments": _file(
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
        "invoices": _file(
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
    }


@dataclass(frozen=True)
class SftpAccess:
    """How emporion reaches an SFTP drop: the private key file and the known_hosts file."""

    private_key: Path
    known_hosts: Path


def files_connection(
    location: str, sftp: SftpAccess | None = None, *, articles_as_xml: bool = False
) -> dict[str, Any]:
    """The `type: files` connection of the Warenwirtschaft's drop (a folder, or `sftp://` with a key)."""
    connection: dict[str, Any] = {"type": "files", "location": location}
    if sftp is not None:
        connection["private_key"] = f"file:{sftp.private_key}"
        connection["known_hosts"] = str(sftp.known_hosts)
    connection.update(
        {
            "incoming": "export",
            "processed": "processed",
            "rejects": "rejects",
            "settle_seconds": 0,  # each export is written under a temporary name, then renamed
            "currency": CURRENCY,
            "catalogue": files_catalogue(articles_as_xml),
            "orders": {
                "folder": "import",
                "format": "opentrans",
                "name": "auftrag-{reference}",
                "buyer_id": "WEBSHOP",
                "supplier_id": "WAWI",
            },
            "progress": files_progress(),
        }
    )
    return connection
