"""The Odoo catalogue source: categories and products (templates with variants), prices, promotions, stock.

A product is a `product.template` (key: its id) that can be sold (`sale_ok`) and is neither a service
nor a combo (services such as delivery charges are not catalogue); its active variants are the
product's variants. Reads are per page of templates: one read per model for the whole page, one
`free_qty` read per warehouse, the pricelist rules of the page once (see prices.py for how Odoo's
prices are reproduced). `read` leaves out keys that are missing or out of scope; a template that
cannot be mapped becomes an `Unmappable` naming it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import ChangeBatch, Permanent, map_or_unmappable, numeric_keys
from emporion.connectors.odoo import stock
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.feed_catalogue import CatalogueFeed
from emporion.connectors.odoo.mapping import (
    ATTRIBUTE_VALUE_FIELDS,
    CATEGORY_FIELDS,
    OPTIONAL_FIELDS,
    TEMPLATE_FIELDS,
    VARIANT_FIELDS,
    VariantFacts,
    category_from_row,
    custom_value,
    image_of,
    product_from_rows,
    ref_id,
    ref_name,
    variant_list_price,
)
from emporion.connectors.odoo.prices import PricedVariant
from emporion.connectors.odoo.prices_load import variant_prices
from emporion.connectors.odoo.settings import OdooConnection
from emporion.model import Record

ENTITIES = frozenset({"category", "product"})
SCOPE: list[Any] = [("sale_ok", "=", True), ("type", "not in", ["service", "combo"])]
ALL_ROWS = {"active_test": False}


def parse_custom_fields(spec: dict[str, str]) -> dict[str, tuple[str, str]]:
    """custom name -> (owner, field) from 'template.<field>' / 'product.<field>'; anything else refused."""
    parsed = {}
    for name, path in spec.items():
        owner, _, field_name = path.partition(".")
        if owner not in ("template", "product") or not field_name:
            raise Permanent(
                f"custom field {name!r}: expected 'template.<field>' or 'product.<field>', got {path!r}",
                record="settings",
                field="custom_fields",
            )
        parsed[name] = (owner, field_name)
    return parsed


class OdooCatalogue:
    """Reads an Odoo database's catalogue for the engine, and tells it what changed."""

    def __init__(self, client: OdooClient, settings: OdooConnection) -> None:
        """A catalogue over `client`, configured by `settings` (resolved on first use)."""
        self.client = client
        self.settings = settings
        self.page_size = settings.page_size
        self.overlap = dt.timedelta(seconds=settings.overlap_seconds)
        self.custom_fields = parse_custom_fields(settings.custom_fields)
        self._setup_lock = asyncio.Lock()
        self._warehouses: dict[str, int] | None = None
        self._pricelists: dict[str, int] = {}
        self._sale_pricelist: int | None = None
        self._currency: str | None = None
        self._template_fields: list[str] = []
        self._variant_fields: list[str] = []

    # -- set-up -------------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Connect, then resolve warehouses, pricelists and the company currency once."""
        async with self._setup_lock:
            if self._warehouses is not None:
                return
            await self.client.connect()
            warehouses = await stock.resolve_warehouses(self.client, self.settings.warehouses)
            await self._resolve_pricelists()
            self._currency = await self._company_currency()
            self._template_fields = await self._existing_fields(
                "product.template", TEMPLATE_FIELDS, "template"
            )
            self._variant_fields = await self._existing_fields("product.product", VARIANT_FIELDS, "product")
            self._warehouses = warehouses

    async def _resolve_pricelists(self) -> None:
        """Pricelist ids by the configured names; an unknown or doubled name is refused."""
        sale = self.settings.sale_pricelist
        names = sorted({*self.settings.pricelists, *([sale] if sale else [])})
        if not names:
            return
        rows = await self.client.search_read("product.pricelist", [("name", "in", names)], ["name"])
        found: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            found[str(row["name"])].append(int(row["id"]))
        unknown = [name for name in names if not found.get(name)]
        if unknown:
            raise Permanent(f"Odoo has no pricelist named {', '.join(unknown)}", "product.pricelist", "name")
        doubled = [name for name in names if len(found[name]) > 1]
        if doubled:
            raise Permanent(
                f"Odoo has several pricelists named {', '.join(doubled)}", "product.pricelist", "name"
            )
        self._pricelists = {name: found[name][0] for name in self.settings.pricelists}
        self._sale_pricelist = found[sale][0] if sale else None

    async def _existing_fields(self, model: str, wanted: list[str], owner: str) -> list[str]:
        """`wanted` and the custom fields of `owner` that `model` has; a missing custom field is refused.

        Odoo refuses a read naming a field it lacks, so fields another version or a database may lack
        (OPTIONAL_FIELDS) are left out, and a custom field that does not exist is named here.
        """
        known = set(await self.client.call(model, "fields_get", attributes=["type"]))
        missing = [name for name in self._custom_fields_of(owner) if name not in known]
        if missing:
            raise Permanent(
                f"Odoo's {model} has no field {', '.join(missing)}", record="settings", field="custom_fields"
            )
        lacking = [name for name in wanted if name not in known and name not in OPTIONAL_FIELDS]
        if lacking:
            raise Permanent(
                f"Odoo's {model} has no field {', '.join(lacking)}", record=model, field=lacking[0]
            )
        return [name for name in wanted if name in known] + self._custom_fields_of(owner)

    async def _company_currency(self) -> str | None:
        """The currency of the integration user's company (else of the first company)."""
        users = await self.client.read("res.users", [self.client.uid], ["company_id"])
        company = ref_id(users[0].get("company_id")) if users else None
        domain: list[Any] = [("id", "=", company)] if company else []
        companies = await self.client.search_read("res.company", domain, ["currency_id"], limit=1, order="id")
        return (ref_name(companies[0].get("currency_id")) or None) if companies else None

    @property
    def warehouses(self) -> dict[str, int]:
        """Warehouse code -> id (after `setup`)."""
        if self._warehouses is None:
            raise RuntimeError("OdooCatalogue.setup() has not run")
        return self._warehouses

    # -- reads ----------------------------------------------------------------------------------

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys`; missing or out-of-scope ones are left out."""
        self._check_entity(entity)
        await self.setup()
        ids, unusable = numeric_keys(keys, entity)
        records: list[Record] = list(unusable)
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            if entity == "category":
                rows = await self.client.search_read(
                    "product.category", [("id", "in", chunk)], CATEGORY_FIELDS
                )
                records.extend(_category(row) for row in rows)
            else:
                records.extend(await self._products(chunk))
        return records

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every category or product in scope, a page at a time, ordered by id."""
        self._check_entity(entity)
        await self.setup()
        if entity == "category":
            async for rows in self.client.pages(
                "product.category", [], CATEGORY_FIELDS, page_size=self.page_size
            ):
                yield [_category(row) for row in rows]
            return
        async for rows in self.client.pages("product.template", SCOPE, [], page_size=self.page_size):
            yield await self._products([int(row["id"]) for row in rows])

    def _custom_fields_of(self, owner: str) -> list[str]:
        """The Odoo fields the custom fields read from `owner` (template or product)."""
        return sorted({name for kind, name in self.custom_fields.values() if kind == owner})

    def _custom_values(self, owner: str, row: dict[str, Any]) -> dict[str, Any]:
        """The custom values of a template or product row, by custom name."""
        return {
            label: custom_value(row.get(name))
            for label, (kind, name) in self.custom_fields.items()
            if kind == owner
        }

    async def _products(self, template_ids: list[int]) -> list[Record]:
        """The products of a page of template ids (in scope and with an active variant)."""
        client = self.client
        templates = await client.search_read(
            "product.template", [("id", "in", template_ids), *SCOPE], self._template_fields
        )
        if not templates:
            return []
        ids = [int(row["id"]) for row in templates]
        with_image, variants = await asyncio.gather(
            client.search("product.template", [("id", "in", ids), ("image_1920", "!=", False)]),
            client.search_read("product.product", [("product_tmpl_id", "in", ids)], self._variant_fields),
        )
        value_ids = sorted(
            {value for row in variants for value in row.get("product_template_attribute_value_ids") or []}
        )
        value_rows = await client.read("product.template.attribute.value", value_ids, ATTRIBUTE_VALUE_FIELDS)
        attribute_values = {int(row["id"]): row for row in value_rows}
        by_template: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in variants:
            if template := ref_id(row.get("product_tmpl_id")):
                by_template[template].append(row)
        facts = await self._variant_facts(templates, by_template, attribute_values)
        pictured = set(with_image)
        return [
            map_or_unmappable(
                str(template["id"]),
                functools.partial(
                    product_from_rows,
                    template,
                    by_template[int(template["id"])],
                    attribute_values,
                    facts,
                    currency=self._currency,
                    images=image_of(client.url, int(template["id"]), int(template["id"]) in pictured),
                    template_custom=self._custom_values("template", template),
                ),
            )
            for template in templates
            if by_template[int(template["id"])]
        ]

    async def _variant_facts(
        self,
        templates: list[dict[str, Any]],
        by_template: dict[int, list[dict[str, Any]]],
        attribute_values: dict[int, dict[str, Any]],
    ) -> dict[int, VariantFacts]:
        """Stock per warehouse, pricelist prices, promotion and custom values of each variant."""
        priced: list[PricedVariant] = []
        facts: dict[int, VariantFacts] = {}
        for template in templates:
            for variant in by_template[int(template["id"])]:
                facts[int(variant["id"])] = VariantFacts(custom=self._custom_values("product", variant))
                priced.append(
                    PricedVariant(
                        id=int(variant["id"]),
                        template=int(template["id"]),
                        category=ref_id(template.get("categ_id")),
                        list_price=variant_list_price(template, variant, attribute_values),
                    )
                )
        levels, prices = await asyncio.gather(
            stock.stock_levels(self.client, sorted(facts), self.warehouses),
            variant_prices(
                self.client, priced, self._pricelists, self._sale_pricelist, page_size=self.page_size
            ),
        )
        for ident, fact in facts.items():
            fact.stock = levels.get(ident, [])
            fact.price_lists, fact.sale_price = prices.get(ident, ({}, None))
        return facts

    # -- what the sales side asks ------------------------------------------------------------------

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product (template) key behind each SKU, simple or variant; unknown SKUs are absent."""
        wanted = sorted({sku for sku in skus if sku})
        found: dict[str, str] = {}
        for start in range(0, len(wanted), self.page_size):
            rows = await self.client.search_read(
                "product.product",
                [("default_code", "in", wanted[start : start + self.page_size])],
                ["default_code", "product_tmpl_id"],
                context=ALL_ROWS,
            )
            for row in rows:
                if template := ref_id(row.get("product_tmpl_id")):
                    found[str(row["default_code"])] = str(template)
        return found

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """free_qty per known storable SKU, summed over `warehouses` (None: the configured ones)."""
        await self.setup()
        chosen = self.warehouses
        if warehouses:
            chosen = await stock.resolve_warehouses(self.client, warehouses)
        return await stock.sku_availability(self.client, skus, chosen, page_size=self.page_size)

    # -- change feed ----------------------------------------------------------------------------

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor`; None starts from now (nothing older is reported)."""
        self._check_entity(entity)
        await self.setup()
        watching = CatalogueFeed(
            self.client,
            template_fields=self._template_fields,
            variant_fields=self._variant_fields,
            pricelists={
                *self._pricelists.values(),
                *([self._sale_pricelist] if self._sale_pricelist else []),
            },
            scope=SCOPE,
            overlap=self.overlap,
            page_size=self.page_size,
        )
        return await watching.changes(entity, cursor)

    def _check_entity(self, entity: str) -> None:
        """Refuse an entity the catalogue does not read."""
        if entity not in ENTITIES:
            raise Permanent(
                f"the Odoo catalogue does not read {entity!r} (only {', '.join(sorted(ENTITIES))})"
            )


def _category(row: dict[str, Any]) -> Record:
    """A category, or its Unmappable stand-in."""
    return map_or_unmappable(str(row.get("id", "")), functools.partial(category_from_row, row))
