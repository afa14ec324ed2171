"""What writing a shop's products into Odoo reads first: templates, variants and their codes, by SKU."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import OutcomeStatus
from emporion.connectors.catalogue_writes import Checked, Home
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.mapping import KG_PER_UNIT, ref_id, text

ALL_ROWS = {"active_test": False}  # archived rows count when searching before creating
TEMPLATE_READ = [
    "name",
    "default_code",
    "list_price",
    "description_sale",
    "categ_id",
    "sale_ok",
    "active",
    "weight",
    "attribute_line_ids",
]
VARIANT_READ = ["default_code", "product_tmpl_id", "product_template_attribute_value_ids", "active", "weight"]


class ProductReads:
    """Reads templates and variants, active or not, `chunk` values per search."""

    def __init__(self, client: OdooClient, chunk: int) -> None:
        self.client = client
        self.chunk = chunk
        self._per_kg: Decimal | None = None  # the database's weight unit per kilogram

    async def rows(
        self, model: str, name: str, values: Sequence[Any], fields: list[str]
    ) -> list[dict[str, Any]]:
        """The rows (active or not) whose field `name` is one of `values`, oldest first."""
        wanted = sorted(set(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(wanted), self.chunk):
            domain = [(name, "in", wanted[start : start + self.chunk])]
            rows += await self.client.search_read(model, domain, fields, order="id", context=ALL_ROWS)
        return rows

    async def find(self, skus: Sequence[str]) -> dict[str, int]:
        """The template behind each SKU (a product.product's code, active or not; active ones first)."""
        rows = await self.rows(
            "product.product",
            "default_code",
            [s for s in skus if s],
            ["default_code", "product_tmpl_id", "active"],
        )
        found: dict[str, int] = {}
        for row in sorted(rows, key=lambda row: (not row["active"], row["id"])):
            if template := ref_id(row["product_tmpl_id"]):
                found.setdefault(str(row["default_code"]), template)
        return found

    async def variants(self, templates: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Every product.product (active or not) of these templates, by template."""
        by_template: dict[int, list[dict[str, Any]]] = {ident: [] for ident in templates}
        for row in await self.rows("product.product", "product_tmpl_id", templates, VARIANT_READ):
            by_template.setdefault(ref_id(row["product_tmpl_id"]) or 0, []).append(row)
        return by_template

    async def lookup(self, skus: Sequence[str]) -> dict[str, dict[str, object]]:
        """`{sku: {"id": template id, "variants": {sku: product id}}}` for the SKUs Odoo holds."""
        found = await self.find(skus)
        rows = await self.variants(sorted(set(found.values())))
        return {sku: {"id": ident, "variants": _codes(rows[ident])} for sku, ident in found.items()}

    async def templates(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The templates of these ids (active or not), by id."""
        rows = await self.rows("product.template", "id", ids, TEMPLATE_READ) if ids else []
        return {int(row["id"]): row for row in rows}

    async def weight(self, kilograms: Decimal | None) -> float | None:
        """A weight in the database's weight unit (kilograms unless Odoo is set to pounds)."""
        if kilograms is None:
            return None
        if self._per_kg is None:
            rows = await self.client.search_read(
                "product.template", [], ["weight_uom_name"], limit=1, context=ALL_ROWS
            )
            unit = text(rows[0].get("weight_uom_name")).lower() if rows else "kg"
            self._per_kg = 1 / KG_PER_UNIT.get(unit or "kg", Decimal(1))
        return float(round(kilograms * self._per_kg, 6))

    async def uncoded(self, unlinked: Checked) -> dict[str, Home]:
        """Templates of the same name whose variants all lack a code: what a create leaves when its
        answer, or emporion, was lost before the variants' SKUs were written (matched, not made again)."""
        names = sorted({product.name for _, product in unlinked})
        rows = await self.rows("product.template", "name", names, ["name"]) if names else []
        variants = await self.variants([int(row["id"]) for row in rows])
        bare = [
            row
            for row in rows
            if variants[int(row["id"])]
            and all(
                not v["default_code"] and v["product_template_attribute_value_ids"]
                for v in variants[int(row["id"])]
            )
        ]
        homes: dict[str, Home] = {}
        for item, product in unlinked:
            ident = next((int(row["id"]) for row in bare if row["name"] == product.name), None)
            if ident is not None and ident not in {home for home, _ in homes.values()}:
                homes[item.key] = (ident, OutcomeStatus.MATCHED)
        return homes


def _codes(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Variant ids by code, an active variant winning over an archived one of the same code."""
    ordered = sorted(rows, key=lambda row: (bool(row["active"]), -int(row["id"])))
    return {str(row["default_code"]): int(row["id"]) for row in ordered if row.get("default_code")}
