"""A shop's catalogue into Odoo: categories, and products as templates with variants, by name and SKU.

Categories are found by name under the same parent before one is made; Odoo's product.category has
no active flag, so a category deleted in the shop stays in Odoo (its products may hold it).
Products are written by `product_write.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.catalogue_writes import category_row, checked_categories, in_order, linked_ids, sends
from emporion.connectors.odoo.catalogue import SCOPE
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.mapping import ref_id
from emporion.connectors.odoo.product_parts import create_each, named
from emporion.connectors.odoo.product_write import ProductWriter
from emporion.connectors.odoo.settings import OdooConnection


class OdooCatalogueWriter:
    """Creates and updates product categories, templates and variants; never stock or cost."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        self.client = client
        self.settings = settings
        self.products = ProductWriter(client, settings.page_size)

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """One outcome per item (categories by name and parent, products by SKU)."""
        if entity == "product":
            return await self.products.write(upserts, deletes)
        return await self._write_categories(upserts, deletes)

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Products by SKU (`{"id": template, "variants": {sku: product}}`), categories by name."""
        if entity == "product":
            return await self.products.lookup(natural_keys)
        keys = sorted({key for key in natural_keys if key})
        if not keys:
            return {}
        found: dict[str, dict[str, object]] = {}
        for field in ("complete_name", "name"):
            rows = await self.client.search_read(
                "product.category", [(field, "in", keys)], [field], order="id"
            )
            for row in rows:
                found.setdefault(str(row[field]), {"id": int(row["id"])})
        return {key: found[key] for key in keys if key in found}

    async def count(self, entity: str) -> int:
        """Categories, or the templates a catalogue scan gives (salable, neither service nor combo)."""
        if entity == "product":
            return await self.client.search_count("product.template", list(SCOPE))
        return await self.client.search_count("product.category", [])

    async def _write_categories(
        self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        checked, failed = checked_categories(upserts, "an Odoo category id")
        parents = sorted({parent for _, _, parent in checked if parent is not None})
        known = (
            set(await self.client.search("product.category", [("id", "in", parents)])) if parents else set()
        )
        linked = linked_ids(item for item, _, _ in checked)
        current = {
            int(row["id"]): row
            for row in (
                await self.client.read(
                    "product.category", sorted(set(linked.values())), ["name", "parent_id"]
                )
                if linked
                else []
            )
        }
        names = sorted(
            {category.name for item, category, _ in checked if linked.get(item.key) not in current}
        )
        same_name = (
            await self.client.search_read(
                "product.category", [("name", "in", names)], ["name", "parent_id"], order="id"
            )
            if names
            else []
        )
        creates: dict[str, dict[str, Any]] = {}
        homes: dict[str, tuple[int, OutcomeStatus]] = {}
        for item, category, parent in checked:
            if parent is not None and parent not in known:
                failed[item.key] = Permanent(
                    f"Odoo has no product category with id {parent}", record=category.name, field="parent_key"
                )
                continue
            row, status = category_row(
                linked.get(item.key), current, same_name, category, parent, lambda r: ref_id(r["parent_id"])
            )
            if row is None:
                creates[item.key] = {"name": category.name, "parent_id": parent or False}
                continue
            changes: dict[str, Any] = {}
            if sends(item, "name", False) and row["name"] != category.name:
                changes["name"] = category.name
            if sends(item, "parent_key", False) and ref_id(row["parent_id"]) != parent:
                changes["parent_id"] = parent or False
            try:
                if changes:
                    await self.client.write("product.category", [int(row["id"])], changes)
                homes[item.key] = (int(row["id"]), status)
            except ConnectorError as error:
                failed[item.key] = error
        created = await create_each(self.client, "product.category", creates, failed)
        homes.update({key: (ident, OutcomeStatus.CREATED) for key, ident in created.items()})
        labels = {item.key: category.name for item, category, _ in checked}
        written = {
            key: Outcome(key, status, target_ref={"id": ident}) for key, (ident, status) in homes.items()
        }
        outcomes = in_order(upserts, written, failed, named, labels, "name")
        # Odoo's categories cannot be archived: a deleted one stays for the products it holds
        outcomes += [Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref) for item in deletes]
        return outcomes
