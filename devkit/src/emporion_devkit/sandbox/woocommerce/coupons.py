"""WooCommerce's coupon split (`WC_Discounts`): discounts per line in cents, fixed-cart amounts per unit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal


def php_round(value: float, half_down: bool = False) -> int:
    """PHP's round() to a whole number: half away from zero (or towards zero with PHP_ROUND_HALF_DOWN)."""
    return int(
        Decimal(repr(round(value, 6))).quantize(Decimal(1), ROUND_HALF_DOWN if half_down else ROUND_HALF_UP)
    )


@dataclass
class Unit:
    """One order line as the discount engine sees it: its price in cents (the whole line) and quantity."""

    key: int
    price: float
    quantity: int
    discounts: dict[str, int] = field(default_factory=dict)

    def discounted(self) -> int:
        """`get_discounted_price_in_cents`: what is left of the line to discount."""
        return abs(php_round(self.price - sum(self.discounts.values())))

    def add(self, code: str, amount: int) -> None:
        """Record a discount of this coupon on this line."""
        self.discounts[code] = self.discounts.get(code, 0) + amount


class Discounts:
    """Applies coupons to order lines one after another, as `WC_Discounts::apply_coupon` does."""

    def __init__(self, lines: list[Unit]) -> None:
        # The most expensive line first (a stable sort: equal lines keep the order's order).
        self.lines = sorted(lines, key=lambda line: -line.price)

    def apply(self, code: str, kind: str, amount: float, only: set[int] | None = None) -> None:
        """Apply one coupon (`percent`, `fixed_cart` or `fixed_product`) of `amount` (money or %), to the
        lines in `only` if the coupon is limited to some products."""
        lines = [
            line
            for line in self.lines
            if line.discounted() > 0 and line.quantity > 0 and (only is None or line.key in only)
        ]
        cents = round(amount * 100, 4)
        if kind == "percent":
            self._percent(code, lines, amount)
        elif kind == "fixed_product":
            self._fixed_product(code, lines, cents)
        else:
            self._fixed_cart(code, lines, cents)

    def by_line(self, code: str) -> dict[int, int]:
        """Cents this coupon took off each line."""
        return {line.key: line.discounts.get(code, 0) for line in self.lines if code in line.discounts}

    def _percent(self, code: str, lines: list[Unit], percent: float) -> None:
        total, cart_total = 0, 0
        for line in lines:
            price = php_round(line.price)
            discount = php_round(min(line.discounted(), math.floor(price * percent / 100)), half_down=True)
            cart_total += price
            total += discount
            line.add(code, discount)
        whole = php_round(cart_total * percent / 100, half_down=True)
        if total < whole:
            self._remainder(code, lines, whole - total)

    @staticmethod
    def _fixed_product(code: str, lines: list[Unit], per_unit: float) -> int:
        total = 0
        for line in lines:
            discount = min(line.discounted(), int(per_unit * line.quantity))
            total += discount
            line.add(code, discount)
        return total

    def _fixed_cart(self, code: str, lines: list[Unit], amount: float) -> int:
        lines = [line for line in lines if line.discounted() > 0]
        count = sum(line.quantity for line in lines)
        if not count or not amount:
            return 0
        per_unit = int(amount / count)  # whole cents, rounded down
        if per_unit > 0:
            total = self._fixed_product(code, lines, per_unit)
            if 0 < total < amount:
                total += self._fixed_cart(code, lines, amount - total)
            return total
        return self._remainder(code, lines, amount)

    @staticmethod
    def _remainder(code: str, lines: list[Unit], amount: float) -> int:
        """The cents left over, one cent per unit, most expensive line first."""
        total = 0
        for line in lines:
            for _ in range(line.quantity):
                discount = min(line.discounted(), 1)
                total += discount
                line.add(code, discount)
                if total >= amount:
                    return total
        return total
