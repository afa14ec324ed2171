"""An ERP's progress on a shop order, read from its rows: status, document number, shipments, invoices.

The SQL connector reads these rows from the ERP's tables (or queries over them), the file connector
from the status files the ERP writes; both turn the mapped fields into canonical parts here, and
put them onto the order as it was handed to the ERP (`staged_order`), keyed by the shop order
reference. What a sale reads as:

- `status`: the ERP's status through `progress.statuses` (its own words -> emporion's), or an
  emporion status name as it is; a status the map does not name keeps the status the order was
  written with, the ERP's word kept in `raw_status`. Without an ERP status, an order with a
  shipment reads as shipped.
- A cancellation the ERP has not handled yet reads as cancelled whatever the ERP says (the shop
  asked for it; the ERP decides when it takes it). Once handled, the ERP's status counts, so a
  refused cancellation (already shipped) reads as the ERP has it.
- `number`: the ERP's document number when it has one (the shop shows it as the order's reference in
  the ERP), else the number the order was written with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.rows.values import (
    DEFAULT_PARSING,
    Parsing,
    to_bool,
    to_datetime,
    to_decimal,
    to_text,
)
from emporion.model import Address, Customer, Invoice, Order, OrderLine, OrderStatus, Shipment
from emporion.rules import set_path

# the canonical fields of each progress source's rows (a field not mapped: the column of its name)
PROGRESS_ORDER_FIELDS = ("reference", "status", "number")
SHIPMENT_FIELDS = ("reference", "carrier", "tracking", "tracking_url", "shipped_at", "state")
INVOICE_FIELDS = ("reference", "number", "total", "credit_note", "state")

_SEPARATORS = (",", ";", "\n", "|")


def tracking_numbers(value: Any) -> list[str]:
    """One or several tracking numbers (comma, semicolon, bar or line separated), each once, in order."""
    if value is None:
        return []
    if isinstance(value, list):
        parts = [to_text(item) for item in value]
    else:
        text = to_text(value)
        for separator in _SEPARATORS[1:]:
            text = text.replace(separator, _SEPARATORS[0])
        parts = text.split(_SEPARATORS[0])
    return list(dict.fromkeys(part.strip() for part in parts if part and part.strip()))


def _typed(record: str, name: str, convert: Any, value: Any) -> Any:
    """`convert(value)`, or Permanent naming the record and the field (never quoting the value)."""
    try:
        return convert(value)
    except ValueError as error:
        raise Permanent(f"cannot read {name}: {error}", record=record, field=name) from None


def shipment_from(key: str, fields: Mapping[str, Any], parsing: Parsing = DEFAULT_PARSING) -> Shipment:
    """A shipment row's fields as a Shipment (carrier, tracking numbers, when it left)."""
    record = str(fields.get("_where") or f"shipment {key}")
    shipped: datetime | None = _typed(
        record, "shipped_at", lambda v: to_datetime(v, parsing), fields.get("shipped_at")
    )
    return Shipment(
        key=key,
        state=to_text(fields.get("state") or ""),
        carrier=to_text(fields.get("carrier") or ""),
        tracking_numbers=tracking_numbers(fields.get("tracking")),
        tracking_url=to_text(fields.get("tracking_url") or ""),
        shipped_at=shipped,
    )


def invoice_from(key: str, fields: Mapping[str, Any], parsing: Parsing = DEFAULT_PARSING) -> Invoice:
    """An invoice row's fields as an Invoice (number, total, whether it is a credit note)."""
    record = str(fields.get("_where") or f"invoice {key}")
    total: Decimal | None = _typed(record, "total", lambda v: to_decimal(v, parsing), fields.get("total"))
    credit = fields.get("credit_note")
    credit_note = bool(_typed(record, "credit_note", to_bool, credit)) if credit is not None else False
    number = to_text(fields.get("number") if fields.get("number") is not None else key)
    return Invoice(
        key=key, number=number, state=to_text(fields.get("state") or ""), total=total, credit_note=credit_note
    )


def status_from(raw: Any, statuses: Mapping[str, OrderStatus]) -> OrderStatus | None:
    """The ERP's status as emporion's (through the map, else an emporion name), None when unknown."""
    if raw is None:
        return None
    text = to_text(raw).strip()
    if text in statuses:
        return statuses[text]
    try:
        return OrderStatus(text)
    except ValueError:
        return None


@dataclass
class Progress:
    """What the ERP reports about one order (all optional: an order it has not taken has nothing)."""

    raw_status: str = ""
    number: str = ""
    shipments: list[Shipment] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    cancellation: bool = False  # a cancellation was handed to the ERP
    cancellation_handled: bool = False  # ... and the ERP has handled it

    def add_order_fields(self, fields: Mapping[str, Any]) -> None:
        """Take status and document number from a progress order row's fields."""
        if fields.get("status") is not None:
            self.raw_status = to_text(fields["status"]).strip()
        if fields.get("number") is not None:
            self.number = to_text(fields["number"]).strip()


def with_progress(order: Order, progress: Progress, statuses: Mapping[str, OrderStatus]) -> Order:
    """The order as the ERP has it now: status, number, shipments and invoices from its progress."""
    status = order.status
    mapped = status_from(progress.raw_status, statuses) if progress.raw_status else None
    if mapped is not None:
        status = mapped
    elif progress.shipments and status in (OrderStatus.PENDING, OrderStatus.PROCESSING):
        status = OrderStatus.SHIPPED
    if progress.cancellation and (not progress.cancellation_handled or mapped is None):
        status = OrderStatus.CANCELLED
    shipments = sorted(progress.shipments, key=lambda shipment: shipment.key)
    invoices = sorted(progress.invoices, key=lambda invoice: invoice.key)
    return order.model_copy(
        update={
            "status": status,
            "raw_status": progress.raw_status,
            "number": progress.number or order.number,
            "shipments": shipments,
            "invoices": invoices,
        }
    )


def bare_order(reference: str, currency: str | None) -> Order:
    """An order known only by its reference (written through a procedure, or by another way)."""
    return Order(
        key=reference,
        reference=reference,
        number=reference,
        status=OrderStatus.PROCESSING,
        currency=currency or "",
        customer=Customer(key="", email=""),
        total=Decimal(0),
    )


_ADDRESS_FIELDS = set(Address.model_fields)
_CUSTOMER_TEXT = {"key", "email", "first_name", "last_name", "company", "phone"}
_LINE_NUMBERS = {"quantity", "unit_price", "total", "subtotal", "tax"}
_LINE_TEXT = {"key", "sku", "name", "tax_class", "product_key"}
_ORDER_NUMBERS = {"total", "tax_total", "shipping_total", "shipping_tax", "discount_total", "discount_tax"}
_ORDER_TEXT = {"number", "currency", "customer_note"}


def _text(value: Any) -> str:
    """A value as text (None: empty)."""
    return "" if value is None else to_text(value)


def _address(values: Any) -> Address:
    """An address from the values read back (unknown fields left out)."""
    if not isinstance(values, dict):
        return Address()
    return Address(**{name: _text(value) for name, value in values.items() if name in _ADDRESS_FIELDS})


def staged_line(
    index: int, values: Mapping[str, Any], record: str, parsing: Parsing = DEFAULT_PARSING
) -> OrderLine:
    """An order line read back from its import row (the `line.*` paths its columns copy)."""
    line: dict[str, Any] = {"key": str(index + 1)}
    for name, value in values.items():
        if name in _LINE_TEXT:
            line[name] = _text(value)
        elif name in _LINE_NUMBERS:
            line[name] = _typed(record, f"lines[{index}].{name}", lambda v: to_decimal(v, parsing), value)
    line["quantity"] = line.get("quantity") or Decimal(0)
    line["unit_price"] = line.get("unit_price") or Decimal(0)
    if line.get("total") is None:
        line["total"] = line["unit_price"] * line["quantity"]
    return OrderLine(
        **{name: value for name, value in line.items() if value is not None or name == "subtotal"}
    )


def staged_order(
    reference: str,
    values: Mapping[str, Any],
    lines: Iterable[Mapping[str, Any]],
    *,
    currency: str | None,
    parsing: Parsing = DEFAULT_PARSING,
) -> Order:
    """The order as it was handed to the ERP, from the `order.*` paths its import columns copy.

    `values` maps paths below `order.` (`number`, `customer.email`, `billing.city`, `total`) to the
    values read; paths the model does not have are left out, and what no column copied keeps its
    default (a rule is one-way and is not read back).
    """
    record = f"order {reference}"
    nested: dict[str, Any] = {}
    for path, value in values.items():
        set_path(nested, path, value)
    order: dict[str, Any] = {
        "key": reference,
        "reference": reference,
        "number": _text(nested.get("number")) or reference,
        "currency": _text(nested.get("currency")) or currency or "",
    }
    for name in _ORDER_TEXT - {"number", "currency"}:
        if nested.get(name) is not None:
            order[name] = _text(nested[name])
    for name in _ORDER_NUMBERS:
        if nested.get(name) is not None:
            order[name] = _typed(record, name, lambda v: to_decimal(v, parsing), nested[name])
    order["total"] = order.get("total") or Decimal(0)
    order["status"] = status_from(nested.get("status"), {}) or OrderStatus.PROCESSING
    if nested.get("created_at") is not None:
        order["created_at"] = _typed(
            record, "created_at", lambda v: to_datetime(v, parsing), nested["created_at"]
        )
    found = nested.get("customer")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    person = {name: _text(value) for name, value in customer.items() if name in _CUSTOMER_TEXT}
    order["customer"] = Customer(**{"key": "", "email": "", **person})
    for side in ("billing", "shipping"):
        order[side] = _address(nested.get(side))
    order["lines"] = [staged_line(index, line, record, parsing) for index, line in enumerate(lines)]
    return Order(**order)
