"""The sales target of a SQL connection: orders, customers, cancellations and returns into import tables.

`SqlConnector` hands the sales side to `SqlSales`. A sale's key is the shop order reference (its
target_ref `{"id": reference}`). Writing goes into the import tables the ERP owns (or through its
stored procedure), one transaction per order (`staging.py`), in the ERP's names: the flow's sale
options (payment methods, carriers, tax classes, warehouse) are applied first (`rows/options.py`).
Reading gives each sale as the staged order with the ERP's progress (`progress.py`); the feed
reports references with news (`sales_feed.py`). Stock available to promise is the catalogue's
stock less the quantities of staged orders the ERP has not taken yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

import sqlalchemy as sa

from emporion.connectors.base import (
    ChangeBatch,
    CheckResult,
    ConnectorError,
    Outcome,
    OutcomeStatus,
    Permanent,
    Unmappable,
    WriteItem,
)
from emporion.connectors.roles import SaleOptions
from emporion.connectors.rows.options import with_sale_options
from emporion.connectors.rows.orders import order_label, skus_of
from emporion.connectors.rows.reserve import available
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.progress import SaleReader
from emporion.connectors.sql.sales_feed import SalesFeed, watched_relations
from emporion.connectors.sql.settings import SqlConnection
from emporion.connectors.sql.staging import (
    ImportTables,
    Staged,
    call_procedure,
    find_order,
    pending_quantities,
    stage_cancellation,
    stage_customer,
    stage_order,
    stage_return,
)
from emporion.model import Customer, Order, OrderStatus, Record


class CatalogueLookups(Protocol):
    """What the sales side needs of the catalogue read side: product keys and stock by SKU."""

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each known SKU."""
        ...

    async def stock(self, skus: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Stock per known SKU and warehouse as the ERP counts it (orders not taken yet still in)."""
        ...


def _failed(key: str, error: ConnectorError) -> Outcome:
    """The outcome of an item that failed with `error`."""
    return Outcome(key, OutcomeStatus.FAILED, error=error)


class SqlSales:
    """Orders, customers, cancellations and returns into a Warenwirtschaft's import tables, read back."""

    def __init__(self, db: Database, settings: SqlConnection, catalogue: CatalogueLookups) -> None:
        self.db = db
        self.settings = settings
        self.catalogue = catalogue
        self.tables = ImportTables(settings)
        self.reader = SaleReader(db, settings, self.tables)
        self.feed = SalesFeed(watched_relations(db, settings, self.tables), settings.page_size)

    # -- writes --------------------------------------------------------------------------------------

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Customers (one row per e-mail) and returns (one row per shop refund); nothing is deleted."""
        outcomes: list[Outcome] = []
        for item in deletes:
            outcomes.append(_failed(item.key, Permanent(f"{entity} rows are not deleted from import tables")))
        for item in upserts:
            try:
                if entity == "customer":
                    outcomes.append(await self._customer(item))
                elif entity == "return":
                    outcomes.append(await self._return(item))
                else:
                    raise Permanent(f"the SQL connection does not write {entity} records", record=item.key)
            except ConnectorError as error:
                outcomes.append(_failed(item.key, error))
        return outcomes

    async def _customer(self, item: WriteItem) -> Outcome:
        """One customer row, found by e-mail first; its key as the target reference."""
        customer = item.record
        if not isinstance(customer, Customer):
            raise Permanent(f"expected a Customer, got {type(customer).__name__}", record=item.key)
        for _ in range(2):  # a concurrent writer's row is found in a second, fresh transaction
            staged, key = await self.db.run(
                lambda conn: stage_customer(conn, self.tables, customer), what="the customer import"
            )
            if staged is not Staged.DUPLICATE:
                break
        else:
            raise Permanent(
                "the customer import refused the row for a unique key other than the e-mail",
                record=f"customer {customer.key or 'new'}",
                field="email",
            )
        status = OutcomeStatus.CREATED if staged is Staged.CREATED else OutcomeStatus.MATCHED
        if item.target_ref and staged is Staged.FOUND:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref={"id": key})

    async def _return(self, item: WriteItem) -> Outcome:
        """One return row for the item's refund, found by reference and refund key first."""
        order = item.record
        if not isinstance(order, Order) or not order.refunds:
            raise Permanent("a return needs the order with its refund", record=item.key, field="refunds")
        refund = order.refunds[0]
        staged = await self.db.run(
            lambda conn: stage_return(conn, self.tables, order, refund), what="the return import"
        )
        status = OutcomeStatus.CREATED if staged is Staged.CREATED else OutcomeStatus.MATCHED
        return Outcome(item.key, status, target_ref={"id": f"{order.reference}/{refund.key}"})

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Stage each order once (searched by reference first); cancel a cancelled one that was staged."""
        outcomes: list[Outcome] = []
        orders = [item.record for item in upserts if isinstance(item.record, Order)]
        known = await self.catalogue.product_keys(skus_of(orders)) if orders else {}
        for item in upserts:
            try:
                outcomes.append(await self._sale(item, known, options))
            except ConnectorError as error:
                outcomes.append(_failed(item.key, error))
        return outcomes

    async def _sale(self, item: WriteItem, known: dict[str, str], options: SaleOptions) -> Outcome:
        """One order: staged once, matched when there, or a cancellation row for a cancelled one."""
        order = item.record
        if not isinstance(order, Order):
            raise Permanent(f"expected an Order, got {type(order).__name__}", record=item.key)
        order = with_sale_options(order, options)  # the ERP's payment methods, carriers, taxes, warehouse
        label = order_label(order)
        if not order.reference:
            raise Permanent("the order has no sale reference", record=label, field="reference")
        reference = order.reference
        ref = {"id": reference}
        exists = await self._exists(reference)
        if order.status is OrderStatus.CANCELLED:
            if not exists and not item.target_ref:  # never handed to the ERP: nothing to cancel
                return Outcome(item.key, OutcomeStatus.UNCHANGED)
            cancelled = order
            staged = await self.db.run(
                lambda conn: stage_cancellation(conn, self.tables, cancelled), what="the cancellation import"
            )
            status = OutcomeStatus.UPDATED if staged is Staged.CREATED else OutcomeStatus.UNCHANGED
            return Outcome(item.key, status, target_ref=ref)
        if exists or item.target_ref:  # linked: written before (an ERP may clear its import rows)
            return Outcome(
                item.key, OutcomeStatus.UNCHANGED if item.target_ref else OutcomeStatus.MATCHED, ref
            )
        order = self._with_products(order, known)
        staged = await self._stage(order)
        if (
            staged is Staged.DUPLICATE
        ):  # a concurrent writer won: its row is the sale, read in a new transaction
            if not await self._exists(reference):
                raise Permanent(
                    "the import table refused the order for a unique key other than the reference",
                    record=label,
                    field="reference",
                )
            return Outcome(item.key, OutcomeStatus.MATCHED, ref)
        status = OutcomeStatus.CREATED if staged is Staged.CREATED else OutcomeStatus.MATCHED
        return Outcome(item.key, status, ref)

    def _with_products(self, order: Order, known: dict[str, str]) -> Order:
        """The order with each line's ERP product key; Permanent naming the first line the ERP lacks."""
        lines = []
        for index, line in enumerate(order.lines):
            if line.sku not in known:
                raise Permanent(
                    f"SKU {line.sku} is not in the ERP",
                    record=f"{order_label(order)} line {line.key}",
                    field=f"lines[{index}].sku",
                )
            lines.append(line.model_copy(update={"product_key": known[line.sku]}))
        return order.model_copy(update={"lines": lines})

    async def _exists(self, reference: str) -> bool:
        """Whether the sale is there: in the import table, or known to the ERP's own orders (an ERP that
        clears its import rows once taken, or takes orders through a procedure)."""
        orders = self.settings.orders
        if orders is not None and orders.orders is not None:
            staged = await self.db.run(
                lambda conn: find_order(conn, self.tables, reference), what=f"table {orders.orders.table}"
            )
            if staged:
                return True
        if self.reader.sources.get("orders") is not None:
            return await self.db.run(lambda conn: self.reader.known(conn, reference), what="progress")
        return False

    async def _stage(self, order: Order) -> Staged:
        """Write the order in one transaction: its rows, or the ERP's procedure call."""
        orders = self.settings.orders
        if orders is None:
            raise Permanent(
                "the connection has no order import (`orders`) configured", record=order_label(order)
            )
        if orders.procedure:
            procedure = orders.procedure
            await self.db.run(
                lambda conn: call_procedure(conn, procedure, order), what=f"procedure {procedure}"
            )
            return Staged.CREATED
        assert orders.orders is not None
        return await self.db.run(
            lambda conn: stage_order(conn, self.tables, order), what=f"table {orders.orders.table}"
        )

    # -- reads ---------------------------------------------------------------------------------------

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """The sales of these references as canonical Orders (missing ones left out)."""
        found: list[Order | Unmappable] = await self.db.run(
            lambda conn: self.reader.read(conn, list(keys)), what="the sales"
        )
        return list(found)

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every staged sale (or, with a procedure, every sale the progress knows), page by page."""
        after: str | None = None
        while True:
            references = await self.db.run(partial(self._references, after=after), what="the sales")
            if not references:
                return
            yield await self.read(references)
            after = references[-1]
            if len(references) < self.settings.page_size:
                return

    def _references(self, conn: sa.Connection, after: str | None) -> list[str]:
        """The next page of references, in order, after `after`."""
        orders = self.settings.orders
        column: sa.ColumnElement[Any]
        if orders is not None and orders.orders is not None:
            table = self.tables.table(conn, orders.orders.table)
            column = self.tables.column(table, orders.reference_column)
        else:
            spec = self.reader.sources.get("orders")
            if spec is None:
                return []
            from emporion.connectors.sql.progress import reference_column

            src = self.db.source(spec, conn)
            column = src.c[reference_column(spec, [c.name for c in src.c], "orders")]
        statement = sa.select(column).distinct().where(column.is_not(None))
        if after is not None:
            statement = statement.where(column > after)
        statement = statement.order_by(column).limit(self.settings.page_size)
        return [str(value) for value in conn.execute(statement).scalars()]

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """References whose sale has news since `cursor` (None: from now on)."""
        try:
            return await self.db.run(lambda conn: self.feed.poll(conn, cursor), what="the sales feed")
        except ValueError as error:
            raise Permanent(f"the sales feed cursor cannot be read: {error}", record="order feed") from None

    async def check(self) -> list[CheckResult]:
        """`emporion check` lines of the sales side: the order import and each progress source."""
        from emporion.connectors.sql.sales_checks import check_sales

        return await check_sales(self.db, self.settings, self.tables)

    # -- stock ---------------------------------------------------------------------------------------

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Stock available to promise per known SKU: the catalogue's stock less orders not taken yet,
        held back warehouse by warehouse as products show it, summed over `warehouses`."""
        stock = await self.catalogue.stock(skus)
        if not stock:
            return {}
        pending = await self.pending(list(stock))
        first = self.settings.orders.reserve_warehouses if self.settings.orders else None
        return available(stock, pending, first, warehouses)

    async def pending(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Quantities of staged orders the ERP has not taken yet, per SKU."""
        return await self.db.run(
            lambda conn: pending_quantities(conn, self.settings, skus), what="the order import"
        )
