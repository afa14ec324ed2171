"""A shop's products into Tryton: a template per product and a product.product per variant, by SKU.

Codes: the template's code is the product's SKU and each variant's suffix the rest of its SKU when
every variant SKU starts with the product's; otherwise the template has no code and each suffix is
the whole variant SKU (Tryton's variant code is template code + suffix). Stock, cost and images are
never written; a variant gone from the record and a deleted product are deactivated, never deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.attributes import Attributes, value_problem
from emporion.connectors.tryton.catalogue_batch import ALL_ROWS, Batches, named
from emporion.connectors.tryton.catalogue_defaults import CreateDefaults, TemplateDefaults
from emporion.connectors.tryton.client import TrytonClient
from emporion.model import Product

TEMPLATE_READ = ["name", "code", "active", "salable", "list_price", "categories", "weight", "weight_uom"]
PRODUCT_READ = ["code", "suffix_code", "template", "attributes", "active", "description", "list_price"]


@dataclass(frozen=True)
class Wanted:
    """One product.product as the record wants it."""

    sku: str
    suffix: str
    attributes: dict[str, str]
    list_price: Decimal | None  # the variant's own price; None: the template's
    active: bool


@dataclass
class Plan:
    """What one item asks of Tryton: a template to create, or writes to an existing one."""

    item: WriteItem
    product: Product
    label: str
    status: OutcomeStatus
    template: int | None = None
    create: dict[str, Any] | None = None
    template_write: dict[str, Any] = field(default_factory=dict)
    product_writes: list[tuple[list[int], dict[str, Any]]] = field(default_factory=list)
    product_creates: list[dict[str, Any]] = field(default_factory=list)
    deactivate: list[int] = field(default_factory=list)


def label_of(product: Product, key: str) -> str:
    """How errors name a product: its SKU, else its first variant's, else its key."""
    return product.sku or next((variant.sku for variant in product.variants if variant.sku), "") or key


def codes_of(product: Product) -> tuple[str, dict[str, str]]:
    """The template code and each variant SKU's suffix (see the module's docstring)."""
    if not product.variants:
        return product.sku, {product.sku: ""}
    skus = [variant.sku for variant in product.variants]
    if product.sku and all(sku.startswith(product.sku) and sku != product.sku for sku in skus):
        return product.sku, {sku: sku[len(product.sku) :] for sku in skus}
    return "", {sku: sku for sku in skus}


def sends(item: WriteItem, name: str, creating: bool) -> bool:
    """Whether canonical field `name` is written: always on create; on update when sent and not kept."""
    if creating:
        return True
    if item.only is not None and name not in item.only:
        return False
    return name not in item.keep_on_update


def _check(item: WriteItem) -> Product:
    """The item's product, or Permanent naming what Tryton cannot take (SKUs, attribute values, ids)."""
    product = item.record
    if not isinstance(product, Product):
        raise Permanent(f"not a product: {type(product).__name__}", record=item.key, field="record")
    label = label_of(product, item.key)
    if not product.variants and not product.sku:
        raise Permanent("a product without SKU cannot be matched in Tryton", record=label, field="sku")
    skus = [variant.sku for variant in product.variants]
    if any(not sku for sku in skus) or len(set(skus)) != len(skus):
        raise Permanent("every variant needs a SKU of its own", record=label, field="variants.sku")
    for variant in product.variants:
        for name, value in variant.attributes.items():
            problem = value_problem(value) if name.strip() else "has no attribute name"
            if problem:
                raise Permanent(
                    f"attribute {name!r} value {value!r} {problem}",
                    record=variant.sku,
                    field="variants.attributes",
                )
    for category in product.categories:
        if not (category.isascii() and category.isdigit()):
            raise Permanent(
                f"category {category!r} is not a Tryton category id", record=label, field="categories"
            )
    return product


def _same(left: Any, right: Any) -> bool:
    numbers = (Decimal, float, int)
    if isinstance(left, bool) or isinstance(right, bool):
        return bool(left) == bool(right)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return Decimal(str(left)) == Decimal(str(right))
    return bool(left == right) or (not left and not right and left is not False and right is not False)


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
        if not wanted:
            return {}
        products = await self.client.search_read(
            "product.product", [("code", "in", wanted)], ["code", "template", "active"], context=ALL_ROWS
        )
        templates = await self.client.search_read(
            "product.template", [("code", "in", wanted)], ["code", "active"], context=ALL_ROWS
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
        if templates:
            rows = await self.client.search_read(
                "product.product",
                [("template", "in", sorted(set(templates)))],
                PRODUCT_READ,
                context=ALL_ROWS,
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
        failed: dict[str, ConnectorError] = {}
        labels: dict[str, str] = {}
        checked: list[tuple[WriteItem, Product]] = []
        for item in upserts:
            try:
                product = _check(item)
            except Permanent as error:
                failed[item.key] = error
                labels[item.key] = item.key
                continue
            labels[item.key] = label_of(product, item.key)
            checked.append((item, product))
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
        outcomes = await self._outcomes(plans, failed)
        outcomes += [
            Outcome(key, OutcomeStatus.FAILED, error=named(error, labels.get(key, key), "product"))
            for key, error in failed.items()
            if key not in {outcome.key for outcome in outcomes}
        ]
        order = {item.key: position for position, item in enumerate(upserts)}
        outcomes.sort(key=lambda outcome: order.get(outcome.key, len(order)))
        return outcomes + await self._deactivate(deletes)

    async def _plans(
        self, checked: list[tuple[WriteItem, Product]], failed: dict[str, ConnectorError]
    ) -> list[Plan]:
        """Where each item lives in Tryton (link, else SKU) and what to send it."""
        linked = {
            item.key: int(ref["id"])
            for item, _ in checked
            if (ref := item.target_ref) and str(ref.get("id", "")).isdigit()
        }
        templates = await self._templates(list(linked.values()))
        unlinked = [(item, product) for item, product in checked if linked.get(item.key) not in templates]
        skus = [sku for _, product in unlinked for sku in [product.sku, *(v.sku for v in product.variants)]]
        found = await self.find(skus)
        homes: dict[str, tuple[int, OutcomeStatus]] = {
            key: (ident, OutcomeStatus.UPDATED) for key, ident in linked.items() if ident in templates
        }
        for item, product in unlinked:
            for sku in [product.sku, *(variant.sku for variant in product.variants)]:
                if sku in found:
                    homes[item.key] = (found[sku], OutcomeStatus.MATCHED)
                    break
        templates.update(
            await self._templates([ident for ident, _ in homes.values() if ident not in templates])
        )
        rows = await self.variants([ident for ident, _ in homes.values()])
        await self._check_categories(checked, homes, failed)
        attribute_ids, attribute_problems = await self.attributes.ensure(_merge_values(checked, failed))
        digits = await self.digits()
        plans = []
        for item, product in checked:
            if item.key in failed:
                continue
            label = label_of(product, item.key)
            try:
                names = {name for variant in product.variants for name in variant.attributes}
                for name in sorted(names):
                    if name in attribute_problems:
                        raise attribute_problems[name]
                home = homes.get(item.key)
                if home is None:
                    plans.append(await self._create_plan(item, product, label, digits, attribute_ids))
                else:
                    ident, status = home
                    plan = Plan(item, product, label, status, template=ident)
                    await self._update_plan(
                        plan, templates[ident], rows.get(ident, []), digits, attribute_ids
                    )
                    plans.append(plan)
            except Permanent as error:
                failed[item.key] = named(error, label, "product")
        return plans

    async def _check_categories(
        self,
        checked: list[tuple[WriteItem, Product]],
        homes: dict[str, Any],
        failed: dict[str, ConnectorError],
    ) -> None:
        """Categories are Tryton ids already (the flow resolved them): each must be a catalogue category."""
        sent = [
            (item, product)
            for item, product in checked
            if product.categories and sends(item, "categories", item.key not in homes)
        ]
        ids = sorted({int(category) for _, product in sent for category in product.categories})
        if not ids:
            return
        rows = await self.client.search_read(
            "product.category", [("id", "in", ids), ("accounting", "=", False)], ["id"]
        )
        known = {str(row["id"]) for row in rows}
        for item, product in sent:
            missing = [category for category in product.categories if category not in known]
            if missing:
                failed[item.key] = Permanent(
                    f"Tryton has no product category with id {', '.join(missing)}",
                    record=label_of(product, item.key),
                    field="categories",
                )

    def _prices(self, product: Product, digits: int) -> tuple[Decimal | None, dict[str, Decimal | None]]:
        """The template's list price, and each variant's own price where it differs from it."""
        unit = Decimal(1).scaleb(-digits)

        def money(value: Decimal | None) -> Decimal | None:
            return None if value is None else value.quantize(unit, rounding=ROUND_HALF_UP)

        prices = [money(variant.list_price) for variant in product.variants]
        template = money(product.list_price)
        if template is None and any(price is not None for price in prices):
            template = min(price for price in prices if price is not None)
        own = {
            variant.sku: price if price is not None and price != template else None
            for variant, price in zip(product.variants, prices, strict=True)
        }
        return template, own

    @staticmethod
    def _wanted(product: Product, own: dict[str, Decimal | None]) -> list[Wanted]:
        _, suffixes = codes_of(product)
        if not product.variants:
            return [Wanted(product.sku, "", {}, None, True)]
        return [
            Wanted(
                variant.sku,
                suffixes[variant.sku],
                dict(variant.attributes),
                own.get(variant.sku),
                variant.active,
            )
            for variant in product.variants
        ]

    async def _weight(self, product: Product) -> dict[str, Any]:
        if product.weight is None:
            return {"weight": None}
        kg, digits = await self._kilogram()
        return {"weight": float(round(product.weight, digits)), "weight_uom": kg}

    async def _attribute_set(self, product: Product, ids: dict[str, int], current: int | None) -> int | None:
        names = {name for variant in product.variants for name in variant.attributes}
        if not names:
            return current
        return await self.attributes.attribute_set([ids[name] for name in names], current)

    async def _create_plan(
        self, item: WriteItem, product: Product, label: str, digits: int, attribute_ids: dict[str, int]
    ) -> Plan:
        defaults: TemplateDefaults = await self.defaults.resolve(item.defaults)
        template_price, own = self._prices(product, digits)
        code, _ = codes_of(product)
        variants = []
        for wanted in self._wanted(product, own):
            values: dict[str, Any] = {
                "suffix_code": wanted.suffix,
                "description": product.description or None,
                "active": wanted.active,
            }
            if product.variants:
                values["attributes"] = wanted.attributes
            if wanted.list_price is not None:
                values["list_price"] = wanted.list_price
            variants.append(values)
        values = {
            "name": product.name,
            "code": code or None,
            "type": defaults.type,
            "default_uom": defaults.unit,
            "sale_uom": defaults.unit,
            "salable": product.salable if defaults.salable is None else defaults.salable,
            "active": product.active,
            "list_price": template_price,
            "products": [("create", variants)],
        }
        if defaults.account_category is not None:
            values["account_category"] = defaults.account_category
        if product.categories:
            values["categories"] = [("add", sorted(int(category) for category in product.categories))]
        if product.weight is not None:
            values.update(await self._weight(product))
        if product.variants:
            values["attribute_set"] = await self._attribute_set(product, attribute_ids, None)
        return Plan(item, product, label, OutcomeStatus.CREATED, create=values)

    async def _update_plan(
        self,
        plan: Plan,
        current: dict[str, Any],
        rows: list[dict[str, Any]],
        digits: int,
        attribute_ids: dict[str, int],
    ) -> None:
        """Writes that bring the template and its variants to the record, for the fields it sends."""
        item, product = plan.item, plan.product

        def send(name: str) -> bool:
            return sends(item, name, False)

        template_price, own = self._prices(product, digits)
        code, _ = codes_of(product)
        wanted_values: dict[str, tuple[str, Any]] = {
            "name": ("name", product.name),
            "sku": ("code", code or None),
            "active": ("active", product.active),
            "salable": ("salable", product.salable),
            "list_price": ("list_price", template_price),
        }
        changes = plan.template_write
        for canonical, (name, value) in wanted_values.items():
            if send(canonical) and not _same(current.get(name), value):
                changes[name] = value
        if send("categories"):
            have = {int(category) for category in current.get("categories") or []}
            want = {int(category) for category in product.categories}
            moves = [
                (action, sorted(ids))
                for action, ids in (("add", want - have), ("remove", have - want))
                if ids
            ]
            if moves:
                changes["categories"] = moves
        if send("weight"):
            weight = await self._weight(product)
            if not _same(current.get("weight"), weight["weight"]) or (
                "weight_uom" in weight and current.get("weight_uom") != weight["weight_uom"]
            ):
                changes.update(weight)
        if product.variants and (send("attributes") or send("variants")):
            chosen = await self._attribute_set(product, attribute_ids, current.get("attribute_set"))
            if chosen != current.get("attribute_set"):
                changes["attribute_set"] = chosen
        self._variant_writes(plan, rows, own)

    def _variant_writes(self, plan: Plan, rows: list[dict[str, Any]], own: dict[str, Decimal | None]) -> None:
        item, product = plan.item, plan.product

        def send(name: str) -> bool:
            return sends(item, name, False)

        by_code = {row["code"]: row for row in rows if row.get("code")}
        active_rows = [row for row in rows if row["active"]]
        matched: set[int] = set()
        for wanted in self._wanted(product, own):
            row = by_code.get(wanted.sku)
            if row is None and not product.variants and len(active_rows) == 1:
                row = active_rows[0]  # a simple product whose SKU changed: the same product.product
            if row is None:
                if send("variants") or send("sku"):
                    values: dict[str, Any] = {
                        "template": plan.template,
                        "suffix_code": wanted.suffix,
                        "description": product.description or None,
                        "active": wanted.active,
                    }
                    if product.variants:
                        values["attributes"] = wanted.attributes
                    if wanted.list_price is not None:
                        values["list_price"] = wanted.list_price
                    plan.product_creates.append(values)
                continue
            matched.add(row["id"])
            changes: dict[str, Any] = {}
            if send("sku") and (row.get("suffix_code") or "") != wanted.suffix:
                changes["suffix_code"] = wanted.suffix
            if send("description") and (row.get("description") or "") != product.description:
                changes["description"] = product.description or None
            if product.variants and (send("attributes") or send("variants")):
                if (row.get("attributes") or {}) != wanted.attributes:
                    changes["attributes"] = wanted.attributes
            if (
                product.variants
                and send("list_price")
                and not _same(row.get("list_price"), wanted.list_price)
            ):
                changes["list_price"] = wanted.list_price
            if (send("active") or send("variants")) and row["active"] != wanted.active:
                if wanted.active:
                    changes["active"] = True
                else:
                    plan.deactivate.append(row["id"])
            if changes:
                plan.product_writes.append(([row["id"]], changes))
        if send("variants"):
            plan.deactivate += [row["id"] for row in active_rows if row["id"] not in matched]

    async def _outcomes(self, plans: list[Plan], failed: dict[str, ConnectorError]) -> list[Outcome]:
        """Each written item's outcome with its reference; a variant whose code is not its SKU fails it."""
        done = [plan for plan in plans if plan.item.key not in failed and plan.template is not None]
        rows = await self.variants([plan.template for plan in done if plan.template is not None])
        outcomes = []
        for plan in done:
            assert plan.template is not None
            variants = rows.get(plan.template, [])
            codes = {row["code"] for row in variants if row["active"]}
            expected = [wanted.sku for wanted in self._wanted(plan.product, {}) if wanted.active]
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
            outcomes.append(Outcome(plan.item.key, plan.status, target_ref=ref))
        return outcomes

    async def _deactivate(self, deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Deleted products: their templates deactivated (Tryton keeps their history and stock)."""
        idents = {
            item.key: int(ref["id"])
            for item in deletes
            if (ref := item.target_ref) and str(ref.get("id", "")).isdigit()
        }
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
        outcomes = []
        for item in deletes:
            error = failed.get(item.key)
            if error is None:
                outcomes.append(Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref))
                continue
            product = item.record
            label = label_of(product, item.key) if isinstance(product, Product) else item.key
            outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=named(error, label, "active")))
        return outcomes


def _merge_values(
    checked: list[tuple[WriteItem, Product]], failed: dict[str, ConnectorError]
) -> dict[str, set[str]]:
    """Every attribute value the batch's variants use, by attribute name."""
    values: dict[str, set[str]] = {}
    for item, product in checked:
        if item.key in failed:
            continue
        for variant in product.variants:
            for name, value in variant.attributes.items():
                values.setdefault(name, set()).add(value)
    return values


def _variant_ids(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {str(row["code"]): int(row["id"]) for row in rows if row.get("code")}
