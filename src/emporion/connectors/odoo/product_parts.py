"""What writing a shop's products into Odoo needs besides the templates: the flow's create defaults
(unit, type, customer taxes, salable), attributes and their values found or made, the price extras
that give each variant its price, and batched creates that find the record Odoo refuses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emporion.connectors import catalogue_writes
from emporion.connectors.base import AuthError, ConnectorError, Permanent, WriteItem
from emporion.connectors.catalogue_writes import attribute_names, in_batches
from emporion.connectors.create_defaults import RememberedDefaults, listed, read_defaults, refused
from emporion.connectors.odoo.client import OdooClient
from emporion.model import Product

TYPES = ("goods", "consumable")  # goods: storable (stock tracked); consumable: goods without stock
KNOWN = frozenset({"unit", "type", "customer_taxes", "salable"})
BLANK = (None, "", False)  # Odoo reads an empty field as False


@dataclass(frozen=True)
class TemplateDefaults:
    """Resolved create defaults of a product.template."""

    unit: int
    storable: bool
    taxes: tuple[int, ...] | None  # None: Odoo's own default taxes
    salable: bool | None  # None: the record's own


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
    """Create one row per key, in batches; when Odoo refuses a batch, each row alone."""

    async def send(batch: list[dict[str, Any]]) -> list[int]:
        return await client.create(model, batch)

    created = await in_batches({key: [values] for key, values in rows.items()}, send, failed)
    return {key: ids[0] for key, ids in created.items()}


class CreateDefaults(RememberedDefaults[TemplateDefaults]):
    """Resolves a flow's create defaults against one Odoo database, remembering what resolved."""

    def __init__(self, client: OdooClient) -> None:
        super().__init__()
        self.client = client

    async def _resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        kind, salable = read_defaults(defaults, KNOWN, TYPES, "not an Odoo default", "expected one of")
        unit = defaults.get("unit", "Units").strip()
        units = await self.client.search("uom.uom", [("name", "=", unit)], limit=1)
        if not units:
            raise refused("unit", unit, "Odoo has no unit of measure of that name")
        taxes: tuple[int, ...] | None = None
        if "customer_taxes" in defaults:
            names = listed(defaults["customer_taxes"])
            rows = await self.client.search_read("account.tax", [("name", "in", names)], ["name"], order="id")
            missing = sorted(set(names) - {row["name"] for row in rows})
            if missing:
                raise refused(
                    "customer_taxes",
                    defaults["customer_taxes"],
                    f"Odoo has no tax named {', '.join(missing)}",
                )
            first = {row["name"]: int(row["id"]) for row in reversed(rows)}
            taxes = tuple(first[name] for name in names)
        return TemplateDefaults(unit=units[0], storable=kind == "goods", taxes=taxes, salable=salable)


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
    names = attribute_names(product)
    found: dict[tuple[str, str], Decimal] = {}
    for name in names:
        for value in sorted({v.attributes[name] for v in product.variants if name in v.attributes}):
            holders = [v.sku for v in product.variants if v.attributes.get(name) == value]
            extra = min(left[sku] for sku in holders)
            found[(name, value)] = extra
            for sku in holders:
                left[sku] -= extra
    return found if all(rest == 0 for rest in left.values()) else None


def check_product(item: WriteItem) -> Product:
    """The item's product, or Permanent naming what Odoo cannot take (SKUs, attributes, category ids)."""
    return catalogue_writes.check_product(item, "Odoo", "an Odoo category id", _check_attributes)


def _check_attributes(product: Product, label: str) -> None:
    """Variants of the same attributes, a different combination each, every name and value given."""
    names = {frozenset(variant.attributes) for variant in product.variants}
    combos = {frozenset(variant.attributes.items()) for variant in product.variants}
    if product.variants and (
        len(names) != 1 or not next(iter(names)) or len(combos) != len(product.variants)
    ):
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


def base_price(product: Product) -> Decimal | None:
    """The template's list price: the product's, else its cheapest variant's."""
    if product.list_price is not None:
        return product.list_price
    prices = [variant.list_price for variant in product.variants if variant.list_price is not None]
    return min(prices) if prices else None


def same(left: Any, right: Any) -> bool:
    """Whether a value read from Odoo already holds what is to be written (numbers by value)."""
    return catalogue_writes.same(left, right, BLANK)
