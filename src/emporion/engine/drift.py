"""A reconcile's report: the drifted records (missing, unlinked, extra, different) and the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from emporion.engine.compare import FieldDiff
from emporion.state import ReconcileReport, utc_now

DRIFT_KINDS = ("missing", "unlinked", "extra", "different")
MAX_ITEMS = 5000  # drift items kept in a report; the counts are always complete


@dataclass
class DriftItem:
    """One record that differs between the two sides."""

    entity: str
    kind: str  # missing, unlinked, extra, different
    key: str  # the source key (for an extra: the target id)
    label: str  # what people know it by: SKU, category name, order number
    target_id: str | None = None
    fields: list[FieldDiff] = field(default_factory=list)
    detail: str = ""
    repaired: bool = False

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (for the saved report, `--json` and the console)."""
        return {
            "entity": self.entity,
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "target_id": self.target_id,
            "detail": self.detail,
            "repaired": self.repaired,
            "fields": [
                {
                    "field": diff.field,
                    "expected": to_jsonable_python(diff.expected),
                    "actual": to_jsonable_python(diff.actual),
                }
                for diff in self.fields
            ],
        }


@dataclass
class ReconcileResult:
    """What one reconcile of one flow found and did."""

    flow: str
    repair: bool
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    counts: Counter[str] = field(default_factory=Counter)
    items: list[DriftItem] = field(default_factory=list)
    error: str | None = None
    report_id: int | None = None

    @property
    def drift(self) -> int:
        """How many records drifted (all of them, also those beyond the items kept)."""
        return sum(self.counts[kind] for kind in DRIFT_KINDS)

    @property
    def unrepaired(self) -> int:
        """Drifted records no repair was queued for."""
        return self.drift - self.counts["repaired"]

    @property
    def clean(self) -> bool:
        """No drift and no error."""
        return not self.drift and self.error is None

    @property
    def status(self) -> str:
        """failed, clean, repaired (every drifted record has its fix queued) or drift."""
        if self.error is not None:
            return "failed"
        if not self.drift:
            return "clean"
        return "repaired" if not self.unrepaired else "drift"

    def add(self, item: DriftItem) -> None:
        """Count a drifted record and keep it (up to MAX_ITEMS)."""
        self.counts[item.kind] += 1
        if len(self.items) < MAX_ITEMS:
            self.items.append(item)
        else:
            self.counts["items_left_out"] += 1

    def mark_repaired(self, items: Sequence[DriftItem]) -> None:
        """These items' fixes are queued (or done)."""
        for item in items:
            item.repaired = True
        self.counts["repaired"] += len(items)

    def to_report(self) -> ReconcileReport:
        """The record the state store keeps."""
        return ReconcileReport(
            flow=self.flow,
            started_at=self.started_at,
            finished_at=self.finished_at or utc_now(),
            status=self.status,
            repair=self.repair,
            counts=dict(self.counts),
            items=[item.as_json() for item in self.items],
            error=self.error,
            id=self.report_id,
        )

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON."""
        report = self.to_report()
        return {
            "id": report.id,
            "flow": report.flow,
            "status": report.status,
            "repair": report.repair,
            "started_at": report.started_at.isoformat(),
            "finished_at": report.finished_at.isoformat(),
            "counts": report.counts,
            "items": report.items,
            "error": report.error,
        }
