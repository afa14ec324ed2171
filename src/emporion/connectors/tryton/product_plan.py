"""What one shop product asks of Tryton: a template with its variants to create, or the writes that
bring an existing template and its variants to the record for the fields the item sends.

Codes: the template's code is the product's SKU and each variant's suffix the rest of its SKU when
every variant SKU starts with the product's; otherwise the template has no code and each suffix is
the whole variant SKU (Tryton's variant code is template code + suffix).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.catalogue_writes import ProductPlan, label_of, same, sends
from emporion.connectors.catalogue_writes import check_product as shared_check
from emporion.connectors.tryton.attributes import value_problem
from emporion.connectors.tryton.catalogue_defaults import TemplateDefaults
from emporion.model import Product


@dataclass(frozen=True)
class Wanted:
    """One product.product as the record wants it."""

    sku: str
    suffix: str
    attributes: dict[str, str]
    list_price: Decimal | None  # the variant's own price; None: the template's
    active: bool


@dataclass
class Plan(ProductPlan):
    """What one item asks of Tryton: a template to create, or writes to an existing one."""

    product_writes: list[tuple[list[int], dict[str, Any]]] = field(default_factory=list)
    product_creates: list[dict[str, Any]] = field(default_factory=list)
    deactivate: list[int] = field(default_factory=list)


def codes_of(product: Product) -> tuple[str, dict[str, str]]:
    """The template code and each variant SKU's suffix (see the module's docstring)."""
    if not product.variants:
        return product.sku, {product.sku: ""}
    skus = [variant.sku for variant in product.variants]
    if product.sku and all(sku.startswith(product.sku) and sku != product.sku for sku in skus):
        return product.sku, {sku: sku[len(product.sku) :] for sku in skus}
    return "", {sku: sku for sku in skus}


def check_product(item: WriteItem) -> Product:
    """The item's product, or Permanent naming what Tryton cannot take (SKUs, attribute values, ids)."""
    return shared_check(item, "Tryton", "a Tryton category id", _check_values)


def _check_values(product: Product, label: str) -> None:
    """Each attribute value must be able to be a selection key of a named attribute."""
    for variant in product.variants:
        for name, value in variant.attributes.items():
            problem = value_problem(value) if name.strip() else "has no attribute name"
            if problem:
                raise Permanent(
                    f"attribute {name!r} value {value!r} {problem}",
                    record=variant.sku,
                    field="variants.attributes",
                )


@dataclass(frozen=True)
class Facts:
    """What planning one product needs from Tryton: currency digits, the kilogram unit, the set."""

    digits: int
    kg: tuple[int, int] | None = None  # the kilogram unit's id and digits (for a product with a weight)
    attribute_set: int | None = None  # the set the template should carry (None: leave it)


def prices(product: Product, digits: int) -> tuple[Decimal | None, dict[str, Decimal | None]]:
    """The template's list price (rounded to the currency), and each variant's own where it differs."""
    unit = Decimal(1).scaleb(-digits)

    def money(value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(unit, rounding=ROUND_HALF_UP)

    variant_prices = [money(variant.list_price) for variant in product.variants]
    template = money(product.list_price)
    if template is None and any(price is not None for price in variant_prices):
        template = min(price for price in variant_prices if price is not None)
    own = {
        variant.sku: price if price is not None and price != template else None
        for variant, price in zip(product.variants, variant_prices, strict=True)
    }
    return template, own


def wanted_variants(product: Product, own: dict[str, Decimal | None]) -> list[Wanted]:
    """The product.product rows the record wants (a simple product: one, without suffix)."""
    _, suffixes = codes_of(product)
    if not product.variants:
        return [Wanted(product.sku, "", {}, None, True)]
    return [
        Wanted(
            variant.sku, suffixes[variant.sku], dict(variant.attributes), own.get(variant.sku), variant.active
        )
        for variant in product.variants
    ]


def weight_values(product: Product, kg: tuple[int, int] | None) -> dict[str, Any]:
    """The template's weight in kilograms, rounded to the unit's digits."""
    if product.weight is None or kg is None:
        return {"weight": None}
    return {"weight": float(round(product.weight, kg[1])), "weight_uom": kg[0]}


def _new_variant(product: Product, wanted: Wanted) -> dict[str, Any]:
    values: dict[str, Any] = {
        "suffix_code": wanted.suffix,
        "description": product.description or None,
        "active": wanted.active,
    }
    if product.variants:
        values["attributes"] = wanted.attributes
    if wanted.list_price is not None:
        values["list_price"] = wanted.list_price
    return values


def create_plan(item: WriteItem, product: Product, defaults: TemplateDefaults, facts: Facts) -> Plan:
    """A new template with its variants, the create defaults filling what the shop does not carry."""
    template_price, own = prices(product, facts.digits)
    code, _ = codes_of(product)
    values: dict[str, Any] = {
        "name": product.name,
        "code": code or None,
        "type": defaults.type,
        "default_uom": defaults.unit,
        "sale_uom": defaults.unit,
        "salable": product.salable if defaults.salable is None else defaults.salable,
        "active": product.active,
        "list_price": template_price,
        "products": [("create", [_new_variant(product, wanted) for wanted in wanted_variants(product, own)])],
    }
    if defaults.account_category is not None:
        values["account_category"] = defaults.account_category
    if product.categories:
        values["categories"] = [("add", sorted(int(category) for category in product.categories))]
    if product.weight is not None:
        values.update(weight_values(product, facts.kg))
    if facts.attribute_set is not None:
        values["attribute_set"] = facts.attribute_set
    return Plan(item, product, label_of(product, item.key), OutcomeStatus.CREATED, create=values)


def update_plan(plan: Plan, current: dict[str, Any], rows: list[dict[str, Any]], facts: Facts) -> None:
    """Writes that bring the template and its variants to the record, for the fields the item sends."""
    item, product = plan.item, plan.product

    def send(name: str) -> bool:
        return sends(item, name, False)

    template_price, own = prices(product, facts.digits)
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
        if send(canonical) and not same(current.get(name), value):
            changes[name] = value
    if send("categories"):
        have = {int(category) for category in current.get("categories") or []}
        want = {int(category) for category in product.categories}
        moves = [
            (action, sorted(ids)) for action, ids in (("add", want - have), ("remove", have - want)) if ids
        ]
        if moves:
            changes["categories"] = moves
    if send("weight"):
        weight = weight_values(product, facts.kg)
        if not same(current.get("weight"), weight["weight"]) or (
            "weight_uom" in weight and current.get("weight_uom") != weight["weight_uom"]
        ):
            changes.update(weight)
    if facts.attribute_set is not None and facts.attribute_set != current.get("attribute_set"):
        changes["attribute_set"] = facts.attribute_set
    _variant_writes(plan, rows, own)


def _variant_writes(plan: Plan, rows: list[dict[str, Any]], own: dict[str, Decimal | None]) -> None:
    """Variants matched by code (a simple product's one row whatever its code), new ones made, gone
    ones deactivated."""
    item, product = plan.item, plan.product

    def send(name: str) -> bool:
        return sends(item, name, False)

    by_code = {
        row["code"]: row for row in sorted(rows, key=lambda row: bool(row["active"])) if row.get("code")
    }
    active_rows = [row for row in rows if row["active"]]
    matched: set[int] = set()
    for wanted in wanted_variants(product, own):
        row = by_code.get(wanted.sku)
        if row is None and not product.variants and len(active_rows) == 1:
            row = active_rows[0]  # a simple product whose SKU changed: the same product.product
        if row is None:
            if send("variants") or send("sku"):
                plan.product_creates.append({"template": plan.template, **_new_variant(product, wanted)})
            continue
        matched.add(row["id"])
        changes: dict[str, Any] = {}
        if send("sku") and (row.get("suffix_code") or "") != wanted.suffix:
            changes["suffix_code"] = wanted.suffix
        if send("description") and (row.get("description") or "") != product.description:
            changes["description"] = product.description or None
        attributes_sent = send("attributes") or send("variants")
        if product.variants and attributes_sent and (row.get("attributes") or {}) != wanted.attributes:
            changes["attributes"] = wanted.attributes
        if product.variants and send("list_price") and not same(row.get("list_price"), wanted.list_price):
            changes["list_price"] = wanted.list_price
        if (send("active") or send("variants")) and bool(row["active"]) != wanted.active:
            if wanted.active:
                changes["active"] = True
            else:
                plan.deactivate.append(row["id"])
        if changes:
            plan.product_writes.append(([row["id"]], changes))
    if send("variants"):
        plan.deactivate += [row["id"] for row in active_rows if row["id"] not in matched]
