"""Tryton rows map to canonical products: simple or variable, stock, weight, custom values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from emporion.connectors.tryton.mapping import (
    VariantFacts,
    category_from_row,
    custom_value,
    identifier,
    product_from_rows,
    sale_price_window,
    to_decimal,
    weight_in_kg,
)
from emporion.model import StockLevel

TEMPLATE = {
    "id": 7,
    "name": "Linen Shirt",
    "code": "SH-1",
    "list_price": Decimal("30.00"),
    "categories": [3, 4],
    "salable": True,
    "active": True,
    "weight": 250.0,
    "weight_uom.": {"symbol": "g"},
}


def test_single_variant_without_attributes_is_a_simple_product() -> None:
    row = {"id": 11, "code": "SH-1", "template": 7, "attributes": None, "description": "Soft."}
    facts = {
        11: VariantFacts(
            stock=[StockLevel(warehouse="WH", quantity=Decimal(4))], price_lists={"B2B": Decimal(27)}
        )
    }
    product = product_from_rows(TEMPLATE, [row], facts, currency="EUR")
    assert (product.key, product.sku, product.is_variable) == ("7", "SH-1", False)
    assert product.categories == ["3", "4"] and product.weight == Decimal("0.25")
    assert product.stock == [StockLevel(warehouse="WH", quantity=Decimal(4))]
    assert product.price_lists == {"B2B": Decimal(27)} and product.description == "Soft."


def test_variants_carry_their_attributes_and_stock() -> None:
    rows = [
        {"id": 12, "code": "SH-1-M", "template": 7, "attributes": {"size": "M"}},
        {"id": 11, "code": "SH-1-S", "template": 7, "attributes": {"size": "S", "colour": ""}},
    ]
    facts = {12: VariantFacts(stock=[StockLevel(warehouse="WH2", quantity=Decimal(1))])}
    product = product_from_rows(TEMPLATE, rows, facts, currency="EUR", template_custom={"brand": "Acme"})
    assert [v.key for v in product.variants] == ["11", "12"]
    assert product.variants[0].attributes == {"size": "S"}
    assert product.attributes == {"size": ["M", "S"]}
    assert product.variants[1].stock[0].quantity == Decimal(1) and product.stock == []
    assert product.variants[0].list_price == Decimal("30.00") and product.custom == {"brand": "Acme"}


def test_one_variant_with_attributes_is_still_variable() -> None:
    rows = [{"id": 11, "code": "SH-1-S", "template": 7, "attributes": {"size": "S"}}]
    assert product_from_rows(TEMPLATE, rows, {}, currency=None).is_variable


def test_weights_convert_to_kilograms_and_unknown_units_are_dropped() -> None:
    assert weight_in_kg({"weight": 2.0, "weight_uom.": {"symbol": "lb"}}) == Decimal("0.90718474")
    assert weight_in_kg({"weight": 2.0, "weight_uom.": {"symbol": "furlong"}}) is None
    assert weight_in_kg({"weight": None}) is None


def test_quantities_become_clean_decimals() -> None:
    assert to_decimal(36.0) == Decimal(36) and str(to_decimal(36.0)) == "36"
    assert str(to_decimal(0.1)) == "0.1" and to_decimal(None) is None


def test_sale_price_window_ends_after_the_last_day() -> None:
    sale = sale_price_window(Decimal("9.99"), dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert sale.start == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert sale.end == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    assert sale_price_window(Decimal(1), None, None).start is None


def test_custom_values_and_identifiers() -> None:
    assert custom_value(1.5) == Decimal("1.5")
    assert custom_value({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert custom_value(dt.date(2026, 1, 2)) == "2026-01-02"
    assert custom_value([1, 2]) == "1,2"
    row = {"identifiers.": [{"type": "isbn", "code": "x"}, {"type": "ean", "code": "4000000000013"}]}
    assert identifier(row, "ean") == "4000000000013" and identifier(row, "upc") is None


def test_category_parent_key() -> None:
    assert category_from_row({"id": 3, "name": "Shirts", "parent": 2}).parent_key == "2"
    assert category_from_row({"id": 2, "name": "Clothing", "parent": None}).parent_key is None
