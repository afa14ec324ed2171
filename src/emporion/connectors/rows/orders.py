"""Canonical orders as the flat rows an ERP imports: a header, lines, payments, a customer, a cancellation.

The SQL connector inserts these rows into the import tables the ERP owns, the file connector writes
them as CSV; both map them with a `RowTarget`: each target column's value is a canonical path into
the row's context or a field rule (`emporion.rules.FieldRule`) over it. The contexts:

- header and cancellation: `order.*` (the whole Order: `order.reference`, `order.customer.email`,
  `order.billing.city`, `order.total`, `order.shipping_lines.0.method`...);
- a line: `line.*` (`line.sku`, `line.quantity`...), `position` (1, 2, ...) and `order.*`;
- a payment: `payment.*`, `position` and `order.*`;
- a customer: `customer.*` (`customer.email`, `customer.billing.street`...);
- a refund (return): `refund.*` and `order.*`.

Before an order becomes rows, the connector applies the flow's sale options to it
(`rows.options.with_sale_options`): payment methods, carriers and tax classes carry the ERP's names,
and `order.custom.warehouse` names the flow's warehouse.

Money stays Decimal and times stay datetime; enumerations become their text. A path the context does
not have is a Permanent error naming the order (or customer) and the column, so a mapping mistake
becomes a dead letter, never a row with a hole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.rows.settings import RowTarget
from emporion.model import Customer, Order, Refund
from emporion.rules import FieldRule, RuleEvaluator

_ABSENT = object()  # a path the record does not have


def plain(value: Any) -> Any:
    """A model dump's value with enumerations as their text (drivers and CSV writers take plain values)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def order_context(order: Order) -> dict[str, Any]:
    """The context of a header or cancellation row: `order.*`."""
    return {"order": plain(order.model_dump(mode="python"))}


def customer_context(customer: Customer) -> dict[str, Any]:
    """The context of a customer row: `customer.*`."""
    return {"customer": plain(customer.model_dump(mode="python"))}


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path; None when a part on the way is empty (an order without a billing
    address has no billing city), _ABSENT when the path names something the record does not have.

    A number indexes a list (`order.shipping_lines.0.method`, `order.payments.0.method`); an index
    past the end is an empty part (an order without shipping has no first shipping line). A key below
    `custom` that a record lacks is empty too: custom values differ from order to order."""
    value: Any = context
    above = ""
    for part in path.split("."):
        if value is None:
            return None
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Mapping) and above == "custom":
            return None
        else:
            return _ABSENT
        above = part
    return value


class RowWriter:
    """One target's column mapping, compiled once: a context in, one flat row (column -> value) out."""

    def __init__(self, target: RowTarget, what: str) -> None:
        self.target = target
        self.what = what  # what the rows are, for messages: "order lines", "customers"
        self.paths = {column: spec for column, spec in target.columns.items() if isinstance(spec, str)}
        rules = {column: spec for column, spec in target.columns.items() if isinstance(spec, FieldRule)}
        self._slots = {column: f"c{index}" for index, column in enumerate(rules)}
        self._rules = RuleEvaluator({self._slots[column]: rule for column, rule in rules.items()})

    def row(self, context: Mapping[str, Any], record: str) -> dict[str, Any]:
        """The row for one context; Permanent naming `record` and the column when a value cannot be had."""
        row: dict[str, Any] = {}
        for column, path in self.paths.items():
            value = lookup(context, path)
            if value is _ABSENT:
                raise Permanent(
                    f"{self.what}: column {column} maps {path!r}, which the record does not have",
                    record=record,
                    field=column,
                )
            row[column] = value
        if self._slots:
            computed: dict[str, Any] = {}
            try:
                self._rules.apply(computed, record, dict(context))
            except Permanent as error:
                named = next((c for c, slot in self._slots.items() if slot == error.field), error.field)
                raise Permanent(f"{self.what}: {error.reason}", record=record, field=named) from None
            for column, slot in self._slots.items():
                row[column] = plain(computed.get(slot))
        return {column: row[column] for column in self.target.columns}

    def column_of(self, path: str) -> str | None:
        """The column that copies the canonical `path` (e.g. `order.reference`), if one does."""
        return next((column for column, spec in self.paths.items() if spec == path), None)


def order_label(order: Order) -> str:
    """An order as messages name it (its number; never the customer's data)."""
    return f"order {order.number or order.reference or order.key}"


def header_row(order: Order, writer: RowWriter) -> dict[str, Any]:
    """The order's header row."""
    return writer.row(order_context(order), order_label(order))


def line_rows(order: Order, writer: RowWriter) -> list[dict[str, Any]]:
    """One row per order line (context `line.*`, `position`, `order.*`)."""
    context = order_context(order)
    rows = []
    for index, line in enumerate(order.lines):
        line_context = {
            **context,
            "line": plain(line.model_dump(mode="python")),
            "position": index + 1,
        }
        rows.append(writer.row(line_context, f"{order_label(order)} line {line.key or index + 1}"))
    return rows


def payment_rows(order: Order, writer: RowWriter) -> list[dict[str, Any]]:
    """One row per payment (context `payment.*`, `position`, `order.*`)."""
    context = order_context(order)
    return [
        writer.row(
            {**context, "payment": plain(payment.model_dump(mode="python")), "position": index + 1},
            f"{order_label(order)} payment {index + 1}",
        )
        for index, payment in enumerate(order.payments)
    ]


def customer_row(customer: Customer, writer: RowWriter) -> dict[str, Any]:
    """The customer's row (context `customer.*`); messages name the customer by key, not by e-mail."""
    return writer.row(customer_context(customer), f"customer {customer.key or 'new'}")


def refund_row(order: Order, refund: Refund, writer: RowWriter) -> dict[str, Any]:
    """A return row for one refund (context `refund.*`, `order.*`)."""
    context = {**order_context(order), "refund": plain(refund.model_dump(mode="python"))}
    return writer.row(context, f"{order_label(order)} refund {refund.key}")


def reverse_paths(writer: RowWriter, prefix: str) -> dict[str, str]:
    """Column -> canonical path under `prefix` (`order.`) for the columns that copy one: how a staged
    row reads back (rules are one-way and are not read back)."""
    return {column: path[len(prefix) :] for column, path in writer.paths.items() if path.startswith(prefix)}


def required_column(writer: RowWriter, path: str, table: str) -> str:
    """The column copying `path`, or Permanent saying the mapping of `table` needs one."""
    column = writer.column_of(path)
    if column is None:
        raise Permanent(f"the mapping of {table} needs a column copying {path!r}", record=table, field=path)
    return column


def skus_of(orders: Sequence[Order]) -> list[str]:
    """The distinct SKUs of the orders' lines, sorted."""
    return sorted({line.sku for order in orders for line in order.lines if line.sku})
