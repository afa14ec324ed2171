"""Raw values from tables and files as canonical ones: numbers, yes/no, timestamps and text, in one place.

A SQL driver hands over typed values (int, Decimal, datetime, bool, str); a CSV, XLSX or XML file
mostly text, written the way the ERP writes it: a decimal comma (`1.234,56`), a day-first date,
`J`/`N` or `X` for yes and no. Both connectors parse through these functions, with the options of the
table or file (`Parsing`), so that a value means the same whichever way it arrived.

Every function raises `ValueError` with a short reason that never quotes the value: the caller adds
the table or file, the row and the column, and the value itself may be a customer's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_GROUPS = " '\u00a0\u202f"  # thousands separators besides the one the decimal mark leaves over
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d*)?|[+-]?,\d+")
_DECIMAL_POINT = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d*)?([eE][+-]?\d+)?|[+-]?\.\d+([eE][+-]?\d+)?")
_TRUE = frozenset(
    {"true", "t", "1", "-1", "yes", "y", "ja", "j", "si", "sì", "s", "x", "on", "wahr", "tak", "oui"}
)
_FALSE = frozenset({"false", "f", "0", "no", "n", "nein", "", "off", "falsch", "nie", "non"})
_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00", "00.00.0000", "00.00.0000 00:00:00"})


@dataclass(frozen=True)
class Parsing:
    """How one table's or file's text values are written: the decimal mark and the date formats."""

    decimal_comma: bool = False
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"


DEFAULT_PARSING = Parsing()


def to_decimal(value: Any, parsing: Parsing = DEFAULT_PARSING) -> Decimal | None:
    """A number as a Decimal (None for no value); text with the table's decimal mark and thousands groups."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a yes/no value is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = _parse_number(text, parsing.decimal_comma)
    else:
        raise ValueError(f"not a number ({type(value).__name__})")
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _parse_number(text: str, decimal_comma: bool) -> Decimal:
    """Text as a Decimal: thousands groups dropped, the decimal mark made a point."""
    for mark in _GROUPS:
        text = text.replace(mark, "")
    if decimal_comma:
        if not _DECIMAL_COMMA.fullmatch(text):
            raise ValueError("not a number with a decimal comma")
        text = text.replace(".", "").replace(",", ".")
    else:
        if not _DECIMAL_POINT.fullmatch(text):
            raise ValueError("not a number")
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None


def to_bool(value: Any) -> bool:
    """Yes or no as ERPs write it: true/false, 1/0, yes/no, ja/nein, si/no, y/n, j/n, x or empty."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        if value in (0, 1, -1):
            return value != 0
        raise ValueError("a number other than 0 or 1 is not yes or no")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not a yes/no value")
    raise ValueError(f"not a yes/no value ({type(value).__name__})")


def to_datetime(value: Any, parsing: Parsing = DEFAULT_PARSING) -> datetime | None:
    """A point in time, in UTC when it says no zone: a datetime, a date (midnight), ISO or the formats."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a date or time ({type(value).__name__})")
    text = value.strip()
    if not text or text in _ZERO_DATES:
        return None  # MySQL-era ERPs write a zero date for "none"
    for parse in (
        datetime.fromisoformat,
        lambda t: datetime.strptime(t, parsing.datetime_format),
        lambda t: datetime.strptime(t, parsing.date_format),
    ):
        try:
            moment = parse(text)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    raise ValueError(f"not a date or time in the format {parsing.datetime_format} or {parsing.date_format}")


def to_text(value: Any) -> str:
    """A value as text, trimmed (CHAR columns pad): numbers without a trailing `.0`, times in ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        return _plain(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ValueError("bytes that are not UTF-8 text") from None
    return str(value).strip()


def _plain(number: Decimal) -> str:
    """A Decimal without exponent and without trailing zeros after the point (`12`, `1.5`)."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
