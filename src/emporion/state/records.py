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
