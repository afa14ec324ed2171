"""Money to the cent between the shop and Odoo: Decimal from Odoo's JSON floats, unit prices and the rest.

Odoo answers amounts as JSON numbers (floats on the wire); they become Decimal at once and are
rounded to the cent, never computed with as floats. A sale line's `price_unit` keeps Odoo's
"Product Price" precision (2 decimals by default); the cents a unit price cannot carry for a line
total (10.00 for 3 units) go on a rounding line, so that the sale's total is the shop's.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.01")  # Odoo's default "Product Price" decimal accuracy


def decimal_of(value: Any) -> Decimal:
    """An Odoo number (int, float, string, False for empty) as a Decimal to the cent."""
    if value is None or value is False or value == "":
        return Decimal(0)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def quantity_of(value: Any) -> Decimal:
    """An Odoo quantity as a Decimal, trailing zeros dropped (2.0 -> 2)."""
    if value is None or value is False or value == "":
        return Decimal(0)
    number = Decimal(str(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to the cent, as Odoo rounds a currency amount."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def price_and_rest(total: Decimal, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """The unit price (to Odoo's price step) of `quantity` units coming to `total`, and the cents left."""
    if not quantity:
        return cents(total), Decimal(0)
    price = (total / quantity).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)
    return price, cents(total - cents(price * quantity))


def wire(amount: Decimal) -> float:
    """A Decimal amount as Odoo's JSON APIs take it (a number; exact to the cent as written)."""
    return float(amount)
