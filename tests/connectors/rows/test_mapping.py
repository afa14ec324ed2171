"""A source's column mapping: copies, rules over the row, defaults by name, errors naming the column."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.settings import PRODUCT_FIELDS, RowSource
from emporion.connectors.rows.values import Parsing


def _source(columns: dict[str, Any], key: str = "ArtNr") -> RowSource:
    return RowSource.model_validate({"key": key, "columns": columns})


ROW = {
    "ArtNr": "4711",
    "Bezeichnung": "Schraube M4",
    "VK_Brutto": Decimal("11.90"),
    "Marke": "Würth",
    "Farbe": "rot",
    "Aktiv": "J",
    "VK Netto": Decimal("10.00"),
    "weight": Decimal("0.01"),
}


def test_copies_rules_and_defaults() -> None:
    mapper = RowMapper(
        _source(
            {
                "sku": "ArtNr",
                "name": {"template": "{{ Bezeichnung }} ({{ Marke }})"},
                "list_price": {"expression": "VK_Brutto / decimal('1.19')", "round": 2},
                "active": {"from": "Aktiv", "map": {"J": True, "N": False}, "strict": True},
                "custom.brand": "Marke",
                "attributes.Farbe": "Farbe",
                "custom.net": {"expression": "row['VK Netto']"},
            }
        ),
        PRODUCT_FIELDS,
    )
    fields = mapper.fields(ROW, "table artikel")
    assert fields == {
        "sku": "4711",
        "name": "Schraube M4 (Würth)",
        "list_price": Decimal("10.00"),
        "active": True,
        "custom": {"brand": "Würth", "net": Decimal("10.00")},
        "attributes": {"Farbe": "rot"},
        "weight": Decimal("0.01"),  # not named: the column of the same name
    }
    assert "description" not in fields  # neither named nor a column: absent
    assert mapper.key(ROW) == "4711"
    assert mapper.columns() == {"ArtNr", "Bezeichnung", "Marke", "VK_Brutto", "Aktiv", "Farbe", "VK Netto"}


def test_a_map_without_source_reads_its_own_column_and_names_match_ignoring_case() -> None:
    mapper = RowMapper(_source({"active": {"map": {"1": True, "0": False}}}, key="ArtNr"), ["sku", "active"])
    fields = mapper.fields({"artnr": 12, "ACTIVE": 0, "SKU": "A-1"}, "table artikel")
    assert fields == {"active": False, "sku": "A-1"}
    assert mapper.key({"artnr": 12}) == "12"
    assert mapper.columns() == {"ArtNr", "active"}


def test_helpers_parse_with_the_sources_options() -> None:
    mapper = RowMapper(
        _source({"list_price": {"expression": "number(VK) / decimal('1.19')", "round": 2}}),
        ["list_price"],
        parsing=Parsing(decimal_comma=True),
    )
    assert mapper.fields({"ArtNr": "1", "VK": "1.190,00"}, "file artikel.csv row 2") == {
        "list_price": Decimal("1000.00")
    }
    assert mapper.columns() == {"ArtNr", "VK"}


def test_a_missing_column_names_record_and_column() -> None:
    mapper = RowMapper(_source({"name": "Bezeichnung"}), PRODUCT_FIELDS)
    with pytest.raises(Permanent) as caught:
        mapper.fields({"ArtNr": "1"}, "file artikel.csv row 17")
    assert (caught.value.record, caught.value.field) == ("file artikel.csv row 17", "Bezeichnung")


def test_a_failing_rule_names_record_and_field_without_the_value() -> None:
    mapper = RowMapper(
        _source(
            {
                "list_price": {"expression": "VK / decimal('1.19')"},
                "tax_class": {"from": "Steuer", "map": {"1": "standard"}, "strict": True},
            }
        ),
        PRODUCT_FIELDS,
    )
    with pytest.raises(Permanent) as caught:
        mapper.fields({"ArtNr": "1", "VK": "zwölf", "Steuer": "1"}, "table artikel")
    assert (caught.value.record, caught.value.field) == ("table artikel", "list_price")
    assert "zwölf" not in str(caught.value)
    with pytest.raises(Permanent) as caught:
        mapper.fields({"ArtNr": "1", "VK": 1}, "table artikel")  # the template's column is missing
    assert caught.value.field in ("list_price", "tax_class")


@pytest.mark.parametrize("row", [{"ArtNr": None}, {"ArtNr": "  "}, {"Name": "x"}])
def test_a_missing_or_empty_key_names_the_key_column(row: dict[str, Any]) -> None:
    mapper = RowMapper(_source({}), PRODUCT_FIELDS)
    with pytest.raises(Permanent) as caught:
        mapper.key(row, "table artikel")
    assert caught.value.field == "ArtNr"
    assert caught.value.record == "table artikel"
