"""The emporion configuration of the sample Warenwirtschaft: its database (`type: sql`) or its file drop.

Both describe the same ERP: the catalogue with a change mode per source (articles and variants by
their row version, stock by its modification time, prices and promotions by full diff), the order
import (tables, or openTRANS files), and the ERP's progress read back with its status map. The
WooCommerce sandbox and the flows are the Tryton demo's. The configuration is built as data and
written as YAML; secrets are named as files, never written into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CURRENCY = "EUR"
WAREHOUSES = ["HL", "AL"]
STATUSES = {
    "offen": "processing",
    "in_bearbeitung": "processing",
    "versendet": "shipped",
    "abgeschlossen": "completed",
    "storniert": "cancelled",
}
CATALOGUE_FLOW = "catalogue"
ORDER_FLOW = "orders"
PAYMENT_METHODS = {"stripe": "Kreditkarte", "paypal": "PayPal", "bacs": "Vorkasse", "cod": "Nachnahme"}


def _change(mode: str, column: str | None = None, **more: Any) -> dict[str, Any]:
    return {"mode": mode, **({"column": column} if column else {}), **more}


def sql_catalogue() -> dict[str, Any]:
    """The catalogue's sources in the Warenwirtschaft's tables, each with the change mode that fits it."""
    return {
        "categories": {
            "table": "warengruppe",
            "key": "id",
            "columns": {"name": "name", "parent": "eltern_id"},
            "change": _change("updated_at", "geaendert_am", lookback_seconds=30),
        },
        "products": {
            "table": "artikel",
            "key": "id",
            "columns": {
                "sku": "artikelnr",
                "name": "bezeichnung",
                "description": "beschreibung",
                "list_price": "vk_netto",
                "weight": "gewicht",
                "categories": "warengruppe_id",
                "active": "aktiv",
                "salable": "im_shop",
                "custom.ean": "ean",
            },
            "change": _change("monotonic", "zeilen_version", overlap=100),
        },
        "variants": {
            "table": "artikel_variante",
            "key": "id",
            "columns": {
                "product": "artikel_id",
                "sku": "artikelnr",
                "list_price": "vk_netto",
                "weight": "gewicht",
                "active": "aktiv",
                "attributes.Farbe": "farbe",
                "attributes.Größe": "groesse",
            },
            "change": _change("monotonic", "zeilen_version", overlap=100),
        },
        "prices": {
            "query": "SELECT p.id, p.artikelnr, g.name AS preisgruppe, p.preis"
            " FROM artikel_preis p JOIN preisgruppe g ON g.id = p.preisgruppe_id",
            "key": "id",
            "columns": {"sku": "artikelnr", "price_list": "preisgruppe", "price": "preis"},
            "change": _change("full_diff"),
        },
        "sale_prices": {
            "table": "aktion",
            "key": "id",
            "columns": {"sku": "artikelnr", "price": "preis", "start": "gueltig_von", "end": "gueltig_bis"},
            "change": _change("full_diff"),
        },
        "stock": {
            "query": "SELECT b.id, b.artikelnr, l.kuerzel, b.menge, b.geaendert_am"
            " FROM lager_bestand b JOIN lager l ON l.id = b.lager_id",
            "key": "id",
            "columns": {"sku": "artikelnr", "warehouse": "kuerzel", "quantity": "menge"},
            "change": _change("updated_at", "geaendert_am", lookback_seconds=30),
        },
        "customers": {
            "table": "kunde",
            "key": "id",
            "columns": {
                "email": "email",
                "first_name": "vorname",
                "last_name": "nachname",
                "company": "firma",
                "phone": "telefon",
                "number": "kundennr",
                "billing.street": "strasse",
                "billing.postcode": "plz",
                "billing.city": "ort",
                "billing.country": "land",
            },
            "change": _change("updated_at", "geaendert_am", lookback_seconds=30),
        },
    }


def sql_orders() -> dict[str, Any]:
    """Shop orders into the import tables the Warenwirtschaft takes them from (one transaction each)."""
    return {
        "orders": {
            "table": "import_auftrag",
            "columns": {
                "shop_referenz": "order.reference",
                "shop_bestellnr": "order.number",
                "bestelldatum": "order.created_at",
                "kunde_email": "order.customer.email",
                "vorname": "order.billing.first_name",
                "nachname": "order.billing.last_name",
                "firma": "order.billing.company",
                "strasse": "order.billing.street",
                "plz": "order.billing.postcode",
                "ort": "order.billing.city",
                "land": "order.billing.country",
                "waehrung": "order.currency",
                "versandkosten": "order.shipping_total",
                "steuer": "order.tax_total",
                "summe": "order.total",
            },
        },
        "reference_column": "shop_referenz",
        "key_column": "id",
        "taken_column": "uebernommen_am",
        "lines": {
            "table": "import_position",
            "parent_column": "import_auftrag_id",
            "columns": {
                "position": "line.key",
                "artikelnr": "line.sku",
                "bezeichnung": "line.name",
                "menge": "line.quantity",
                "einzelpreis": "line.unit_price",
                "steuer": "line.tax",
            },
        },
        "payments": {
            "table": "import_zahlung",
            "parent_column": "import_auftrag_id",
            "columns": {
                "zahlungsart": "payment.method",
                "betrag": "payment.amount",
                "transaktion": "payment.transaction_id",
                "bezahlt_am": "payment.paid_at",
            },
        },
        "customers": {
            "table": "import_kunde",
            "columns": {
                "email": "customer.email",
                "vorname": "customer.first_name",
                "nachname": "customer.last_name",
                "firma": "customer.company",
                "telefon": "customer.phone",
            },
        },
        "customer_email_column": "email",
        "customer_key_column": "id",
        "cancellations": {"table": "import_storno", "columns": {"shop_referenz": "order.reference"}},
        "cancellation_taken_column": "uebernommen_am",
    }


def sql_progress() -> dict[str, Any]:
    """The Warenwirtschaft's orders, delivery notes and invoices, read back by the shop reference."""
    stamp = _change("updated_at", "geaendert_am", lookback_seconds=30)
    return {
        "statuses": STATUSES,
        "orders": {
            "query": "SELECT a.shop_referenz, a.auftragsnr, a.status, a.geaendert_am"
            " FROM auftrag a WHERE a.shop_referenz IS NOT NULL",
            "key": "shop_referenz",
            "columns": {"reference": "shop_referenz", "status": "status", "number": "auftragsnr"},
            "change": stamp,
        },
        "shipments": {
            "query": "SELECT l.id, a.shop_referenz, l.versender, l.sendungsnummer, l.versendet_am,"
            " l.geaendert_am"
            " FROM lieferschein l JOIN auftrag a ON a.id = l.auftrag_id WHERE a.shop_referenz IS NOT NULL",
            "key": "id",
            "columns": {
                "reference": "shop_referenz",
                "carrier": "versender",
                "tracking": "sendungsnummer",
                "shipped_at": "versendet_am",
            },
            "change": stamp,
        },
        "invoices": {
            "query": "SELECT r.id, a.shop_referenz, r.nummer, r.betrag, r.gutschrift, r.geaendert_am"
            " FROM rechnung r JOIN auftrag a ON a.id = r.auftrag_id WHERE a.shop_referenz IS NOT NULL",
            "key": "id",
            "columns": {
                "reference": "shop_referenz",
                "number": "nummer",
                "total": "betrag",
                "credit_note": "gutschrift",
            },
            "change": stamp,
        },
    }


def sql_connection(url: str, password_file: Path | None = None) -> dict[str, Any]:
    """The `type: sql` connection of the sample Warenwirtschaft's database at `url` (no password in it)."""
    connection: dict[str, Any] = {"type": "sql", "url": url, "currency": CURRENCY, "page_size": 500}
    if password_file is not None:
        connection["password"] = f"file:{password_file}"
    connection["catalogue"] = sql_catalogue()
    connection["orders"] = sql_orders()
    connection["progress"] = sql_progress()
    return connection


@dataclass(frozen=True)
class ShopConnection:
    """The WooCommerce sandbox as the demo's configuration names it."""

    url: str
    secrets: Path
    webhooks: bool


def shop_connection(shop: ShopConnection) -> dict[str, Any]:
    """The WooCommerce (sandbox) connection, its keys named as secret files."""
    return {
        "type": "woocommerce",
        "url": shop.url,
        "consumer_key": f"file:{shop.secrets}/shop-consumer-key",
        "consumer_secret": f"file:{shop.secrets}/shop-consumer-secret",
        "webhooks": shop.webhooks,
    }


def flows(source: str = "erp") -> list[dict[str, Any]]:
    """The demo's two flows: the catalogue to the shop, and the shop's orders into the Warenwirtschaft."""
    return [
        {
            "name": CATALOGUE_FLOW,
            "source": source,
            "target": "shop",
            "entities": ["category", "product"],
            "poll_interval": 2,
            "warehouses": WAREHOUSES,
            "safety_stock": 1,
            "mapping": {
                "short_description": {"template": "{{ name }} (SKU {{ sku }})"},
                "custom.source": {"constant": "warenwirtschaft"},
            },
        },
        {
            "name": ORDER_FLOW,
            "source": "shop",
            "target": source,
            "entities": ["order"],
            "poll_interval": 2,
            "orders": {
                "reference_prefix": "WEB-",  # no `warehouse`: all warehouses, as the catalogue shows
                "carriers": {"*": "DHL"},
                "payment_methods": PAYMENT_METHODS,
                "shortage": "hold",
            },
        },
    ]


def document(erp: dict[str, Any], shop: ShopConnection, *, server_port: int, comment: str) -> str:
    """The whole configuration file: state, logging, server, connections and flows, as YAML."""
    settings = {
        "version": 1,
        "state": {"url": "sqlite:///state.db"},
        "logging": {"format": "pretty", "level": "info"},
        "server": {
            "host": "127.0.0.1",
            "port": server_port,
            "public_url": f"http://127.0.0.1:{server_port}",
            "console": {"secure_cookies": False},
        },
        "connections": {"erp": erp, "shop": shop_connection(shop)},
        "flows": flows(),
    }
    body = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=110)
    return f"# {comment}\n{body}"


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
