"""Placeholders in a call's templates: whole values keep their type, text is filled, names must exist."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emporion.connectors.rest.templates import MissingValue, render


def test_a_whole_placeholder_keeps_the_value_and_its_type() -> None:
    values = {"quantity": 7, "body": {"sku": "A"}, "ids": [1, 2], "price": Decimal("2.50")}
    assert render("{quantity}", values) == 7
    assert render("{body}", values) == {"sku": "A"}
    assert render("{ids}", values) == [1, 2]
    assert render("{price}", values) == Decimal("2.50")


def test_placeholders_inside_text_become_text() -> None:
    values = {"id": 12, "natural_keys": ["A", "B"], "active": True, "price": Decimal("1E+1")}
    assert render("/products/{id}/stock", values) == "/products/12/stock"
    assert render("sku={natural_keys}", values) == "sku=A,B"
    assert render("{active}-{price}", values) == "true-10"


def test_dotted_names_reach_into_mappings_and_lists() -> None:
    values = {"option": {"location": "loc_1"}, "parent": {"id": 5, "tags": ["x", "y"]}}
    assert render("/locations/{option.location}", values) == "/locations/loc_1"
    assert render("{parent.id}", values) == 5
    assert render("{parent.tags.1}", values) == "y"
    assert render("{option.location}", {"option.location": "flat"}) == "flat"


def test_nested_templates_and_untouched_scalars() -> None:
    template = {
        "input": {"sku": "{sku}", "stock": "{quantity}", "note": "n-{sku}"},
        "take": 5,
        "list": ["{sku}"],
    }
    rendered = render(template, {"sku": "A-1", "quantity": 0})
    assert rendered == {"input": {"sku": "A-1", "stock": 0, "note": "n-A-1"}, "take": 5, "list": ["A-1"]}
    assert render(None, {}) is None
    assert render("{ products { id } }", {}) == "{ products { id } }"


def test_a_missing_value_is_an_error_naming_it() -> None:
    with pytest.raises(MissingValue, match=r"\{sku\}"):
        render("/products?sku={sku}", {})
    with pytest.raises(MissingValue, match=r"\{option.location\}"):
        render("{option.location}", {"option": {}})
    with pytest.raises(MissingValue, match="null"):
        render("/p/{id}", {"id": None})
    assert render("{id}", {"id": None}) is None
