"""Line amounts with taxes as Odoo computes them by default (`round_per_line`), in Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emporion_devkit.sandbox.odoo.store import Store

CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    """A JSON number as Decimal (through its text, never through float arithmetic)."""
    return Decimal(str(value or 0))


def line_amounts(
    store: Store, price_unit: Any, quantity: Any, discount: Any, tax_ids: list[int]
) -> tuple[float, float, float]:
    """(subtotal, tax, total) of one line, each rounded to the cent per line."""
    price = dec(price_unit) * (1 - dec(discount) / 100)
    gross = price * dec(quantity)
    taxes = [store.get("account.tax", t) or {} for t in tax_ids]
    included = sum((dec(t.get("amount")) for t in taxes if t.get("price_include")), Decimal(0))
    base = gross / (1 + included / 100) if included else gross
    base = base.quantize(CENT, ROUND_HALF_UP)
    tax = Decimal(0)
    for spec in taxes:
        if spec.get("amount_type", "percent") == "fixed":
            tax += (dec(spec.get("amount")) * dec(quantity)).quantize(CENT, ROUND_HALF_UP)
        elif spec.get("price_include"):
            tax += (gross - gross / (1 + included / 100)).quantize(CENT, ROUND_HALF_UP) * (
                dec(spec.get("amount")) / included
            )
        else:
            tax += (base * dec(spec.get("amount")) / 100).quantize(CENT, ROUND_HALF_UP)
    tax = tax.quantize(CENT, ROUND_HALF_UP)
    return float(base), float(tax), float(base + tax)


def exact_tax(store: Store, price_unit: Any, quantity: Any, discount: Any, tax_ids: list[int]) -> Decimal:
    """A line's tax before rounding (what `round_globally` sums before it rounds once)."""
    gross = dec(price_unit) * (1 - dec(discount) / 100) * dec(quantity)
    taxes = [store.get("account.tax", t) or {} for t in tax_ids]
    included = sum((dec(t.get("amount")) for t in taxes if t.get("price_include")), Decimal(0))
    base = gross / (1 + included / 100) if included else gross
    total = Decimal(0)
    for spec in taxes:
        if spec.get("amount_type", "percent") == "fixed":
            total += dec(spec.get("amount")) * dec(quantity)
        else:
            total += base * dec(spec.get("amount")) / 100
    return total


def order_tax(
    store: Store, lines: list[dict[str, Any]], per_line: list[float], fields: tuple[str, str]
) -> float:
    """The document's tax: the sum of rounded line taxes, or rounded once under `round_globally`."""
    company = store.get("res.company", 1) or {}
    if company.get("tax_calculation_rounding_method") != "round_globally":
        return round(sum(per_line), 2)
    quantity, taxes = fields
    exact = sum(
        (
            exact_tax(
                store, r.get("price_unit"), r.get(quantity), r.get("discount"), list(r.get(taxes) or [])
            )
            for r in lines
        ),
        Decimal(0),
    )
    return float(exact.quantize(CENT, ROUND_HALF_UP))
