"""Writes products to WooCommerce: the parents in batches, then each variable product's variations.

The target reference of a product is `{"id", "variations": {sku: id}, "images": {url: id}}`.
`images` remembers the attachment id WooCommerce gave each image URL: WooCommerce downloads every
`src` it is sent again, so later writes name known images by id instead. A batch whose answer was
lost is settled by SKU: what the shop created is found and linked, only the rest is sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.woocommerce import lookup
from emporion.connectors.woocommerce.client import BatchResult
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.mapping import ordered_images, product_to_wc, variant_to_wc
from emporion.connectors.woocommerce.writer import (
    BatchWriter,
    gather_all,
    linked_id,
    product_of,
    record_label,
)
from emporion.model import Product, Variant

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
            lambda item: product_to_wc(product_of(item), images[item.key]),
            self._resolve,
            forget_images,
            self._find_created,
        )
        outcomes: list[Outcome] = []
        pending: list[Awaitable[Outcome]] = []
        for item in upserts:
            (_ident, status), result = written[item.key]
            if result.error is not None:
                error = result.error.as_error(record_label(item))
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
                continue
            product_id = int((result.data or {})["id"])
            _learn_images(images[item.key], product_of(item), result.data)
            if product_of(item).is_variable:
                pending.append(self._variations_outcome(item, product_id, status, images[item.key]))
            else:
                ref = {"id": product_id, "variations": {}, "images": images[item.key]}
                outcomes.append(Outcome(item.key, status, ref))
        outcomes.extend(await gather_all(pending))
        return outcomes

    async def _variations_outcome(
        self, item: WriteItem, product_id: int, status: OutcomeStatus, images: dict[str, int]
    ) -> Outcome:
        """The product's outcome once its variations are written; a transient failure fails it alone."""
        try:
            return await self._sync_variations(item, product_id, status, images)
        except Retryable as error:  # the parent was written: the retry matches it by SKU or id
            ref = {"id": product_id, "variations": {}, "images": images}
            return Outcome(item.key, OutcomeStatus.FAILED, ref, error)

    async def _sync_variations(
        self, item: WriteItem, product_id: int, status: OutcomeStatus, images: dict[str, int]
    ) -> Outcome:
        """Create, update and delete the variations of one product, matched by SKU."""
        product = product_of(item)
        linked = status is OutcomeStatus.UPDATED and linked_id(item) == product_id
        known = (item.target_ref or {}).get("variations") if linked else None
        if status is OutcomeStatus.CREATED:
            existing: dict[str, int] = {}
        elif known:
            existing = {str(sku): int(ident) for sku, ident in known.items()}
        else:
            existing = await lookup.product_variations_by_sku(self.client, product_id)
        outcome = await self._send_variations(product, product_id, existing, images)
        if outcome.error is not None and ((outcome.error.missing_id and known) or outcome.error.sku_exists):
            # The link knew variation ids that are gone, or a variation exists already (another
            # writer, a lost answer): list what exists and try once more.
            if outcome.error.sku_lock:
                await asyncio.sleep(1.0)  # the lock holder is still writing it
            existing = {**await lookup.product_variations_by_sku(self.client, product_id), **outcome.ids}
            outcome = await self._send_variations(product, product_id, existing, images)
        if outcome.error is not None and outcome.error.code in INVALID_IMAGE_CODES and images:
            images.clear()  # an attachment we knew was deleted in the shop: send URLs again
            outcome = await self._send_variations(product, product_id, {**existing, **outcome.ids}, images)
        ref = {"id": product_id, "variations": outcome.ids, "images": images}
        error = outcome.permanent(product.sku or item.key)
        if error is not None:
            return Outcome(item.key, OutcomeStatus.FAILED, ref, error)
        return Outcome(item.key, status, ref)

    async def _send_variations(
        self, product: Product, product_id: int, existing: dict[str, int], images: dict[str, int]
    ) -> _VariationRound:
        wanted = {variant.sku for variant in product.variants}
        creates = [v for v in product.variants if v.sku not in existing]
        updates = [v for v in product.variants if v.sku in existing]

        async def find(bodies: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
            """Variations a lost batch answer created, by SKU."""
            listed = await lookup.product_variations_by_sku(self.client, product_id)
            skus = [str(body.get("sku") or "") for body in bodies]
            return {at: {"id": listed[sku], "sku": sku} for at, sku in enumerate(skus) if sku in listed}

        answer: BatchResult = await self.client.batch(
            f"{lookup.PRODUCTS}/{product_id}/variations",
            create=[variant_to_wc(v, images) for v in creates],
            update=[{"id": existing[v.sku], **variant_to_wc(v, images)} for v in updates],
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
