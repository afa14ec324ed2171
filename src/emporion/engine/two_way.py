"""The field-by-field half of a two-way flow: what of each record to write, its conflicts and baselines.

A flow with a field ownership (one of a two-way pair, see engine/ownership.py) reads the target's
current records of what changed, writes only the fields its source owns, links what needs no write
without a journal line (the echo of the reverse flow's write), and hands in the conflicts it found
and the records the reverse flow is to write back. A record the target does not hold yet is created
with every field. `FlowRunner` keeps the one path every sync takes and hands its upserts in here, so
that the one-way path reads without the ownership rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from emporion.config import EITHER, OWNED_FIELDS, FlowSettings, Ownership
from emporion.connectors.base import Unmappable, WriteItem
from emporion.connectors.roles import CatalogueTarget
from emporion.engine.compare import comparable
from emporion.engine.keys import MATCHED_ON, lookup_key, natural_key
from emporion.engine.outcomes import BatchResult, PlannedWrite
from emporion.engine.ownership import (
    FieldDecision,
    decide,
    field_hash,
    field_hashes,
    field_values,
    owned_record_fields,
    partial_record,
    write_fields,
)
from emporion.logs import get_logger
from emporion.model import Category, Record
from emporion.model.base import canonical_json
from emporion.state import Conflict, ConflictCheck, JournalEntry, Link, StateStore

__all__ = ["Note", "TwoWaySync"]

log = get_logger("emporion.engine")


@dataclass(frozen=True)
class Note:
    """What a two-way flow adds to a written record's link and journal line."""

    fields: dict[str, str]  # the link's per-field baseline after the write
    detail: dict[str, Any] | None = None  # the fields written and the conflicts, for the journal
    action: str | None = None  # "matched" for a record found in the target and linked


class TwoWaySync:
    """Decides, field by field and by owner, what a flow of a two-way pair writes of each record."""

    def __init__(
        self,
        flow: FlowSettings,
        ownership: Ownership,
        partner: FlowSettings | None,
        target: CatalogueTarget,
        store: StateStore,
    ) -> None:
        self.flow = flow
        self.ownership = ownership
        self.partner = partner  # the reverse flow (writes the owner's value back); None: conflicts stay open
        self.target = target
        self.store = store

    def not_owned(self, entity: str) -> frozenset[str]:
        """The record fields of `entity` the target owns, which this flow never writes."""
        theirs = {
            name
            for name in OWNED_FIELDS.get(entity, frozenset())
            if self.ownership.owner(name) == self.flow.target
        }
        return write_fields(frozenset(theirs))

    async def writes(
        self,
        entity: str,
        upserts: list[WriteItem],
        links: dict[str, Link],
        result: BatchResult,
        digests: dict[str, str],
        notes: dict[str, Note],
        reason: str,
        *,
        dry_run: bool,
    ) -> list[WriteItem]:
        """Compare each record with the target's, read in one request, field by field: what to write."""
        unlinked = [item for item in upserts if item.target_ref is None]
        found = await self.target.lookup(entity, [lookup_key(i.record) for i in unlinked]) if unlinked else {}
        refs = {item.key: dict(item.target_ref) for item in upserts if item.target_ref}
        for item in unlinked:
            ref = found.get(lookup_key(item.record))
            if ref:
                refs[item.key] = dict(ref)
        ids = sorted({str(ref["id"]) for ref in refs.values()})
        current = {record.key: record for record in await self.target.read(entity, ids)} if ids else {}
        shapes = await self._compared(entity, upserts, refs)
        writes: list[WriteItem] = []
        for item in upserts:
            ref = refs.get(item.key)
            there = current.get(str(ref["id"])) if ref else None
            if isinstance(there, Unmappable):
                error = there.error()
                label = error.record or natural_key(item.record)
                payload = item.record.model_dump(mode="json")
                result.dead_letter(self.flow.name, entity, item.key, error, reason, label, payload)
                continue
            if ref is None or there is None:  # nothing to compare with: created with every field
                notes[item.key] = Note(field_hashes(self._values(entity, shapes[item.key])))
                writes.append(item)
                continue
            matched = item.target_ref is None
            decision, differing = self._decide(entity, item, there, shapes[item.key], links, matched, result)
            conflicts = self._conflicts(entity, item, decision, str(ref["id"]), result, dry_run=dry_run)
            if dry_run:
                self._plan_decided(entity, item, matched, decision, differing, result)
                continue
            detail = {"fields": sorted(decision.write), "conflicts": sorted(c.field for c in conflicts)}
            action = "matched" if matched else None
            if not decision.write:
                self._link_unwritten(entity, item, ref, decision, detail, matched, digests, result, reason)
                continue
            record = partial_record(item.record, there, decision.write)
            keep = (owned_record_fields(entity) - write_fields(decision.write)) | item.keep_on_update
            writes.append(WriteItem(item.key, record, ref, keep, defaults=item.defaults))
            notes[item.key] = Note(decision.baseline, detail, action)
        return writes

    async def _compared(
        self, entity: str, upserts: list[WriteItem], refs: dict[str, dict[str, Any]]
    ) -> dict[str, Record]:
        """The records as compared with the target's: a category's parent as the target's id.

        A parent found in the target in this very batch (`refs`: linked or just looked up) counts too,
        so that on a first run the children of matched categories compare with it at once.
        """
        records = {item.key: item.record for item in upserts}
        if entity != "category":
            return records
        parents = {k: r.parent_key for k, r in records.items() if isinstance(r, Category) and r.parent_key}
        wanted = list(parents.values())
        parent_links = await self.store.get_links(self.flow.name, "category", wanted) if parents else {}
        for key, parent in parents.items():
            link = parent_links.get(parent)
            if link and link.target_ref and link.state != "removed":
                target_id: str | None = str(link.target_ref["id"])
            else:
                target_id = str(refs[parent]["id"]) if parent in refs else None
            if target_id is not None:
                records[key] = records[key].model_copy(update={"parent_key": target_id})
        return records

    def _values(self, entity: str, record: Record, shape: Record | None = None) -> dict[str, Any]:
        """A record's owned fields in comparison form (in the shape of `shape`, the source's record)."""
        return field_values(comparable(record, set_aside(self.flow, self.target, entity), shape), entity)

    def _decide(
        self,
        entity: str,
        item: WriteItem,
        there: Record,
        shape: Record,
        links: dict[str, Link],
        matched: bool,
        result: BatchResult,
    ) -> tuple[FieldDecision, dict[str, str]]:
        """The field decision for one record, and each differing field with the side that wins it."""
        link = links.get(item.key)
        baseline = None if matched or link is None else link.fields
        mine, theirs = self._values(entity, shape), self._values(entity, there, shape)
        source, target = self.flow.source, self.flow.target
        decision = decide(mine, theirs, baseline, self.ownership, source, target)
        clashing = {conflict.field for conflict in decision.conflicts}
        differing: dict[str, str] = {}
        for name in sorted(mine.keys() | theirs.keys()):
            if field_hash(mine.get(name)) == field_hash(theirs.get(name)):
                continue
            winner = source if name in decision.write else "conflict" if name in clashing else target
            differing[name] = winner
            result.differs[(name, winner)] += 1
        return decision, differing

    def _conflicts(
        self,
        entity: str,
        item: WriteItem,
        decision: FieldDecision,
        target_id: str,
        result: BatchResult,
        *,
        dry_run: bool,
    ) -> tuple[Conflict, ...]:
        """The record's conflicts as kept by the state (one check per compared record), and its revert."""
        source, target = self.flow.source, self.flow.target
        pair = " <> ".join(sorted([source, target]))
        label = natural_key(item.record)
        found: list[Conflict] = []
        revert = False
        for conflict in decision.conflicts:
            state = conflict.state
            if conflict.revert_partner and self.partner is None:
                state = "open"  # nobody to write the owner's value back: reported instead
            revert = revert or (conflict.revert_partner and self.partner is not None)
            values = {source: _jsonable(conflict.source_value), target: _jsonable(conflict.target_value)}
            found.append(
                Conflict(
                    pair,
                    entity,
                    label,
                    conflict.field,
                    conflict.owner,
                    conflict.policy,
                    values,
                    self.flow.name,
                    item.key,
                    state,
                )
            )
            if not dry_run:  # never the values: they may be personal data
                shown = item.key if entity == "customer" else label
                log.warning(
                    "field conflict", flow=self.flow.name, entity=entity, record=shown, field=conflict.field
                )
        result.conflicts.append(ConflictCheck(pair, entity, label, tuple(found)))
        if revert and self.partner is not None and not dry_run:
            result.reverts.append((self.partner.name, entity, target_id))
        return tuple(found)

    def _link_unwritten(
        self,
        entity: str,
        item: WriteItem,
        ref: dict[str, Any],
        decision: FieldDecision,
        detail: dict[str, Any],
        matched: bool,
        digests: dict[str, str],
        result: BatchResult,
        reason: str,
    ) -> None:
        """A record the target holds as it should: its link and baseline, a journal line if newly matched."""
        label = natural_key(item.record) or item.key
        digest = digests.get(item.key)
        result.links.append(
            Link(self.flow.name, entity, item.key, ref, label, digest, fields=decision.baseline)
        )
        if not matched:
            result.counts["unchanged"] += 1  # an echo, or nothing this side owns changed: no journal line
            return
        result.journal.append(
            JournalEntry(
                self.flow.name,
                entity,
                item.key,
                "matched",
                reason,
                after_fingerprint=digest,
                target_ref=ref,
                detail={"label": label, **detail},
            )
        )
        result.counts["matched"] += 1

    def _plan_decided(
        self,
        entity: str,
        item: WriteItem,
        matched: bool,
        decision: FieldDecision,
        differing: dict[str, str],
        result: BatchResult,
    ) -> None:
        """A plan's line for a compared record: the fields a sync writes, who owns what differs."""
        if decision.conflicts:
            result.counts["conflict"] += 1
        if not matched and not decision.write and not decision.conflicts:
            result.counts["unchanged"] += 1
            return
        parts = [f"matched on {MATCHED_ON.get(entity, 'key')}"] if matched else []
        for name, winner in differing.items():
            owner = self.ownership.owner(name)
            owns = "either side may change it" if owner == EITHER else f"{owner} owns it"
            if winner == "conflict":
                parts.append(f"{name}: conflict, {owns} ({self.ownership.policy(name)})")
            else:
                parts.append(f"{name}: differs, {owns}")
        action = "match" if matched else "update" if decision.write else "conflict"
        result.planned.append(
            PlannedWrite(item.key, action, natural_key(item.record), sorted(decision.write), "; ".join(parts))
        )
        if action != "conflict":
            result.counts[action] += 1


def set_aside(flow: FlowSettings, target: CatalogueTarget, entity: str) -> frozenset[str]:
    """Fields of `entity` never compared: the flow's `target_owns` and those the target does not keep."""
    return frozenset(flow.target_owns) | target.capabilities().unkept.get(entity, frozenset())


def _jsonable(value: Any) -> Any:
    """A compared value as plain JSON (numbers as their normalised text), to be kept with a conflict."""
    return orjson.loads(canonical_json(value))
