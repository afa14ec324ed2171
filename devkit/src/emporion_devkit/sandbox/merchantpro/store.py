"""The sandbox's data: tables of records in memory, ids, the clock and the stamps of every change.

Every record is a dict in the shape the API answers with (money as Decimal, times as aware datetimes);
`render` turns one into JSON. One lock guards all tables: the server runs in a thread beside the tests
that seed and change data through the helpers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emporion_devkit.sandbox.merchantpro.errors import ApiError, not_found

Json = Any
KINDS = ("product", "variant", "category", "customer", "order")
CENTS = Decimal("0.01")


def now() -> datetime:
    """The shop's clock: UTC, in whole seconds (as the shop's database stores its stamps)."""
    return datetime.now(UTC).replace(microsecond=0)


def money(value: object, field: str) -> Decimal:
    """A price or amount sent to the API, refused (naming `field`) unless it is a number >= 0."""
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        amount = Decimal("NaN")
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise ApiError(400, "InvalidParameter", f"{field}: {value!r} is not a valid amount", field=field)
    return amount


def cents(value: Decimal) -> Decimal:
    """An amount rounded to cents, as the shop shows it."""
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def render(value: Json) -> Json:
    """A stored value as JSON: Decimal as a number, datetimes as ISO 8601 with the offset."""
    if isinstance(value, dict):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Store:
    """The tables of one sandbox shop, their ids and the lock that guards them."""

    def __init__(self, vat_percent: Decimal = Decimal(21), currency: str = "RON") -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.vat_percent = vat_percent
        self.currency = currency
        self.base_url = "http://127.0.0.1"
        self._next = {"product": 1001, "category": 11, "customer": 501, "order": 70001}

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """Hold the lock for a read or change of several records at once."""
        with self.lock:
            yield self

    def new_id(self, kind: str) -> int:
        """The next id of `kind`; products and variants share one sequence (an inventory unit is either)."""
        sequence = "product" if kind == "variant" else kind
        with self.lock:
            value = self._next[sequence]
            self._next[sequence] = value + 1
            return value

    def add(self, kind: str, record: dict[str, Any], stamp: datetime | None = None) -> dict[str, Any]:
        """Store a new record (its id given or made), stamped created and updated now."""
        with self.lock:
            record.setdefault("id", self.new_id(kind))
            moment = stamp or now()
            record.setdefault("created_at", moment)
            record["updated_at"] = moment
            self.tables[kind][record["id"]] = record
            return record

    def get(self, kind: str, record_id: object) -> dict[str, Any]:
        """The record of `kind` with `record_id`, or a 404."""
        try:
            number = int(str(record_id))
        except ValueError:
            raise not_found(kind, record_id) from None
        with self.lock:
            found = self.tables[kind].get(number)
        if found is None:
            raise not_found(kind, record_id)
        return found

    def find(self, kind: str, record_id: int) -> dict[str, Any] | None:
        """The record of `kind` with `record_id`, or None."""
        with self.lock:
            return self.tables[kind].get(record_id)

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every record of `kind`, by id."""
        with self.lock:
            return [self.tables[kind][key] for key in sorted(self.tables[kind])]

    def touch(self, kind: str, record: dict[str, Any], stamp: datetime | None = None) -> None:
        """Mark `record` changed now (or at `stamp`, for a change that committed late)."""
        with self.lock:
            record["updated_at"] = (stamp or now()).replace(microsecond=0)

    def remove(self, kind: str, record_id: int) -> None:
        """Delete a record."""
        with self.lock:
            self.tables[kind].pop(record_id, None)

    def gross(self, net: Decimal) -> Decimal:
        """A net price with the shop's VAT added."""
        return cents(net * (1 + self.vat_percent / 100))

    def net(self, gross: Decimal) -> Decimal:
        """A gross price without the shop's VAT (four places, as the shop keeps net prices)."""
        return (gross / (1 + self.vat_percent / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
