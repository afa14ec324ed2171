"""Vendure's products read flat (simple, or with variants and options) and written in several mutations.

A simple product is a Vendure product with one variant without options; a product with variants
gets one option group per attribute and keeps its own SKU as its slug (Vendure lower-cases slugs).
Stock is read as on hand less allocated and written as on hand at `options.stock_location_id`:
what may be sold plus what paid orders hold there.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.rest.presets.vendure_calls import (
    ADD_GROUP,
    CREATE_GROUP,
    CREATE_OPTION,
    CREATE_PRODUCT,
    CREATE_VARIANTS,
    FIND_BY_SLUG,
    PRODUCT_GROUPS,
    UPDATE_PRODUCT,
    UPDATE_VARIANTS,
    cents,
    send,
)
from emporion.connectors.rest.settings import Call
from emporion.connectors.rest.writes import product_outcome, written_fields
from emporion.model import Product, Variant

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any


def code_of(text: str) -> str:
    """A Vendure code (option group, option) made from a name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "option"


def saleable(variant: Json) -> int:
    """What a variant can still sell over all its stock locations: on hand less allocated to orders."""
    levels = variant.get("stockLevels") or []
    return sum(int(level.get("stockOnHand") or 0) - int(level.get("stockAllocated") or 0) for level in levels)


def allocated(variant: Json | None, location: str) -> int:
    """Units at `location` that paid orders hold until they are fulfilled."""
    levels = (variant or {}).get("stockLevels") or []
    return sum(
        int(level.get("stockAllocated") or 0)
        for level in levels
        if str(level.get("stockLocationId")) == location
    )


def parent_sku(slug: str, variants: list[Json]) -> str:
    """The SKU of a product with variants: its slug, in the case of the variants' SKUs that begin with it."""
    for variant in variants:
        sku = str(variant.get("sku") or "")
        if sku.lower().startswith(slug) and len(sku) > len(slug):
            return sku[: len(slug)]
    return slug


def attribute_list(variants: list[Json]) -> list[dict[str, Any]]:
    """The product's attributes (option groups) with the values its variants have, as pairs."""
    values: dict[str, set[str]] = {}
    for variant in variants:
        for option in variant.get("options") or []:
            values.setdefault(option["group"]["name"], set()).add(option["name"])
    return [{"name": name, "values": sorted(found)} for name, found in sorted(values.items())]


def shape_product(data: Json) -> Json:
    """A Vendure product as the description reads it: simple (one variant, no options) or with variants."""
    variants = [{**variant, "available": saleable(variant)} for variant in data.get("variants") or []]
    shaped = {**data, "sku": parent_sku(data.get("slug") or "", variants), "variants": variants}
    shaped["attributeList"] = attribute_list(variants)
    if variants:
        shaped["currencyCode"] = variants[0].get("currencyCode")
    if len(variants) == 1 and not variants[0].get("options"):
        only = variants[0]
        shaped |= {"sku": only.get("sku"), "price": only.get("price"), "available": only["available"]}
        shaped["variants"] = []
    return shaped


class ProductWriter:
    """One product written to Vendure: the product, its option groups, its variants."""

    def __init__(self, connector: DeclarativeConnector, item: WriteItem) -> None:
        assert isinstance(item.record, Product)
        self.connector = connector
        self.item = item
        self.product: Product = item.record
        self.label = f"product {self.product.sku or item.key}"
        self.options = connector.settings.options
        self.sent = 0

    async def send(self, call: Call, variables: dict[str, Any]) -> Answer:
        """One mutation or query of the preset, its failure naming the product."""
        self.sent += 1
        return await send(self.connector, call, variables, self.label)

    def variants(self) -> list[Variant]:
        """The product's variants; a simple product is its own single variant."""
        if self.product.variants:
            return self.product.variants
        product = self.product
        return [
            Variant(
                key=product.key, sku=product.sku, list_price=product.list_price, available=product.available
            )
        ]

    def translation(self, fields: frozenset[str] | None, creating: bool) -> dict[str, Any]:
        """The product's English (or configured language) name, slug and description."""
        text: dict[str, Any] = {"languageCode": self.options.get("language", "en")}
        if fields is None or "name" in fields:
            text["name"] = self.product.name
        if fields is None or "description" in fields:
            text["description"] = self.product.description
        if creating:
            text["slug"] = self.product.sku.lower()
        return text

    async def write(self, ref: dict[str, object] | None) -> Outcome:
        """Create (after a search by slug), or update what differs."""
        if not self.product.sku or any(not variant.sku for variant in self.variants()):
            raise Permanent("Vendure sells variants by SKU: a SKU is missing", record=self.label, field="sku")
        if ref is None:
            found = await self.send(FIND_BY_SLUG, {"slug": self.product.sku.lower()})
            items = found.body["data"]["products"]["items"]
            if items:
                ref = {"id": items[0]["id"]}
        if ref is None:
            return await self.create()
        current = await self.connector.raw("product", str(ref["id"]))
        if current is None:
            return await self.create()
        await self.update(str(ref["id"]), current)
        return product_outcome(self.item, str(ref["id"]), bool(self.sent))

    async def create(self) -> Outcome:
        """The product, its option groups and its variants."""
        product = self.product
        made = await self.send(
            CREATE_PRODUCT,
            {"input": {"enabled": product.active, "translations": [self.translation(None, True)]}},
        )
        ident = str(made.body["data"]["createProduct"]["id"])
        options = await self.option_ids(ident, {}) if product.variants else {}
        inputs = [self.variant_input(ident, variant, options) for variant in self.variants()]
        await self.send(CREATE_VARIANTS, {"input": inputs})
        return Outcome(self.item.key, OutcomeStatus.CREATED, {"id": ident})

    def variant_input(self, ident: str, variant: Variant, options: dict[tuple[str, str], str]) -> Json:
        """A createProductVariants input for one variant."""
        name = " ".join([self.product.name, *variant.attributes.values()]).strip()
        body: dict[str, Any] = {
            "productId": ident,
            "sku": variant.sku,
            "enabled": variant.active,
            "taxCategoryId": self.options.get("tax_category_id", "1"),
            "translations": [{"languageCode": self.options.get("language", "en"), "name": name}],
            "optionIds": [options[(group, value)] for group, value in variant.attributes.items()],
        }
        if variant.list_price is not None:
            body["price"] = cents(variant.list_price)
        if variant.available is not None:
            body["stockLevels"] = [self.stock_level(variant.available, None)]
        return body

    def stock_level(self, available: Decimal, existing: Json | None) -> dict[str, Any]:
        """Stock on hand at the configured location: what may be sold plus what paid orders hold."""
        location = str(self.options.get("stock_location_id", "1"))
        return {"stockLocationId": location, "stockOnHand": int(available) + allocated(existing, location)}

    async def option_ids(self, ident: str, groups: dict[str, Json]) -> dict[tuple[str, str], str]:
        """(attribute, value) -> option id, making the groups and options the product lacks."""
        found: dict[tuple[str, str], str] = {}
        wanted: dict[str, list[str]] = {}
        for variant in self.product.variants:
            for name, value in variant.attributes.items():
                wanted.setdefault(name, [])
                if value not in wanted[name]:
                    wanted[name].append(value)
        language = self.options.get("language", "en")
        for name, values in wanted.items():
            group = groups.get(name)
            if group is None:
                made = await self.send(
                    CREATE_GROUP,
                    {
                        "input": {
                            "code": code_of(f"{self.product.sku}-{name}"),
                            "translations": [{"languageCode": language, "name": name}],
                            "options": [
                                {
                                    "code": code_of(value),
                                    "translations": [{"languageCode": language, "name": value}],
                                }
                                for value in values
                            ],
                        }
                    },
                )
                group = {**made.body["data"]["createProductOptionGroup"], "name": name}
                for option in group["options"]:
                    option["name"] = next((v for v in values if code_of(v) == option["code"]), option["code"])
                await self.send(ADD_GROUP, {"p": ident, "g": group["id"]})
            for option in group["options"]:
                found[(name, option["name"])] = str(option["id"])
            for value in values:
                if (name, value) not in found:
                    made = await self.send(
                        CREATE_OPTION,
                        {
                            "input": {
                                "productOptionGroupId": group["id"],
                                "code": code_of(value),
                                "translations": [{"languageCode": language, "name": value}],
                            }
                        },
                    )
                    found[(name, value)] = str(made.body["data"]["createProductOption"]["id"])
        return found

    async def update(self, ident: str, current: Json) -> None:
        """The product's own fields, then each variant by SKU (new ones created); only what differs."""
        fields = written_fields(self.item, False)
        wanted: dict[str, Any] = {"id": ident}
        if (fields is None or "active" in fields) and bool(current.get("enabled")) != self.product.active:
            wanted["enabled"] = self.product.active
        text = self.translation(fields, False)
        if any(
            text.get(name) is not None and text[name] != current.get(name) for name in ("name", "description")
        ):
            wanted["translations"] = [text]
        if len(wanted) > 1:
            await self.send(UPDATE_PRODUCT, {"input": wanted})
        held = {variant["sku"]: variant for variant in current.get("variants") or []}
        changes, new = [], []
        for variant in self.variants():
            existing = held.get(variant.sku)
            if existing is None:
                new.append(variant)
                continue
            change = self.variant_change(variant, existing, fields)
            if change:
                changes.append({"id": existing["id"], **change})
        if changes:
            await self.send(UPDATE_VARIANTS, {"input": changes})
        if new and (fields is None or "variants" in fields):
            groups = await self.send(PRODUCT_GROUPS, {"id": ident})
            held_groups = {group["name"]: group for group in groups.body["data"]["product"]["optionGroups"]}
            options = await self.option_ids(ident, held_groups) if self.product.variants else {}
            await self.send(CREATE_VARIANTS, {"input": [self.variant_input(ident, v, options) for v in new]})

    def variant_change(
        self, variant: Variant, existing: Json, fields: frozenset[str] | None
    ) -> dict[str, Any]:
        """What an updateProductVariants input changes for one held variant (empty: nothing)."""
        top = self.product.variants == []
        price_named = fields is None or "list_price" in fields or (not top and "variants" in fields)
        stock_named = fields is None or "available" in fields or (not top and "variants" in fields)
        active_named = fields is None or (not top and "variants" in fields)
        change: dict[str, Any] = {}
        if (
            price_named
            and variant.list_price is not None
            and cents(variant.list_price) != existing.get("price")
        ):
            change["price"] = cents(variant.list_price)
        if stock_named and variant.available is not None and int(variant.available) != saleable(existing):
            change["stockLevels"] = [self.stock_level(variant.available, existing)]
        if active_named and not top and variant.active != bool(existing.get("enabled")):
            change["enabled"] = variant.active
        return change
