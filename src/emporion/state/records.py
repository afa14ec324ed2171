"""Plain records the state store takes and returns: work items, links, journal entries, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One claimed row of the work queue; `generation` tells whether the key changed again meanwhile."""

    id: int
    flow: str
    entity: str
    key: str
    generation: int
    attempts: int
    reason: str
    priority: int
    lease_owner: str | None
    correlation_id: str | None = None  # the delivery or request that queued it, for the logs
    enqueued_at: datetime | None = None  # when the key was first queued (latency metrics)


@dataclass(frozen=True, slots=True)
class Link:
    """What we know of one source record in the target: its reference there and what we last sent.

    On upsert a `None` in target_ref, natural_key, fingerprint or synced_at keeps the stored value,
    so that a failed update does not forget where the record lives.
    """

    flow: str
    entity: str
    source_key: str
    target_ref: dict[str, Any] | None
    natural_key: str | None
    fingerprint: str | None
    state: str = "synced"
    last_error: str | None = None
    synced_at: datetime | None = None
    # two-way flows: per canonical field, a hash of the value both systems held after the last sync
    # (the baseline that tells which side changed a field; see engine/ownership.py)
    fields: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field of a record both systems edit that they hold differently, where the owner did not edit it.

    `pair` names the two connections (sorted, joined by " <> "): both flows of a two-way pair find
    the same conflict and keep one row. `values` holds each connection's value (normalised, JSON-able;
    it may hold personal data, so it is stored and shown to operators, never logged).
    """

    pair: str
    entity: str
    natural_key: str
    field: str
    owner: str  # the owning connection's name, or "either"
    policy: str  # "revert" (the owner's value was written back) or "report" (left for a person)
    values: dict[str, Any]
    flow: str  # the flow that found it
    source_key: str  # the record's key in that flow's source
    state: str = "open"  # open, reverted, resolved, dismissed
    id: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    resolved_at: datetime | None = None  # when a sync found both sides agreeing, or a person dismissed it
    resolved_by: str | None = None  # who dismissed it (None: resolved by a sync)


@dataclass(frozen=True, slots=True)
class ConflictCheck:
    """A record whose fields a two-way flow compared: the conflicts it has now.

    The store keeps `found` (new ones open, known ones seen again) and marks the record's other open
    conflicts resolved, since both systems now agree on those fields.
    """

    pair: str
    entity: str
    natural_key: str
    found: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One line of lineage: what was done to which record, when and why."""

    flow: str
    entity: str
    key: str
    action: str
    reason: str = ""
    before_fingerprint: str | None = None
    after_fingerprint: str | None = None
    target_ref: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Work that failed permanently, with enough context for a person to fix it and replay it."""

    flow: str
    entity: str
    key: str
    reason: str
    field: str | None = None
    record: str | None = None
    payload: Any = None
    attempts: int = 0
    id: int | None = None
    failed_at: datetime | None = None
    status: str = "open"


@dataclass(frozen=True, slots=True)
class InboxDelivery:
    """One raw webhook delivery kept in the inbox until a worker has processed it."""

    id: int
    source: str
    delivery_id: str
    topic: str
    received_at: datetime
    headers: dict[str, Any]
    body: bytes
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """What the state database remembers of one alert key: when it was seen, sent, and resolved."""

    key: str
    kind: str
    subject: str
    flow: str | None
    severity: str
    status: str  # open, resolved
    first_seen: datetime
    last_seen: datetime
    last_sent: datetime | None
    resolved_at: datetime | None
    count: int
    message: str
    details: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """One reconcile run of one flow: counts, the drift items found, and whether they were repaired.

    `items` are plain JSON dicts: entity, kind (missing, extra, different), key, label, target_id,
    fields ([{field, expected, actual}]) and repaired.
    """

    flow: str
    started_at: datetime
    finished_at: datetime
    status: str  # clean, drift, repaired, failed
    repair: bool = False
    counts: dict[str, int] | None = None
    items: list[dict[str, Any]] | None = None
    error: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """A process's hold on a singleton job (a change feed, an initial sync, the order reconcile)."""

    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RateGrant:
    """The answer of a shared rate budget: tokens granted now, else how long to wait for the next one."""

    granted: int
    wait: float
