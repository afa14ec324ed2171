"""Unit prices and party names the Tryton sale writer derives from shop orders."""

from __future__ import annotations

from decimal import Decimal

from emporion.connectors.roles import SaleOptions
from emporion.connectors.tryton.money import (
    cents,
    estimate_taxes,
    price_and_rest,
    pro_rata,
    split_fee,
    tax_adjustments,
)
from emporion.connectors.tryton.sales_write import INVOICE_METHOD, unit_price
from emporion.model.orders import Customer


def test_unit_price_is_line_total_over_quantity() -> None:
    assert unit_price(Decimal("18.00"), Decimal(2), Decimal("10.00")) == Decimal("9.0000")
    assert unit_price(Decimal("10.00"), Decimal(4), Decimal("3.00")) == Decimal("2.5000")


def test_unit_price_is_never_the_price_before_the_discount() -> None:
    # a fixed-cart coupon of 25.00 over 3 units at 25.00: 50.00 charged, not 75.00
    assert unit_price(Decimal("50.00"), Decimal(3), Decimal("25.00")) == Decimal("16.6667")
    assert cents(Decimal("16.6667") * 3) == Decimal("50.00")


def test_cents_a_four_decimal_price_cannot_carry_go_on_a_rounding_line() -> None:
    assert price_and_rest(Decimal("26.98"), Decimal(3)) == (Decimal("8.9933"), Decimal("0.00"))
    price, rest = price_and_rest(Decimal("1000.01"), Decimal(300))
    assert price == Decimal("3.3334") and cents(price * 300) + rest == Decimal("1000.01") and rest


def test_tax_adjustments_per_rate_and_the_rest_to_the_largest() -> None:
    rates = {1: Decimal("0.19"), 2: Decimal("0.07")}
    # order 105 as recorded: Tryton books the -5.00 fee at 19 %, the shop spread its tax over both rates
    estimated = estimate_taxes(
        [
            (Decimal("35.98"), [1]),
            (Decimal("26.98"), [2]),
            (Decimal("2.50"), [1]),
            (Decimal("-5.00"), [1]),
            (Decimal("4.90"), [1]),
        ],
        rates,
    )
    assert estimated == {1: Decimal("7.29"), 2: Decimal("1.89")}
    shop = {Decimal(19): Decimal("7.67"), Decimal(7): Decimal("1.75")}
    assert tax_adjustments(shop, estimated, rates, Decimal("9.42") - Decimal("9.18")) == {
        1: Decimal("0.38"),
        2: Decimal("-0.14"),
    }
    # a rate Tryton does not know: its tax goes to the tax with the largest amount
    assert tax_adjustments({Decimal(10): Decimal(1)}, estimated, rates, Decimal(1)) == {1: Decimal(1)}
    # ... unless that is more than rounding: a wrong mapping is never booked as rounding
    limits = {1: Decimal("0.05"), 2: Decimal("0.02")}
    assert tax_adjustments({Decimal(10): Decimal(1)}, estimated, rates, Decimal(1), limits) == {}
    assert tax_adjustments(
        {Decimal(19): Decimal("7.30"), Decimal(7): Decimal("1.89")}, estimated, rates, Decimal("0.01"), limits
    ) == {1: Decimal("0.01")}


def test_pro_rata_splits_to_the_cent() -> None:
    shares = pro_rata(Decimal("5.00"), {1: Decimal("42.82"), 2: Decimal("28.87")})
    assert shares == {1: Decimal("2.99"), 2: Decimal("2.01")} and sum(shares.values()) == Decimal("5.00")
    assert pro_rata(Decimal(1), {}) == {}


def test_unit_price_of_a_zero_quantity_line_is_the_shop_price() -> None:
    assert unit_price(Decimal("0"), Decimal(0), Decimal("4.5")) == Decimal("4.5000")


def test_party_name_prefers_company_then_person_then_email() -> None:
    assert Customer(key="", email="a@b.c", company="ACME", first_name="Ada").display_name == "ACME"
    assert Customer(key="", email="a@b.c", first_name="Ada", last_name="L").display_name == "Ada L"
    assert Customer(key="", email="a@b.c").display_name == "a@b.c"


def test_sale_options_defaults_confirm_and_invoice_on_fulfillment() -> None:
    options = SaleOptions()
    assert options.confirm and INVOICE_METHOD == "fulfillment"
    assert options.carriers == {} and options.taxes == {} and options.payment_methods == {}
    assert SaleOptions().carriers is not options.carriers  # no shared mutable default


def test_a_negative_fee_spread_over_two_rates_is_split_by_the_shops_tax() -> None:
    # order 105: the -5.00 fee's tax is -0.58 at 19 % and -0.14 at 7 %
    bases = split_fee(
        Decimal("-5.00"), Decimal("-0.72"), {Decimal(19): Decimal("-0.58"), Decimal(7): Decimal("-0.14")}
    )
    assert bases == {Decimal(19): Decimal("-3.05"), Decimal(7): Decimal("-1.95")}
    assert cents(Decimal("-3.05") * Decimal("0.19")) == Decimal("-0.58")
    assert cents(Decimal("-1.95") * Decimal("0.07")) == Decimal("-0.14")
    # one rate, or remainders that are not the fee's: no split
    assert split_fee(Decimal("-5"), Decimal("-0.95"), {Decimal(19): Decimal("-0.95")}) is None
    assert (
        split_fee(Decimal("-5"), Decimal("-0.72"), {Decimal(19): Decimal("-2"), Decimal(7): Decimal("-1")})
        is None
    )
