"""The sample Warenwirtschaft's schema: a small, realistic German ERP database (SQLAlchemy Core).

The tables are named as a JTL- or Sage-style system names them: articles with variants, price
groups, promotions, warehouses and stock, customers; the import tables the ERP reads shop orders
from; and the ERP's own documents (orders, delivery notes with tracking, invoices and credit notes).
The columns a change feed polls move on every change, as in real systems: `geaendert_am` is set by
the database (MariaDB `ON UPDATE CURRENT_TIMESTAMP(6)`, a trigger on PostgreSQL and SQLite) and
`zeilen_version` is drawn from a sequence by a trigger on every insert and update.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

MONEY = sa.Numeric(12, 2)
QUANTITY = sa.Numeric(12, 3)
STAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
ROW_VERSION_SEQUENCE = "zeilen_version_seq"
STAMPED = (
    "warengruppe", "artikel", "artikel_variante", "artikel_preis", "aktion", "lager_bestand", "kunde",
    "auftrag", "lieferschein", "rechnung",
)  # fmt: skip
VERSIONED = ("artikel", "artikel_variante")


def _stamp() -> sa.Column[object]:
    """`geaendert_am`: when the row last changed, set by the database."""
    return sa.Column("geaendert_am", STAMP, nullable=False, server_default=sa.func.current_timestamp())


def _version() -> sa.Column[int]:
    """`zeilen_version`: an increasing row version, drawn from a sequence on every insert and update."""
    return sa.Column("zeilen_version", sa.BigInteger, nullable=False, server_default="0", index=True)


metadata = sa.MetaData()

warengruppe = sa.Table(
    "warengruppe",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("eltern_id", sa.Integer, sa.ForeignKey("warengruppe.id"), nullable=True),
    _stamp(),
)
artikel = sa.Table(
    "artikel",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, unique=True),
    sa.Column("bezeichnung", sa.String(200), nullable=False),
    sa.Column("beschreibung", sa.Text, nullable=False, server_default=""),
    sa.Column("vk_netto", MONEY, nullable=False),
    sa.Column("gewicht", sa.Numeric(10, 3), nullable=True),
    sa.Column("ean", sa.String(13), nullable=True),
    sa.Column("warengruppe_id", sa.Integer, sa.ForeignKey("warengruppe.id"), nullable=True),
    sa.Column("aktiv", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("im_shop", sa.Boolean, nullable=False, server_default=sa.true()),
    _stamp(),
    _version(),
)
artikel_variante = sa.Table(
    "artikel_variante",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikel_id", sa.Integer, sa.ForeignKey("artikel.id"), nullable=False, index=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, unique=True),
    sa.Column("farbe", sa.String(40), nullable=True),
    sa.Column("groesse", sa.String(10), nullable=True),
    sa.Column("vk_netto", MONEY, nullable=True),
    sa.Column("gewicht", sa.Numeric(10, 3), nullable=True),
    sa.Column("aktiv", sa.Boolean, nullable=False, server_default=sa.true()),
    _stamp(),
    _version(),
)
preisgruppe = sa.Table(
    "preisgruppe",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(60), nullable=False, unique=True),
)
artikel_preis = sa.Table(
    "artikel_preis",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, index=True),
    sa.Column("preisgruppe_id", sa.Integer, sa.ForeignKey("preisgruppe.id"), nullable=False),
    sa.Column("preis", MONEY, nullable=False),
    _stamp(),
    sa.UniqueConstraint("artikelnr", "preisgruppe_id", name="uq_artikel_preis"),
)
aktion = sa.Table(
    "aktion",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, index=True),
    sa.Column("preis", MONEY, nullable=False),
    sa.Column("gueltig_von", sa.Date, nullable=False),
    sa.Column("gueltig_bis", sa.Date, nullable=True),
    _stamp(),
)
lager = sa.Table(
    "lager",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kuerzel", sa.String(10), nullable=False, unique=True),
    sa.Column("name", sa.String(60), nullable=False),
)
lager_bestand = sa.Table(
    "lager_bestand",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, index=True),
    sa.Column("lager_id", sa.Integer, sa.ForeignKey("lager.id"), nullable=False),
    sa.Column("menge", QUANTITY, nullable=False),
    _stamp(),
    sa.UniqueConstraint("artikelnr", "lager_id", name="uq_lager_bestand"),
)
kunde = sa.Table(
    "kunde",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kundennr", sa.String(20), nullable=False, unique=True),
    sa.Column("email", sa.String(200), nullable=False, index=True),
    sa.Column("vorname", sa.String(80), nullable=False, server_default=""),
    sa.Column("nachname", sa.String(80), nullable=False, server_default=""),
    sa.Column("firma", sa.String(120), nullable=False, server_default=""),
    sa.Column("telefon", sa.String(40), nullable=False, server_default=""),
    sa.Column("strasse", sa.String(120), nullable=False, server_default=""),
    sa.Column("plz", sa.String(10), nullable=False, server_default=""),
    sa.Column("ort", sa.String(80), nullable=False, server_default=""),
    sa.Column("land", sa.String(2), nullable=False, server_default="DE"),
    _stamp(),
)

# the import tables: the shop's side writes them, the ERP takes what it finds there
import_kunde = sa.Table(
    "import_kunde",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("vorname", sa.String(80), nullable=True),
    sa.Column("nachname", sa.String(80), nullable=True),
    sa.Column("firma", sa.String(120), nullable=True),
    sa.Column("telefon", sa.String(40), nullable=True),
    sa.Column("strasse", sa.String(120), nullable=True),
    sa.Column("plz", sa.String(10), nullable=True),
    sa.Column("ort", sa.String(80), nullable=True),
    sa.Column("land", sa.String(2), nullable=True),
    sa.Column("angelegt_am", STAMP, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("uebernommen_am", STAMP, nullable=True),
)
import_auftrag = sa.Table(
    "import_auftrag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False, unique=True),
    sa.Column("shop_bestellnr", sa.String(40), nullable=True),
    sa.Column("bestelldatum", STAMP, nullable=True),
    sa.Column("kunde_email", sa.String(200), nullable=True),
    sa.Column("vorname", sa.String(80), nullable=True),
    sa.Column("nachname", sa.String(80), nullable=True),
    sa.Column("firma", sa.String(120), nullable=True),
    sa.Column("strasse", sa.String(120), nullable=True),
    sa.Column("plz", sa.String(10), nullable=True),
    sa.Column("ort", sa.String(80), nullable=True),
    sa.Column("land", sa.String(2), nullable=True),
    sa.Column("waehrung", sa.String(3), nullable=True),
    sa.Column("versandkosten", MONEY, nullable=True),
    sa.Column("steuer", MONEY, nullable=True),
    sa.Column("summe", MONEY, nullable=True),
    sa.Column("versandart", sa.String(60), nullable=True),
    sa.Column("zahlungsart", sa.String(60), nullable=True),
    sa.Column("angelegt_am", STAMP, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("uebernommen_am", STAMP, nullable=True),
)
import_position = sa.Table(
    "import_position",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "import_auftrag_id", sa.Integer, sa.ForeignKey("import_auftrag.id"), nullable=False, index=True
    ),
    sa.Column("position", sa.String(40), nullable=True),
    sa.Column("artikelnr", sa.String(40), nullable=False),
    sa.Column("bezeichnung", sa.String(200), nullable=True),
    sa.Column("menge", QUANTITY, nullable=False),
    sa.Column("einzelpreis", MONEY, nullable=True),
    sa.Column("steuer", MONEY, nullable=True),
)
import_zahlung = sa.Table(
    "import_zahlung",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "import_auftrag_id", sa.Integer, sa.ForeignKey("import_auftrag.id"), nullable=False, index=True
    ),
    sa.Column("zahlungsart", sa.String(60), nullable=True),
    sa.Column("betrag", MONEY, nullable=True),
    sa.Column("transaktion", sa.String(100), nullable=True),
    sa.Column("bezahlt_am", STAMP, nullable=True),
)
import_storno = sa.Table(
    "import_storno",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False, unique=True),
    sa.Column("grund", sa.String(200), nullable=True),
    sa.Column("angelegt_am", STAMP, nullable=False, server_default=sa.func.current_timestamp()),
    sa.Column("uebernommen_am", STAMP, nullable=True),
)

# the ERP's own documents
auftrag = sa.Table(
    "auftrag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("auftragsnr", sa.String(20), nullable=False, unique=True),
    sa.Column("shop_referenz", sa.String(60), nullable=True, unique=True),
    sa.Column("kunde_id", sa.Integer, sa.ForeignKey("kunde.id"), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="offen"),
    sa.Column("summe", MONEY, nullable=True),
    sa.Column("lager_id", sa.Integer, sa.ForeignKey("lager.id"), nullable=True),
    _stamp(),
)
auftrag_position = sa.Table(
    "auftrag_position",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("auftrag_id", sa.Integer, sa.ForeignKey("auftrag.id"), nullable=False, index=True),
    sa.Column("artikelnr", sa.String(40), nullable=False),
    sa.Column("menge", QUANTITY, nullable=False),
    sa.Column("einzelpreis", MONEY, nullable=True),
)
lieferschein = sa.Table(
    "lieferschein",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lieferscheinnr", sa.String(20), nullable=False, unique=True),
    sa.Column("auftrag_id", sa.Integer, sa.ForeignKey("auftrag.id"), nullable=False, index=True),
    sa.Column("versender", sa.String(40), nullable=False),
    sa.Column("sendungsnummer", sa.String(200), nullable=True),
    sa.Column("versendet_am", STAMP, nullable=True),
    _stamp(),
)
rechnung = sa.Table(
    "rechnung",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("nummer", sa.String(20), nullable=False, unique=True),
    sa.Column("auftrag_id", sa.Integer, sa.ForeignKey("auftrag.id"), nullable=False, index=True),
    sa.Column("betrag", MONEY, nullable=False),
    sa.Column("gutschrift", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("datum", sa.Date, nullable=False),
    _stamp(),
)


def _mariadb_ddl(table: str) -> list[str]:
    """MariaDB: the stamp moves on update by itself; the row version comes from a sequence."""
    statements = [
        f"ALTER TABLE `{table}` MODIFY `geaendert_am` DATETIME(6) NOT NULL"
        " DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ]
    if table in VERSIONED:
        for event in ("INSERT", "UPDATE"):
            statements.append(
                f"CREATE TRIGGER `{table}_version_{event.lower()}` BEFORE {event} ON `{table}` FOR EACH ROW"
                f" SET NEW.zeilen_version = NEXTVAL(`{ROW_VERSION_SEQUENCE}`)"
            )
    return statements


def _postgresql_ddl(table: str) -> list[str]:
    """PostgreSQL: one trigger per table sets the stamp (and the row version) on every write."""
    function = "wawi_version_stamp" if table in VERSIONED else "wawi_stamp"
    return [
        f'CREATE TRIGGER "{table}_stamp" BEFORE INSERT OR UPDATE ON "{table}"'
        f" FOR EACH ROW EXECUTE FUNCTION {function}()"
    ]


def _sqlite_ddl(table: str) -> list[str]:
    """SQLite: triggers after insert and update move the stamp and the row version."""
    version = (
        ", zeilen_version = (SELECT COALESCE(MAX(v), 0) + 1 FROM"
        " (SELECT MAX(zeilen_version) AS v FROM artikel"
        " UNION ALL SELECT MAX(zeilen_version) FROM artikel_variante))"
        if table in VERSIONED
        else ""
    )
    statements = []
    for event in ("INSERT", "UPDATE"):
        statements.append(
            f'CREATE TRIGGER "{table}_stamp_{event.lower()}" AFTER {event} ON "{table}" FOR EACH ROW'
            f" BEGIN UPDATE \"{table}\" SET geaendert_am = strftime('%Y-%m-%d %H:%M:%f', 'now'){version}"
            " WHERE id = NEW.id; END"
        )
    return statements


POSTGRESQL_FUNCTIONS = (
    f"CREATE SEQUENCE IF NOT EXISTS {ROW_VERSION_SEQUENCE}",
    "CREATE OR REPLACE FUNCTION wawi_stamp() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN NEW.geaendert_am := clock_timestamp(); RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION wawi_version_stamp() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" BEGIN NEW.geaendert_am := clock_timestamp(); NEW.zeilen_version := nextval('{ROW_VERSION_SEQUENCE}');"
    " RETURN NEW; END $$",
)


def create(engine: sa.Engine) -> None:
    """Create the schema with its stamps and row versions on MariaDB/MySQL, PostgreSQL or SQLite."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS `{ROW_VERSION_SEQUENCE}`")
        elif dialect == "postgresql":
            for statement in POSTGRESQL_FUNCTIONS:
                conn.exec_driver_sql(statement)
        metadata.create_all(conn)
        for table in STAMPED:
            if dialect in ("mysql", "mariadb"):
                ddl = _mariadb_ddl(table)
            elif dialect == "postgresql":
                ddl = _postgresql_ddl(table)
            elif dialect == "sqlite":
                ddl = _sqlite_ddl(table)
            else:
                raise ValueError(f"the sample Warenwirtschaft has no schema for {dialect}")
            for statement in ddl:
                conn.exec_driver_sql(statement)


def drop(engine: sa.Engine) -> None:
    """Drop every table of the schema (and the row-version sequence), for a fresh demo."""
    with engine.begin() as conn:
        metadata.drop_all(conn)
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.exec_driver_sql(f"DROP SEQUENCE IF EXISTS `{ROW_VERSION_SEQUENCE}`")
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP SEQUENCE IF EXISTS {ROW_VERSION_SEQUENCE}")


def exists(engine: sa.Engine) -> bool:
    """Whether the schema is there already (its article table exists)."""
    return sa.inspect(engine).has_table("artikel")
