"""The memory system's change feed: a monotonic sequence cursor that never passes a change in flight.

Every change gets the next number of one sequence when its transaction begins and becomes visible
when the transaction commits, so changes commit out of order, as in a real database: change 7 can be
visible while change 6 is still in flight. A poll reports the visible changes above the cursor's
position `at`, then moves `at` to the highest committed number, but never to or past the lowest
number still in flight. So every change not yet visible has a number above `at`:

- a change in flight during the poll has a number at or above the lowest in flight, which is above `at`;
- a change begun after the poll gets a number above every number handed out so far, so above `at`;

and the next poll, which reads everything above `at`, finds it. That is the overlap: changes above
`at` that were already reported are remembered in the cursor (`seen`), so each change is reported
once, and `seen` stays as small as the gap between `at` and the newest change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from emporion.connectors.base import Permanent


@dataclass(frozen=True)
class Change:
    """One committed change: its sequence number and the record it touched."""

    sequence: int
    entity: str
    key: str


@dataclass
class FeedCursor:
    """Position in the feed: every change at or below `at` is reported; `seen` lists those above it."""

    at: int = 0
    seen: set[int] = field(default_factory=set)

    def dumps(self) -> str:
        """The cursor as the short JSON text the engine stores."""
        return json.dumps({"v": 1, "at": self.at, "seen": sorted(self.seen)}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> FeedCursor:
        """Parse a cursor made by `dumps`; anything else is a permanent error."""
        try:
            data = json.loads(text)
            return cls(at=int(data["at"]), seen={int(number) for number in data.get("seen", [])})
        except (ValueError, KeyError, TypeError) as error:
            raise Permanent(f"not a memory feed cursor: {text[:80]!r}", field="cursor") from error


@dataclass(frozen=True)
class Poll:
    """What one poll found: the keys to report, the next cursor, and whether more wait right away."""

    keys: list[str]
    cursor: FeedCursor
    more: bool


def safe_position(committed: int, in_flight: Iterable[int]) -> int:
    """The furthest `at` may go: the newest committed number, kept below every number in flight."""
    lowest = min(in_flight, default=None)
    return committed if lowest is None else min(committed, lowest - 1)


def poll(
    changes: Iterable[Change], cursor: FeedCursor, *, committed: int, in_flight: Iterable[int], limit: int
) -> Poll:
    """The changes above `cursor` not reported yet (at most `limit` keys' worth) and the next cursor."""
    fresh = sorted(
        (change for change in changes if change.sequence > cursor.at and change.sequence not in cursor.seen),
        key=lambda change: change.sequence,
    )
    keys: dict[str, None] = {}
    taken: list[Change] = []
    for change in fresh:
        if change.key not in keys and len(keys) == limit:
            break
        keys[change.key] = None
        taken.append(change)
    more = len(taken) < len(fresh)
    position = safe_position(committed, in_flight)
    if more:  # a page: the changes after it are unreported, so the cursor stays at the page's end
        position = min(position, taken[-1].sequence)
    position = max(position, cursor.at)
    reported = cursor.seen | {change.sequence for change in taken}
    return Poll(list(keys), FeedCursor(position, {n for n in reported if n > position}), more)
