"""A shop's products into Tryton: a template per product and a product.product per variant, by SKU.

Each batch is read in a few requests (the links' templates, the SKUs of the unlinked, their
variants), planned (`product_plan.py`), and written in a few more: one create for the new templates
with their variants, one write for the changed templates, one each for variants changed, added and
deactivated. Stock, cost and images are never written; a variant gone from the record and a deleted
product are deactivated, never deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.catalogue_writes import (
    Checked,
    Home,
    attribute_values,
    check_categories,
    checked_products,
    deleted,
    in_order,
    label_of,
    linked_ids,
    matched_by_sku,
    refuse_unusable,
    sends,
    skus_of,
)
from emporion.connectors.tryton.attributes import Attributes
from emporion.connectors.tryton.catalogue_batch import ALL_ROWS, Batches, named
from emporion.connectors.tryton.catalogue_defaults import CreateDefaults
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.product_plan import (
    Facts,
    Plan,
    check_product,
    create_plan,
    update_plan,
    wanted_variants,
)
from emporion.model import Product

TEMPLATE_READ = ["name", "code", "active", "salable", "list_price", "categories", "weight", "weight_uom"]
SEARCH_CHUNK = 500  # values per `in` of one search: a batch's SKUs stay within SQLite's limits
PRODUCT_READ = ["code", "suffix_code", "template", "attributes", "active", "description", "list_price"]


class ProductWriter:
    """Creates and updates templates and variants in batches; deactivates, never deletes."""

    def __init__(self, client: TrytonClient, digits: Callable[[], Awaitable[int]]) -> None:
        self.client = client
        self.digits = digits
        self.defaults = CreateDefaults(client)
        self.attributes = Attributes(client)
        self._kg: tuple[int, int] | None = None  # the kilogram unit's id and digits

    # -- reads ------------------------------------------------------------------------------------

    async def find(self, skus: Sequence[str]) -> dict[str, int]:
        """The template behind each SKU (a variant's code or a template's), active ones first."""
        wanted = sorted({sku for sku in skus if sku})
        products: list[dict[str, Any]] = []
        templates: list[dict[str, Any]] = []
        for start in range(0, len(wanted), SEARCH_CHUNK):
            chunk = wanted[start : start + SEARCH_CHUNK]
            products += await self.client.search_read(
                "product.product", [("code", "in", chunk)], ["code", "template", "active"], context=ALL_ROWS
            )
            templates += await self.client.search_read(
                "product.template", [("code", "in", chunk)], ["code", "active"], context=ALL_ROWS
            )
        found: dict[str, int] = {}
        for row in sorted(products, key=lambda row: (not row["active"], row["id"])):
            found.setdefault(row["code"], int(row["template"]))
        for row in sorted(templates, key=lambda row: (not row["active"], row["id"])):
            found.setdefault(row["code"], int(row["id"]))
        return found

    async def variants(self, templates: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Every product.product (active or not) of these templates, by template."""
        by_template: dict[int, list[dict[str, Any]]] = {ident: [] for ident in templates}
        ids = sorted(set(templates))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), SEARCH_CHUNK):
            chunk = ids[start : start + SEARCH_CHUNK]
            rows += await self.client.search_read(
                "product.product", [("template", "in", chunk)], PRODUCT_READ, context=ALL_ROWS
            )
        for row in sorted(rows, key=lambda row: row["id"]):
            by_template.setdefault(int(row["template"]), []).append(row)
        return by_template

    async def lookup(self, skus: Sequence[str]) -> dict[str, dict[str, object]]:
        """`{sku: {"id": template id, "variants": {sku: product id}}}` for the SKUs Tryton holds."""
        found = await self.find(skus)
        rows = await self.variants(sorted(set(found.values())))
        return {sku: {"id": ident, "variants": _variant_ids(rows[ident])} for sku, ident in found.items()}

    async def _templates(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = await self.client.search_read(
            "product.template",
            [("id", "in", sorted(set(ids)))],
            [*TEMPLATE_READ, "attribute_set"],
            context=ALL_ROWS,
        )
        return {int(row["id"]): row for row in rows}

    async def _kilogram(self) -> tuple[int, int]:
        if self._kg is None:
            rows = await self.client.search_read("product.uom", [("symbol", "=", "kg")], ["digits"], limit=1)
            if not rows:
                raise Permanent("Tryton has no unit with symbol kg for weights", field="weight")
            self._kg = (int(rows[0]["id"]), int(rows[0]["digits"]))
        return self._kg

    # -- writes ----------------------------------------------------------------------------------

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per item; a record Tryton refuses fails alone, naming its SKU and field."""
        checked, failed, labels = checked_products(upserts, check_product)
        self.attributes.forget()
        plans = await self._plans(checked, failed)
        batches = Batches(self.client, failed)
        created = await batches.create(
            "product.template", {p.item.key: [p.create] for p in plans if p.create}
        )
        for plan in plans:
            if plan.create is not None and plan.item.key in created:
                plan.template = created[plan.item.key][0]
        updates = [plan for plan in plans if plan.create is None]
        await batches.write(
            "product.template",
            {
                p.item.key: [([p.template], p.template_write)]
                for p in updates
                if p.template and p.template_write
            },
        )
        await batches.write("product.product", {p.item.key: p.product_writes for p in updates})
        await batches.create("product.product", {p.item.key: p.product_creates for p in updates})
        await batches.write(
            "product.product",
            {p.item.key: [(p.deactivate, {"active": False})] for p in updates if p.deactivate},
        )
        written = await self._outcomes(plans, failed)
        return in_order(upserts, written, failed, named, labels, "product") + await self._deactivate(deletes)

    async def _plans(self, checked: Checked, failed: dict[str, ConnectorError]) -> list[Plan]:
        """Where each item lives in Tryton (link, else SKU) and what to send it."""
        linked = linked_ids(item for item, _ in checked)
        templates = await self._templates(list(linked.values()))
        unlinked = [(item, product) for item, product in checked if linked.get(item.key) not in templates]
        found = await self.find([sku for _, product in unlinked for sku in skus_of(product)])
        homes: dict[str, Home] = {
            key: (ident, OutcomeStatus.UPDATED) for key, ident in linked.items() if ident in templates
        }
        homes.update(matched_by_sku(unlinked, found))
        templates.update(
            await self._templates([ident for ident, _ in homes.values() if ident not in templates])
        )
        rows = await self.variants([ident for ident, _ in homes.values()])
        await check_categories(checked, homes, failed, self._catalogue_categories, "Tryton")
        attribute_ids, attribute_problems = await self.attributes.ensure(attribute_values(checked, failed))
        digits = await self.digits()
        plans = []
        for item, product in checked:
            if item.key in failed:
                continue
            label = label_of(product, item.key)
            home = homes.get(item.key)
            try:
                refuse_unusable(product, attribute_problems)
                current = templates[home[0]] if home else None
                facts = await self._facts(item, product, digits, attribute_ids, current)
                if home is None:
                    plans.append(
                        create_plan(item, product, await self.defaults.resolve(item.defaults), facts)
                    )
                    continue
                plan = Plan(item, product, label, home[1], template=home[0])
                update_plan(plan, templates[home[0]], rows.get(home[0], []), facts)
                plans.append(plan)
            except Permanent as error:
                failed[item.key] = named(error, label, "product")
        return plans

    async def _facts(
        self,
        item: WriteItem,
        product: Product,
        digits: int,
        attribute_ids: dict[str, int],
        current: dict[str, Any] | None,
    ) -> Facts:
        """The kilogram unit for a weight, and the attribute set when the variants' attributes are sent."""
        kg = await self._kilogram() if product.weight is not None else None
        names = {name for variant in product.variants for name in variant.attributes}
        creating = current is None
        chosen = None
        if names and (sends(item, "attributes", creating) or sends(item, "variants", creating)):
            existing = current.get("attribute_set") if current else None
            chosen = await self.attributes.attribute_set([attribute_ids[name] for name in names], existing)
        return Facts(digits=digits, kg=kg, attribute_set=chosen)

    async def _catalogue_categories(self, ids: list[int]) -> set[str]:
        """Which of these ids are catalogue categories (Tryton's account categories are not)."""
        rows = await self.client.search_read(
            "product.category", [("id", "in", ids), ("accounting", "=", False)], ["id"]
        )
        return {str(row["id"]) for row in rows}

    async def _outcomes(self, plans: list[Plan], failed: dict[str, ConnectorError]) -> dict[str, Outcome]:
        """Each written item's outcome with its reference; a variant whose code is not its SKU fails it."""
        done = [plan for plan in plans if plan.item.key not in failed and plan.template is not None]
        rows = await self.variants([plan.template for plan in done if plan.template is not None])
        outcomes: dict[str, Outcome] = {}
        for plan in done:
            assert plan.template is not None
            variants = rows.get(plan.template, [])
            codes = {row["code"] for row in variants if row["active"]}
            expected = [wanted.sku for wanted in wanted_variants(plan.product, {}) if wanted.active]
            wrong = [
                sku
                for sku in expected
                if sku not in codes and sends(plan.item, "sku", plan.create is not None)
            ]
            if wrong:
                reason = (
                    f"Tryton gave no active variant the code {', '.join(wrong)}"
                    " (does a product sequence in Tryton's product configuration number the variants?)"
                )
                failed[plan.item.key] = Permanent(reason, record=plan.label, field="sku")
                continue
            ref = {"id": plan.template, "variants": _variant_ids(variants)}
            outcomes[plan.item.key] = Outcome(plan.item.key, plan.status, target_ref=ref)
        return outcomes

    async def _deactivate(self, deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Deleted products: their templates deactivated (Tryton keeps their history and stock)."""
        idents = linked_ids(deletes)
        templates = await self._templates(list(idents.values()))
        failed: dict[str, ConnectorError] = {}
        await Batches(self.client, failed).write(
            "product.template",
            {
                key: [([ident], {"active": False})]
                for key, ident in idents.items()
                if ident in templates and templates[ident]["active"]
            },
        )
        return deleted(deletes, failed, named)


def _variant_ids(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {str(row["code"]): int(row["id"]) for row in rows if row.get("code")}
