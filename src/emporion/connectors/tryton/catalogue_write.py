"""A shop's catalogue into Tryton: categories, and products as templates with variants, by name and SKU.

Categories are found by name under the same parent before one is made; Tryton's product.category
has no active flag, so a category deleted in the shop stays in Tryton (its products may hold it).
Products are written by `product_write.py`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.catalogue_writes import category_row, checked_categories, in_order, linked_ids, sends
from emporion.connectors.tryton.catalogue_batch import Batches, named
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.product_write import ProductWriter
from emporion.model import Category

# what the connector scans: catalogue categories, and salable templates that are not services
CATEGORY_DOMAIN: list[Any] = [("accounting", "=", False)]
TEMPLATE_DOMAIN: list[Any] = [("salable", "=", True), ("type", "!=", "service")]


def slug(name: str) -> str:
    """A category name as shops make their slugs (`Home & Garden` -> `home-garden`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class CatalogueWriter:
    """Creates and updates product categories, templates and variants; never stock or cost."""

    def __init__(self, client: TrytonClient, digits: Callable[[], Awaitable[int]]) -> None:
        self.client = client
        self.products = ProductWriter(client, digits)

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """One outcome per item (categories by name and parent, products by SKU)."""
        if entity == "product":
            return await self.products.write(upserts, deletes)
        return await self._write_categories(upserts, deletes)

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Products by SKU (`{"id": template, "variants": {sku: product}}`), categories by name or slug."""
        if entity == "product":
            return await self.products.lookup(natural_keys)
        keys = sorted({key for key in natural_keys if key})
        if not keys:
            return {}
        rows = await self.client.search_read(
            "product.category", [("name", "in", keys), *CATEGORY_DOMAIN], ["name"], order=[("id", "ASC")]
        )
        found: dict[str, dict[str, object]] = {}
        for row in rows:
            found.setdefault(row["name"], {"id": int(row["id"])})
        if set(keys) - set(found):  # a shop's slug: compare with every catalogue category's name
            async for page in self.client.pages("product.category", CATEGORY_DOMAIN, ["name"]):
                for row in page:
                    if slug(row["name"]) in keys:
                        found.setdefault(slug(row["name"]), {"id": int(row["id"])})
        return {key: found[key] for key in keys if key in found}

    async def count(self, entity: str) -> int:
        """Catalogue categories, or salable templates that are not services (what a scan gives)."""
        model, domain = (
            ("product.template", TEMPLATE_DOMAIN)
            if entity == "product"
            else ("product.category", CATEGORY_DOMAIN)
        )
        return int(await self.client.model(model, "search_count", domain))

    async def _write_categories(
        self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        checked, failed = checked_categories(upserts, "a Tryton category id")
        parents = sorted({parent for _, _, parent in checked if parent is not None})
        known = (
            {
                int(row["id"])
                for row in await self.client.search_read(
                    "product.category", [("id", "in", parents), *CATEGORY_DOMAIN], ["id"]
                )
            }
            if parents
            else set()
        )
        linked = linked_ids(item for item, _, _ in checked)
        current = (
            {
                int(row["id"]): row
                for row in await self.client.search_read(
                    "product.category",
                    [("id", "in", sorted(set(linked.values()))), *CATEGORY_DOMAIN],
                    ["name", "parent"],
                )
            }
            if linked
            else {}
        )
        names = sorted(
            {category.name for item, category, _ in checked if linked.get(item.key) not in current}
        )
        same_name: list[dict[str, Any]] = (
            await self.client.search_read(
                "product.category",
                [("name", "in", names), *CATEGORY_DOMAIN],
                ["name", "parent"],
                order=[("id", "ASC")],
            )
            if names
            else []
        )
        creates: dict[str, list[dict[str, Any]]] = {}
        writes: dict[str, list[tuple[list[int], dict[str, Any]]]] = {}
        homes: dict[str, tuple[int, OutcomeStatus]] = {}
        for item, category, parent in checked:
            if parent is not None and parent not in known:
                failed[item.key] = Permanent(
                    f"Tryton has no product category with id {parent}",
                    record=category.name,
                    field="parent_key",
                )
                continue
            row, status = category_row(
                linked.get(item.key), current, same_name, category, parent, lambda r: r["parent"]
            )
            if row is None:
                creates[item.key] = [{"name": category.name, "parent": parent}]
                continue
            homes[item.key] = (int(row["id"]), status)
            changes: dict[str, Any] = {}
            if sends(item, "name", False) and row["name"] != category.name:
                changes["name"] = category.name
            if sends(item, "parent_key", False) and row["parent"] != parent:
                changes["parent"] = parent
            if changes:
                writes[item.key] = [([int(row["id"])], changes)]
        batches = Batches(self.client, failed)
        created = await batches.create("product.category", creates)
        await batches.write("product.category", writes)
        homes.update({key: (ids[0], OutcomeStatus.CREATED) for key, ids in created.items()})
        written = {
            key: Outcome(key, status, target_ref={"id": ident}) for key, (ident, status) in homes.items()
        }
        labels = {
            item.key: item.record.name if isinstance(item.record, Category) else item.key for item in upserts
        }
        outcomes = in_order(upserts, written, failed, named, labels, "name")
        # Tryton's categories cannot be deactivated: a deleted one stays for the products it holds
        outcomes += [Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref) for item in deletes]
        return outcomes
