"""A master per field: which fields of a record both systems edit one direction writes, and its conflicts.

A two-way pair is two flows over the same entities with source and target swapped; its `Ownership`
names the connection that owns each field (or `either`). A flow compares, field by field, the
source's value S with the target's value T and with the baseline B: a hash of the value both systems
held after the last sync, kept per field on the flow's link. `hash(S) != B` means the source changed
the field since, `hash(T) != B` that the target did; with no baseline (a first match) both count as
changed.

Why this writes each change once, never ping-pongs, and never loses one:
- A flow writes a field only when its source owns it (or `either` and only the source changed it),
  and then S and T are equal afterwards and the baseline becomes hash(S). The reverse flow, woken by
  the target's change feed (the echo of our own write), finds its S equal to its T: it writes nothing.
  An echo is therefore never a change, and a value travels once per edit.
- A field the target owns is never written by this flow: the target's edits travel in the reverse
  flow, where the target is the source and the owner. Two flows never write the same field, so they
  cannot overwrite each other in turns.
- An edit on the side that does not own a field is seen by the flow whose source made it (its S
  changed against the baseline): under `revert` it asks the reverse flow to write the owner's value
  back (`revert_partner`), under `report` it becomes an open conflict. The reverse flow, asked, finds
  its T changed against its baseline and writes its S, the owner's value (`revert_here`). Either way
  the edit is stored (in the conflict's values) and a person can see it; it is never silently lost.
- `either` fields edited on both sides between two syncs, or differing on a first match, are open
  conflicts: no side's edit wins silently.
- Fields left in conflict keep their old baseline, so they stay changed until both systems agree;
  when they do (S == T), the baseline moves on and the conflict is resolved.
- `available` (stock) moves on both sides by itself (orders): it is written when the source owns it
  and its value changed, never otherwise, and never a conflict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from emporion.config import EITHER, OWNED_FIELDS, Ownership
from emporion.model import Product, Record, Variant
from emporion.model.base import canonical_json

__all__ = [
    "QUANTITY",
    "FieldConflict",
    "FieldDecision",
    "decide",
    "field_hash",
    "field_hashes",
    "field_values",
    "owned_record_fields",
    "partial_record",
    "write_fields",
]

QUANTITY = "available"  # moved by both systems on their own: never a conflict
FOLDED = {"salable": "active"}  # written together with the field they are compared in (published)
REVERT, REPORT = "revert", "report"


@dataclass(frozen=True)
class FieldConflict:
    """A field the two systems hold differently where the side that changed it does not own it."""

    field: str
    owner: str
    policy: str
    source_value: Any
    target_value: Any
    revert_here: bool = False  # this flow writes the owner's value over the target's edit
    revert_partner: bool = False  # the reverse flow is to write the owner's value back

    @property
    def state(self) -> str:
        """`reverted` when the owner's value is (being) written back, else `open` (left for a person)."""
        return "reverted" if self.revert_here or self.revert_partner else "open"


@dataclass(frozen=True)
class FieldDecision:
    """What a flow writes of one record, the conflicts it found, and the record's new baseline."""

    write: frozenset[str]
    conflicts: tuple[FieldConflict, ...]
    baseline: dict[str, str]


def field_hash(value: Any) -> str:
    """16 hex digits of blake2b over the value's canonical JSON (numbers normalised)."""
    return hashlib.blake2b(canonical_json(value), digest_size=8).hexdigest()


def field_hashes(values: Mapping[str, Any]) -> dict[str, str]:
    """The baseline of values both systems hold: a hash per field."""
    return {name: field_hash(value) for name, value in values.items()}


def field_values(view: Mapping[str, Any], entity: str) -> dict[str, Any]:
    """A comparable view (`compare.comparable`) split into the fields an ownership names.

    A product's field holds its variants' values too: `{"": product value, <variant sku>: value}`;
    custom fields are `custom.<name>`; `active` is what the view calls published.
    """
    variants: Mapping[str, Mapping[str, Any]] = view.get("variants") or {}
    values: dict[str, Any] = {}
    for name in sorted(OWNED_FIELDS.get(entity, frozenset()) - set(FOLDED)):
        if name == "custom":
            names = set(view.get("custom") or {}).union(
                *((part.get("custom") or {}) for part in variants.values())
            )
            for custom in sorted(names):
                values[f"custom.{custom}"] = _value(view, variants, partial(_custom, name=custom))
            continue
        key = "published" if name == "active" else name
        values[name] = _value(view, variants, partial(_part, name=key))
    return values


def _part(part: Mapping[str, Any], name: str) -> Any:
    return part.get(name)


def _custom(part: Mapping[str, Any], name: str) -> Any:
    return (part.get("custom") or {}).get(name)


def _value(
    view: Mapping[str, Any],
    variants: Mapping[str, Mapping[str, Any]],
    pick: Callable[[Mapping[str, Any]], Any],
) -> Any:
    if not variants:
        return pick(view)
    return {"": pick(view), **{sku: pick(part) for sku, part in variants.items()}}


def write_fields(fields: frozenset[str]) -> frozenset[str]:
    """The record fields a decision's fields stand for (custom.x is custom, active brings salable)."""
    names = {name.split(".", 1)[0] for name in fields}
    return frozenset(names | {folded for folded, by in FOLDED.items() if by in names})


def decide(
    source: Mapping[str, Any],
    target: Mapping[str, Any],
    baseline: Mapping[str, str] | None,
    ownership: Ownership,
    source_name: str,
    target_name: str,
) -> FieldDecision:
    """Per field: write it, leave it, or record a conflict (see the module docstring for why)."""
    write: set[str] = set()
    conflicts: list[FieldConflict] = []
    after: dict[str, str] = dict(baseline or {})
    for name in sorted(set(source) | set(target)):
        value, found = source.get(name), target.get(name)
        mine, theirs = field_hash(value), field_hash(found)
        if mine == theirs:
            after[name] = mine
            continue
        base = (baseline or {}).get(name)
        owner, policy = ownership.owner(name), ownership.policy(name)
        side = EITHER if owner == EITHER else "source" if owner == source_name else "target"
        if owner not in (EITHER, source_name, target_name):
            side = "target"  # an owner outside the pair never has its field written here
        written, here, partner, clash = _field(name, side, policy, mine, theirs, base)
        if clash:
            conflicts.append(FieldConflict(name, owner, policy, value, found, here, partner))
        if written:
            write.add(name)
            after[name] = mine
    return FieldDecision(frozenset(write), tuple(conflicts), after)


def _field(
    name: str, side: str, policy: str, mine: str, theirs: str, base: str | None
) -> tuple[bool, bool, bool, bool]:
    """One differing field: (written, reverted here, reverted by the partner, a conflict)."""
    first = base is None
    source_changed, target_changed = first or mine != base, first or theirs != base
    if name == QUANTITY:
        return source_changed and side in ("source", EITHER), False, False, False
    if side == "source":
        if first or not target_changed:
            return True, False, False, False  # the owner's value, first or edited
        if not source_changed:  # the target edited a field it does not own
            revert = policy == REVERT
            return revert, revert, False, True
        return True, policy == REPORT, False, policy == REPORT  # both: the owner's edit wins
    if side == "target":
        if not first and source_changed:  # the source edited a field it does not own
            return False, False, policy == REVERT, True
        return False, False, False, False
    if first or (source_changed and target_changed):  # either: never silently lost
        return False, False, False, True
    return source_changed, False, False, False


def owned_record_fields(entity: str) -> frozenset[str]:
    """Every record field an ownership decides about (what an update keeps unless it writes it)."""
    return write_fields(OWNED_FIELDS.get(entity, frozenset()))


def partial_record(record: Record, current: Record, write: frozenset[str]) -> Record:
    """`record` as written over `current`: the parts an update cannot keep by field name take `current`'s.

    An update keeps top-level fields by name (`WriteItem.keep_on_update`); a product's variants and
    its custom fields travel whole, so their fields the decision does not write carry the target's
    own values (a variant matched by SKU), and are written back unchanged.
    """
    fields = write_fields(write)
    customs = {name.split(".", 1)[1] for name in write if name.startswith("custom.")}
    update: dict[str, Any] = {}
    if isinstance(record, Product | Variant) and isinstance(current, Product | Variant):
        update["custom"] = _custom_merge(record.custom, current.custom, customs)
    if isinstance(record, Product) and isinstance(current, Product):
        theirs = {variant.sku: variant for variant in current.variants}
        kept = owned_record_fields("product") - fields - {"custom"}
        variants = []
        for variant in record.variants:
            other = theirs.get(variant.sku)
            if other is None:
                variants.append(variant)
                continue
            keep = {name: getattr(other, name) for name in kept if name in Variant.model_fields}
            keep["custom"] = _custom_merge(variant.custom, other.custom, customs)
            variants.append(variant.model_copy(update=keep))
        update["variants"] = variants
    return record.model_copy(update=update) if update else record


def _custom_merge(mine: Mapping[str, Any], theirs: Mapping[str, Any], written: set[str]) -> dict[str, Any]:
    """The target's custom fields with the written ones (and only those) taken from the source."""
    merged = dict(theirs)
    for name in written:
        if name in mine:
            merged[name] = mine[name]
        else:
            merged.pop(name, None)
    return merged
