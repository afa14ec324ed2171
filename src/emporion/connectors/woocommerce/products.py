"""Writes products to WooCommerce: the parents in batches, then each variable product's variations.

The target reference of a product is `{"id", "variations": {sku: id}, "images": {url: id}}`.
`images` remembers the attachment id WooCommerce gave each image URL: WooCommerce downloads every
`src` it is sent again, so later writes name known images by id instead. A batch whose answer was
lost is settled by SKU: what the shop created is found and linked, only the rest is sent again.

Stock follows the layout the shop keeps. A variable product whose record gives its variants their
own stock (the ERP's view) but whose shop product keeps one stock for its variations (the product
manages stock, the variations read `manage_stock: "parent"`) stays that way: those variations are
sent no stock, and the product gets the sum of their stock. A record that gives the product a stock
and its variants none is written that way (the flow decided); new products get their record's layout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.woocommerce import lookup
from emporion.connectors.woocommerce.client import BatchResult, WooCommerceClient
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.mapping import ordered_images, product_to_wc, variant_to_wc
from emporion.connectors.woocommerce.writer import (
    BatchWriter,
    gather_all,
    linked_id,
    product_of,
    record_label,
    update_body,
)
from emporion.model import Product, Variant

STOCK_KEYS = ("manage_stock", "stock_quantity")

INVALID_IMAGE_CODES = frozenset(
    {"woocommerce_product_invalid_image_id", "woocommerce_variation_invalid_image_id"}
)


def known_images(item: WriteItem) -> dict[str, int]:
    """The image URL -> attachment id map the link remembers."""
    images = (item.target_ref or {}).get("images") or {}
    return {str(url): int(ident) for url, ident in images.items()}


def _learn_images(images: dict[str, int], product: Product, answer: dict[str, Any] | None) -> None:
    """Pair the images we sent (in position order) with the ids WooCommerce answered, in the same order."""
    answered = (answer or {}).get("images") or []
    sent = ordered_images(product.images)
    if len(answered) == len(sent):
        for image, given in zip(sent, answered, strict=True):
            if isinstance(given, dict) and given.get("id"):
                images[image.url] = int(given["id"])


def _writes_stock(item: WriteItem) -> bool:
    """Whether an update of the item writes stock (the flow may leave it to the shop, or send only some)."""
    return "stock_quantity" in update_body(item, {"stock_quantity": 0})


def _variants_carry_stock(product: Product) -> bool:
    """A variable product whose stock is its variants' (the product itself has none): the ERP's layout."""
    return product.is_variable and product.available is None


def _parent_body(item: WriteItem, images: dict[str, int]) -> dict[str, Any]:
    """The product's body; a product whose variants carry the stock says nothing of the product's own,
    so that a shop keeping one stock for the variations on the product keeps it (see `_SharedStock`)."""
    product = product_of(item)
    body = product_to_wc(product, images)
    if _variants_carry_stock(product):
        for key in STOCK_KEYS:
            body.pop(key, None)
    return body


def _no_stock(body: dict[str, Any]) -> dict[str, Any]:
    """A variation's body leaving its stock to the product (WooCommerce: `manage_stock` false = "parent")."""
    return {key: value for key, value in body.items() if key not in STOCK_KEYS}


@dataclass
class _SharedStock:
    """A product the shop keeps stock on for variations without their own: which, and the sum due."""

    label: str  # how errors name the product (its SKU)
    held: int | None  # the product's stock as the shop answered the write of the product
    manages: bool | None  # whether the shop's product manages stock (None: the answer did not say)
    skus: frozenset[str] = frozenset()  # the record's variants whose stock the product keeps
    total: int = 0  # the sum of their stock: what the product should hold

    @property
    def due(self) -> bool:
        """Whether the product must be written its variations' sum."""
        return bool(self.skus) and self.total != self.held

    async def learn(self, client: WooCommerceClient, product_id: int, product: Product) -> dict[str, int]:
        """List the product's variations (`{sku: id}`) and note those that leave their stock to it.

        A variation reads `manage_stock: "parent"` when it does; a new variation leaves its stock to
        the product too when no variation of the product keeps its own.
        """
        path = f"{lookup.PRODUCTS}/{product_id}/variations"
        listed = await client.get_all(path, {"_fields": "id,sku,manage_stock", **lookup.BY_ID})
        stock = {str(v["sku"]): v.get("manage_stock") for v in listed if v.get("sku")}
        manages = self.manages if self.manages is not None else "parent" in stock.values()
        if manages:
            shares = {sku for sku, manage in stock.items() if manage is not True}
            if True not in stock.values():
                shares |= {variant.sku for variant in product.variants if variant.sku not in stock}
            self.skus = frozenset(variant.sku for variant in product.variants if variant.sku in shares)
        self.total = sum(
            _units(variant.available) for variant in product.variants if variant.sku in self.skus
        )
        return {str(v["sku"]): int(v["id"]) for v in listed if v.get("sku")}


def _units(available: Decimal | None) -> int:
    """Whole units in stock, as WooCommerce keeps them."""
    return int((available or Decimal(0)).to_integral_value(rounding=ROUND_FLOOR))


def _keeps_stock(
    item: WriteItem, status: OutcomeStatus, answer: dict[str, Any] | None
) -> _SharedStock | None:
    """For a product that was in the shop before and whose record gives its variants the stock: the
    stock the shop's product keeps, when it manages stock (or did not say) and the write sends stock."""
    product = product_of(item)
    if status is OutcomeStatus.CREATED or not _variants_carry_stock(product) or not _writes_stock(item):
        return None
    data = answer or {}
    if "manage_stock" not in data:
        return _SharedStock(record_label(item), held=None, manages=None)
    if data["manage_stock"] is not True:
        return None
    return _SharedStock(record_label(item), held=_whole(data.get("stock_quantity")), manages=True)


def _whole(value: Any) -> int | None:
    """A stock quantity as answered, or None when it is none."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


@dataclass
class _VariationRound:
    """What one variations batch gave: ids by SKU, and the first failure."""

    ids: dict[str, int] = field(default_factory=dict)
    error: WooError | None = None
    sku: str | None = None

    def permanent(self, product_sku: str) -> ConnectorError | None:
        """The first failure as a Permanent naming the variation's SKU (Retryable if transient), or None."""
        if self.error is None:
            return None
        if self.error.transient:
            return self.error.as_error(self.sku or product_sku)
        return Permanent(
            f"WooCommerce refused the variation: {self.error.label}",
            record=self.sku or product_sku,
            field=self.error.field,
        )


class ProductWriter(BatchWriter):
    """Upserts and deletes of products with their variations."""

    async def _resolve(self, items: Sequence[WriteItem]) -> dict[str, int]:
        sku_of = {item.key: product_of(item).sku for item in items}
        found = await lookup.find_products_by_sku(self.client, sku_of.values())
        return {key: int(found[sku]["id"]) for key, sku in sku_of.items() if sku in found}

    async def _find_created(self, bodies: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Products a lost batch answer created, by SKU, with their images (positions in `bodies`)."""
        skus = [str(body.get("sku") or "") for body in bodies]
        found = await lookup.find_products_by_sku(self.client, skus)
        ids = sorted({int(found[sku]["id"]) for sku in skus if sku in found})
        full: dict[int, dict[str, Any]] = {}
        if any(body.get("images") for body in bodies):
            for start in range(0, len(ids), 100):
                params = {"include": ids[start : start + 100], "_fields": "id,sku,type,images"}
                full.update({int(p["id"]): p for p in await self.client.get_all(lookup.PRODUCTS, params)})
        return {
            at: full.get(int(found[sku]["id"]), found[sku]) for at, sku in enumerate(skus) if sku in found
        }

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """Upsert products (then their variations) and delete products permanently."""
        for item in (*upserts, *deletes):
            if not isinstance(item.record, Product):
                raise TypeError(f"item {item.key} is not a Product")
        outcomes: list[Outcome] = []
        if upserts:
            outcomes.extend(await self._upsert_products(upserts))
        if deletes:
            outcomes.extend(await self._delete(lookup.PRODUCTS, deletes, self._resolve))
        return outcomes

    async def _upsert_products(self, upserts: Sequence[WriteItem]) -> list[Outcome]:
        images = {item.key: known_images(item) for item in upserts}

        def forget_images(item: WriteItem, error: WooError) -> bool:
            """An attachment the link knew is gone: send the item's images by URL again."""
            if error.code in INVALID_IMAGE_CODES and images[item.key]:
                images[item.key] = {}
                return True
            return False

        written = await self._upsert(
            lookup.PRODUCTS,
            upserts,
            lambda item: _parent_body(item, images[item.key]),
            self._resolve,
            forget_images,
            self._find_created,
        )
        outcomes: list[Outcome] = []
        pending: list[Awaitable[Outcome]] = []
        shared: dict[str, _SharedStock] = {}
        for item in upserts:
            (_ident, status), result = written[item.key]
            if result.error is not None:
                error = result.error.as_error(record_label(item))
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
                continue
            product_id = int((result.data or {})["id"])
            _learn_images(images[item.key], product_of(item), result.data)
            if product_of(item).is_variable:
                keeps = _keeps_stock(item, status, result.data)
                if keeps is not None:
                    shared[item.key] = keeps
                pending.append(self._variations_outcome(item, product_id, status, images[item.key], keeps))
            else:
                ref = {"id": product_id, "variations": {}, "images": images[item.key]}
                outcomes.append(Outcome(item.key, status, ref))
        outcomes.extend(await self._write_shared_stock(await gather_all(pending), shared))
        return outcomes

    async def _write_shared_stock(
        self, outcomes: list[Outcome], shared: dict[str, _SharedStock]
    ) -> list[Outcome]:
        """Give each product that keeps its variations' stock the sum of their stock (one batch for all);
        a product whose stock could not be written fails alone (its retry writes it)."""
        due = [
            (outcome, shared[outcome.key])
            for outcome in outcomes
            if outcome.ok and outcome.target_ref and outcome.key in shared and shared[outcome.key].due
        ]
        if not due:
            return outcomes
        failed: dict[str, ConnectorError] = {}
        try:
            answer = await self.client.batch(
                lookup.PRODUCTS,
                update=[
                    {"id": (o.target_ref or {})["id"], "manage_stock": True, "stock_quantity": stock.total}
                    for o, stock in due
                ],
            )
        except Retryable as error:
            failed = {o.key: error for o, _stock in due}
        else:
            for (o, stock), result in zip(due, answer.update, strict=True):
                if result.error is not None:
                    failed[o.key] = result.error.as_error(stock.label)
        return [
            Outcome(o.key, OutcomeStatus.FAILED, o.target_ref, failed[o.key]) if o.key in failed else o
            for o in outcomes
        ]

    async def _variations_outcome(
        self,
        item: WriteItem,
        product_id: int,
        status: OutcomeStatus,
        images: dict[str, int],
        shared: _SharedStock | None = None,
    ) -> Outcome:
        """The product's outcome once its variations are written; a transient failure fails it alone."""
        try:
            return await self._sync_variations(item, product_id, status, images, shared)
        except Retryable as error:  # the parent was written: the retry matches it by SKU or id
            ref = {"id": product_id, "variations": {}, "images": images}
            return Outcome(item.key, OutcomeStatus.FAILED, ref, error)

    async def _sync_variations(
        self,
        item: WriteItem,
        product_id: int,
        status: OutcomeStatus,
        images: dict[str, int],
        shared: _SharedStock | None = None,
    ) -> Outcome:
        """Create, update and delete the variations of one product, matched by SKU."""
        product = product_of(item)
        linked = status is OutcomeStatus.UPDATED and linked_id(item) == product_id
        known = (item.target_ref or {}).get("variations") if linked else None
        if shared is not None:  # the product keeps stock: which variations leave theirs to it
            existing = await shared.learn(self.client, product_id, product)
        elif status is OutcomeStatus.CREATED:
            existing = {}
        elif known:
            existing = {str(sku): int(ident) for sku, ident in known.items()}
        else:
            existing = await lookup.product_variations_by_sku(self.client, product_id)
        skus = shared.skus if shared is not None else frozenset[str]()
        outcome = await self._send_variations(item, product, product_id, existing, images, skus)
        if outcome.error is not None and ((outcome.error.missing_id and known) or outcome.error.sku_exists):
            # The link knew variation ids that are gone, or a variation exists already (another
            # writer, a lost answer): list what exists and try once more.
            if outcome.error.sku_lock:
                await asyncio.sleep(1.0)  # the lock holder is still writing it
            existing = {**await lookup.product_variations_by_sku(self.client, product_id), **outcome.ids}
            outcome = await self._send_variations(item, product, product_id, existing, images, skus)
        if outcome.error is not None and outcome.error.code in INVALID_IMAGE_CODES and images:
            images.clear()  # an attachment we knew was deleted in the shop: send URLs again
            existing = {**existing, **outcome.ids}
            outcome = await self._send_variations(item, product, product_id, existing, images, skus)
        ref = {"id": product_id, "variations": outcome.ids, "images": images}
        error = outcome.permanent(product.sku or item.key)
        if error is not None:
            return Outcome(item.key, OutcomeStatus.FAILED, ref, error)
        return Outcome(item.key, status, ref)

    async def _send_variations(
        self,
        item: WriteItem,
        product: Product,
        product_id: int,
        existing: dict[str, int],
        images: dict[str, int],
        shared: frozenset[str] = frozenset(),
    ) -> _VariationRound:
        """One variations batch; the variations in `shared` are sent no stock (they keep the product's);
        updates send what the item's update sends (not the fields the shop owns)."""
        wanted = {variant.sku for variant in product.variants}

        def body(variant: Variant) -> dict[str, Any]:
            sent = variant_to_wc(variant, images)
            return _no_stock(sent) if variant.sku in shared else sent

        creates = [v for v in product.variants if v.sku not in existing]
        updates = [v for v in product.variants if v.sku in existing]

        async def find(bodies: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
            """Variations a lost batch answer created, by SKU."""
            listed = await lookup.product_variations_by_sku(self.client, product_id)
            skus = [str(body.get("sku") or "") for body in bodies]
            return {at: {"id": listed[sku], "sku": sku} for at, sku in enumerate(skus) if sku in listed}

        answer: BatchResult = await self.client.batch(
            f"{lookup.PRODUCTS}/{product_id}/variations",
            create=[body(v) for v in creates],
            update=[{"id": existing[v.sku], **update_body(item, body(v))} for v in updates],
            delete=[ident for sku, ident in existing.items() if sku not in wanted],
            find=find,
        )
        outcome = _VariationRound()
        pairs: list[tuple[Variant, Any]] = [
            *zip(creates, answer.create, strict=True),
            *zip(updates, answer.update, strict=True),
        ]
        for variant, result in pairs:
            if result.error is None and result.data is not None:
                outcome.ids[variant.sku] = int(result.data["id"])
                image = result.data.get("image")
                if variant.images and isinstance(image, dict) and image.get("id"):
                    images[ordered_images(variant.images)[0].url] = int(image["id"])
            elif outcome.error is None and result.error is not None:
                outcome.error, outcome.sku = result.error, variant.sku
        for result in answer.delete:
            if result.error is not None and not result.error.missing_id and outcome.error is None:
                outcome.error = result.error
        return outcome
