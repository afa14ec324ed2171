"""A small Warenwirtschaft for the SQL connector's read-side tests, on MariaDB and PostgreSQL.

`Wawi` makes the schema (German names, as the ERPs write them: warengruppe, artikel,
artikel_variante, preis, aktion, lager_bestand, kunde) in the fresh database of `erp_db_url`, fills
it as the ERP would and changes rows with the ERP's own stamps: a row version drawn from a
sequence (`version`, for the monotonic mode) and the time of the change (`geaendert_am`, for
updated_at), both set by the writer's statement, so a transaction held open keeps its stamp.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.settings import SqlConnection

MONEY = sa.Numeric(12, 2)
STAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
metadata = sa.MetaData()


def _stamps() -> list[sa.Column[Any]]:
    """The columns every business table carries: row version, change time, deleted mark."""
    return [
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("geaendert_am", STAMP, nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("geloescht", sa.String(1), nullable=False, server_default="N"),
    ]


warengruppe = sa.Table(
    "warengruppe",
    metadata,
    sa.Column("wg_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("bezeichnung", sa.String(100), nullable=False),
    sa.Column("ober_id", sa.Integer),
    *_stamps(),
)
artikel = sa.Table(
    "artikel",
    metadata,
    sa.Column("art_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("artnr", sa.String(40), nullable=False, unique=True),
    sa.Column("bezeichnung", sa.String(200), nullable=False),
    sa.Column("beschreibung", sa.Text),
    sa.Column("vk_netto", sa.String(20)),  # ERPs keep numbers as text too: a bad one must be named
    sa.Column("aktiv", sa.SmallInteger, nullable=False, server_default="1"),
    sa.Column("warengruppen", sa.String(100)),
    *_stamps(),
)
artikel_variante = sa.Table(
    "artikel_variante",
    metadata,
    sa.Column("var_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("art_id", sa.Integer, nullable=False, index=True),
    sa.Column("artnr", sa.String(40), nullable=False, unique=True),
    sa.Column("farbe", sa.String(40)),
    sa.Column("vk_netto", MONEY),
    *_stamps(),
)
preis = sa.Table(
    "preis",
    metadata,
    sa.Column("preis_id", sa.Integer, primary_key=True),
    sa.Column("artnr", sa.String(40), nullable=False, index=True),
    sa.Column("preisgruppe", sa.String(20), nullable=False),
    sa.Column("preis", MONEY, nullable=False),
    *_stamps(),
)
aktion = sa.Table(
    "aktion",
    metadata,
    sa.Column("aktion_id", sa.Integer, primary_key=True),
    sa.Column("artnr", sa.String(40), nullable=False, index=True),
    sa.Column("preis", MONEY, nullable=False),
    sa.Column("von", sa.DateTime),
    sa.Column("bis", sa.DateTime),
    *_stamps(),
)
lager_bestand = sa.Table(
    "lager_bestand",
    metadata,
    sa.Column("lb_id", sa.Integer, primary_key=True),
    sa.Column("artnr", sa.String(40), nullable=False, index=True),
    sa.Column("lager", sa.String(20), nullable=False),
    sa.Column("menge", sa.Numeric(12, 3), nullable=False),
    *_stamps(),
)
kunde = sa.Table(
    "kunde",
    metadata,
    sa.Column("kd_nr", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("vorname", sa.String(80)),
    sa.Column("nachname", sa.String(80)),
    sa.Column("firma", sa.String(120)),
    *_stamps(),
)
TABLES = {table.name: table for table in metadata.sorted_tables}


class Wawi:
    """The test Warenwirtschaft: schema, sample rows and the ERP's own changes (with its stamps)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url, pool_size=5)
        self.dialect = self.engine.dialect.name
        metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            connection.execute(sa.text("CREATE SEQUENCE wawi_version START WITH 1"))
        self._next_id = 1000

    def next_version(self) -> sa.TextClause:
        """The SQL drawing the next row version (evaluated by the writer's statement)."""
        if self.dialect == "postgresql":
            return sa.text("nextval('wawi_version')")
        return sa.text("NEXT VALUE FOR wawi_version")

    def stamped(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with the ERP's stamps set by the statement: a new version and the current time."""
        return {**values, "version": self.next_version(), "geaendert_am": sa.text("CURRENT_TIMESTAMP(6)")}

    def new_id(self) -> int:
        """A fresh numeric id for tests' rows."""
        self._next_id += 1
        return self._next_id

    def insert(self, table: str, *rows: dict[str, Any]) -> None:
        """Insert rows as the ERP would, each stamped, in one transaction."""
        with self.engine.begin() as connection:
            for row in rows:
                connection.execute(TABLES[table].insert().values(**self.stamped(row)))

    def update(self, table: str, where: dict[str, Any], **values: Any) -> None:
        """Change rows as the ERP would, stamped."""
        with self.engine.begin() as connection:
            self.update_in(connection, table, where, **values)

    def update_in(self, connection: sa.Connection, table: str, where: dict[str, Any], **values: Any) -> None:
        """Change rows in an open transaction (held open by the caller: a late commit)."""
        target = TABLES[table]
        condition = sa.and_(*(target.c[name] == value for name, value in where.items()))
        connection.execute(target.update().where(condition).values(**self.stamped(values)))

    def delete(self, table: str, where: dict[str, Any]) -> None:
        """Remove rows for good (as an ERP without a deleted mark does)."""
        target = TABLES[table]
        with self.engine.begin() as connection:
            connection.execute(target.delete().where(sa.and_(*(target.c[n] == v for n, v in where.items()))))

    def article(self, sku: str, name: str, price: str = "10.00", **extra: Any) -> int:
        """A simple article with stock in two warehouses; its art_id."""
        art_id = self.new_id()
        self.insert(
            "artikel", {"art_id": art_id, "artnr": sku, "bezeichnung": name, "vk_netto": price, **extra}
        )
        self.insert(
            "lager_bestand",
            {"artnr": sku, "lager": "HAUPT", "menge": Decimal("5")},
            {"artnr": sku, "lager": "NEBEN", "menge": Decimal("2.5")},
        )
        return art_id

    def dispose(self) -> None:
        """Close the test's own connections."""
        self.engine.dispose()


def settings(
    url: str,
    *,
    mode: str = "full_diff",
    page_size: int = 3,
    orders: dict[str, Any] | None = None,
    **catalogue: Any,
) -> SqlConnection:
    """Connection settings mapping the test Warenwirtschaft, every source in change `mode`."""

    def change() -> dict[str, Any]:
        data: dict[str, Any] = {"mode": mode, "soft_delete": "geloescht"}
        if mode == "monotonic":
            data |= {"column": "version", "overlap": 50}
        elif mode == "updated_at":
            data |= {"column": "geaendert_am", "lookback_seconds": 120}
        return data

    sources: dict[str, Any] = {
        "categories": {
            "table": "warengruppe",
            "key": "wg_id",
            "columns": {"name": "bezeichnung", "parent": "ober_id"},
        },
        "products": {
            "table": "artikel",
            "key": "art_id",
            "columns": {
                "sku": "artnr",
                "name": {"template": "{{ bezeichnung }}"},
                "description": "beschreibung",
                "list_price": "vk_netto",
                "active": {"expression": "aktiv == 1"},
                "categories": "warengruppen",
            },
        },
        "variants": {
            "table": "artikel_variante",
            "key": "var_id",
            "columns": {
                "product": "art_id",
                "sku": "artnr",
                "attributes.Farbe": "farbe",
                "list_price": "vk_netto",
            },
        },
        "prices": {
            "table": "preis",
            "key": "preis_id",
            "columns": {"price_list": "preisgruppe", "price": "preis"},
        },
        "sale_prices": {
            "table": "aktion",
            "key": "aktion_id",
            "columns": {"price": "preis", "start": "von", "end": "bis"},
        },
        "stock": {
            "table": "lager_bestand",
            "key": "lb_id",
            "columns": {"warehouse": "lager", "quantity": "menge"},
        },
        "customers": {
            "table": "kunde",
            "key": "kd_nr",
            "columns": {"first_name": "vorname", "last_name": "nachname", "company": "firma"},
        },
    }
    for role, spec in sources.items():
        spec["change"] = change()
        if role in ("prices", "sale_prices", "stock"):
            spec["columns"].setdefault("sku", "artnr")
    sources.update(catalogue)
    data = {"type": "sql", "url": url, "page_size": page_size, "currency": "EUR", "catalogue": sources}
    if orders is not None:
        data["orders"] = orders
    return SqlConnection.model_validate(data)


@pytest.fixture
def wawi(erp_db_url: str) -> Iterator[Wawi]:
    """The test Warenwirtschaft in a fresh database (MariaDB, then PostgreSQL)."""
    made = Wawi(erp_db_url)
    yield made
    made.dispose()


@pytest.fixture
async def make_connector(wawi: Wawi) -> AsyncIterator[Any]:
    """Builds connectors on the test Warenwirtschaft (closed afterwards)."""
    made: list[SqlConnector] = []

    def build(mode: str = "full_diff", page_size: int = 3, **catalogue: Any) -> SqlConnector:
        connector = SqlConnector("wawi", settings(wawi.url, mode=mode, page_size=page_size, **catalogue))
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.close()
