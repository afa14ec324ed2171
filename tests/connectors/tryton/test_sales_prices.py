"""Unit prices and party names the Tryton sale writer derives from shop orders."""

from __future__ import annotations

from decimal import Decimal

from emporion.connectors.roles import SaleOptions
from emporion.connectors.tryton.parties import party_name
from emporion.connectors.tryton.sales_write import INVOICE_METHOD, unit_price
from emporion.model.orders import Customer


def test_unit_price_is_line_total_over_quantity() -> None:
    assert unit_price(Decimal("18.00"), Decimal(2), Decimal("10.00")) == Decimal("9.0000")
    assert unit_price(Decimal("10.00"), Decimal(4), Decimal("3.00")) == Decimal("2.5000")


def test_unit_price_keeps_the_shop_price_when_the_division_is_not_exact() -> None:
    # 10 / 3 needs more than 4 decimals: the discounted total cannot be spread exactly.
    assert unit_price(Decimal("10.00"), Decimal(3), Decimal("3.3333")) == Decimal("3.3333")


def test_unit_price_of_a_zero_quantity_line_is_the_shop_price() -> None:
    assert unit_price(Decimal("0"), Decimal(0), Decimal("4.5")) == Decimal("4.5000")


def test_party_name_prefers_company_then_person_then_email() -> None:
    assert party_name(Customer(key="", email="a@b.c", company="ACME", first_name="Ada")) == "ACME"
    assert party_name(Customer(key="", email="a@b.c", first_name="Ada", last_name="L")) == "Ada L"
    assert party_name(Customer(key="", email="a@b.c")) == "a@b.c"


def test_sale_options_defaults_confirm_and_invoice_on_fulfillment() -> None:
    options = SaleOptions()
    assert options.confirm and INVOICE_METHOD == "fulfillment"
    assert options.carriers == {} and options.taxes == {} and options.payment_methods == {}
    assert SaleOptions().carriers is not options.carriers  # no shared mutable default
