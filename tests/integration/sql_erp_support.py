"""The dev kit's sample Warenwirtschaft in a real database, and the emporion configuration that maps it.

End-to-end tests of the SQL connector use it on MariaDB and PostgreSQL: the schema and sample
catalogue of `emporion_devkit.wawi` (articles with variants, price groups, promotions, warehouses and
stock; the import tables; the ERP's orders, delivery notes and invoices), with a third warehouse the
shop must not sell from. The mapping is written here, per test: tables where a table is enough,
read-only queries where the ERP keys a row by an id the shop does not know (price group, warehouse,
order). The merchant's changes are plain UPDATE and DELETE statements; the database moves each row's
`zeilen_version` and `geaendert_am` itself, as the ERP's own triggers do.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from emporion.config import Settings, parse_settings
from emporion.engine.worker import Engine
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.wawi import config as wawi_config
from emporion_devkit.wawi import sample, schema
from tests.integration.engine_support import running_engine

PRODUCTS = 20  # the sample's articles (two of them with variants)
SHOP_WAREHOUSES = ["HL", "AL"]  # Hauptlager and Außenlager feed the shop; DF (damaged goods) does not
DAMAGED = ("DF", "Defektlager", Decimal(100))
PRICE_LIST = "Haendler"  # the shop sells at the dealer price group (not vk_netto: the test sees the choice)
ORDER_PREFIX = "WEB-"

PRICES_QUERY = """
SELECT p.id, p.artikelnr, g.name AS preisgruppe, p.preis, p.geaendert_am
FROM artikel_preis p JOIN preisgruppe g ON g.id = p.preisgruppe_id
"""
STOCK_QUERY = """
SELECT b.id, b.artikelnr, l.kuerzel AS lager, b.menge, b.geaendert_am
FROM lager_bestand b JOIN lager l ON l.id = b.lager_id
"""
VARIANTS_QUERY = """
SELECT v.artikelnr AS sku, a.artikelnr AS produkt, v.farbe, v.groesse, v.vk_netto, v.aktiv, v.zeilen_version
FROM artikel_variante v JOIN artikel a ON a.id = v.artikel_id
"""


@contextmanager
def erp(url: str) -> Iterator[sa.Connection]:
    """One transaction on the Warenwirtschaft's database (the test plays the ERP), committed at the end."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def erp_engine(url: str) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on the Warenwirtschaft's database, for the dev kit's ERP actions."""
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def create_sample(url: str) -> None:
    """The dev kit's schema and sample catalogue, a damaged-goods warehouse, and two known promotions.

    The promotions are replaced by one in force (SKU-00001, 9.99 until in 30 days) and one that ended
    (SKU-00002), so that what the shop must show does not depend on the date the test runs.
    """
    with erp_engine(url) as engine:
        schema.create(engine)
        sample.fill(engine, sample.SampleSpec(products=PRODUCTS))
    today = date.today()
    with erp(url) as conn:
        code, name, quantity = DAMAGED
        warehouse_id = conn.execute(sa.select(sa.func.max(schema.lager.c.id))).scalar_one() + 1
        conn.execute(schema.lager.insert().values(id=warehouse_id, kuerzel=code, name=name))
        skus = conn.execute(sa.select(schema.lager_bestand.c.artikelnr).distinct()).scalars().all()
        conn.execute(
            schema.lager_bestand.insert(),
            [{"artikelnr": sku, "lager_id": warehouse_id, "menge": quantity} for sku in skus],
        )
        conn.execute(schema.aktion.delete())
        conn.execute(
            schema.aktion.insert(),
            [
                {
                    "artikelnr": "SKU-00001",
                    "preis": Decimal("9.99"),
                    "gueltig_von": today - timedelta(days=1),
                    "gueltig_bis": today + timedelta(days=30),
                },
                {
                    "artikelnr": "SKU-00002",
                    "preis": Decimal("5.00"),
                    "gueltig_von": today - timedelta(days=30),
                    "gueltig_bis": today - timedelta(days=2),
                },
            ],
        )


def simple_skus(url: str) -> list[str]:
    """The SKUs of articles without variants, in article order."""
    with erp(url) as conn:
        with_variants = sa.select(schema.artikel_variante.c.artikel_id)
        rows = conn.execute(
            sa.select(schema.artikel.c.artikelnr)
            .where(schema.artikel.c.id.not_in(with_variants))
            .order_by(schema.artikel.c.id)
        )
        return list(rows.scalars())


def expected_price(url: str, sku: str) -> Decimal:
    """The SKU's price in the shop's price group."""
    with erp(url) as conn:
        return Decimal(
            conn.execute(
                sa.text(f"SELECT preis FROM ({PRICES_QUERY}) x WHERE artikelnr = :sku AND preisgruppe = :g"),
                {"sku": sku, "g": PRICE_LIST},
            ).scalar_one()
        )


def expected_stock(url: str, sku: str) -> int:
    """What the shop should show: the stock of the shop's warehouses, summed (DF left out)."""
    with erp(url) as conn:
        rows = conn.execute(
            sa.text(f"SELECT lager, menge FROM ({STOCK_QUERY}) x WHERE artikelnr = :sku"), {"sku": sku}
        )
        return int(sum((Decimal(r.menge) for r in rows if r.lager in SHOP_WAREHOUSES), Decimal(0)))


# --- the merchant's changes, as the ERP writes them -------------------------------------------------


def update_article(url: str, sku: str, **values: Any) -> None:
    """UPDATE one article (the database moves its row version and modification time)."""
    articles = sa.table(
        "artikel", sa.column("artikelnr"), *(sa.column(name) for name in values)
    )  # added ones too
    with erp(url) as conn:
        done = conn.execute(articles.update().where(articles.c.artikelnr == sku).values(**values))
        assert done.rowcount == 1, f"no article {sku}"


def set_stock(url: str, sku: str, warehouse: str, menge: Decimal) -> None:
    """UPDATE the stock of one SKU in one warehouse (a stock count)."""
    with erp(url) as conn:
        warehouse_id = (
            sa.select(schema.lager.c.id).where(schema.lager.c.kuerzel == warehouse).scalar_subquery()
        )
        stock = schema.lager_bestand
        done = conn.execute(
            stock.update()
            .where(stock.c.artikelnr == sku, stock.c.lager_id == warehouse_id)
            .values(menge=menge)
        )
        assert done.rowcount == 1, f"no stock row of {sku} in {warehouse}"


def set_group_price(url: str, sku: str, group: str, price: Decimal) -> None:
    """UPDATE one price group's price of a SKU."""
    with erp(url) as conn:
        group_id = (
            sa.select(schema.preisgruppe.c.id).where(schema.preisgruppe.c.name == group).scalar_subquery()
        )
        prices = schema.artikel_preis
        done = conn.execute(
            prices.update()
            .where(prices.c.artikelnr == sku, prices.c.preisgruppe_id == group_id)
            .values(preis=price)
        )
        assert done.rowcount == 1, f"no {group} price of {sku}"


def add_column(url: str, ddl: str) -> None:
    """ALTER TABLE artikel ADD <ddl>: a column the merchant's ERP has and the sample has not."""
    with erp(url) as conn:
        conn.exec_driver_sql(f"ALTER TABLE artikel ADD {ddl}")


def staged_orders(url: str) -> list[dict[str, Any]]:
    """The import table's order rows."""
    with erp(url) as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(schema.import_auftrag))]


def staged_lines(url: str, reference: str, lines: sa.Table = schema.import_position) -> list[dict[str, Any]]:
    """The import table's line (or payment) rows of one order, joined to their header by its id."""
    headers = schema.import_auftrag
    with erp(url) as conn:
        rows = conn.execute(
            sa.select(lines)
            .join(headers, headers.c.id == lines.c.import_auftrag_id)
            .where(headers.c.shop_referenz == reference)
        )
        return [dict(row._mapping) for row in rows]


# --- the emporion configuration -----------------------------------------------------------------------


def connection(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    product_change: dict[str, Any] | None = None,
    product_columns: dict[str, Any] | None = None,
    orders: bool = False,
) -> dict[str, Any]:
    """The `type: sql` connection for the sample Warenwirtschaft; the password a secret from env.

    `product_change` is the articles' change mode (default: the row version, monotonic); stock follows
    `geaendert_am` (updated_at, through a query naming the warehouse), prices and promotions are
    compared in full (full_diff). `product_columns` are added to (or replace) the articles' mapping.
    """
    parsed = make_url(url)
    monkeypatch.setenv("TEST_WAWI_PASSWORD", parsed.password or "")
    return {
        "type": "sql",
        "url": parsed.set(password=None).render_as_string(hide_password=False),
        "password": "env:TEST_WAWI_PASSWORD",
        "page_size": 7,  # several pages even for a small catalogue
        "currency": "EUR",
        "catalogue": {
            "categories": {
                "table": "warengruppe",
                "key": "id",
                "columns": {"name": "name", "parent": "eltern_id"},
            },
            "products": {
                "table": "artikel",
                "key": "artikelnr",
                "columns": {**wawi_config.ARTICLE_COLUMNS, **(product_columns or {})},
                "change": product_change or {"mode": "monotonic", "column": "zeilen_version"},
            },
            "variants": {
                "query": VARIANTS_QUERY,
                "key": "sku",
                "columns": {
                    "product": "produkt",
                    "sku": "sku",
                    "list_price": "vk_netto",
                    "active": "aktiv",
                    "attributes.Farbe": "farbe",
                    "attributes.Größe": "groesse",
                },
                "change": {"mode": "monotonic", "column": "zeilen_version"},
            },
            "prices": {
                "query": PRICES_QUERY,
                "key": "id",
                "columns": {"sku": "artikelnr", "price_list": "preisgruppe", "price": "preis"},
                "change": {"mode": "full_diff"},
            },
            "sale_prices": {
                "table": "aktion",
                "key": "id",
                "columns": {
                    "sku": "artikelnr",
                    "price": "preis",
                    "start": "gueltig_von",
                    "end": "gueltig_bis",
                },
                "change": {"mode": "full_diff"},
            },
            "stock": {
                "query": STOCK_QUERY,
                "key": "id",
                "columns": {"sku": "artikelnr", "warehouse": "lager", "quantity": "menge"},
                "change": {"mode": "updated_at", "column": "geaendert_am", "lookback_seconds": 5},
            },
        },
        **(order_import() if orders else {}),
    }


def order_import() -> dict[str, Any]:
    """The dev kit's order import (import_auftrag, its lines, payments, customers, cancellations) and
    progress (auftrag, lieferschein, rechnung by the shop reference, with its status map)."""
    return {"orders": wawi_config.sql_orders(), "progress": wawi_config.sql_progress()}


def shop_connection(shop: SandboxShop, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sandbox shop as a `type: woocommerce` connection, its key and secret from env."""
    monkeypatch.setenv("TEST_SHOP_KEY", shop.consumer_key)
    monkeypatch.setenv("TEST_SHOP_SECRET", shop.consumer_secret)
    return {
        "type": "woocommerce",
        "url": shop.base_url,
        "consumer_key": "env:TEST_SHOP_KEY",
        "consumer_secret": "env:TEST_SHOP_SECRET",
    }


def catalogue_flow(
    poll_interval: float = 1.0, on_remove: str = "unpublish", price_list: str = PRICE_LIST
) -> dict[str, Any]:
    """The catalogue flow: the Warenwirtschaft into the shop, two warehouses, a price group (the dealer's)."""
    return {
        "name": "catalogue",
        "source": "wawi",
        "target": "shop",
        "entities": ["category", "product"],
        "poll_interval": poll_interval,
        "warehouses": SHOP_WAREHOUSES,
        "price_list": price_list,
        "on_remove": on_remove,
    }


def order_flow(poll_interval: float = 1.0) -> dict[str, Any]:
    """The order flow: the shop's orders into the import tables, the ERP's progress back."""
    return {
        "name": "orders",
        "source": "shop",
        "target": "wawi",
        "entities": ["order"],
        "poll_interval": poll_interval,
        "batch_size": 5,
        "orders": {
            "reference_prefix": ORDER_PREFIX,
            "shortage": "accept",
            "tracking_note": "customer",
            "carriers": {"*": "DHL"},
            "payment_methods": wawi_config.PAYMENT_METHODS,  # bacs -> Vorkasse
        },
    }


def config(
    wawi: dict[str, Any], shop: dict[str, Any], state_url: str, flows: list[dict[str, Any]]
) -> dict[str, Any]:
    """A whole configuration (as a document): the Warenwirtschaft as `wawi`, the shop as `shop`."""
    return {
        "version": 1,
        "state": {"url": state_url},
        "connections": {"wawi": wawi, "shop": shop},
        "flows": flows,
    }


def settings(document: dict[str, Any]) -> Settings:
    """The configuration validated as `emporion` reads it from a file."""
    return parse_settings(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def write_config(document: dict[str, Any], path: Path) -> Path:
    """The configuration as the file `emporion` commands read."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_process_config(directory: Path, document: dict[str, Any]) -> Path:
    """The configuration file for `emporion run`: its server on a free port (for /healthz), JSON logs."""
    port = free_port()
    document["server"] = {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"}
    document["logging"] = {"format": "json", "level": "info"}
    return write_config(document, directory / "emporion.yaml")


@asynccontextmanager
async def engine_running(settings: Settings) -> AsyncIterator[Engine]:
    """`Engine.run` in a task (initial sync, feeds, work loops) until the block ends."""
    async with running_engine(settings, worker="w1") as engine, anyio.create_task_group() as group:
        stop = anyio.Event()
        group.start_soon(lambda: engine.run(stop=stop))
        try:
            yield engine
        finally:
            stop.set()


# --- looking at the shop ------------------------------------------------------------------------------


def by_sku(api: httpx.Client, sku: str) -> dict[str, Any] | None:
    """The shop's product with this SKU (any status), or None."""
    found = api.get("/products", params={"sku": sku, "status": "any"}).json()
    assert len(found) <= 1, f"{len(found)} products with SKU {sku} in the shop"
    return found[0] if found else None


async def eventually(probe: Callable[[], Awaitable[Any]], seconds: float, what: str) -> float:
    """Wait until `probe()` gives something truthy; the seconds it took (fails after `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await probe():
            return time.monotonic() - start
        await anyio.sleep(0.1)
    raise AssertionError(f"{what}: not reached within {seconds} s")
