"""Raw values from tables and files parse to canonical numbers, yes/no, times and text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emporion.connectors.rows.values import Parsing, to_bool, to_datetime, to_decimal, to_text

COMMA = Parsing(decimal_comma=True, date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("-0,5", Decimal("-0.5")),
        (",5", Decimal("0.5")),
        ("12", Decimal("12")),
        ("1.234.567", Decimal("1234567")),
        (" 3 ", Decimal("3")),
        ("1 234,5", Decimal("1234.5")),
    ],
)
def test_decimal_comma_text(raw: str, expected: Decimal) -> None:
    assert to_decimal(raw, COMMA) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,234.56", Decimal("1234.56")), ("12.5", Decimal("12.5")), ("1e3", Decimal("1000")), ("1'000", 1000)],
)
def test_decimal_point_text(raw: str, expected: Decimal) -> None:
    assert to_decimal(raw) == expected


def test_typed_numbers_and_no_value() -> None:
    assert to_decimal(7) == Decimal(7)
    assert to_decimal(0.1) == Decimal("0.1")  # through its text, not its binary value
    assert to_decimal(Decimal("1.50")) == Decimal("1.50")
    assert to_decimal(None) is None
    assert to_decimal("  ") is None


@pytest.mark.parametrize("raw", ["abc", "12,5", "1.2.3", "NaN", "inf", float("nan"), float("inf"), True, [1]])
def test_not_numbers_are_refused_without_quoting(raw: object) -> None:
    with pytest.raises(ValueError) as caught:
        to_decimal(raw)
    assert "abc" not in str(caught.value)


@pytest.mark.parametrize("raw", ["12.5", "1,2,3", "Decimal('1')"])
def test_decimal_comma_refuses_point_numbers(raw: str) -> None:
    with pytest.raises(ValueError, match="decimal comma"):
        to_decimal(raw, COMMA)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_decimal_comma_round_trip(number: Decimal) -> None:
    written = f"{number:,.4f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    assert to_decimal(written, COMMA) == number
    assert to_decimal(f"{number:,.4f}") == number


@pytest.mark.parametrize(
    "raw", [True, 1, "1", "-1", "yes", "Ja", "J", "si", "Y", "x", "X", "true", Decimal(1)]
)
def test_yes(raw: object) -> None:
    assert to_bool(raw) is True


@pytest.mark.parametrize("raw", [False, 0, "0", "no", "Nein", "N", "n", "", None, "false", " "])
def test_no(raw: object) -> None:
    assert to_bool(raw) is False


@pytest.mark.parametrize("raw", ["maybe", 2, 0.5])
def test_neither_yes_nor_no(raw: object) -> None:
    with pytest.raises(ValueError):
        to_bool(raw)


def test_datetimes() -> None:
    assert to_datetime(datetime(2026, 3, 1, 12, 0)) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    cet = timezone(timedelta(hours=1))
    assert to_datetime(datetime(2026, 3, 1, 12, 0, tzinfo=cet)) == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert to_datetime(date(2026, 3, 1)) == datetime(2026, 3, 1, tzinfo=UTC)
    assert to_datetime("2026-03-01T12:00:00+01:00") == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert to_datetime("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert to_datetime("01.03.2026", COMMA) == datetime(2026, 3, 1, tzinfo=UTC)
    assert to_datetime("01.03.2026 08:30", COMMA) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert to_datetime("0000-00-00 00:00:00") is None
    assert to_datetime("") is None and to_datetime(None) is None


@pytest.mark.parametrize("raw", ["31.02.2026", "tomorrow", 12])
def test_not_datetimes(raw: object) -> None:
    with pytest.raises(ValueError):
        to_datetime(raw, COMMA)


def test_text() -> None:
    assert to_text("  Schraube M4 ") == "Schraube M4"
    assert to_text(None) == ""
    assert to_text(12.0) == "12"
    assert to_text(Decimal("4711.00")) == "4711"
    assert to_text(Decimal("1.50")) == "1.5"
    assert to_text(True) == "true"
    assert to_text(b"Gr\xc3\xb6\xc3\x9fe") == "Größe"
    assert to_text(date(2026, 1, 2)) == "2026-01-02"
    with pytest.raises(ValueError):
        to_text(b"\xff\xfe")


@given(st.one_of(st.text(max_size=30), st.from_regex(r"[+-]?[0-9., ']{1,20}", fullmatch=True)), st.booleans())
def test_any_text_is_a_finite_number_or_a_value_error(text: str, decimal_comma: bool) -> None:
    parsing = Parsing(decimal_comma=decimal_comma)
    try:
        number = to_decimal(text, parsing)
    except ValueError:
        return
    assert number is None or number.is_finite()


@given(st.text(max_size=30))
def test_any_text_is_yes_no_or_a_value_error(text: str) -> None:
    try:
        assert isinstance(to_bool(text), bool)
    except ValueError:
        pass
    try:
        moment = to_datetime(text, COMMA)
    except ValueError:
        return
    assert moment is None or moment.tzinfo is not None
