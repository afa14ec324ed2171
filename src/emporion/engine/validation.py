"""Checks a canonical record must pass before it is written: clean text, sane order lines, known taxes.

Each check raises `Permanent` naming the record and the field, so that the record becomes a dead
letter and the rest of its batch goes on. Reasons never quote a customer's text back: they are
logged, and names and addresses are personal data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.model import Order

MAX_LINE_QUANTITY = Decimal(100_000)
ALLOWED_CONTROLS = frozenset("\t\n\r")
REPLACEMENT = "\ufffd"
# order fields that hold text people typed or systems passed on, in the order they are reported
ORDER_TEXT_FIELDS = (
    "number",
    "currency",
    "billing",
    "shipping",
    "lines",
    "fees",
    "discounts",
    "customer_note",
    "customer",
)


def text_problem(value: str) -> str | None:
    """What is wrong with a piece of text, or None: undecodable bytes, control characters, U+FFFD."""
    for char in value:
        if "\ud800" <= char <= "\udfff":
            return "undecodable bytes (lone surrogate)"
        if char == REPLACEMENT:
            return "replacement character U+FFFD (bytes were lost before it got here)"
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            return f"control character U+{ord(char):04X}"
    return None


def check_text(data: Any, record: str, path: str = "") -> None:
    """Raise Permanent for the first string in `data` (a record's dump) with broken encoding."""
    if isinstance(data, str):
        problem = text_problem(data)
        if problem:
            raise Permanent(f"broken encoding: {problem}", record=record, field=path or None)
    elif isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and text_problem(key):
                raise Permanent(f"broken encoding: {text_problem(key)}", record=record, field=path or None)
            check_text(value, record, where)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            check_text(value, record, f"{path}[{index}]")


def _money_ok(value: Decimal | None) -> bool:
    """An amount that is absent, or finite and not negative."""
    return value is None or (value.is_finite() and value >= 0)


def _check_money_parts(order: Order, label: str) -> None:
    """Fees are finite (negative ones are allowances); discounts and payments are not negative."""
    for index, fee in enumerate(order.fees):
        for name in ("total", "tax"):
            if not getattr(fee, name).is_finite():
                raise Permanent(
                    f"invalid fee {getattr(fee, name)}", record=label, field=f"fees[{index}].{name}"
                )
    for index, discount in enumerate(order.discounts):
        for name in ("amount", "tax"):
            if not _money_ok(getattr(discount, name)):
                value = getattr(discount, name)
                raise Permanent(f"invalid discount {value}", record=label, field=f"discounts[{index}].{name}")
    for index, payment in enumerate(order.payments):
        if not _money_ok(payment.amount):
            raise Permanent(
                f"invalid payment {payment.amount}", record=label, field=f"payments[{index}].amount"
            )


def check_order(order: Order, taxes: Mapping[str, str]) -> None:
    """Lines must have an SKU, a whole positive quantity, non-negative prices and a tax the ERP knows.

    A line in the standard tax class ('') takes the product's own taxes in the ERP; any other class
    must be in `taxes` (the flow's `orders.taxes`), else the sale would book the wrong tax. A taxed
    fee has no product: its class, the standard one too, must be in `taxes`.
    """
    label = f"order {order.key}" if text_problem(order.number) else f"order {order.number}"
    dump = order.model_dump(mode="json", include=set(ORDER_TEXT_FIELDS))
    check_text({name: dump[name] for name in ORDER_TEXT_FIELDS}, label)
    for name in ("total", "shipping_total", "tax_total", "discount_total"):
        if not _money_ok(getattr(order, name)):
            raise Permanent(f"invalid amount {getattr(order, name)}", record=label, field=name)
    _check_money_parts(order, label)
    for index, line in enumerate(order.lines):
        where = f"{label} line {line.key}"
        if not line.sku:
            raise Permanent("line has no SKU", record=where, field=f"lines[{index}].sku")
        quantity = line.quantity
        if not quantity.is_finite() or quantity <= 0 or quantity > MAX_LINE_QUANTITY:
            raise Permanent(f"absurd quantity {quantity}", record=where, field=f"lines[{index}].quantity")
        if quantity != quantity.to_integral_value():
            raise Permanent(
                f"fractional quantity {quantity} (shop orders are in whole units)",
                record=where,
                field=f"lines[{index}].quantity",
            )
        for name in ("unit_price", "total", "subtotal", "tax"):
            value = getattr(line, name)
            if not _money_ok(value):
                raise Permanent(f"invalid price {value}", record=where, field=f"lines[{index}].{name}")
        if line.tax_class and line.tax_class not in taxes:
            raise Permanent(
                f"tax class {line.tax_class!r} has no ERP tax (add it to the flow's orders.taxes)",
                record=where,
                field=f"lines[{index}].tax_class",
            )
    for index, fee in enumerate(order.fees):  # a fee has no product whose taxes the ERP could take
        if fee.tax and fee.tax_class not in taxes:
            raise Permanent(
                f"fee taxed in class {fee.tax_class!r}, which has no ERP tax"
                " (add it to the flow's orders.taxes)",
                record=label,
                field=f"fees[{index}].tax_class",
            )
