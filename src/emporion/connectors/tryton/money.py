"""The shop's money in Tryton's terms: exact unit prices, rounding cents, tax adjustments, pro-rata splits.

Tryton keeps unit prices to 4 decimals, rounds each line's amount half-even to the cent and computes
taxes itself from each line's base and rate. The shop computed its own figures (WooCommerce rounds
each line's tax, spreads a negative fee over the rates, works back from prices including tax). These
pure functions say what Tryton must be given so that its documents come to the shop's figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal

PRICE_STEP = Decimal("0.0001")  # sale.line unit_price digits
CENT = Decimal("0.01")
ROUNDING_SUFFIX = " rounding"  # "<tax name> rounding": a fixed tax of 0.01 per unit on the tax's accounts


def cents(amount: Decimal) -> Decimal:
    """An amount rounded to the cent the way Tryton rounds (half even)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def unit_price(total: Decimal, quantity: Decimal) -> Decimal:
    """The 4-decimal unit price nearest to `total / quantity` (the line total after discounts)."""
    if not quantity:
        return total.quantize(PRICE_STEP)
    return (total / quantity).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


def price_and_rest(total: Decimal, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """The unit price, and the cents by which Tryton's line amount (quantity x price) misses `total`."""
    price = unit_price(total, quantity)
    return price, total - cents(price * quantity)


def rounding_tax_name(tax_name: str) -> str:
    """The Tryton tax that carries the shop's tax cents for `tax_name` (fixed 0.01 per unit)."""
    return f"{tax_name}{ROUNDING_SUFFIX}"


def estimate_taxes(
    lines: Iterable[tuple[Decimal, Iterable[int]]], rates: Mapping[int, Decimal]
) -> dict[int, Decimal]:
    """Tax per Tryton tax over (line amount, taxes) pairs, as Tryton rounds it per document."""
    sums: dict[int, Decimal] = {}
    for amount, taxes in lines:
        for tax in taxes:
            if tax in rates:
                sums[tax] = sums.get(tax, Decimal(0)) + amount * rates[tax]
    return {tax: cents(value) for tax, value in sums.items()}


def tax_adjustments(
    shop: Mapping[Decimal, Decimal],
    estimated: Mapping[int, Decimal],
    rates: Mapping[int, Decimal],
    gap: Decimal,
    limits: Mapping[int, Decimal] | None = None,
) -> dict[int, Decimal]:
    """What to add per Tryton tax so that Tryton's tax equals the shop's, per rate and in total.

    `shop` is the shop's tax per rate (percent, e.g. 19), `estimated` Tryton's per tax as computed
    here, `gap` the shop's total tax minus Tryton's as Tryton reported it. Each rate gets the
    difference between the shop's and the estimate; what is left of `gap` (rounding the estimate
    did not foresee) goes to the tax with the largest amount. Rounding is cents: no tax is adjusted
    by more than its `limit` (a cent per line it is on), so a wrong tax mapping or a rate Tryton does
    not know is left for the read-back to hold, never booked as rounding.
    """
    by_percent = {rate * 100: tax for tax, rate in sorted(rates.items(), key=lambda item: item[0])}
    adjust: dict[int, Decimal] = {}
    for percent, amount in shop.items():
        tax = by_percent.get(percent)  # equal Decimals hash alike: 19 finds 19.0000000000
        if tax is None or tax not in estimated:
            continue
        difference = amount - estimated[tax]
        if difference:
            adjust[tax] = adjust.get(tax, Decimal(0)) + difference
    rest = gap - sum(adjust.values(), Decimal(0))
    if rest and estimated:
        largest = max(estimated, key=lambda tax: (abs(estimated[tax]), -tax))
        adjust[largest] = adjust.get(largest, Decimal(0)) + rest
    if limits is not None and any(abs(value) > limits.get(tax, CENT) for tax, value in adjust.items()):
        return {}
    return {tax: value for tax, value in adjust.items() if value}


def pro_rata(amount: Decimal, weights: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """`amount` split in cents over keys in proportion to `weights`; the last key takes the rest."""
    total = sum(weights.values(), Decimal(0))
    if not weights or not total:
        return {}
    keys = list(weights)
    shares = {key: cents(amount * weights[key] / total) for key in keys[:-1]}
    shares[keys[-1]] = amount - sum(shares.values(), Decimal(0))
    return shares


def split_fee(
    total: Decimal, tax: Decimal, remainders: Mapping[Decimal, Decimal]
) -> dict[Decimal, Decimal] | None:
    """Net parts per rate (percent) of a fee whose tax the shop spread over several rates.

    WooCommerce taxes a negative fee in proportion to the cart over every rate in it. `remainders`
    is the shop's tax per rate that no line or other fee explains: the fee's share. Each rate's part
    is that tax over the rate (the smallest rate takes what is left of `total`); None when the
    remainders do not add up to the fee's tax (then the fee stays one line of its own class).
    """
    parts = {percent: amount for percent, amount in remainders.items() if amount and percent}
    if len(parts) < 2 or abs(sum(parts.values(), Decimal(0)) - tax) > CENT * len(parts):
        return None
    order = sorted(parts, reverse=True)
    bases = {percent: cents(parts[percent] * 100 / percent) for percent in order[:-1]}
    bases[order[-1]] = total - sum(bases.values(), Decimal(0))
    return bases
