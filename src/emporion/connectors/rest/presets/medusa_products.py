"""Medusa products written: found by SKU, created with variants, prices and stock, or updated."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.rest.presets.medusa_calls import amount_of, send
from emporion.connectors.rest.presets.medusa_catalogue import (
    DEFAULT_OPTION,
    level_at,
    price_in,
    reserved,
    sellable_at,
)
from emporion.connectors.rest.writes import product_outcome, written_fields
from emporion.model import Product, Variant

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector
    from emporion.connectors.rest.presets.medusa import MedusaHooks

Json = Any
LEVELS = "/admin/inventory-items/location-levels/batch"
ITEMS = "id,*variants,*variants.inventory_items"


def handle_of(sku: str) -> str:
    """A product handle (URL name) made from its SKU: unique as the SKU is."""
    return re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-") or "product"


class ProductWriter:
    """One product written to Medusa: found by SKU, created whole, or updated where it differs."""

    def __init__(self, hooks: MedusaHooks, connector: DeclarativeConnector, item: WriteItem) -> None:
        assert isinstance(item.record, Product)
        self.hooks = hooks
        self.connector = connector
        self.item = item
        self.product: Product = item.record
        self.label = f"product {self.product.sku or item.key}"
        self.sent = 0

    async def send(self, method: str, path: str, body: Json = None, **params: str) -> Json:
        """One call of the preset, its failure naming the product."""
        self.sent += method != "GET"
        return await send(self.connector, method, path, self.label, body, **params)

    def variants(self) -> list[Variant]:
        """The product's variants; a simple product is its own single variant."""
        if self.product.variants:
            return self.product.variants
        product = self.product
        only = Variant(
            key=product.key, sku=product.sku, list_price=product.list_price, available=product.available
        )
        return [only.model_copy(update={"attributes": {DEFAULT_OPTION: DEFAULT_OPTION}})]

    def named(self, field: str, fields: frozenset[str] | None) -> bool:
        """Whether the write sends `field` (a variant's fields travel with `variants`)."""
        return fields is None or field in fields or (bool(self.product.variants) and "variants" in fields)

    async def write(self, ref: dict[str, object] | None) -> Outcome:
        """Create (after a search by SKU), or update what differs."""
        if not self.product.sku or any(not variant.sku for variant in self.variants()):
            raise Permanent("Medusa sells variants by SKU: a SKU is missing", record=self.label, field="sku")
        current = await self.connector.raw("product", str(ref["id"])) if ref else None
        searched = ref is None and not self.item.target_ref and not self.product.variants
        if current is None and not searched:  # a simple product's SKU was looked up already
            ref = await self.find()
            current = await self.connector.raw("product", str(ref["id"])) if ref else None
        if ref is None or current is None:
            return await self.create()
        await self.update(str(ref["id"]), current)
        return product_outcome(self.item, str(ref["id"]), bool(self.sent))

    async def find(self) -> dict[str, object] | None:
        """The product by its SKU: its external_id, else one of its variants' SKUs."""
        searches = [{"external_id": self.product.sku}] + [
            {"variants[sku]": variant.sku} for variant in self.variants()[:1]
        ]
        for search in searches:
            found = await self.send("GET", "/admin/products", fields="id", **search)
            if found.get("products"):
                return {"id": str(found["products"][0]["id"])}
        return None

    def variant_body(self, variant: Variant) -> dict[str, Any]:
        """A variant as Medusa creates it: SKU, title, options, price in the currency, managed stock."""
        title = (
            " ".join([self.product.name, *variant.attributes.values()]).strip()
            if self.product.variants
            else ""
        )
        body: dict[str, Any] = {
            "title": title or self.product.name,
            "sku": variant.sku,
            "options": dict(variant.attributes),
            "manage_inventory": True,
            "prices": [],
        }
        if variant.list_price is not None:
            body["prices"] = [{"currency_code": self.hooks.currency, "amount": variant.list_price}]
        return body

    def options(self) -> list[dict[str, Any]]:
        """The product's options: each attribute's values in the order the variants name them."""
        wanted: dict[str, list[str]] = {}
        for variant in self.variants():
            for name, value in variant.attributes.items():
                values = wanted.setdefault(name, [])
                if value not in values:
                    values.append(value)
        return [{"title": name, "values": values} for name, values in wanted.items()]

    async def create(self) -> Outcome:
        """The product with its options, variants and prices, then its stock levels at the location."""
        product = self.product
        body: dict[str, Any] = {
            "title": product.name,
            "description": product.description or None,
            "status": "published" if product.active else "draft",
            "external_id": product.sku,
            "handle": handle_of(product.sku),
            "options": self.options(),
            "variants": [self.variant_body(variant) for variant in self.variants()],
        }
        if self.hooks.profile:
            body["shipping_profile_id"] = self.hooks.profile
        if self.hooks.channel:
            body["sales_channels"] = [{"id": self.hooks.channel}]
        try:
            made = await self.send("POST", "/admin/products", body, fields=ITEMS)
        except Retryable:  # sent, answer lost: did the create happen?
            found = await self.find()
            if found is None:
                raise
            await self.stock(str(found["id"]), {variant.sku: variant for variant in self.variants()})
            return Outcome(self.item.key, OutcomeStatus.CREATED, found)
        ident = str(made["product"]["id"])
        await self.stock(ident, {variant.sku: variant for variant in self.variants()}, made["product"])
        return Outcome(self.item.key, OutcomeStatus.CREATED, {"id": ident})

    async def stock(self, ident: str, variants: dict[str, Variant], made: Json = None) -> None:
        """Stock levels at the location for freshly made variants (Medusa makes items, no levels)."""
        location = self.hooks.location
        wanted = {sku: v.available for sku, v in variants.items() if v.available is not None}
        if not location or not wanted:
            return
        held = {"product": made} if made else await self.send("GET", f"/admin/products/{ident}", fields=ITEMS)
        levels = [
            {"inventory_item_id": link["inventory_item_id"], "location_id": location}
            | {"stocked_quantity": int(wanted[variant["sku"]])}
            for variant in held["product"].get("variants") or []
            if variant.get("sku") in wanted
            for link in (variant.get("inventory_items") or [])[:1]
        ]
        if levels:
            await self.send("POST", LEVELS, {"create": levels})

    async def update(self, ident: str, current: Json) -> None:
        """The product's own fields, each variant's price and stock by SKU, new variants made."""
        fields = written_fields(self.item, False)
        product = self.product
        wanted: dict[str, Any] = {}
        if (fields is None or "name" in fields) and product.name != current.get("title"):
            wanted["title"] = product.name
        if (fields is None or "description" in fields) and (product.description or None) != current.get(
            "description"
        ):
            wanted["description"] = product.description or None
        status = "published" if product.active else "draft"
        if (fields is None or "active" in fields) and status != current.get("status"):
            wanted["status"] = status
        if wanted:
            await self.send("POST", f"/admin/products/{ident}", wanted)
        held = {variant.get("sku"): variant for variant in current.get("variants") or []}
        prices: list[Json] = []
        create: list[dict[str, Any]] = []
        update: list[dict[str, Any]] = []
        new: list[Variant] = []
        for variant in self.variants():
            existing = held.get(variant.sku)
            if existing is None:
                new.append(variant)
                continue
            if self.named("list_price", fields) and variant.list_price is not None:
                if price_in(existing, self.hooks.currency) != variant.list_price:
                    prices.append({"id": existing["id"], "prices": self.prices(existing, variant.list_price)})
            if self.named("available", fields) and variant.available is not None and self.hooks.location:
                if sellable_at(existing, self.hooks.location) != variant.available:
                    item_id, level = level_at(existing, self.hooks.location)
                    if item_id is not None:
                        entry: dict[str, Any] = {"inventory_item_id": item_id}
                        entry |= {
                            "location_id": self.hooks.location,
                            "stocked_quantity": int(variant.available + reserved(level)),
                        }
                        (create if level is None else update).append(entry)
        if prices:
            await self.send("POST", f"/admin/products/{ident}/variants/batch", {"update": prices})
        if create or update:
            await self.send("POST", LEVELS, {"create": create, "update": update})
        if new and product.variants and (fields is None or "variants" in fields):
            await self.add_variants(ident, current, new)

    def prices(self, existing: Json, amount: Decimal) -> list[dict[str, Any]]:
        """The variant's prices with the one in the currency set to `amount` (the others kept)."""
        kept = [
            {"id": price["id"], "currency_code": price["currency_code"], "amount": amount_of(price["amount"])}
            for price in existing.get("prices") or []
            if price.get("rules") or str(price.get("currency_code", "")).lower() != self.hooks.currency
        ]
        return [*kept, {"currency_code": self.hooks.currency, "amount": amount}]

    async def add_variants(self, ident: str, current: Json, new: list[Variant]) -> None:
        """Variants the product lacks: the option values they name added first, then their stock."""
        held = {option.get("title"): option for option in current.get("options") or []}
        add: list[dict[str, Any]] = []
        update: list[dict[str, Any]] = []
        for option in self.options():
            existing = held.get(option["title"])
            if existing is None:
                add.append(option)
                continue
            values = {value.get("value") for value in existing.get("values") or []}
            missing = [value for value in option["values"] if value not in values]
            if missing:
                update.append({"product_option_id": existing["id"], "add": [{"value": v} for v in missing]})
        if add or update:
            await self.send("POST", f"/admin/products/{ident}/options/batch", {"add": add, "update": update})
        await self.send(
            "POST", f"/admin/products/{ident}/variants/batch", {"create": [self.variant_body(v) for v in new]}
        )
        await self.stock(ident, {variant.sku: variant for variant in new})
