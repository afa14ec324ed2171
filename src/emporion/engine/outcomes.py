"""What a batch produced, and the one place that turns write outcomes into links, journal lines,
retries and dead letters.

Every flow (catalogue records, sales, returns, customers, order progress) writes through a connector
and gets one `Outcome` per item back; `OutcomeApplier` records each of them the same way, so that a
link, its journal line, a retry and a dead letter always mean the same thing whoever wrote.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emporion.alerts import Alert
from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable
from emporion.state import ConflictCheck, DeadLetter, JournalEntry, Link


@dataclass
class PlannedWrite:
    """What a sync would do to one record (the unit of `emporion plan`)."""

    key: str
    action: str  # create, match, update, waiting, unpublish, delete
    label: str
    fields: list[str] = field(default_factory=list)
    detail: str = ""  # why, when the action needs saying (e.g. the category a product waits for)


@dataclass
class BatchResult:
    """Everything one batch produced, for the caller to commit together."""

    links: list[Link] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    retry: list[tuple[str, str, float | None]] = field(default_factory=list)  # key, reason, after
    planned: list[PlannedWrite] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    stock_skus: set[str] = field(default_factory=set)  # reservations made or released: send their stock again
    stock: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # SKU -> available, threshold
    alerts: list[Alert] = field(default_factory=list)  # for the engine's alert sink, after the commit
    conflicts: list[ConflictCheck] = field(default_factory=list)  # two-way flows: records compared
    # two-way flows: (partner flow, entity, its source key) to write again, the owner's value back
    reverts: list[tuple[str, str, str]] = field(default_factory=list)
    # two-way flows: (field, the connection whose value wins) per record whose field differed
    differs: Counter[tuple[str, str]] = field(default_factory=Counter)

    def dead_letter(
        self,
        flow: str,
        entity: str,
        key: str,
        error: Permanent,
        reason: str,
        label: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """A record that cannot go on: its dead letter and a journal line.

        The letter names the record (`label`, else the error's record, else `<entity> <key>`) and the field.
        """
        label = label or error.record or f"{entity} {key}"
        self.dead.append(DeadLetter(flow, entity, key, str(error), error.field, label, payload))
        detail = {"error": str(error), "field": error.field, "label": label}
        self.journal.append(JournalEntry(flow, entity, key, "dead", reason, detail=detail))
        self.counts["failed"] += 1

    def merge(self, other: BatchResult) -> None:
        """Add another batch's results to this one."""
        self.links += other.links
        self.journal += other.journal
        self.dead += other.dead
        self.retry += other.retry
        self.planned += other.planned
        self.counts.update(other.counts)
        self.stock.update(other.stock)
        self.alerts += other.alerts
        self.conflicts += other.conflicts
        self.reverts += other.reverts
        self.differs.update(other.differs)


@dataclass
class Written:
    """What one written item was, so that its outcome can be recorded (see `OutcomeApplier`)."""

    key: str  # the source key its link, journal line and dead letter are kept under
    label: str  # how people know the record (journal, dead letter)
    natural_key: str | None = None  # what its link remembers to be found by (default: the label)
    before: str | None = None  # the fingerprint its link had
    after: str | None = None  # the fingerprint its link keeps when the write succeeded
    target_ref: dict[str, Any] | None = None  # the reference kept when the outcome brings none
    payload: dict[str, Any] | None = None  # the record as sent, kept with a dead letter
    action: str | None = None  # the journal's word for it (default: the outcome's status)
    removed: bool = False  # the write took the record out of sight: the link says "removed"
    retry_key: str | None = None  # the work item to try again (default: `key`)
    counter: str | None = None  # the batch count a success adds to (default: its action)
    counted: bool = True  # whether a success is counted at all
    fields: dict[str, str] | None = None  # two-way flows: the link's per-field baseline (None: kept)
    detail: dict[str, Any] | None = None  # more for the journal line (two-way: the fields written)


class OutcomeApplier:
    """Turns the outcomes of one batch's writes into links, journal lines, retries and dead letters."""

    def __init__(self, flow: str, entity: str, reason: str, result: BatchResult) -> None:
        self.flow = flow
        self.entity = entity
        self.reason = reason
        self.result = result

    def apply(self, outcome: Outcome, written: Written) -> Link | None:
        """Record one outcome; the link it made, or None when the write failed."""
        if outcome.ok:
            return self.succeeded(outcome, written)
        self.failed(outcome.error, written)
        return None

    def succeeded(self, outcome: Outcome, written: Written, links: list[Link] | None = None) -> Link:
        """A link (added to `links`, else to the batch) and a journal line for a successful write."""
        deleted = outcome.status is OutcomeStatus.DELETED
        removed = deleted or written.removed
        after = None if removed else written.after
        ref = None if deleted else (outcome.target_ref or written.target_ref)
        link = Link(
            flow=self.flow,
            entity=self.entity,
            source_key=written.key,
            target_ref=ref,
            natural_key=written.natural_key or written.label,
            fingerprint=after,
            state="removed" if removed else "synced",
            fields=None if removed else written.fields,
        )
        (self.result.links if links is None else links).append(link)
        action = written.action or outcome.status.value
        self.result.journal.append(
            JournalEntry(
                flow=self.flow,
                entity=self.entity,
                key=written.key,
                action=action,
                reason=self.reason,
                before_fingerprint=written.before,
                after_fingerprint=after,
                target_ref=ref,
                detail={"label": written.label, **(written.detail or {})},
            )
        )
        if written.counted:
            self.result.counts[written.counter or action] += 1
        return link

    def failed(self, error: ConnectorError | None, written: Written) -> Permanent | None:
        """A transient failure is retried; any other becomes a dead letter, whose error is returned."""
        if isinstance(error, Retryable):
            self.result.retry.append((written.retry_key or written.key, str(error), error.after))
            self.result.counts["retry"] += 1
            return None
        permanent = (
            error
            if isinstance(error, Permanent)
            else Permanent(str(error or "write failed"), record=written.label)
        )
        self.result.dead_letter(
            self.flow,
            self.entity,
            written.key,
            permanent,
            self.reason,
            permanent.record or written.label,
            written.payload,
        )
        return permanent
