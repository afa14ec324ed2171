"""Pricelist prices and dated promotions, computed as Odoo computes them for one unit.

Odoo keeps the computation in private methods (`product.pricelist._compute_price_rule`,
`product.pricelist.item._compute_price`), which neither external API may call, so the rules are
read and applied here the way Odoo 17, 18 and 19 apply them:
- the rules of a pricelist are tried in the item model's order (`applied_on` — variant, template,
  category, all — then `min_quantity` descending, category descending, id descending); the first
  that applies wins: its minimum quantity is at most 1, its dates (inclusive, to the second)
  include the moment, and it names the variant, its template, the template's category or an
  ancestor of it, or nothing (all products);
- `fixed`: the fixed price; `percentage`: the base less the percentage; `formula`: the base less
  `price_discount` percent, rounded to `price_round`, plus `price_surcharge`, kept within the
  margins; the base is the list price with the variant's extras, the cost, or another pricelist's
  price; no rule: the list price with extras;
- the result is rounded half-up to the cent, as a sale line stores it.
Currencies are not converted: a pricelist is read in the company's currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.client import odoo_datetime
from emporion.connectors.odoo.mapping import ref_id, ref_name, sale_price_window
from emporion.connectors.odoo.money import cents, quantity_of
from emporion.model import SalePrice

ITEM_FIELDS = [
    "pricelist_id",
    "applied_on",
    "product_tmpl_id",
    "product_id",
    "categ_id",
    "min_quantity",
    "date_start",
    "date_end",
    "compute_price",
    "fixed_price",
    "percent_price",
    "base",
    "base_pricelist_id",
    "price_discount",
    "price_round",
    "price_surcharge",
    "price_min_margin",
    "price_max_margin",
]
ALL_ROWS = {"active_test": False}  # Odoo reads a pricelist's items archived or not
MAX_BASE_DEPTH = 8  # pricelists based on pricelists: deeper chains are refused as Odoo would loop


@dataclass(frozen=True)
class Rule:
    """One product.pricelist.item, with its numbers as Decimal and its dates as UTC datetimes."""

    id: int
    pricelist: int
    applied_on: str
    template: int | None
    variant: int | None
    category: int | None
    category_name: str
    min_quantity: Decimal
    start: dt.datetime | None
    end: dt.datetime | None
    compute_price: str
    fixed_price: Decimal
    percent_price: Decimal
    base: str
    base_pricelist: int | None
    discount: Decimal
    rounding: Decimal
    surcharge: Decimal
    min_margin: Decimal
    max_margin: Decimal
    raw_start: Any = None
    raw_end: Any = None

    @property
    def dated(self) -> bool:
        """Whether the rule holds for a time only (a promotion)."""
        return self.start is not None or self.end is not None

    def in_force(self, when: dt.datetime) -> bool:
        """Whether `when` lies within the rule's dates (both ends inclusive, as Odoo compares)."""
        return (self.start is None or self.start <= when) and (self.end is None or self.end >= when)


def number(value: Any) -> Decimal:
    """An Odoo float field as an exact Decimal (0 for False)."""
    return quantity_of(value) if value not in (None, False, "") else Decimal(0)


def rule_from_row(row: Mapping[str, Any]) -> Rule:
    """A product.pricelist.item row -> Rule; an unreadable row is a Permanent error naming it."""
    try:
        return Rule(
            id=int(row["id"]),
            pricelist=ref_id(row["pricelist_id"]) or 0,
            applied_on=str(row.get("applied_on") or "3_global"),
            template=ref_id(row.get("product_tmpl_id")),
            variant=ref_id(row.get("product_id")),
            category=ref_id(row.get("categ_id")),
            category_name=ref_name(row.get("categ_id")),
            min_quantity=number(row.get("min_quantity")),
            start=odoo_datetime(row.get("date_start")),
            end=odoo_datetime(row.get("date_end")),
            compute_price=str(row.get("compute_price") or "fixed"),
            fixed_price=number(row.get("fixed_price")),
            percent_price=number(row.get("percent_price")),
            base=str(row.get("base") or "list_price"),
            base_pricelist=ref_id(row.get("base_pricelist_id")),
            discount=number(row.get("price_discount")),
            rounding=number(row.get("price_round")),
            surcharge=number(row.get("price_surcharge")),
            min_margin=number(row.get("price_min_margin")),
            max_margin=number(row.get("price_max_margin")),
            raw_start=row.get("date_start"),
            raw_end=row.get("date_end"),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise Permanent(
            f"unreadable pricelist item ({type(exc).__name__})",
            record=f"product.pricelist.item {row.get('id')}",
        ) from None


def in_odoo_order(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the item model's order: applied_on, min_quantity desc, category desc, id desc."""
    ordered = sorted(rules, key=lambda rule: rule.id, reverse=True)
    ordered.sort(key=lambda rule: rule.category_name, reverse=True)
    ordered.sort(key=lambda rule: (rule.applied_on, -rule.min_quantity))
    return ordered


@dataclass(frozen=True)
class PricedVariant:
    """What a price depends on for one product.product."""

    id: int
    template: int
    category: int | None
    list_price: Decimal  # list_price plus the attribute values' extras
    cost: Decimal = Decimal(0)


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded half-up to a multiple of `step` (Odoo's float_round with precision_rounding)."""
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


class PriceBook:
    """The rules of some pricelists and the category tree they need, to price variants for one unit."""

    def __init__(self, rules: Iterable[Rule], descendants: Mapping[int, set[int]]) -> None:
        """`rules` grouped by pricelist in Odoo's order; `descendants`: category -> it and those below."""
        self.rules: dict[int, list[Rule]] = {}
        for rule in in_odoo_order(rules):
            self.rules.setdefault(rule.pricelist, []).append(rule)
        self.descendants = descendants  # category -> itself and every category below it

    def applies(self, rule: Rule, variant: PricedVariant, when: dt.datetime) -> bool:
        """Whether `rule` prices one unit of `variant` at `when` (Odoo's `_is_applicable_for`)."""
        if rule.min_quantity > 1 or not rule.in_force(when):
            return False
        if rule.applied_on == "0_product_variant":
            return rule.variant == variant.id
        if rule.applied_on == "1_product":
            return rule.template == variant.template
        if rule.applied_on == "2_product_category":
            return rule.category is not None and variant.category in self.descendants.get(
                rule.category, set()
            )
        return True

    def chosen(self, pricelist: int, variant: PricedVariant, when: dt.datetime) -> Rule | None:
        """The rule Odoo picks for one unit of `variant` at `when`, or None (list price)."""
        return next(
            (rule for rule in self.rules.get(pricelist, []) if self.applies(rule, variant, when)), None
        )

    def price(self, pricelist: int, variant: PricedVariant, when: dt.datetime, depth: int = 0) -> Decimal:
        """The unit price of `variant` in `pricelist` at `when`, to the cent."""
        return cents(self._price(pricelist, variant, when, depth))

    def _price(self, pricelist: int, variant: PricedVariant, when: dt.datetime, depth: int) -> Decimal:
        """The unrounded price (the base a rule on this pricelist computes from)."""
        rule = self.chosen(pricelist, variant, when)
        return variant.list_price if rule is None else self.rule_price(rule, variant, when, depth)

    def rule_price(self, rule: Rule, variant: PricedVariant, when: dt.datetime, depth: int = 0) -> Decimal:
        """What `rule` makes of one unit of `variant` (Odoo's `_compute_price`), unrounded."""
        if rule.compute_price == "fixed":
            return rule.fixed_price
        base = self._base(rule, variant, when, depth)
        if rule.compute_price == "percentage":
            return base - base * rule.percent_price / 100
        price = base - base * rule.discount / 100
        if rule.rounding:
            price = round_to(price, rule.rounding)
        price += rule.surcharge
        if rule.min_margin:
            price = max(price, base + rule.min_margin)
        if rule.max_margin:
            price = min(price, base + rule.max_margin)
        return price

    def _base(self, rule: Rule, variant: PricedVariant, when: dt.datetime, depth: int) -> Decimal:
        """The price a rule computes from: another pricelist's, the cost or the list price."""
        if rule.base == "pricelist" and rule.base_pricelist:
            if depth >= MAX_BASE_DEPTH:
                raise Permanent(
                    "pricelists based on each other too deeply", record=f"product.pricelist.item {rule.id}"
                )
            return self._price(rule.base_pricelist, variant, when, depth + 1)
        if rule.base == "standard_price":
            return variant.cost
        return variant.list_price

    def promotion(self, pricelist: int, variant: PricedVariant, now: dt.datetime) -> SalePrice | None:
        """The dated rule of `pricelist` in force now for `variant`, else the next one to start."""
        current = self.chosen(pricelist, variant, now)
        if current is not None and current.dated:
            return self._sale_price(current, variant, now)
        upcoming = sorted(
            (rule for rule in self.rules.get(pricelist, []) if rule.start is not None and rule.start > now),
            key=lambda rule: (rule.start, rule.id),
        )
        for rule in upcoming:
            assert rule.start is not None
            if self.chosen(pricelist, variant, rule.start) == rule:
                return self._sale_price(rule, variant, rule.start)
        return None

    def _sale_price(self, rule: Rule, variant: PricedVariant, when: dt.datetime) -> SalePrice:
        """The sale price a dated rule gives, with its window."""
        price = cents(self.rule_price(rule, variant, when))
        return sale_price_window(price, rule.raw_start, rule.raw_end)


def base_pricelists(rules: Sequence[Rule]) -> set[int]:
    """Pricelists the rules compute from (base 'pricelist')."""
    return {rule.base_pricelist for rule in rules if rule.base == "pricelist" and rule.base_pricelist}


def cost_needed(rules: Sequence[Rule]) -> bool:
    """Whether any rule computes from the cost (then the variants' standard_price is read)."""
    return any(rule.base == "standard_price" and rule.compute_price != "fixed" for rule in rules)
