"""The settings of a SQL connection (`type: sql`): any SQLAlchemy database, mapped per entity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from emporion.connectors.rows.settings import CatalogueRows, ProgressStatuses, RowSource, RowTarget, Strict
from emporion.connectors.settings import ConnectionSettings, Secret


class SqlSource(RowSource):
    """One entity's rows: a table or view, or a read-only SELECT (checked: no DML)."""

    table: str | None = Field(None, description="table or view name (schema.table allowed)")
    query: str | None = Field(None, description="a read-only SELECT; refused if it writes anything")

    @model_validator(mode="after")
    def _table_or_query(self) -> SqlSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give one of table or query")
        return self


class StagingTable(RowTarget):
    """An import table the ERP owns and reads: one row per order (or line, payment, customer)."""

    table: str
    parent_column: str | None = Field(
        None,
        description="lines/payments: the column that receives the order row's `orders.key_column` value",
    )


class OrderImport(Strict):
    """Where shop orders go: import tables the ERP picks up, or a stored procedure it documents.

    Each order is inserted in one transaction (header, lines, payments), idempotent by the shop
    order reference: `orders.table` must have a unique key on `reference_column`.
    """

    orders: StagingTable | None = None
    reference_column: str = Field("reference", description="orders' column with the shop order reference")
    lines: StagingTable | None = Field(None, description="one row per order line (paths: line.*, order.*)")
    payments: StagingTable | None = Field(None, description="one row per payment (paths: payment.*, order.*)")
    customers: StagingTable | None = Field(
        None, description="one row per customer, matched by e-mail (paths: customer.*)"
    )
    customer_email_column: str = Field("email", description="customers' column with the e-mail")
    cancellations: StagingTable | None = Field(
        None, description="a row asking the ERP to cancel an order (paths: order.*)"
    )
    procedure: str | None = Field(
        None,
        description="instead of tables: a procedure called per order with (reference, order JSON)",
    )
    taken_column: str | None = Field(
        None, description="orders' column the ERP sets when it has taken the order (null: not yet)"
    )
    reserve_warehouses: list[str] | None = Field(
        None,
        description="warehouses the ERP ships shop orders from, in order: orders not taken yet are held "
        "back from their stock first, then from the others in name order",
    )
    key_column: str | None = Field(
        None, description="orders' key the database generates (lines and payments name it by parent_column)"
    )
    customer_key_column: str | None = Field(
        None, description="customers' key the database generates (none: the lower-case e-mail is the key)"
    )
    cancellation_taken_column: str | None = Field(
        None, description="cancellations' column the ERP sets when it has handled the cancellation"
    )
    returns: StagingTable | None = Field(
        None, description="one row per shop refund, a return for the ERP (paths: refund.*, order.*)"
    )

    @model_validator(mode="after")
    def _tables_or_procedure(self) -> OrderImport:
        if (self.orders is None) == (self.procedure is None):
            raise ValueError("give one of orders (import tables) or procedure")
        return self


class OrderProgress(ProgressStatuses):
    """The ERP's progress on an order, read back from its tables (keyed by the shop order reference)."""

    orders: SqlSource | None = Field(None, description="reference, status, number (the ERP document)")
    shipments: SqlSource | None = Field(None, description="reference, carrier, tracking, shipped_at")
    invoices: SqlSource | None = Field(None, description="reference, number, total, credit_note")


class SqlConnection(ConnectionSettings):
    """A Warenwirtschaft's database reached through SQLAlchemy (PostgreSQL, MariaDB/MySQL, SQLite, MS SQL)."""

    type: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL without the password, e.g. mysql+pymysql://emporion@db/wawi")
    password: Secret | None = Field(None, description="the database user's password")
    schema_: str | None = Field(None, alias="schema", description="schema the tables are in")
    page_size: int = Field(1000, ge=1, le=50_000, description="rows per page (one read transaction each)")
    pool_size: int = Field(4, ge=1, le=64, description="connections in the pool (queries in flight)")
    timeout: float = Field(30.0, gt=0, description="seconds a query may take before it is cancelled")
    currency: str | None = Field(None, description="the currency of prices when no column gives it")
    catalogue: CatalogueRows[SqlSource] = Field(default_factory=CatalogueRows[SqlSource])
    orders: OrderImport | None = None
    progress: OrderProgress | None = None
