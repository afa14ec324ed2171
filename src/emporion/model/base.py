"""The base of every canonical record, and the fingerprint that tells whether a record changed."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

CustomValue = str | int | bool | Decimal | None


class Record(BaseModel):
    """A canonical record: system-neutral, validated, with money as Decimal.

    `key` is the record's id in the system it was read from (a string whatever that system uses).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    key: str


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Normalise so that 10, 10.0 and 10.00 give the same fingerprint.
        normal = value.normalize()
        return format(normal, "f")
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def canonical_json(data: Any) -> bytes:
    """Serialise plain data deterministically (sorted keys, normalised decimals)."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_SORT_KEYS)


def fingerprint(record: Record | dict[str, Any], exclude: set[str] | None = None) -> str:
    """A short stable hash of what a record says, used to skip writes that would change nothing."""
    data = record.model_dump(mode="python", exclude=exclude) if isinstance(record, Record) else record
    if exclude and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in exclude}
    return hashlib.sha256(canonical_json(data)).hexdigest()[:32]
