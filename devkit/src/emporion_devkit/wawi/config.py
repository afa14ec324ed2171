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
# the article table's columns by the product fields they fill
ARTICLE_COLUMNS = {
    "sku": "artikelnr",
    "name": "bezeichnung",
    "description": "beschreibung",
    "list_price": "vk_netto",
    "weight": "gewicht",
    "categories": "warengruppe_id",
    "active": "aktiv",
    "salable": "im_shop",
    "custom.ean": "ean",
}
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
            "columns": dict(ARTICLE_COLUMNS),
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
        # the Warenwirtschaft books shop orders out of the main warehouse, then the outside one
        "reserve_warehouses": ["HL", "AL"],
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
