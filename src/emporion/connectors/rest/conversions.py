"""Single values between a shop's JSON and the canonical model's types, both ways, never via float.

Reading takes what shops send (numbers as JSON numbers or strings, booleans as `true`/`"yes"`/`1`,
moments as ISO 8601 or epoch seconds/milliseconds) and gives Decimal, bool, aware UTC datetime.
A value that does not fit is a `Misfit` with a reason; the mapping names the record and field.
Reasons quote numbers and status-like values only, never free text (which may be personal data).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

Money = Literal["decimal", "string", "minor_units"]
QUOTE_LIMIT = 40
CENTS = Decimal(100)
EPOCH_MS_ABOVE = Decimal(10) ** 11  # larger epoch values are milliseconds (after 5138 AD in seconds)
TRUE = frozenset({"true", "yes", "y", "1", "on", "enabled", "active"})
FALSE = frozenset({"false", "no", "n", "0", "off", "disabled", "inactive", ""})
# ISO 4217 currencies whose minor unit is not the cent (the rest have two decimals)
MINOR_DIGITS = {"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLP": 0}
MINOR_DIGITS |= dict.fromkeys(("JPY", "KRW", "VND", "ISK", "HUF", "XOF", "XAF", "PYG", "UGX"), 0)


class Misfit(ValueError):
    """A shop value the canonical type cannot take; the reason says why (the caller adds where)."""


def shown(value: Any) -> str:
    """A short quotation of a value for a reason (numbers and codes, cut at 40 characters)."""
    text = repr(value)
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 3] + "..."


def to_decimal(value: Any, name: str) -> Decimal:
    """A Decimal from a JSON number (int, Decimal, or float by its shortest text) or a numeric string."""
    if isinstance(value, bool):
        raise Misfit(f"{name} {shown(value)} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(" ", ""))
        except InvalidOperation:
            raise Misfit(f"{name} {shown(value)} is not a number") from None
    else:
        raise Misfit(f"{name} is not a number (a {type(value).__name__})")
    if not number.is_finite():
        raise Misfit(f"{name} {shown(value)} is not a finite number")
    return number


def minor_digits(currency: str | None) -> int:
    """The decimals of a currency's minor unit (2 unless ISO 4217 says otherwise)."""
    return MINOR_DIGITS.get((currency or "").upper(), 2)


def money_in(value: Any, name: str, money: Money, currency: str | None = None) -> Decimal:
    """An amount as the shop sends it (`money` kind) as a Decimal in the currency's units.

    Cents (`minor_units`) are divided by 100 exactly; an amount that came as a float is rounded
    to the currency's minor unit, which removes the float's noise (0.30000000000000004 -> 0.30).
    """
    if money == "minor_units":
        cents = to_decimal(value, name)
        if cents != cents.to_integral_value():
            raise Misfit(f"{name} {shown(value)} is not a whole number of minor units")
        return cents / CENTS
    amount = to_decimal(value, name)
    if isinstance(value, float):
        amount = amount.quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_HALF_UP)
    return amount


def money_out(amount: Decimal, name: str, money: Money) -> Decimal | str | int:
    """An amount as the shop takes it: a Decimal (sent as a JSON number), a string, or whole cents."""
    if money == "string":
        return format(amount, "f")
    if money == "minor_units":
        cents = amount * CENTS
        if cents != cents.to_integral_value():
            raise Misfit(f"{name} {amount} has more decimals than minor units can carry")
        return int(cents)
    return amount


def to_bool(value: Any, name: str) -> bool:
    """A boolean from true/false, 1/0, or the usual words (yes/no, on/off, enabled/disabled)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise Misfit(f"{name} {shown(value)} is not true or false")


def to_datetime(value: Any, name: str, zone: tzinfo = UTC) -> datetime:
    """An aware UTC datetime from ISO 8601 (with or without Z or offset; naive is in `zone`) or epoch s/ms."""
    if isinstance(value, str) and value.strip() and not _numeric(value):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
            except ValueError:
                raise Misfit(f"{name} {shown(value)} is not a date and time (ISO 8601)") from None
        return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise Misfit(f"{name} is not a date and time (a {type(value).__name__})")
    seconds = to_decimal(value, name)
    if abs(seconds) >= EPOCH_MS_ABOVE:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(float(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        raise Misfit(f"{name} {shown(value)} is not a moment (epoch seconds)") from None


def _numeric(text: str) -> bool:
    """Whether a string is a plain number (an epoch moment sent as text)."""
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return False
    return True


def to_text(value: Any, name: str) -> str:
    """Text from a string, or the digits of a number (ids are often numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Misfit(f"{name} is not text (a {type(value).__name__})")
    return str(to_decimal(value, name)) if isinstance(value, float) else str(value)


def to_int(value: Any, name: str) -> int:
    """A whole number from a JSON number or numeric string."""
    number = to_decimal(value, name)
    if number != number.to_integral_value():
        raise Misfit(f"{name} {shown(value)} is not a whole number")
    return int(number)


def to_custom(value: Any, name: str) -> str | int | bool | Decimal | None:
    """A custom field's value: text, whole number, boolean or Decimal, as the shop sent it."""
    if value is None or isinstance(value, str | bool | int | Decimal):
        return value
    if isinstance(value, float):
        return to_decimal(value, name)
    raise Misfit(f"{name} is not a single value (a {type(value).__name__})")


def moment_out(moment: datetime) -> str:
    """A datetime as ISO 8601 in UTC with Z (naive values are taken as UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def number_out(number: Decimal) -> Decimal | int:
    """A quantity as the shop takes it: a whole number as int (stock counts), else the Decimal."""
    return int(number) if number == number.to_integral_value() else number


def id_out(key: str, id_type: str) -> str | int:
    """A shop id (held as text) as the shop writes it: a JSON number or text, by the entity's `id_type`.

    `auto` writes an id of plain digits as a number and any other id as text. The choice is made from
    the id alone, not from the JSON type ids were last read with, so that one record gives one body
    whatever the process has read before (a restarted worker writes what the first one wrote, and the
    "nothing changed" comparison and idempotency keys stay stable). Digits with a leading zero stay text
    (a number would lose them); a shop whose ids are digit strings says `id_type: string`.
    """
    digits = key.isascii() and key.isdigit()
    if id_type == "string" or (id_type == "auto" and not (digits and (key == "0" or key[0] != "0"))):
        return key
    if not digits:
        raise Misfit(f"id {shown(key)} is not a whole number")
    return int(key)


def decode_json(content: bytes | str) -> Any:
    """JSON with every non-integer number as an exact Decimal (the digits the shop sent, no float)."""
    return json.loads(content, parse_float=Decimal)


def encode_json(data: Any) -> bytes:
    """JSON with each Decimal written as a JSON number of its exact digits (`19.90`, never `19.899...`)."""
    marker = f"@dec{secrets.token_hex(8)}:"
    numbers: list[str] = []

    def marked(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{value} is not a JSON number")
            numbers.append(format(value, "f"))
            return f"{marker}{len(numbers) - 1}"
        if isinstance(value, dict):
            return {key: marked(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [marked(item) for item in value]
        return value

    text = json.dumps(marked(data), ensure_ascii=False, separators=(",", ":"))
    if numbers:
        text = re.sub(f'"{re.escape(marker)}(\\d+)"', lambda found: numbers[int(found.group(1))], text)
    return text.encode()
