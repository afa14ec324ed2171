"""An order's money as WooCommerce 10 computes it: coupons in cents, taxes per line and rate, rounding.

Lines keep their unrounded amounts in hidden `_subtotal`, `_total` and `_taxes` keys (WooCommerce stores six
decimals); the REST fields are formatted from them, so the shop's one-cent inconsistencies come out as it
shows them (a fee's `total_tax` rounded half down while its `taxes[].total` is rounded half up, say).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.woocommerce.coupons import Discounts, Unit
from emporion_devkit.sandbox.woocommerce.settings import option, tax_classes, taxes_enabled
from emporion_devkit.sandbox.woocommerce.taxes import (
    Taxes,
    calc_tax,
    cents,
    decimal_text,
    find_rates,
    money,
    order_location,
    percent,
    rate_code,
    round6,
    round_tax,
)

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

NON_TAXABLE = "non-taxable"


def stored(taxes: Taxes) -> dict[str, float]:
    """Taxes as kept in a JSON document (string keys)."""
    return {str(rate_id): amount for rate_id, amount in taxes.items()}


def loaded(taxes: dict[str, float] | None) -> Taxes:
    """Taxes from a JSON document."""
    return {int(rate_id): float(amount) for rate_id, amount in (taxes or {}).items()}


def amount(line: dict[str, Any], key: str = "_total") -> float:
    """A line's unrounded amount (falling back to its REST string for lines stored before)."""
    if key in line:
        return float(line[key])
    try:
        return float(line[key[1:]])
    except (KeyError, TypeError, ValueError):
        return 0.0


def round2(value: float) -> float:
    """`NumberUtil::round($x, 2)`."""
    return float(cents(value))


class Calculator:
    """Recalculates one order document in place."""

    def __init__(self, shop: Shop, doc: dict[str, Any]) -> None:
        self.shop = shop
        self.doc = doc
        self.enabled = taxes_enabled(shop)
        self.inclusive = bool(doc.get("prices_include_tax")) and self.enabled
        self.location = order_location(shop, doc) if self.enabled else {}
        self._rates: dict[tuple[str, bool], list[dict]] = {}

    def rates(self, tax_class: str, shipping: bool = False) -> list[dict]:
        """The order's rates for a class (shipping rates only for shipping)."""
        key = (tax_class, shipping)
        if key not in self._rates:
            self._rates[key] = (
                find_rates(self.shop, self.location, tax_class, shipping) if self.enabled else []
            )
        return self._rates[key]

    @staticmethod
    def taxable(line: dict[str, Any]) -> bool:
        """Whether a line is taxed (`tax_status` taxable)."""
        return line.get("_tax_status", line.get("tax_status", "taxable")) == "taxable"

    def item_classes(self) -> list[str]:
        """`get_items_tax_classes`: the classes of the taxable line items, first seen first."""
        seen: list[str] = []
        for item in self.doc["line_items"]:
            if self.taxable(item) and item["tax_class"] not in seen:
                seen.append(item["tax_class"])
        return seen

    # -- the steps of calculate_totals ---------------------------------------------------------------

    def run(self, apply_coupons: bool) -> None:
        """Coupons (when asked), taxes and totals."""
        basis = {id(line): amount(line) for line in self._all_lines()}
        if apply_coupons and self.doc["coupon_lines"]:
            self._coupons()
        elif apply_coupons:
            for item in self.doc["line_items"]:
                item["_total"] = amount(item, "_subtotal")
        self._taxes(basis)
        self._totals()

    def _all_lines(self) -> list[dict[str, Any]]:
        return [*self.doc["line_items"], *self.doc["fee_lines"], *self.doc["shipping_lines"]]

    def _subtotal_taxes(self, item: dict[str, Any]) -> Taxes:
        if not self.taxable(item):
            return {}
        return calc_tax(amount(item, "_subtotal"), self.rates(item["tax_class"]))

    def _coupons(self) -> None:
        """`recalculate_coupons`: totals back to subtotals, then each coupon split over the lines."""
        units = []
        for item in self.doc["line_items"]:
            item["_total"] = amount(item, "_subtotal")
            price = amount(item, "_subtotal")
            if self.inclusive and self.taxable(item):
                price += sum(round_tax(self.shop, t) for t in self._subtotal_taxes(item).values())
            units.append(Unit(item["id"], round(price * 100, 4), item["quantity"]))
        engine = Discounts(units)
        items = {item["id"]: item for item in self.doc["line_items"]}
        for line in self.doc["coupon_lines"]:
            engine.apply(line["code"], line["_type"], line["_amount"], self._coupon_lines(line))
        for line in self.doc["coupon_lines"]:
            shares = engine.by_line(line["code"])
            total, discount_tax = sum(shares.values()) / 100, 0.0
            for item_id, share in shares.items():
                item = items[item_id]
                if not (self.enabled and self.taxable(item)):
                    continue
                tax = round_tax(
                    self.shop,
                    sum(calc_tax(share / 100, self.rates(item["tax_class"]), self.inclusive).values()),
                )
                discount_tax += tax
                if self.inclusive:
                    total -= tax
            line["discount"], line["discount_tax"] = decimal_text(total), decimal_text(discount_tax)
        for item in self.doc["line_items"]:
            off = (
                sum(engine.by_line(line["code"]).get(item["id"], 0) for line in self.doc["coupon_lines"])
                / 100
            )
            if self.inclusive and self.taxable(item):
                off -= sum(calc_tax(off, self.rates(item["tax_class"]), True).values())
            item["_total"] = round6(max(0.0, amount(item) - off))

    def _coupon_lines(self, coupon: dict[str, Any]) -> set[int] | None:
        """The line ids a coupon limited to products (or excluding some) applies to; None for all."""
        wanted, excluded = set(coupon.get("_products", [])), set(coupon.get("_excluded", []))
        if not wanted and not excluded:
            return None
        return {
            item["id"]
            for item in self.doc["line_items"]
            if (not wanted or {item["product_id"], item["variation_id"]} & wanted)
            and not {item["product_id"], item["variation_id"]} & excluded
        }

    def _shipping_class(self) -> str | None:
        setting = option(self.shop, "woocommerce_shipping_tax_class")
        if setting != "inherit":
            return setting
        found = [c for c in ["", *(slug for slug, _ in tax_classes(self.shop))] if c in self.item_classes()]
        return found[0] if found else None

    def _negative_fee_taxes(self, fee: dict[str, Any], basis: dict[int, float]) -> Taxes:
        """A negative fee's tax: split over the order's classes by what each costs (`get_tax_class_costs`)."""
        classes = self.item_classes()
        costs: dict[str, float] = {c: 0.0 for c in classes}
        costs[NON_TAXABLE] = 0.0
        shipping_class = option(self.shop, "woocommerce_shipping_tax_class")
        for line in self._all_lines():
            total = basis.get(id(line), amount(line))
            if total < 0:
                continue
            if "method_id" in line:
                tax_class = (classes[0] if classes else "") if shipping_class == "inherit" else shipping_class
                status = "taxable"
            else:
                tax_class = str(line.get("tax_class", ""))
                status = str(line.get("_tax_status", line.get("tax_status")))
            key = tax_class if status == "taxable" else NON_TAXABLE
            costs[key] = costs.get(key, 0.0) + total
        costs = {key: cost for key, cost in costs.items() if cost}
        whole = sum(costs.values())
        taxes: Taxes = {}
        if whole:
            for tax_class, cost in costs.items():
                if tax_class == NON_TAXABLE:
                    continue
                for rate_id, tax in calc_tax(amount(fee) * cost / whole, self.rates(tax_class)).items():
                    taxes[rate_id] = round6(taxes.get(rate_id, 0.0) + tax)
        return taxes

    def _taxes(self, basis: dict[int, float]) -> None:
        """`calculate_taxes`: every line's taxes per rate, unrounded."""
        for item in self.doc["line_items"]:
            if self.enabled and self.taxable(item):
                rates = self.rates(item["tax_class"])
                item["_taxes"] = {
                    "total": stored(calc_tax(amount(item), rates)),
                    "subtotal": stored(calc_tax(amount(item, "_subtotal"), rates)),
                }
            else:
                item["_taxes"] = {"total": {}, "subtotal": {}}
        for fee in self.doc["fee_lines"]:
            taxes: Taxes = {}
            if self.enabled and fee.get("tax_status", "taxable") == "taxable":
                if amount(fee) >= 0:
                    taxes = calc_tax(amount(fee), self.rates(fee.get("tax_class", "")))
                else:
                    taxes = self._negative_fee_taxes(fee, basis)
            fee["_taxes"] = {"total": stored(taxes)}
        shipping_class = self._shipping_class() if self.enabled else None
        for line in self.doc["shipping_lines"]:
            taxes = {}
            if shipping_class is not None and line.get("tax_status", "taxable") == "taxable":
                taxes = calc_tax(amount(line), self.rates(shipping_class, shipping=True))
            line["_taxes"] = {"total": stored(taxes)}

    def _line_output(self, line: dict[str, Any], with_subtotal: bool) -> Taxes:
        """Format a line's REST money fields; returns its per-rate taxes rounded as the order sums them."""
        totals = loaded(line["_taxes"].get("total"))
        rounded = {rate_id: round_tax(self.shop, tax) for rate_id, tax in totals.items()}
        line["total"] = money(amount(line))
        line["total_tax"] = money(sum(rounded.values()))
        if with_subtotal:
            subtotals = loaded(line["_taxes"].get("subtotal"))
            line["subtotal"] = money(amount(line, "_subtotal"))
            line["subtotal_tax"] = money(sum(round_tax(self.shop, tax) for tax in subtotals.values()))
            line["taxes"] = [
                {
                    "id": rate_id,
                    "total": money(tax),
                    "subtotal": money(subtotals[rate_id]) if rate_id in subtotals else "",
                }
                for rate_id, tax in totals.items()
            ]
            quantity = line["quantity"]
            value = round6(amount(line)) / quantity if quantity else 0
            line["price"] = int(value) if float(value).is_integer() else value
        else:
            line["taxes"] = [
                {"id": rate_id, "total": money(tax), "subtotal": ""} for rate_id, tax in totals.items()
            ]
        return rounded

    def _totals(self) -> None:
        """`calculate_totals` and `update_taxes`: the order's sums and its tax lines."""
        doc = self.doc
        cart_taxes: dict[int, float] = {}
        shipping_taxes: dict[int, float] = {}
        cart_subtotal = cart_total = raw_subtotal_tax = raw_total_tax = 0.0
        for item in doc["line_items"]:
            for rate_id, tax in self._line_output(item, True).items():
                cart_taxes[rate_id] = cart_taxes.get(rate_id, 0.0) + tax
            cart_subtotal += round2(amount(item, "_subtotal"))
            cart_total += round2(amount(item))
            raw_subtotal_tax += sum(loaded(item["_taxes"]["subtotal"]).values())
            raw_total_tax += sum(loaded(item["_taxes"]["total"]).values())
        shipping_total = sum(round2(amount(line)) for line in doc["shipping_lines"])
        fees_total = 0.0
        for fee in doc["fee_lines"]:
            if amount(fee) < 0:
                most = -round2(cart_total + fees_total + shipping_total)
                if amount(fee) < most < 0:
                    fee["_total"] = most
            fees_total += amount(fee)
            for rate_id, tax in self._line_output(fee, False).items():
                cart_taxes[rate_id] = cart_taxes.get(rate_id, 0.0) + tax
        for line in doc["shipping_lines"]:
            for rate_id, tax in self._line_output(line, False).items():
                shipping_taxes[rate_id] = shipping_taxes.get(rate_id, 0.0) + tax
        cart_tax, shipping_tax = sum(cart_taxes.values()), sum(shipping_taxes.values())
        doc["discount_total"] = money(cart_subtotal - cart_total)
        doc["discount_tax"] = money(round_tax(self.shop, raw_subtotal_tax - raw_total_tax))
        doc["shipping_total"] = money(shipping_total)
        doc["shipping_tax"] = money(shipping_tax)
        doc["cart_tax"] = money(cart_tax)
        doc["total_tax"] = money(cart_tax + shipping_tax)
        doc["total"] = money(round2(cart_total + fees_total + shipping_total + cart_tax + shipping_tax))
        self._tax_lines(cart_taxes, shipping_taxes)

    def _tax_lines(self, cart_taxes: dict[int, float], shipping_taxes: dict[int, float]) -> None:
        wanted = list(dict.fromkeys([*cart_taxes, *shipping_taxes]))
        existing = {line["rate_id"]: line for line in self.doc["tax_lines"]}
        lines = []
        for rate_id in wanted:
            found = self.shop.store.get("tax", rate_id)
            line = existing.get(rate_id) or {"id": self.shop.store.next_id("item"), "rate_id": rate_id}
            if found is not None:
                rate = found[0]
                line.update(
                    rate_code=rate_code(rate),
                    label=rate["name"] or "Tax",
                    compound=rate["compound"],
                    rate_percent=percent(rate),
                )
            line["tax_total"] = money(cart_taxes.get(rate_id, 0.0))
            line["shipping_tax_total"] = money(shipping_taxes.get(rate_id, 0.0))
            line.setdefault("meta_data", [])
            lines.append(
                {
                    key: line.get(key)
                    for key in (
                        "id",
                        "rate_code",
                        "rate_id",
                        "label",
                        "compound",
                        "tax_total",
                        "shipping_tax_total",
                        "rate_percent",
                        "meta_data",
                    )
                }
            )
        self.doc["tax_lines"] = lines


def recalculate(shop: Shop, doc: dict[str, Any], apply_coupons: bool) -> None:
    """Recalculate an order's lines, taxes and totals (re-applying its coupons when asked)."""
    Calculator(shop, doc).run(apply_coupons)
