"""Writes product categories to WooCommerce, parents before children.

A `parent_key` normally holds the parent's WooCommerce id. When the parent is an unlinked item of
the same call (it has no id yet), `parent_key` holds that item's key: the parent is written in an
earlier batch and its new id is put in the child's body.
"""

from __future__ import annotations

from collections.abc import Sequence

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.woocommerce import lookup
from emporion.connectors.woocommerce.mapping import MappingError, category_to_wc
from emporion.connectors.woocommerce.writer import BatchWriter, category_of, linked_id
from emporion.model import Category


def in_call_parents(items: Sequence[WriteItem]) -> dict[str, str]:
    """Child key -> parent key, for the parents that are unlinked items of the same call."""
    unlinked = {item.key for item in items if linked_id(item) is None}
    parents = {item.key: category_of(item).parent_key for item in items}
    return {key: parent for key, parent in parents.items() if parent in unlinked and parent != key}


def category_levels(items: Sequence[WriteItem]) -> tuple[list[list[WriteItem]], list[WriteItem]]:
    """Items grouped so that every in-call parent is in an earlier group; the rest form cycles."""
    parents = in_call_parents(items)
    remaining = list(items)
    placed: set[str] = set()
    levels: list[list[WriteItem]] = []
    while remaining:
        level = [item for item in remaining if parents.get(item.key) is None or parents[item.key] in placed]
        if not level:
            return levels, remaining
        levels.append(level)
        placed.update(item.key for item in level)
        remaining = [item for item in remaining if item.key not in placed]
    return levels, []


class CategoryWriter(BatchWriter):
    """Upserts and deletes of product categories."""

    async def _resolve(
        self, items: Sequence[WriteItem], parent_ids: dict[str, int] | None = None
    ) -> dict[str, int]:
        """Existing categories by slug, or by name and parent for records without a slug."""
        slug_of = {item.key: category_of(item).slug or "" for item in items}
        by_slug = await lookup.find_categories_by_slug(self.client, slug_of.values())
        found = {key: by_slug[slug] for key, slug in slug_of.items() if slug in by_slug}
        nameless = [item for item in items if item.key not in found and not slug_of[item.key]]
        if nameless:
            by_name = await lookup.all_categories_by_name(self.client)
            for item in nameless:
                try:
                    wire = category_to_wc(category_of(item), (parent_ids or {}).get(item.key))
                    parent = int(wire["parent"])
                except MappingError:
                    continue  # reported when the item is sent
                ident = by_name.get((category_of(item).name, parent))
                if ident is not None:
                    found[item.key] = ident
        return found

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Upsert categories level by level, then delete categories permanently."""
        for item in (*upserts, *deletes):
            if not isinstance(category_of(item), Category):
                raise TypeError(f"item {item.key} is not a Category")
        outcomes: list[Outcome] = []
        levels, cyclic = category_levels(upserts)
        for item in cyclic:
            error = Permanent("category parents form a cycle", record=item.key, field="parent_key")
            outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
        parents = in_call_parents(upserts)
        written_ids: dict[str, int] = {}
        parent_ids: dict[str, int] = {}  # child key -> WooCommerce id of its parent written in this call
        for level in levels:
            ready: list[WriteItem] = []
            for item in level:
                parent = parents.get(item.key)
                if parent is not None and parent not in written_ids:
                    error = Permanent(f"parent category {parent} failed", record=item.key, field="parent_key")
                    outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
                    continue
                if parent is not None:
                    parent_ids[item.key] = written_ids[parent]
                ready.append(item)
            if ready:
                outcomes.extend(await self._write_level(ready, parent_ids, written_ids))
        if deletes:
            outcomes.extend(await self._delete(lookup.CATEGORIES, deletes, self._resolve))
        return outcomes

    async def _write_level(
        self, ready: list[WriteItem], parent_ids: dict[str, int], written_ids: dict[str, int]
    ) -> list[Outcome]:
        written = await self._upsert(
            lookup.CATEGORIES,
            ready,
            lambda item: category_to_wc(category_of(item), parent_ids.get(item.key)),
            lambda items: self._resolve(items, parent_ids),
        )
        outcomes: list[Outcome] = []
        for item in ready:
            (_ident, status), result = written[item.key]
            if result.error is not None:
                outcomes.append(
                    Outcome(item.key, OutcomeStatus.FAILED, error=result.error.as_error(item.key))
                )
            else:
                written_ids[item.key] = int((result.data or {})["id"])
                outcomes.append(Outcome(item.key, status, {"id": written_ids[item.key]}))
        return outcomes
