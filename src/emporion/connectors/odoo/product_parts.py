"""What writing a shop's products into Odoo needs besides the templates: the flow's create defaults
(unit, type, customer taxes, salable), attributes and their values found or made, the price extras
that give each variant its price, and batched creates that find the record Odoo refuses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emporion.connectors.base import AuthError, ConnectorError, Permanent, WriteItem
from emporion.connectors.odoo.client import OdooClient
from emporion.model import Product

TYPES = ("goods", "consumable")  # goods: storable (stock tracked); consumable: goods without stock
YES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
KNOWN = frozenset({"unit", "type", "customer_taxes", "salable"})
BATCH = 50  # records per create request


@dataclass(frozen=True)
class TemplateDefaults:
    """Resolved create defaults of a product.template."""

    unit: int
    storable: bool
    taxes: tuple[int, ...] | None  # None: Odoo's own default taxes
    salable: bool | None  # None: the record's own


def sends(item: WriteItem, name: str, creating: bool) -> bool:
    """Whether canonical field `name` is written: always on create; on update when sent and not kept."""
    if creating:
        return True
    if item.only is not None and name not in item.only:
        return False
    return name not in item.keep_on_update


def named(error: ConnectorError, record: str, fallback: str) -> ConnectorError:
    """`error` naming the record (SKU or category name) and a field, when it is a Permanent one."""
    if not isinstance(error, Permanent) or (error.record and error.field and "." not in error.record):
        return error
    kind = AuthError if isinstance(error, AuthError) else Permanent
    record_name = error.record if error.record and "." not in error.record else record
    return kind(error.reason, record=record_name, field=error.field or fallback)


async def create_each(
    client: OdooClient, model: str, rows: Mapping[str, dict[str, Any]], failed: dict[str, ConnectorError]
) -> dict[str, int]:
    """Create one row per key, BATCH at a time; when Odoo refuses a batch, each row alone."""
    live = [(key, values) for key, values in rows.items() if key not in failed]
    created: dict[str, int] = {}
    for start in range(0, len(live), BATCH):
        chunk = live[start : start + BATCH]
        try:
            ids = await client.create(model, [values for _, values in chunk])
        except ConnectorError as error:
            if not isinstance(error, Permanent) or isinstance(error, AuthError) or len(chunk) == 1:
                failed.update({key: error for key, _ in chunk})
                continue
            for key, values in chunk:
                try:
                    (created[key],) = await client.create(model, [values])
                except ConnectorError as alone:
                    failed[key] = alone
            continue
        created.update({key: ident for (key, _), ident in zip(chunk, ids, strict=True)})
    return created


def _refused(name: str, value: str, why: str) -> Permanent:
    return Permanent(f"create_defaults {name} {value!r}: {why}", field=f"create_defaults.{name}")


class CreateDefaults:
    """Resolves a flow's create defaults against one Odoo database, remembering what resolved."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self._resolved: dict[tuple[tuple[str, str], ...], TemplateDefaults] = {}

    async def resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        """The template values `defaults` name; Permanent when one names what Odoo does not have."""
        key = tuple(sorted(defaults.items()))
        if key not in self._resolved:
            self._resolved[key] = await self._resolve(defaults)
        return self._resolved[key]

    async def _resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        unknown = sorted(set(defaults) - KNOWN)
        if unknown:
            raise _refused(
                unknown[0], defaults[unknown[0]], f"not an Odoo default (known: {', '.join(sorted(KNOWN))})"
            )
        kind = defaults.get("type", "goods").strip()
        if kind not in TYPES:
            raise _refused("type", kind, f"expected one of {', '.join(TYPES)}")
        salable = defaults.get("salable")
        if salable is not None and salable.strip().lower() not in YES:
            raise _refused("salable", salable, "expected true or false")
        unit = defaults.get("unit", "Units").strip()
        units = await self.client.search("uom.uom", [("name", "=", unit)], limit=1)
        if not units:
            raise _refused("unit", unit, "Odoo has no unit of measure of that name")
        taxes: tuple[int, ...] | None = None
        if "customer_taxes" in defaults:
            names = [name.strip() for name in defaults["customer_taxes"].split(",") if name.strip()]
            rows = await self.client.search_read("account.tax", [("name", "in", names)], ["name"], order="id")
            missing = sorted(set(names) - {row["name"] for row in rows})
            if missing:
                raise _refused(
                    "customer_taxes",
                    defaults["customer_taxes"],
                    f"Odoo has no tax named {', '.join(missing)}",
                )
            first = {row["name"]: int(row["id"]) for row in reversed(rows)}
            taxes = tuple(first[name] for name in names)
        return TemplateDefaults(
            unit=units[0],
            storable=kind == "goods",
            taxes=taxes,
            salable=None if salable is None else YES[salable.strip().lower()],
        )


class Attributes:
    """Finds or makes attributes (creating variants instantly) and their values, by name."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client

    async def ensure(
        self, wanted: Mapping[str, Iterable[str]]
    ) -> tuple[dict[str, int], dict[tuple[str, str], int], dict[str, Permanent]]:
        """Attribute ids by name, value ids by (attribute, value), and the attributes that cannot be used."""
        names = sorted(wanted)
        if not names:
            return {}, {}, {}
        fields = ["name", "create_variant"]
        rows = await self.client.search_read("product.attribute", [("name", "in", names)], fields, order="id")
        missing = [name for name in names if name not in {row["name"] for row in rows}]
        if missing:
            await self.client.create(
                "product.attribute", [{"name": n, "create_variant": "always"} for n in missing]
            )
            rows = await self.client.search_read(
                "product.attribute", [("name", "in", names)], fields, order="id"
            )
        ids: dict[str, int] = {}
        problems: dict[str, Permanent] = {}
        for row in reversed(rows):  # the oldest of a name wins
            ids[row["name"]] = int(row["id"])
            if row["create_variant"] != "always":
                problems[row["name"]] = Permanent(
                    f"Odoo's attribute {row['name']!r} creates variants {row['create_variant']!r},"
                    " not instantly",
                    field="variants.attributes",
                )
            else:
                problems.pop(row["name"], None)
        values = await self._values(ids, wanted)
        return ids, values, problems

    async def _values(
        self, ids: dict[str, int], wanted: Mapping[str, Iterable[str]]
    ) -> dict[tuple[str, str], int]:
        by_id = {ident: name for name, ident in ids.items()}
        domain = [("attribute_id", "in", sorted(by_id))]
        found: dict[tuple[str, str], int] = {}

        async def load() -> None:
            for row in reversed(
                await self.client.search_read(
                    "product.attribute.value", domain, ["name", "attribute_id"], order="id"
                )
            ):
                attribute = by_id.get(int(row["attribute_id"][0]))
                if attribute is not None:
                    found[(attribute, str(row["name"]))] = int(row["id"])

        await load()
        new = [
            {"name": value, "attribute_id": ids[name]}
            for name in sorted(wanted)
            if name in ids
            for value in sorted(set(wanted[name]))
            if (name, value) not in found
        ]
        if new:
            await self.client.create("product.attribute.value", new)
            await load()
        return found


def extras(product: Product, base: Decimal | None) -> dict[tuple[str, str], Decimal] | None:
    """Price extras per (attribute, value) that give each variant its list price over `base`, one
    attribute after the other (Odoo adds a variant's value extras to the template's price); None when
    the variants' prices are not a sum of value extras."""
    if base is None or not product.variants:
        return {}
    left = {
        v.sku: (v.list_price - base) if v.list_price is not None else Decimal(0) for v in product.variants
    }
    names = sorted({name for variant in product.variants for name in variant.attributes})
    found: dict[tuple[str, str], Decimal] = {}
    for name in names:
        for value in sorted({v.attributes[name] for v in product.variants if name in v.attributes}):
            holders = [v.sku for v in product.variants if v.attributes.get(name) == value]
            extra = min(left[sku] for sku in holders)
            found[(name, value)] = extra
            for sku in holders:
                left[sku] -= extra
    return found if all(rest == 0 for rest in left.values()) else None


def label_of(product: Product, key: str) -> str:
    """How errors name a product: its SKU, else its first variant's, else its key."""
    return product.sku or next((variant.sku for variant in product.variants if variant.sku), "") or key


def check_product(item: WriteItem) -> Product:
    """The item's product, or Permanent naming what Odoo cannot take (SKUs, attributes, category ids)."""
    product = item.record
    if not isinstance(product, Product):
        raise Permanent(f"not a product: {type(product).__name__}", record=item.key, field="record")
    label = label_of(product, item.key)
    if not product.variants and not product.sku:
        raise Permanent("a product without SKU cannot be matched in Odoo", record=label, field="sku")
    skus = [variant.sku for variant in product.variants]
    if any(not sku for sku in skus) or len(set(skus)) != len(skus):
        raise Permanent("every variant needs a SKU of its own", record=label, field="variants.sku")
    names = {frozenset(variant.attributes) for variant in product.variants}
    combos = {frozenset(variant.attributes.items()) for variant in product.variants}
    if product.variants and (len(names) != 1 or not next(iter(names)) or len(combos) != len(skus)):
        raise Permanent(
            "Odoo's variants need values of the same attributes, a different combination each",
            record=label,
            field="variants.attributes",
        )
    for variant in product.variants:
        for name, value in variant.attributes.items():
            if not name.strip() or not value.strip():
                raise Permanent(
                    "an attribute or value without a name", record=variant.sku, field="variants.attributes"
                )
    for category in product.categories:
        if not (category.isascii() and category.isdigit()):
            raise Permanent(
                f"category {category!r} is not an Odoo category id", record=label, field="categories"
            )
    return product


def base_price(product: Product) -> Decimal | None:
    """The template's list price: the product's, else its cheapest variant's."""
    if product.list_price is not None:
        return product.list_price
    prices = [variant.list_price for variant in product.variants if variant.list_price is not None]
    return min(prices) if prices else None


def same(left: Any, right: Any) -> bool:
    """Whether a value read from Odoo already holds what is to be written (numbers by value)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return bool(left) == bool(right)
    if isinstance(left, Decimal | float | int) and isinstance(right, Decimal | float | int):
        return Decimal(str(left)) == Decimal(str(right))
    return bool(left == right) or (left in (None, "", False) and right in (None, "", False))
