"""A small Warenwirtschaft for the sales-side tests: articles and stock, import tables, the ERP's documents.

Names are German as in the ERPs the SQL connector is for. The import tables are what emporion writes
(`import_auftrag` with a unique shop reference, its positions and payments naming the header's id,
`import_kunde`, `import_storno`, `import_retoure`); `auftrag`, `lieferschein` and `rechnung` are the
ERP's own documents, which tests fill as the ERP would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.settings import SqlConnection
from emporion.model import Customer, Order, OrderLine, OrderStatus, Payment, ShippingLine
from emporion.testing.contract.orders import ADDRESS

MONEY = sa.Numeric(12, 2)
QUANTITY = sa.Numeric(12, 3)
metadata = sa.MetaData()

artikel = sa.Table(
    "artikel",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False, unique=True),
    sa.Column("bezeichnung", sa.String(200), nullable=False),
    sa.Column("vk_netto", MONEY, nullable=False, server_default="0"),
)
lager_bestand = sa.Table(
    "lager_bestand",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("artikelnr", sa.String(40), nullable=False),
    sa.Column("lager", sa.String(20), nullable=False),
    sa.Column("menge", QUANTITY, nullable=False),
)
import_kunde = sa.Table(
    "import_kunde",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("vorname", sa.String(80)),
    sa.Column("nachname", sa.String(80)),
    sa.Column("ort", sa.String(80)),
)
import_auftrag = sa.Table(
    "import_auftrag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False, unique=True),
    sa.Column("bestellnr", sa.String(40)),
    sa.Column("kunde_id", sa.String(40)),
    sa.Column("kunde_email", sa.String(200)),
    sa.Column("waehrung", sa.String(3)),
    sa.Column("summe", MONEY),
    sa.Column("bestellt_am", sa.DateTime),
    sa.Column("ort", sa.String(80)),
    sa.Column("versandart", sa.String(40)),
    sa.Column("lager", sa.String(20)),
    sa.Column("uebernommen_am", sa.DateTime, nullable=True),
)
import_position = sa.Table(
    "import_position",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("import_auftrag_id", sa.Integer, nullable=False),
    sa.Column("pos", sa.Integer, nullable=False),
    sa.Column("artikelnr", sa.String(40), nullable=False),
    sa.Column("artikel_id", sa.String(40)),
    sa.Column("menge", QUANTITY, nullable=False),
    sa.Column("einzelpreis", MONEY),
    sa.Column("gesamt", MONEY),
    sa.Column("steuer", sa.String(40)),
    sa.CheckConstraint("menge > 0", name="ck_position_menge"),
)
import_zahlung = sa.Table(
    "import_zahlung",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("import_auftrag_id", sa.Integer, nullable=False),
    sa.Column("zahlungsart", sa.String(60)),
    sa.Column("betrag", MONEY),
)
import_storno = sa.Table(
    "import_storno",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False, unique=True),
    sa.Column("bestellnr", sa.String(40)),
    sa.Column("uebernommen_am", sa.DateTime, nullable=True),
)
import_retoure = sa.Table(
    "import_retoure",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False),
    sa.Column("erstattung", sa.String(60), nullable=False),
    sa.Column("betrag", MONEY),
    sa.UniqueConstraint("shop_referenz", "erstattung", name="uq_retoure"),
)
auftrag = sa.Table(
    "auftrag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False, unique=True),
    sa.Column("auftragsnr", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("geaendert_am", sa.DateTime, nullable=False),
)
lieferschein = sa.Table(
    "lieferschein",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False),
    sa.Column("versender", sa.String(40), nullable=False),
    sa.Column("sendungsnummer", sa.String(200)),
    sa.Column("versendet_am", sa.DateTime),
    sa.Column("geaendert_am", sa.DateTime, nullable=False),
)
rechnung = sa.Table(
    "rechnung",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_referenz", sa.String(60), nullable=False),
    sa.Column("nummer", sa.String(20), nullable=False),
    sa.Column("betrag", MONEY, nullable=False),
    sa.Column("gutschrift", sa.Boolean, nullable=False),
    sa.Column("geaendert_am", sa.DateTime, nullable=False),
)

STATUSES = {"offen": "processing", "versendet": "shipped", "erledigt": "completed", "storniert": "cancelled"}


def order_import(**changes: Any) -> dict[str, Any]:
    """The `orders` settings for the import tables above."""
    settings: dict[str, Any] = {
        "orders": {
            "table": "import_auftrag",
            "columns": {
                "bestellnr": "order.number",
                "kunde_id": "order.customer.key",
                "kunde_email": "order.customer.email",
                "waehrung": "order.currency",
                "summe": "order.total",
                "bestellt_am": "order.created_at",
                "ort": {"template": "{{ order.billing.postcode }} {{ order.billing.city }}"},
                "versandart": "order.shipping_lines.0.method",
                "lager": "order.custom.warehouse",
            },
        },
        "reference_column": "shop_referenz",
        "key_column": "id",
        "taken_column": "uebernommen_am",
        "lines": {
            "table": "import_position",
            "parent_column": "import_auftrag_id",
            "columns": {
                "pos": "position",
                "artikelnr": "line.sku",
                "artikel_id": "line.product_key",
                "menge": "line.quantity",
                "einzelpreis": "line.unit_price",
                "gesamt": "line.total",
                "steuer": "line.tax_class",
            },
        },
        "payments": {
            "table": "import_zahlung",
            "parent_column": "import_auftrag_id",
            "columns": {"zahlungsart": "payment.method", "betrag": "payment.amount"},
        },
        "customers": {
            "table": "import_kunde",
            "columns": {
                "email": "customer.email",
                "vorname": "customer.first_name",
                "nachname": "customer.last_name",
                "ort": "customer.billing.city",
            },
        },
        "customer_key_column": "id",
        "cancellations": {
            "table": "import_storno",
            "columns": {"shop_referenz": "order.reference", "bestellnr": "order.number"},
        },
        "cancellation_taken_column": "uebernommen_am",
        "returns": {
            "table": "import_retoure",
            "columns": {
                "shop_referenz": "order.reference",
                "erstattung": "refund.key",
                "betrag": "refund.amount",
            },
        },
    }
    settings.update(changes)
    return settings


def progress(change: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `progress` settings: the ERP's orders, delivery notes and invoices by shop reference."""
    stamp = change or {"mode": "updated_at", "column": "geaendert_am", "lookback_seconds": 60}
    return {
        "statuses": STATUSES,
        "orders": {
            "table": "auftrag",
            "key": "shop_referenz",
            "columns": {"reference": "shop_referenz", "status": "status", "number": "auftragsnr"},
            "change": stamp,
        },
        "shipments": {
            "table": "lieferschein",
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
            "query": "SELECT id, shop_referenz, nummer, betrag, gutschrift, geaendert_am FROM rechnung",
            "key": "id",
            "columns": {
                "reference": "shop_referenz",
                "number": "nummer",
                "total": "betrag",
                "credit_note": "gutschrift",
            },
            "change": {"mode": "full_diff"},
        },
    }


def connection_settings(url: str, **changes: Any) -> SqlConnection:
    """A `type: sql` connection to the test database with the import tables and progress above."""
    values: dict[str, Any] = {
        "type": "sql",
        "url": url,
        "currency": "EUR",
        "page_size": 3,
        "catalogue": {
            "products": {
                "table": "artikel",
                "key": "id",
                "columns": {"sku": "artikelnr", "name": "bezeichnung", "list_price": "vk_netto"},
            },
            "stock": {
                "table": "lager_bestand",
                "key": "id",
                "columns": {"sku": "artikelnr", "warehouse": "lager", "quantity": "menge"},
            },
        },
        "orders": order_import(),
        "progress": progress(),
    }
    values.update(changes)
    return SqlConnection.model_validate(values)


def create_schema(url: str) -> None:
    """Create the tables in the (fresh) test database."""
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


def database(settings: SqlConnection) -> Database:
    """The connector's database object for these settings."""
    return Database(settings, CircuitBreaker("wawi"))


def order(
    reference: str, *, sku: str = "A-1", quantity: str = "2", status: OrderStatus = OrderStatus.PROCESSING
) -> Order:
    """A paid shop order of `quantity` units of `sku` at 10.00 (standard tax class), shipped by flat rate
    at no charge, with one payment."""
    amount = Decimal(quantity) * 10
    line = OrderLine(
        key="1", sku=sku, name=f"Item {sku}", quantity=Decimal(quantity), unit_price=Decimal(10), total=amount
    )
    return Order(
        key=f"shop-{reference}",
        number=f"N-{reference}",
        status=status,
        currency="EUR",
        created_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        customer=Customer(
            key="7", email="ada@example.com", first_name="Ada", last_name="Lovelace", billing=ADDRESS
        ),
        billing=ADDRESS,
        shipping=ADDRESS,
        lines=[line],
        shipping_lines=[ShippingLine(key="s1", method="flat_rate", title="Versand")],
        total=amount,
        payments=[Payment(method="paypal", amount=amount)],
        reference=reference,
    )


def count(url: str, table: sa.Table, **where: Any) -> int:
    """Rows of `table` matching `where` (column = value), read on a connection of its own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            statement = sa.select(sa.func.count()).select_from(table)
            for name, value in where.items():
                statement = statement.where(table.c[name] == value)
            return int(conn.execute(statement).scalar_one())
    finally:
        engine.dispose()


def execute(url: str, statement: Any, rows: Any = None) -> None:
    """Run one statement as the ERP would, committed."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for row in rows if rows is not None else [None]:
                conn.execute(statement if row is None else statement.values(**row))
    finally:
        engine.dispose()


def add_article(url: str, sku: str, stock: dict[str, str]) -> None:
    """An article with stock per warehouse, as the merchant enters it in the ERP."""
    execute(
        url, sa.insert(artikel).values(artikelnr=sku, bezeichnung=f"Artikel {sku}", vk_netto=Decimal("10"))
    )
    for warehouse, quantity in stock.items():
        execute(url, sa.insert(lager_bestand).values(artikelnr=sku, lager=warehouse, menge=Decimal(quantity)))
