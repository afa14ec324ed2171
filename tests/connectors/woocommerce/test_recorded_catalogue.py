"""Products, variations and categories recorded from a real WooCommerce 10.0.2 read back as written.

The shop answers `&` as `&amp;` (also in `context=edit`), renders text through wpautop in
`context=view`, keeps a variation's stock on its product (`manage_stock: "parent"`) and shows a
variation without a SKU with its product's: the read mapping and the comparison must see through
the first three and report the last.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.woocommerce.mapping import category_from_wc, product_from_wc, variant_from_wc
from emporion.engine.compare import comparable, diff_records
from emporion.model import Category, Product, SalePrice, Variant, fingerprint

RECORDED = Path(__file__).parents[2] / "data" / "woocommerce-10.0.2"


def exchanges(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((RECORDED / name).read_text())["exchanges"]
    return data


def answer(name: str, method: str, path: str, **query: str) -> Any:
    """The response body of the first recorded exchange with this method, path and query."""
    for exchange in exchanges(name):
        request = exchange["request"]
        if request["method"] == method and request["path"].endswith(path) and request["query"] == query:
            return exchange["response"]["body"]
    raise AssertionError(f"no {method} {path} {query} in {name}")


VIEW_EDIT = "product-view-vs-edit.json"
VARIABLE = "product-variable-variations.json"


def written_product() -> Product:
    """The product as the recording's POST sent it, as a flow would expect it in the shop."""
    sent = exchanges(VIEW_EDIT)[0]["request"]["body"]
    return Product(
        key="12",
        sku=sent["sku"],
        name=sent["name"],
        description=sent["description"],
        short_description=sent["short_description"],
        list_price=Decimal(sent["regular_price"]),
        sale_price=SalePrice(price=Decimal(sent["sale_price"])),
        available=Decimal(sent["stock_quantity"]),
        categories=[str(category["id"]) for category in sent["categories"]],
        custom={"source": "tryton & co"},  # meta values come back as sent, `&` and all
    )


def compared(expected: Product, actual: Product) -> set[str]:
    return {diff.field for diff in diff_records(expected, actual)}


def test_edit_context_reads_back_exactly_what_was_written_though_the_shop_answers_amp() -> None:
    body = answer(VIEW_EDIT, "GET", "/products/12", context="edit")
    assert "&amp;" in body["name"] and "&amp;" in body["description"]  # what the real shop does
    product = product_from_wc(body)
    expected = written_product()
    assert product.name == expected.name == 'Café & Bar <b>Deluxe</b> "50%" – Größe XL'  # noqa: RUF001
    assert product.description == expected.description
    assert product.short_description == expected.short_description == 'Kurz & knapp – "Größe" XL'  # noqa: RUF001
    assert not compared(expected, product)


def test_view_context_is_rendered_and_would_differ_for_ever() -> None:
    body = answer(VIEW_EDIT, "GET", "/products/12")
    assert body["description"].startswith("<p>") and "<br />" in body["description"]
    assert compared(written_product(), product_from_wc(body)) == {"description", "short_description"}
    assert not compared(
        written_product(), product_from_wc(answer(VIEW_EDIT, "GET", "/products/12", context="edit"))
    )


def test_the_answer_to_a_write_is_in_edit_form_too() -> None:
    posted = exchanges(VIEW_EDIT)[0]["response"]["body"]
    assert not compared(written_product(), product_from_wc(posted))


def test_amp_sent_by_the_source_reads_as_a_plain_ampersand() -> None:
    """`&amp;` and `&` are one character to the shop: a record reads back with the plain one."""
    body = answer(VIEW_EDIT, "GET", "/products/12", context="edit", _fields="id,name,short_description")
    assert body["name"] == "Salt &amp; Pepper &amp; Co"  # sent as "Salt &amp; Pepper & Co"
    product = product_from_wc(body)
    assert product.name == "Salt & Pepper & Co" and product.short_description == "A & B & C"


def test_category_name_reads_unescaped() -> None:
    body = answer(VIEW_EDIT, "GET", "/products/categories/17", context="edit")
    assert body["name"] == "Küche &amp; Bad"
    category = category_from_wc(body)
    assert category.name == "Küche & Bad"
    expected = Category(key="17", name="Küche & Bad", slug=body["slug"])
    assert not diff_records(expected, category)


def test_a_variation_without_its_own_sku_is_reported_with_product_and_variation() -> None:
    parent = answer(VARIABLE, "GET", "/products/13", context="edit")
    variations = answer(VARIABLE, "GET", "/products/13/variations", context="edit")
    inherited = sorted(v["id"] for v in variations if v["sku"] == parent["sku"])
    assert inherited == [16, 17]  # one sent without `sku`, one with `sku: ""`
    with pytest.raises(Permanent) as caught:
        product_from_wc(parent, variations)
    message = str(caught.value)
    assert "of product 13" in message and "REC-VAR-1" in message and "no SKU of its own" in message
    assert "variation 16" in message or "variation 17" in message
    assert caught.value.field == "variants.sku" and caught.value.record == "REC-VAR-1"


def parent_managed() -> Product:
    """The recorded variable product with the two variations that carry their own SKU."""
    parent = answer(VARIABLE, "GET", "/products/13", context="edit")
    variations = answer(VARIABLE, "GET", "/products/13/variations", context="edit")
    return product_from_wc(parent, [v for v in variations if v["sku"] != parent["sku"]])


def test_a_variation_that_leaves_its_stock_to_its_product_has_none_of_its_own() -> None:
    variations = answer(VARIABLE, "GET", "/products/13/variations", context="edit")
    shared = next(v for v in variations if v["id"] == 15)
    assert shared["manage_stock"] == "parent" and shared["stock_quantity"] == 40
    assert variant_from_wc(shared).available is None
    product = parent_managed()
    assert product.available == Decimal(40)
    stock = {variant.sku: variant.available for variant in product.variants}
    assert stock == {"REC-VAR-1-S-ROT": Decimal(5), "REC-VAR-1-M-ROT": None}


def expected_variable(own: int, shared: int) -> Product:
    variants = [
        Variant(
            key="s",
            sku="REC-VAR-1-S-ROT",
            attributes={"Farbe": "Rot", "Größe": "S"},
            list_price=Decimal("25.00"),
            available=Decimal(own),
        ),
        Variant(
            key="m",
            sku="REC-VAR-1-M-ROT",
            attributes={"Farbe": "Rot", "Größe": "M"},
            list_price=Decimal("25.00"),
            available=Decimal(shared),
        ),
    ]
    return Product(
        key="13",
        sku="REC-VAR-1",
        name="Rec Variable Shirt",
        description="Ein Hemd.",
        short_description="Hemd",
        attributes={"Farbe": ["Rot", "Blau"], "Größe": ["S", "M"]},
        variants=variants,
    )


def test_stock_kept_on_the_product_is_compared_with_the_sum_of_the_variants_sharing_it() -> None:
    actual = parent_managed()
    ignore = {"categories", "custom", "weight"}
    assert not [d.field for d in diff_records(expected_variable(5, 40), actual, ignore)]
    diffs = {d.field: (d.expected, d.actual) for d in diff_records(expected_variable(5, 39), actual, ignore)}
    assert diffs == {"available (shared by its variants)": (Decimal(39), Decimal(40))}
    own = {d.field for d in diff_records(expected_variable(4, 40), actual, ignore)}
    assert own == {"variants[REC-VAR-1-S-ROT].available"}


def test_equal_views_mean_no_differences() -> None:
    """The reconcile's fast path: the fingerprints of equal records' views are equal."""
    expected = written_product()
    actual = product_from_wc(answer(VIEW_EDIT, "GET", "/products/12", context="edit"))
    ignore = frozenset[str]()
    assert fingerprint(comparable(expected, ignore)) == fingerprint(comparable(actual, ignore, expected))


def test_a_product_that_holds_its_variants_stock_is_compared_on_it() -> None:
    actual = parent_managed()
    ignore = {"categories", "custom", "weight"}
    wanted = expected_variable(5, 0)
    shared = wanted.variants[1].model_copy(update={"available": None})  # M-ROT takes the product's stock
    holds = wanted.model_copy(update={"available": Decimal(40), "variants": [wanted.variants[0], shared]})
    assert not diff_records(holds, actual, ignore)
    fewer = holds.model_copy(update={"available": Decimal(41)})
    assert [(d.field, d.expected, d.actual) for d in diff_records(fewer, actual, ignore)] == [
        ("available", Decimal(41), Decimal(40))
    ]
