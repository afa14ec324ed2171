"""Mapped rows become canonical records: variants, prices, the dated sale price, stock per warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.rows.assemble import Related, category_from, customer_from, products_from
from emporion.connectors.rows.values import Parsing
from emporion.model import Address, Product, SalePrice, StockLevel

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
COMMA = Parsing(decimal_comma=True, date_format="%d.%m.%Y")


def _one(products: list[tuple[str, dict[str, Any]]], related: Related, **options: Any) -> Product:
    (product,) = products_from(products, related, now=NOW, **options)
    assert isinstance(product, Product), product
    return product


def test_a_product_with_variants_prices_sale_price_stock_and_images() -> None:
    related = Related(
        variants=[
            {"product": "17", "sku": "TS-R-M", "attributes": {"Farbe": "rot", "Größe": "M"}},
            {"product": "17", "sku": "TS-B-M", "attributes": {"Farbe": "blau", "Größe": "M"}, "active": "N"},
            {"product": "99", "sku": "OTHER", "attributes": {"Farbe": "grün"}},
        ],
        prices=[
            {"sku": "TS", "price_list": "VK", "price": "19,90"},
            {"sku": "TS", "price_list": "Händler", "price": "12,00"},
            {"sku": "TS-R-M", "price_list": "VK", "price": "21,90"},
        ],
        sale_prices=[{"sku": "TS", "price": "14,90", "start": "01.06.2026", "end": "01.07.2026"}],
        stock=[
            {"sku": "TS-R-M", "warehouse": "Nord", "quantity": "3"},
            {"sku": "TS-R-M", "warehouse": "Haupt", "quantity": "2,5"},
            {"sku": "TS-R-M", "warehouse": "Nord", "quantity": "4"},
            {"sku": "TS-B-M", "quantity": 1},
        ],
        images=[
            {"sku": "TS", "url": "https://img.example/b.jpg", "position": "2"},
            {"sku": "TS", "url": "https://img.example/a.jpg", "position": "1", "alt": "vorne"},
            {"sku": "TS", "url": "https://img.example/c.jpg"},
        ],
    )
    fields = {
        "sku": "TS",
        "name": "T-Shirt",
        "categories": "3|7",
        "list_price": "19,90",
        "custom": {"brand": "X"},
    }
    product = _one([("17", fields)], related, parsing=COMMA, currency="eur")
    assert product.is_variable and [v.sku for v in product.variants] == ["TS-R-M", "TS-B-M"]
    assert product.attributes == {"Farbe": ["rot", "blau"], "Größe": ["M"]}
    assert product.variants[1].active is False and product.variants[0].active is True
    assert product.price_lists == {"VK": Decimal("19.90"), "Händler": Decimal("12.00")}
    assert product.list_price == Decimal("19.90") and product.currency == "EUR"
    assert product.variants[0].price_lists == {"VK": Decimal("21.90")}
    assert product.sale_price == SalePrice(
        price=Decimal("14.90"), start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC)
    )
    assert product.variants[0].stock == [
        StockLevel(warehouse="Haupt", quantity=Decimal("2.5")),
        StockLevel(warehouse="Nord", quantity=Decimal("7")),
    ]
    assert product.variants[1].stock == [StockLevel(warehouse="default", quantity=Decimal(1))]
    assert [(i.url[-5:], i.position, i.alt) for i in product.images] == [
        ("a.jpg", 0, "vorne"),
        ("b.jpg", 1, ""),
        ("c.jpg", 2, ""),
    ]
    assert product.categories == ["3", "7"]
    assert product.custom == {"brand": "X"}


@pytest.mark.parametrize(
    ("rows", "chosen"),
    [
        ([("10", None, None)], "10"),  # open at both ends
        ([("10", "2026-06-20", None), ("11", "2026-07-01", None)], "10"),  # none in force: the next to start
        ([("10", "2026-01-01", "2026-06-01"), ("11", "2026-06-20", "2026-06-30")], "11"),  # expired one left
        ([("10", "2026-01-01", None), ("9", "2026-06-10", "2026-06-20")], "9"),  # the latest to start wins
        ([("10", None, "2026-06-15T12:00:00Z")], None),  # the end is exclusive
        ([("10", "2026-06-15T12:00:00Z", None)], "10"),  # the start is inclusive
    ],
)
def test_the_sale_price_in_force_or_the_next(
    rows: list[tuple[str, str | None, str | None]], chosen: str | None
) -> None:
    related = Related(sale_prices=[{"sku": "A", "price": p, "start": s, "end": e} for p, s, e in rows])
    product = _one([("1", {"sku": "A", "name": "A"})], related)
    assert (product.sale_price.price if product.sale_price else None) == (Decimal(chosen) if chosen else None)


def test_a_product_that_cannot_be_typed_is_unmappable_and_the_others_are_assembled() -> None:
    related = Related(
        stock=[{"sku": "B", "warehouse": "Haupt", "quantity": "viele", "_where": "file lager.csv row 9"}]
    )
    built = products_from(
        [
            ("1", {"sku": "A", "name": "A", "weight": "1,5", "_where": "file artikel.csv row 2"}),
            ("2", {"sku": "B", "name": "B"}),
            ("3", {"sku": "C", "name": "C"}),
            ("4", {"sku": "D", "name": ""}),
        ],
        related,
        now=NOW,
    )
    assert [type(r).__name__ for r in built] == ["Unmappable", "Unmappable", "Product", "Unmappable"]
    first, second, _, fourth = built
    assert isinstance(first, Unmappable) and isinstance(second, Unmappable) and isinstance(fourth, Unmappable)
    assert (first.key, first.record, first.field) == ("1", "file artikel.csv row 2", "weight")
    assert (second.key, second.record, second.field) == ("2", "file lager.csv row 9", "quantity")
    assert (fourth.record, fourth.field) == ("product 4", "name")
    assert "viele" not in second.reason


def test_typed_sql_values_and_yes_no_columns() -> None:
    fields = {
        "sku": 4711,
        "name": "Schraube",
        "active": 0,
        "salable": "J",
        "list_price": Decimal("0.10"),
        "categories": [3, 7],
    }
    product = _one([("4711", fields)], Related())
    assert (product.sku, product.active, product.salable) == ("4711", False, True)
    assert (
        product.categories == ["3", "7"] and product.list_price == Decimal("0.10") and product.variants == []
    )


def test_category_roots_and_parents() -> None:
    assert category_from("3", {"name": "Werkzeug", "parent": 0}).parent_key is None
    assert category_from("3", {"name": "Werkzeug", "parent": "3"}).parent_key is None
    child = category_from("7", {"name": "Zangen", "parent": 3, "slug": "zangen"})
    assert (child.parent_key, child.slug, child.description) == ("3", "zangen", "")
    with pytest.raises(Permanent) as caught:
        category_from("8", {"name": None, "_where": "table kategorie"})
    assert (caught.value.record, caught.value.field) == ("table kategorie", "name")


def test_customer_with_addresses() -> None:
    customer = customer_from(
        "K100",
        {
            "email": "anna@example.org",
            "first_name": "Anna",
            "number": "K100",
            "billing": {"street": "Hauptstr. 1", "city": "Köln", "postcode": "50667", "country": "de"},
            "shipping": {"city": ""},
        },
    )
    assert customer.billing == Address(street="Hauptstr. 1", city="Köln", postcode="50667", country="DE")
    assert customer.shipping is None and customer.first_name == "Anna"
    with pytest.raises(Permanent) as caught:
        customer_from("K101", {"email": " "})
    assert (caught.value.record, caught.value.field) == ("customer K101", "email")
