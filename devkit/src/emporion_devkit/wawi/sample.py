"""The demo's sample catalogue in the sample Warenwirtschaft: the same plan as the Tryton demo's.

Products, variants, categories, prices and promotions come from `emporion_devkit.erp.catalogue.plan`,
so the Tryton demo and the Warenwirtschaft demo sell the same goods; stock lies in two warehouses
(`HL` Hauptlager for the plan's WH, `AL` Außenlager for WH2), and a few customers are on file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion_devkit.erp.catalogue import CATEGORY_TREE, PlannedTemplate, plan
from emporion_devkit.wawi import schema

WAREHOUSES = {"WH": ("HL", "Hauptlager"), "WH2": ("AL", "Außenlager")}
PRICE_GROUPS = {1: "Endkunde", 2: "Haendler"}
DEALER_FACTOR = Decimal("0.9")
CENT = Decimal("0.01")
CUSTOMERS = (
    ("K-10001", "anna.schmidt@example.org", "Anna", "Schmidt", "", "Hauptstraße 1", "10115", "Berlin"),
    (
        "K-10002",
        "jonas.weber@example.org",
        "Jonas",
        "Weber",
        "Weber GmbH",
        "Marktplatz 3",
        "80331",
        "München",
    ),
    ("K-10003", "lea.fischer@example.org", "Lea", "Fischer", "", "Ringstraße 12", "50667", "Köln"),
)
BATCH = 500


@dataclass(frozen=True)
class SampleSpec:
    """What the sample holds: as many products as the Tryton demo's, from the same seed."""

    products: int = 500
    variant_share: float = 0.1
    seed: int = 1


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows in batches (one statement per batch)."""
    for batch in _batches(rows):
        conn.execute(table.insert(), list(batch))


def _categories(conn: sa.Connection) -> dict[str, int]:
    """The category tree as `warengruppe` rows; name -> id."""
    ids: dict[str, int] = {}
    rows = []
    for root, children in CATEGORY_TREE.items():
        ids[root] = len(ids) + 1
        rows.append({"id": ids[root], "name": root, "eltern_id": None})
        for child in children:
            ids[child] = len(ids) + 1
            rows.append({"id": ids[child], "name": child, "eltern_id": ids[root]})
    _insert(conn, schema.warengruppe, rows)
    return ids


def _skus(item: PlannedTemplate) -> list[str]:
    """The SKUs stock and prices are kept under: the variants' for a variable product, else its own."""
    return [item.code + variant.suffix for variant in item.variants]


def _articles(conn: sa.Connection, planned: list[PlannedTemplate], categories: dict[str, int]) -> None:
    """Articles and their variants."""
    articles, variants = [], []
    for item in planned:
        articles.append(
            {
                "id": item.index + 1,
                "artikelnr": item.code,
                "bezeichnung": item.name,
                "beschreibung": f"{item.name}: Musterartikel Nummer {item.index + 1}.",
                "vk_netto": item.list_price,
                "gewicht": Decimal(str(item.weight)),
                "ean": item.ean,
                "warengruppe_id": categories[item.category],
                "aktiv": True,
                "im_shop": item.salable,
            }
        )
        for variant in item.variants:
            if variant.attributes:
                variants.append(
                    {
                        "artikel_id": item.index + 1,
                        "artikelnr": item.code + variant.suffix,
                        "farbe": variant.attributes["colour"],
                        "groesse": variant.attributes["size"],
                        "aktiv": True,
                    }
                )
    _insert(conn, schema.artikel, articles)
    _insert(conn, schema.artikel_variante, variants)


def _prices(conn: sa.Connection, planned: list[PlannedTemplate], today: date) -> None:
    """Price groups (Endkunde, Haendler at 90 %), and dated promotions where the plan has one."""
    _insert(conn, schema.preisgruppe, [{"id": key, "name": name} for key, name in PRICE_GROUPS.items()])
    prices, promotions = [], []
    for item in planned:
        for sku in _skus(item):
            prices.append({"artikelnr": sku, "preisgruppe_id": 1, "preis": item.list_price})
            dealer = (item.list_price * DEALER_FACTOR).quantize(CENT)
            prices.append({"artikelnr": sku, "preisgruppe_id": 2, "preis": dealer})
            if item.promotion is not None:
                factor, start, end = item.promotion
                promotions.append(
                    {
                        "artikelnr": sku,
                        "preis": (item.list_price * factor).quantize(CENT),
                        "gueltig_von": today + timedelta(days=start),
                        "gueltig_bis": today + timedelta(days=end),
                    }
                )
    _insert(conn, schema.artikel_preis, prices)
    _insert(conn, schema.aktion, promotions)


def _stock(conn: sa.Connection, planned: list[PlannedTemplate]) -> None:
    """Two warehouses and a stock row per SKU and warehouse (zero included, as ERPs keep them)."""
    warehouse_ids = {code: number for number, code in enumerate(WAREHOUSES, start=1)}
    _insert(
        conn,
        schema.lager,
        [{"id": warehouse_ids[code], "kuerzel": k, "name": n} for code, (k, n) in WAREHOUSES.items()],
    )
    rows = []
    for item in planned:
        for variant in item.variants:
            for code, quantity in variant.stock.items():
                rows.append(
                    {
                        "artikelnr": item.code + variant.suffix,
                        "lager_id": warehouse_ids[code],
                        "menge": Decimal(quantity),
                    }
                )
    _insert(conn, schema.lager_bestand, rows)


def _customers(conn: sa.Connection) -> None:
    """A few customers on file (the shop's orders find them by e-mail)."""
    keys = ("kundennr", "email", "vorname", "nachname", "firma", "strasse", "plz", "ort")
    _insert(conn, schema.kunde, [dict(zip(keys, values, strict=True)) for values in CUSTOMERS])


def fill(engine: sa.Engine, spec: SampleSpec = SampleSpec(), today: date | None = None) -> int:
    """Fill an empty schema with the sample catalogue; returns the articles written (0: already there)."""
    planned = plan(spec.products, spec.variant_share, spec.seed)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(schema.artikel)).scalar_one():
            return 0
        categories = _categories(conn)
        _articles(conn, planned, categories)
        _prices(conn, planned, today or date.today())
        _stock(conn, planned)
        _customers(conn)
    return len(planned)


def salable_skus(spec: SampleSpec = SampleSpec()) -> list[str]:
    """The SKUs the shop sells (variants' for variable products): what simulated shoppers may order."""
    return [
        sku
        for item in plan(spec.products, spec.variant_share, spec.seed)
        if item.salable
        for sku in _skus(item)
    ]
