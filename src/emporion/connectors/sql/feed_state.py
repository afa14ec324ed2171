"""The state of one source in the SQL change feed, and how its column values are kept in the cursor.

The cursor is JSON: numbers and text as they are, Decimals, times and the bytes of a row version
tagged, so that the next poll compares with values of the column's own type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.rows.settings import ChangeMode

Position = list[Any]  # (change column value, key) where a pass stopped


@dataclass
class SourceState:
    """One source's place in the feed (each mode is explained in `feed.py`)."""

    mode: ChangeMode
    high: Any = None  # monotonic: the largest value read
    stamp: Any = None  # updated_at: the database clock before the last complete pass
    next_stamp: Any = None  # updated_at: the clock taken at the start of the pass under way
    seen: dict[str, str] = field(default_factory=dict)  # row key -> hash (hex) read in the last pass
    reading: dict[str, str] = field(default_factory=dict)  # the same for the pass under way
    resume: Position | None = None  # (column value, key) where the pass under way stopped
    snapshot: str | None = None  # full_diff: Snapshot.dumps()

    def dumps(self) -> dict[str, Any]:
        """The state as JSON-ready data."""
        data: dict[str, Any] = {"m": self.mode.value}
        if self.mode is ChangeMode.FULL_DIFF:
            data["snap"] = self.snapshot
            return data
        data |= {"high": encode(self.high), "stamp": encode(self.stamp), "seen": self.seen}
        if self.resume is not None:
            data |= {"next": encode(self.next_stamp), "reading": self.reading, "resume": encode(self.resume)}
        return data

    @classmethod
    def loads(cls, data: dict[str, Any]) -> SourceState:
        """A state from `dumps` data."""
        mode = ChangeMode(data["m"])
        if mode is ChangeMode.FULL_DIFF:
            return cls(mode, snapshot=data.get("snap"))
        return cls(
            mode,
            high=decode(data.get("high")),
            stamp=decode(data.get("stamp")),
            next_stamp=decode(data.get("next")),
            seen=dict(data.get("seen", {})),
            reading=dict(data.get("reading", {})),
            resume=decode(data.get("resume")),
        )


def encode(value: Any) -> Any:
    """A column value as JSON (numbers, text, times, bytes of a row version kept apart)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        return {"t": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    raise Permanent(f"a change column of type {type(value).__name__} cannot be kept in the cursor")


def decode(value: Any) -> Any:
    """The column value `encode` wrote."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"])
        if "t" in value:
            text = value["t"]
            return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
        if "b" in value:
            return bytes.fromhex(value["b"])
    return value


def lower(value: Any, overlap: int) -> Any:
    """A monotonic value `overlap` steps back (row versions as big-endian numbers)."""
    if value is None or not overlap:
        return value
    if isinstance(value, bytes):
        number = max(0, int.from_bytes(value, "big") - overlap)
        return number.to_bytes(len(value), "big")
    if isinstance(value, int | Decimal):
        return value - overlap
    return value  # text: no arithmetic, the value itself


def earlier(stamp: Any, seconds: float) -> Any:
    """A database clock reading `seconds` back (SQLite answers text)."""
    if isinstance(stamp, str):
        moment = dt.datetime.fromisoformat(stamp) - dt.timedelta(seconds=seconds)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return stamp - dt.timedelta(seconds=seconds)
