"""The state database: links, cursors, inbox, work queue, dead letters and journal (see DESIGN.md §3)."""

from emporion.state.circuits import CircuitRecord
from emporion.state.conflicts import conflict_pair
from emporion.state.records import (
    AlertRecord,
    Conflict,
    ConflictCheck,
    DeadLetter,
    InboxDelivery,
    JournalEntry,
    Lease,
    Link,
    RateGrant,
    ReconcileReport,
    WorkItem,
)
from emporion.state.store import SchemaNotCurrent, StateStore, utc_now

__all__ = [
    "AlertRecord",
    "CircuitRecord",
    "Conflict",
    "ConflictCheck",
    "DeadLetter",
    "InboxDelivery",
    "JournalEntry",
    "Lease",
    "Link",
    "RateGrant",
    "ReconcileReport",
    "SchemaNotCurrent",
    "StateStore",
    "WorkItem",
    "conflict_pair",
    "utc_now",
]
