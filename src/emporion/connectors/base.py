"""What every connector speaks in (capabilities, changes, write items, outcomes) and its typed errors.

A connector is a client (wire protocol, auth, paging, rate limits, error translation), a mapper
(wire record <-> canonical record) and a change feed. It never sees the state database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from emporion.model import Record


@runtime_checkable
class SharedRateBudget(Protocol):
    """A rate budget shared with other processes (the engine provides it; a connector never sees how).

    `take` grants up to `wanted` request starts now, or none and the seconds to wait; `pause` holds
    every process's requests (the system answered 429 with Retry-After).
    """

    async def take(self, wanted: int) -> tuple[int, float]: ...

    async def pause(self, seconds: float) -> None: ...


class ConnectorError(Exception):
    """Base of the typed errors a connector raises."""


class Retryable(ConnectorError):
    """A transient failure (timeout, 5xx, lock conflict): try again, not before `after` seconds."""

    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class RateLimited(Retryable):
    """The system asked us to slow down (HTTP 429 or a spent cost budget)."""


class Permanent(ConnectorError):
    """A failure retrying cannot fix: names the record and the field so that a person can."""

    def __init__(self, reason: str, record: str | None = None, field: str | None = None) -> None:
        where = " ".join(
            part for part in (f"record {record}" if record else "", f"field {field}" if field else "") if part
        )
        super().__init__(f"{reason} ({where})" if where else reason)
        self.reason = reason
        self.record = record
        self.field = field


class UnknownOutcome(Retryable):
    """A write whose outcome is unknown: it went out and the answer was lost (a read timeout, a
    connection dropped after sending, a 5xx). The shop may have written all, some or none of it;
    `pending`: it may not have started yet (a timeout: the request can still wait for a worker)."""

    def __init__(self, message: str, *, after: float | None = None, pending: bool = False) -> None:
        super().__init__(message, after=after)
        self.pending = pending


class Held(Permanent):
    """Written, but a person must look at it before it goes on (e.g. the ERP's totals differ from the
    shop's): the engine holds the order and checks it again later instead of dead-lettering it."""


class AuthError(Permanent):
    """Credentials were refused or lack a permission."""


class Unmappable(Record):
    """A record a connector read but could not turn into a canonical record.

    It stands in for the record in `read` and `scan` answers, so that the engine makes it a dead
    letter naming the record and the field instead of failing the whole batch or taking the record
    for deleted.
    """

    reason: str
    record: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, key: str, error: Permanent) -> Unmappable:
        """The stand-in for record `key` that failed with `error`."""
        return cls(key=key, reason=error.reason, record=error.record, field=error.field)

    def error(self) -> Permanent:
        """The failure as the typed error the engine dead-letters."""
        return Permanent(self.reason, record=self.record, field=self.field)


R = TypeVar("R", bound=Record)


def map_or_unmappable(key: str, mapper: Callable[[], R]) -> R | Unmappable:
    """`mapper()`, or an Unmappable stand-in for `key` when it raises Permanent."""
    try:
        return mapper()
    except Permanent as error:
        return Unmappable.of(key, error)


MAX_RECORD_ID = 2**63 - 1  # what systems numbering their records keep in a 64-bit column


def numeric_keys(keys: Sequence[str], entity: str) -> tuple[list[int], list[Unmappable]]:
    """The keys that are record numbers (ASCII digits, 1 to 2**63-1), sorted, each once; and for each
    key that is not, a stand-in that makes it a dead letter naming it, never a failure of its batch."""
    ids: set[int] = set()
    unusable: dict[str, Unmappable] = {}
    for key in keys:
        text = str(key)
        if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_RECORD_ID:
            ids.add(int(text))
        elif text not in unusable:
            shown = text[:40]
            error = Permanent(f"not a record number of this system: {shown!r}", record=f"{entity} {shown}")
            unusable[text] = Unmappable.of(text, error)
    return sorted(ids), list(unusable.values())


class FeedKind(StrEnum):
    """How a connector learns what changed."""

    POLL = "poll"  # changes(entity, cursor)
    WEBHOOK = "webhook"  # parse_webhook(...) gives keys to re-read
    NONE = "none"


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do, so that the engine plans without knowing the system."""

    reads: frozenset[str]
    writes: frozenset[str]
    batch_size: int = 100
    feed: FeedKind = FeedKind.POLL
    natural_keys: dict[str, str] = field(default_factory=dict)  # entity -> field ("product" -> "sku")
    # entity -> canonical fields the system does not keep when it is the target (an ERP without short
    # descriptions or images): never compared, so that their absence is neither drift nor a conflict
    unkept: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeBatch:
    """Keys that changed since a cursor, and the cursor to ask with next time."""

    keys: list[str]
    cursor: str | None
    more: bool = False  # True when the feed has more to give right away (paging)


@dataclass
class WriteItem:
    """One record to create or update in the target.

    `target_ref` is what the link remembers of the target record (its id and, for a variable
    product, its variations' ids); None when the record is not linked yet, in which case the
    connector searches for it by natural key before it creates anything.
    """

    key: str
    record: Record
    target_ref: dict[str, Any] | None = None
    # canonical fields the target owns: sent when the record is created, never on update
    keep_on_update: frozenset[str] = frozenset()
    # when set, only these canonical fields are written (e.g. {"active"} to unpublish)
    only: frozenset[str] | None = None
    # what the target needs to create a record that the source does not carry, in the target's own
    # terms (an ERP's unit, accounting category, taxes): the flow's `create_defaults`; used on create only
    defaults: Mapping[str, str] = field(default_factory=dict)


class OutcomeStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MATCHED = "matched"  # found existing by natural key and updated it
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class Outcome:
    """The result of writing one item: the target reference, or the typed error for that item."""

    key: str
    status: OutcomeStatus
    target_ref: dict[str, Any] | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.status is not OutcomeStatus.FAILED


@dataclass(frozen=True)
class CheckResult:
    """One line of `emporion check` for a connection: what was checked, whether it passed, why not."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class CredentialExpiry:
    """When the credentials a connection uses stop working, and how long before that a person is told."""

    expires_at: datetime  # aware, UTC
    warn_before: timedelta
    what: str = "API key"
