"""What the catalogue's change feed watches in Odoo, and how changed rows become product (template) keys.

Sources (feed.py polls them with an overlap and fingerprints): product.template (the mapped fields,
the product type and storability, and whether it has an image: a first image or a removed one is a
change, a replaced image is not, as its URL stays the same), product.product,
product.template.attribute.value (price extras), stock.quant and stock.move (a stock move never
touches the product's `write_date`), and the items of the watched pricelists: the configured ones,
the sale pricelist and every pricelist they compute from.

Rows become template keys: templates themselves; variants and attribute values by their template;
quants and moves by their product's template; a pricelist item by the variant or template it names,
a category item by every template in scope in that category or below, a global item by every template
in scope. Deleted items leave no stamp, so the cursor keeps what every watched item prices: an item
gone since the last poll, or moved to another product, reports what it priced before. A dated item
that begins or ends between two polls changes prices without a write: it reports what it prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from emporion.connectors.base import ChangeBatch
from emporion.connectors.odoo import feed
from emporion.connectors.odoo.client import OdooClient, odoo_text
from emporion.connectors.odoo.mapping import ATTRIBUTE_VALUE_FIELDS, CATEGORY_FIELDS, ref_id
from emporion.connectors.odoo.prices import ITEM_FIELDS

ALL_ROWS = {"active_test": False}
ITEM = "product.pricelist.item"
TARGET_FIELDS = ["applied_on", "product_id", "product_tmpl_id", "categ_id"]
GLOBAL = "g"
IMAGE_SET: tuple[Any, ...] = (("image_1920", "!=", False),)


def item_target(row: dict[str, Any]) -> str:
    """What a pricelist item prices: "v<variant>", "t<template>", "c<category>" or "g" (everything)."""
    applied_on = row.get("applied_on")
    if applied_on == "0_product_variant" and (variant := ref_id(row.get("product_id"))):
        return f"v{variant}"
    if applied_on == "1_product" and (template := ref_id(row.get("product_tmpl_id"))):
        return f"t{template}"
    if applied_on == "2_product_category" and (category := ref_id(row.get("categ_id"))):
        return f"c{category}"
    return GLOBAL


class CatalogueFeed:
    """One poll of the catalogue's change feed for an entity (category or product)."""

    def __init__(
        self,
        client: OdooClient,
        *,
        template_fields: Sequence[str],
        variant_fields: Sequence[str],
        pricelists: set[int],
        scope: Sequence[Any],
        overlap: dt.timedelta,
        page_size: int,
    ) -> None:
        """A feed over `client` for the mapped fields, watching `pricelists`, templates within `scope`."""
        self.client = client
        self.template_fields = list(template_fields)
        self.variant_fields = list(variant_fields)
        self.pricelists = pricelists
        self.scope = list(scope)
        self.overlap = overlap
        self.page_size = page_size

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor` (None: from now on) and the cursor to ask with next."""
        position = feed.FeedCursor.loads(cursor) if cursor else None
        if entity == "category":
            sources = [feed.FeedSource("product.category", tuple(CATEGORY_FIELDS))]
            rows, next_cursor = await self._poll(sources, position)
            keys = {int(row["id"]) for row in rows["product.category"]}
            return ChangeBatch(keys=[str(key) for key in sorted(keys)], cursor=next_cursor.dumps())
        watched = await self.watched_pricelists()
        rows, next_cursor = await self._poll(self.sources(watched), position)
        items, gone = await self.track_items(watched, position, rows.get(ITEM, []))
        next_cursor.items, next_cursor.watched = items, sorted(watched)
        targets = {item_target(row) for row in rows.get(ITEM, [])} | gone
        if (
            position is not None
            and position.polled is not None
            and next_cursor.polled is not None
            and watched
        ):
            targets |= await self.crossed_dates(watched, position.polled, next_cursor.polled)
        keys = await self.templates_changed(rows, targets)
        return ChangeBatch(keys=[str(key) for key in sorted(keys)], cursor=next_cursor.dumps())

    async def _poll(
        self, sources: list[feed.FeedSource], position: feed.FeedCursor | None
    ) -> tuple[dict[str, list[dict[str, Any]]], feed.FeedCursor]:
        """One poll of `sources` from `position`."""
        return await feed.poll(self.client, sources, position, overlap=self.overlap, page_size=self.page_size)

    def sources(self, watched: set[int]) -> list[feed.FeedSource]:
        """The models whose written rows may change a product, with the fields that matter."""
        profile = self.client.profile
        template_fields = dict.fromkeys(
            [
                *self.template_fields,
                profile.product_type_field,
                *(term[0] for term in profile.storable_domain),
            ]
        )
        move_fields = ("product_id", "state", "product_uom_qty", profile.stock_move_quantity)
        sources = [
            feed.FeedSource("product.template", tuple(template_fields), flags=(("has_image", IMAGE_SET),)),
            feed.FeedSource("product.product", tuple(self.variant_fields)),
            feed.FeedSource("product.template.attribute.value", (*ATTRIBUTE_VALUE_FIELDS, "product_tmpl_id")),
            feed.FeedSource("stock.quant", ("product_id", "location_id", "quantity", "reserved_quantity")),
            feed.FeedSource("stock.move", (*move_fields, "location_id", "location_dest_id")),
        ]
        if watched:
            sources.append(
                feed.FeedSource(ITEM, tuple(ITEM_FIELDS), (("pricelist_id", "in", sorted(watched)),))
            )
        return sources

    async def watched_pricelists(self) -> set[int]:
        """The configured pricelists and every pricelist their prices are computed from."""
        watched = set(self.pricelists)
        frontier = set(watched)
        while frontier:
            rows = await self.client.search_read(
                ITEM,
                [("pricelist_id", "in", sorted(frontier)), ("base", "=", "pricelist")],
                ["base_pricelist_id"],
                context=ALL_ROWS,
            )
            found = {base for row in rows if (base := ref_id(row.get("base_pricelist_id")))}
            frontier = found - watched
            watched |= found
        return watched

    async def track_items(
        self, watched: set[int], position: feed.FeedCursor | None, changed: list[dict[str, Any]]
    ) -> tuple[dict[int, str], set[str]]:
        """What each watched item prices now, and what the items gone or moved since the last poll priced."""
        if not watched:
            return {}, set()
        domain: list[Any] = [("pricelist_id", "in", sorted(watched))]
        old = position.items if position is not None else None
        if old is None or position is None or set(position.watched) != watched:
            current = await self._targets(domain)
            if old is None:  # from now on: nothing to compare with
                return current, set()
            moved = {target for ident, target in old.items() if current.get(ident) != target}
            return current, moved | {target for ident, target in current.items() if old.get(ident) != target}
        ids = set(await self.client.search(ITEM, domain, context=ALL_ROWS))
        current = {ident: target for ident, target in old.items() if ident in ids}
        affected = {target for ident, target in old.items() if ident not in ids}
        for row in changed:
            ident, target = int(row["id"]), item_target(row)
            if ident in ids:
                if ident in current and current[ident] != target:
                    affected.add(current[ident])
                current[ident] = target
        unknown = sorted(ids - set(current))
        if unknown:  # made with a stamp older than the window: new to the feed all the same
            found = await self._targets([("id", "in", unknown)])
            current.update(found)
            affected |= set(found.values())
        return current, affected

    async def crossed_dates(self, watched: set[int], last: dt.datetime, now: dt.datetime) -> set[str]:
        """What the watched items that began or ended since the last poll price: nothing is written then.

        Both clocks are the server's to the second (a Date header: the true time is up to a second
        later). An item beginning at a second S is in force from S on, one ending at E until E (Odoo
        compares inclusively), so either crossed after the last poll's reads and by this poll's end
        when `last < S <= now` (`last < E <= now`): each crossing is reported by exactly one poll.
        """
        after, until = odoo_text(last), odoo_text(now)
        domain: list[Any] = [
            ("pricelist_id", "in", sorted(watched)),
            "|",
            "&",
            ("date_start", ">", after),
            ("date_start", "<=", until),
            "&",
            ("date_end", ">", after),
            ("date_end", "<=", until),
        ]
        return set((await self._targets(domain)).values())

    async def _targets(self, domain: list[Any]) -> dict[int, str]:
        """What each pricelist item matching `domain` prices, by item id."""
        targets: dict[int, str] = {}
        async for rows in self.client.pages(
            ITEM, domain, TARGET_FIELDS, page_size=self.page_size, context=ALL_ROWS
        ):
            targets.update((int(row["id"]), item_target(row)) for row in rows)
        return targets

    async def templates_changed(
        self, rows: dict[str, list[dict[str, Any]]], targets: Iterable[str]
    ) -> set[int]:
        """Template ids behind changed templates, variants, attribute values, quants, moves, item targets."""
        templates = {int(row["id"]) for row in rows.get("product.template", [])}
        for model in ("product.product", "product.template.attribute.value"):
            templates |= {
                ident for row in rows.get(model, []) if (ident := ref_id(row.get("product_tmpl_id")))
            }
        products = {
            ident
            for model in ("stock.quant", "stock.move")
            for row in rows.get(model, [])
            if (ident := ref_id(row.get("product_id")))
        }
        categories: set[int] = set()
        everything = False
        for target in targets:
            kind, number = target[0], target[1:]
            if kind == "v":
                products.add(int(number))
            elif kind == "t":
                templates.add(int(number))
            elif kind == "c":
                categories.add(int(number))
            else:
                everything = True
        templates |= await self.templates_of_products(products)
        if everything or categories:
            domain = list(self.scope)
            if not everything:
                domain.append(("categ_id", "child_of", sorted(categories)))
            async for page in self.client.pages(
                "product.template", domain, [], page_size=self.page_size, context=ALL_ROWS
            ):
                templates |= {int(row["id"]) for row in page}
        return templates

    async def templates_of_products(self, product_ids: set[int]) -> set[int]:
        """The templates of product.product rows (archived ones too)."""
        if not product_ids:
            return set()
        rows = await self.client.read(
            "product.product", sorted(product_ids), ["product_tmpl_id"], context=ALL_ROWS
        )
        return {ident for row in rows if (ident := ref_id(row.get("product_tmpl_id")))}
