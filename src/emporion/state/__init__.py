"""The state database: links, cursors, inbox, work queue, dead letters and journal (see DESIGN.md §3)."""

from emporion.state.records import DeadLetter, InboxDelivery, JournalEntry, Link, WorkItem
from emporion.state.store import SchemaNotCurrent, StateStore, utc_now

__all__ = [
    "DeadLetter",
    "InboxDelivery",
    "JournalEntry",
    "Link",
    "SchemaNotCurrent",
    "StateStore",
    "WorkItem",
    "utc_now",
]
