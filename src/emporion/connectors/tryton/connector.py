"""The Tryton connector: categories and products read over JSON-RPC, with a poll change feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors import roles
from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    ConnectorError,
    FeedKind,
    Outcome,
    Permanent,
    WriteItem,
    map_or_unmappable,
    numeric_keys,
)
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.tryton import feed
from emporion.connectors.tryton.catalogue_write import CatalogueWriter
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.customers import Customers
from emporion.connectors.tryton.mapping import (
    CATEGORY_FIELDS,
    PRODUCT_FIELDS,
    TEMPLATE_FIELDS,
    VariantFacts,
    category_from_row,
    custom_value,
    identifier,
    product_from_rows,
    sale_price_window,
    to_decimal,
)
from emporion.connectors.tryton.parties import AddressMode
from emporion.connectors.tryton.returns import ReturnWriter
from emporion.connectors.tryton.sales_read import OrderFeed, SalesReader
from emporion.connectors.tryton.sales_write import SaleWriter, sku_availability
from emporion.model import Record, SalePrice, StockLevel

ENTITIES = frozenset({"category", "product"})
CUSTOMERS = frozenset({"customer"})  # parties, both ways (customers.py)
ORDER_READS = frozenset({"order"})  # sales read back for the shop (feedback direction)
ORDER_WRITES = frozenset({"return", "customer", "order"})
# what this Tryton does not keep of a shop's catalogue (README, "A shop's catalogue into Tryton")
UNKEPT = {
    "product": frozenset({"short_description", "images", "sale_price", "available", "tax_class", "custom"}),
    "category": frozenset({"slug", "description"}),
}
CATALOGUE_WRITES = frozenset({"category", "product"})  # a shop's catalogue into Tryton (catalogue_write.py)
CATEGORY_DOMAIN: list[Any] = [("accounting", "=", False)]  # accounting categories are not catalogue
# Service products (carriers' shipping costs) are not catalogue.
TEMPLATE_DOMAIN: list[Any] = [("salable", "=", True), ("type", "!=", "service")]


class TrytonConnector:
    """Reads a Tryton database's catalogue (categories, products, prices, stock) for the engine."""

    def __init__(
        self,
        name: str,
        url: str,
        database: str,
        username: str,
        password: str,
        *,
        warehouses: list[str] | None = None,
        custom_fields: dict[str, str] | None = None,
        price_lists: list[str] | None = None,
        sale_price_list: str | None = None,
        overlap_seconds: float = 30,
        order_reference_prefixes: list[str] | None = None,
        page_size: int = 500,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 55.0,
        circuit: CircuitBreaker | None = None,
        max_concurrency: int | None = None,
        customer_groups: list[str] | None = None,
        customer_category: str | None = None,
        customer_addresses: AddressMode = "add",
    ) -> None:
        self.name = name
        self.circuit = circuit or CircuitBreaker(name)
        self.client = TrytonClient(
            url,
            database,
            username,
            password,
            verify=verify,
            timeout=timeout,
            circuit=self.circuit,
            max_concurrency=max_concurrency,
        )
        self.warehouse_codes = warehouses
        self.custom_fields = self._parse_custom_fields(custom_fields or {})
        self.price_list_names = price_lists or []
        self.sale_price_list_name = sale_price_list
        self.overlap = dt.timedelta(seconds=overlap_seconds)
        self.order_reference_prefixes = order_reference_prefixes
        self.page_size = page_size
        self._warehouses: dict[str, int] | None = None
        self._price_lists: dict[str, int] = {}
        self._sale_price_list: int | None = None
        self._currency: str | None = None
        self._digits: int = 2
        self.customers = Customers(
            self.client,
            page_size=page_size,
            overlap=self.overlap,
            groups=customer_groups or [],
            category=customer_category,
            addresses=customer_addresses,
        )
        self.catalogue_writer = CatalogueWriter(self.client, digits=self._currency_digits)

    @staticmethod
    def _parse_custom_fields(spec: dict[str, str]) -> dict[str, tuple[str, str]]:
        parsed = {}
        for name, path in spec.items():
            owner, _, field_name = path.partition(".")
            if owner not in ("template", "product") or not field_name:
                raise Permanent(
                    f"custom field {name!r}: expected 'template.<field>' or 'product.<field>', got {path!r}"
                )
            parsed[name] = (owner, field_name)
        return parsed

    def capabilities(self) -> Capabilities:
        return Capabilities(
            reads=ENTITIES | CUSTOMERS | ORDER_READS,
            writes=ORDER_WRITES | CATALOGUE_WRITES,
            batch_size=self.page_size,
            feed=FeedKind.POLL,
            natural_keys={"product": "sku", "category": "name", "customer": "email"},
            unkept=UNKEPT,
        )

    # -- set-up ---------------------------------------------------------------------------------

    async def _setup(self) -> None:
        """Resolve warehouses, price lists and the company currency once per connector."""
        if self._warehouses is not None:
            return
        client = self.client
        rows = await client.search_read("stock.location", [("type", "=", "warehouse")], ["code"])
        by_code = {row["code"]: row["id"] for row in rows if row.get("code")}
        wanted = self.warehouse_codes or sorted(by_code)
        missing = [code for code in wanted if code not in by_code]
        if missing:
            raise Permanent(
                f"Tryton has no warehouse with code {', '.join(missing)} (has {', '.join(sorted(by_code))})"
            )
        names = [*self.price_list_names, *([self.sale_price_list_name] if self.sale_price_list_name else [])]
        if names:
            lists = await client.search_read("product.price_list", [("name", "in", names)], ["name"])
            found = {row["name"]: row["id"] for row in lists}
            unknown = [name for name in names if name not in found]
            if unknown:
                raise Permanent(f"Tryton has no price list named {', '.join(unknown)}")
            self._price_lists = {name: found[name] for name in self.price_list_names}
            self._sale_price_list = (
                found.get(self.sale_price_list_name) if self.sale_price_list_name else None
            )
        company = client.context.get("company")
        if company:
            (row,) = await client.read("company.company", [company], ["currency.code", "currency.digits"])
            self._currency = row["currency."]["code"]
            self._digits = int(row["currency."].get("digits") or 2)
        self._warehouses = {code: by_code[code] for code in wanted}

    async def _currency_digits(self) -> int:
        """The company currency's digits (list prices written to Tryton are rounded to them)."""
        await self._setup()
        return self._digits

    def _money(self, value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(Decimal(1).scaleb(-self._digits))

    # -- reads ----------------------------------------------------------------------------------

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys`; missing, inactive or unsalable products are left out."""
        if entity == "customer":
            return await self.customers.read(keys)
        ids, unusable = numeric_keys(keys, entity)
        if entity == "order":
            return [*unusable, *await SalesReader(self.client, self.page_size).orders(ids)]
        self._check_entity(entity)
        records: list[Record] = list(unusable)
        if not ids:
            return records
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            if entity == "category":
                rows = await self.client.search_read(
                    "product.category", [("id", "in", chunk), *CATEGORY_DOMAIN], CATEGORY_FIELDS
                )
                records.extend(_category(row) for row in rows)
            else:
                records.extend(await self._read_products(chunk))
        return records

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every category, salable product or customer party, a page at a time, ordered by id."""
        if entity == "customer":
            async for page in self.customers.scan():
                yield page
            return
        self._check_entity(entity)
        if entity == "category":
            async for rows in self.client.pages(
                "product.category", CATEGORY_DOMAIN, CATEGORY_FIELDS, page_size=self.page_size
            ):
                yield [_category(row) for row in rows]
            return
        async for rows in self.client.pages(
            "product.template", TEMPLATE_DOMAIN, ["id"], page_size=self.page_size
        ):
            yield await self._read_products([row["id"] for row in rows])

    async def _read_products(self, template_ids: list[int]) -> list[Record]:
        await self._setup()
        client = self.client
        template_fields = [*TEMPLATE_FIELDS, *self._custom_fields_of("template")]
        templates = await client.search_read(
            "product.template", [("id", "in", template_ids), *TEMPLATE_DOMAIN], template_fields
        )
        if not templates:
            return []
        product_fields = [*PRODUCT_FIELDS, "list_price_used", *self._custom_fields_of("product")]
        products = await client.search_read(
            "product.product", [("template", "in", [row["id"] for row in templates])], product_fields
        )
        by_template: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in products:
            by_template[row["template"]].append(row)
        facts = await self._variant_facts(products)
        return [
            map_or_unmappable(
                str(template["id"]),
                functools.partial(
                    product_from_rows,
                    template,
                    by_template[template["id"]],
                    facts,
                    currency=self._currency,
                    template_custom=self._custom_values("template", template),
                ),
            )
            for template in templates
            if by_template[template["id"]]
        ]

    def _custom_fields_of(self, owner: str) -> list[str]:
        fields = []
        for kind, name in self.custom_fields.values():
            if kind == owner:
                fields.extend(
                    ["identifiers.type", "identifiers.code"] if name in ("ean", "upc", "isbn") else [name]
                )
        return fields

    def _custom_values(self, owner: str, row: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for label, (kind, name) in self.custom_fields.items():
            if kind != owner:
                continue
            values[label] = (
                identifier(row, name) if name in ("ean", "upc", "isbn") else custom_value(row.get(name))
            )
        return values

    async def _variant_facts(self, products: list[dict[str, Any]]) -> dict[int, VariantFacts]:
        """Stock per warehouse, price-list prices and promotion for each product.product."""
        ids = [row["id"] for row in products]
        facts = {
            row["id"]: VariantFacts(
                list_price=self._money(row.get("list_price_used")),
                custom=self._custom_values("product", row),
            )
            for row in products
        }
        assert self._warehouses is not None
        # Independent reads run side by side: each one is a round trip of its own on the server.
        stock_reads = [self._stock_in(location, ids) for location in self._warehouses.values()]
        price_reads = [self._prices_in(price_list, ids) for price_list in self._price_lists.values()]
        promotions = [self._promotions(ids)] if self._sale_price_list else []
        stock, prices, offers = await asyncio.gather(  # every read at once, as one round trip
            asyncio.gather(*stock_reads), asyncio.gather(*price_reads), asyncio.gather(*promotions)
        )
        for code, levels in zip(self._warehouses, stock, strict=True):
            for product, quantity in levels.items():
                facts[product].stock.append(StockLevel(warehouse=code, quantity=quantity))
        for name, by_product in zip(self._price_lists, prices, strict=True):
            for product, price in by_product.items():
                facts[product].price_lists[name] = price
        for offer in offers:
            for product, sale_price in offer.items():
                facts[product].sale_price = sale_price
        return facts

    async def _stock_in(self, location: int, ids: list[int]) -> dict[int, Decimal]:
        """Quantity available to promise per product in one warehouse: min(on hand, forecast)."""
        context = {"locations": [location], "with_childs": True}
        rows = await self.client.read(
            "product.product", ids, ["quantity", "forecast_quantity"], context=context
        )
        return {
            row["id"]: min(
                to_decimal(row["quantity"]) or Decimal(0), to_decimal(row["forecast_quantity"]) or Decimal(0)
            )
            for row in rows
        }

    async def _prices_in(self, price_list: int, ids: list[int]) -> dict[int, Decimal]:
        """The unit price Tryton computes per product with one price list."""
        rows = await self.client.read(
            "product.product", ids, ["sale_price_uom"], context={"price_list": price_list}
        )
        return {row["id"]: price for row in rows if (price := self._money(row["sale_price_uom"])) is not None}

    async def _promotions(self, ids: list[int]) -> dict[int, SalePrice]:
        """The sale price of each product from its own line in the promotion price list.

        The line in force today wins, else the next one to start; its price is computed by Tryton
        for the first day of the window it will apply in.
        """
        today = dt.date.today()
        lines = await self.client.search_read(
            "product.price_list.line",
            [("price_list", "=", self._sale_price_list), ("product", "in", ids)],
            ["product", "start_date", "end_date", "sequence"],
            order=[("sequence", "ASC"), ("id", "ASC")],
        )
        chosen: dict[int, dict[str, Any]] = {}
        for line in lines:  # by sequence: the first line in force today wins, as in Tryton
            in_force = (line["start_date"] or today) <= today and (line["end_date"] or today) >= today
            if in_force and line["product"] not in chosen:
                chosen[line["product"]] = line
        for line in lines:  # otherwise the line that starts next
            if (line["start_date"] or today) > today:
                current = chosen.get(line["product"])
                if current is None or (current["start_date"] or today) > line["start_date"]:
                    chosen[line["product"]] = line
        by_day: dict[dt.date, list[int]] = defaultdict(list)
        for product, line in chosen.items():
            by_day[max(line["start_date"] or today, today)].append(product)
        sale_prices: dict[int, SalePrice] = {}
        for day, products in by_day.items():
            context = {"price_list": self._sale_price_list, "date": day, "sale_date": day}
            for row in await self.client.read(
                "product.product", products, ["sale_price_uom"], context=context
            ):
                price = self._money(row["sale_price_uom"])
                line = chosen[row["id"]]
                if price is not None:
                    sale_prices[row["id"]] = sale_price_window(price, line["start_date"], line["end_date"])
        return sale_prices

    # -- change feed ----------------------------------------------------------------------------

    def _sources(self, entity: str) -> list[feed.FeedSource]:
        if entity == "category":
            return [feed.FeedSource("product.category")]
        sources = [
            feed.FeedSource("product.template"),
            feed.FeedSource("product.product", ("template",)),
            feed.FeedSource("stock.move", ("product",)),
        ]
        if self._price_lists or self._sale_price_list:
            sources.append(feed.FeedSource("product.price_list.line", ("price_list", "product", "category")))
        return sources

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor`; None starts from the database's newest stamp."""
        if entity == "order":
            order_feed = OrderFeed(
                self.client,
                overlap=self.overlap,
                page_size=self.page_size,
                reference_prefixes=self.order_reference_prefixes,
            )
            return await order_feed.changes(cursor)
        if entity == "customer":
            return await self.customers.changes(cursor)
        self._check_entity(entity)
        await self._setup()
        position = feed.FeedCursor.loads(cursor) if cursor else None
        rows, next_cursor = await feed.poll(
            self.client, self._sources(entity), position, overlap=self.overlap, page_size=self.page_size
        )
        if entity == "category":
            keys = {row["id"] for row in rows["product.category"]}
        else:
            keys = await self._templates_for(rows)
        return ChangeBatch(keys=[str(key) for key in sorted(keys)], cursor=next_cursor.dumps())

    async def _templates_for(self, rows: dict[str, list[dict[str, Any]]]) -> set[int]:
        """Template ids behind changed templates, variants, stock moves and price-list lines."""
        templates = {row["id"] for row in rows.get("product.template", [])}
        templates |= {row["template"] for row in rows.get("product.product", [])}
        product_ids = {row["product"] for row in rows.get("stock.move", []) if row.get("product")}
        watched = {*self._price_lists.values(), *([self._sale_price_list] if self._sale_price_list else [])}
        categories: set[int] = set()
        everything = False
        for line in rows.get("product.price_list.line", []):
            if line["price_list"] not in watched:
                continue
            if line.get("product"):
                product_ids.add(line["product"])
            elif line.get("category"):
                categories.add(line["category"])
            else:
                everything = True
        if product_ids:
            found = await self.client.read(
                "product.product", sorted(product_ids), ["template"], context=feed.ALL_ROWS
            )
            templates |= {row["template"] for row in found}
        if everything or categories:
            domain: list[Any] = [("categories_all", "in", sorted(categories))] if not everything else []
            async for page in self.client.pages("product.template", domain, ["id"], page_size=self.page_size):
                templates |= {row["id"] for row in page}
        return templates

    # -- the rest of the protocol -----------------------------------------------------------------

    async def check(self) -> list[CheckResult]:
        """Login, company, and read permissions on what the feed and the reads need."""
        results: list[CheckResult] = []
        try:
            await self.client.login()
        except ConnectorError as exc:
            return [CheckResult("login", False, str(exc))]
        company = self.client.context.get("company")
        results.append(
            CheckResult(
                "login", True, f"logged in as {self.client.username!r} (user id {self.client.user_id})"
            )
        )
        results.append(
            CheckResult(
                "company",
                bool(company),
                f"company id {company}" if company else "the user has no current company",
            )
        )
        probes: list[tuple[str, str, dict[str, Any], list[str]]] = [
            ("read product.template", "product.template", {}, ["name", "list_price"]),
            ("read product.product", "product.product", {}, ["code", "template"]),
            ("read stock.move", "stock.move", {}, ["product", "write_date"]),
            ("read product.category", "product.category", {}, ["name"]),
        ]
        for label, model, context, fields in probes:
            results.append(await self._probe(label, model, fields, context))
        results.append(await self._write_probe("product.template"))
        try:
            await self._setup()
            assert self._warehouses is not None
            results.append(
                CheckResult("warehouses", True, ", ".join(f"{c}={i}" for c, i in self._warehouses.items()))
            )
            first = next(iter(self._warehouses.values()))
            context = {"locations": [first], "with_childs": True}
            results.append(
                await self._probe(
                    "read stock quantities", "product.product", ["quantity", "forecast_quantity"], context
                )
            )
        except ConnectorError as exc:
            results.append(CheckResult("warehouses and price lists", False, str(exc)))
        return results

    async def _probe(self, label: str, model: str, fields: list[str], context: dict[str, Any]) -> CheckResult:
        try:
            rows = await self.client.search_read(model, [], fields, limit=1, context=context)
        except ConnectorError as exc:
            return CheckResult(label, False, f"cannot read {model} ({', '.join(fields)}): {exc}")
        return CheckResult(label, True, f"{model} readable ({len(rows)} row sampled)")

    async def _write_probe(self, model: str) -> CheckResult:
        """Whether the login may create and write `model` (a shop's catalogue into Tryton needs it)."""
        label = f"write {model}"
        try:
            access = (await self.client.model("ir.model.access", "get_access", [model]))[model]
        except ConnectorError as exc:
            return CheckResult(label, False, f"cannot ask Tryton for the access to {model}: {exc}")
        if access.get("create") and access.get("write"):
            return CheckResult(label, True, f"{model} may be created and written")
        return CheckResult(
            label,
            False,
            f"{model} may not be created or written (a catalogue flow into Tryton needs the"
            " group Product Administration)",
        )

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Returns, parties, sales, and a shop's catalogue (categories, products) into Tryton."""
        if entity == "return":  # shop refunds -> return sale, return shipment, credit note
            return await ReturnWriter(self.client).write(upserts)
        if entity == "customer":  # shop customers -> parties (matched by number, else e-mail)
            return await self.customers.write(upserts, deletes)
        if entity in CATALOGUE_WRITES:  # a shop's categories and products (matched by name, SKU)
            return await self.catalogue_writer.write(entity, upserts, deletes)
        if entity == "order":  # shop orders -> sales (searched by reference first)
            return await self.write_sales(upserts, roles.SaleOptions())
        raise Permanent(f"the Tryton connector does not write {entity} records")

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by natural key (SKU, category name, e-mail): `{natural key: {"id": …}}`."""
        if entity == "customer":
            return await self.customers.lookup(natural_keys)
        if entity in CATALOGUE_WRITES:
            return await self.catalogue_writer.lookup(entity, natural_keys)
        raise Permanent(f"the Tryton connector looks up no {entity} records", field="entity")

    async def count(self, entity: str) -> int:
        """How many categories, salable products or customer parties the database holds."""
        if entity == "customer":
            return await self.customers.count()
        self._check_entity(entity)
        return await self.catalogue_writer.count(entity)

    async def write_sales(self, upserts: Sequence[WriteItem], options: roles.SaleOptions) -> list[Outcome]:
        """Create, pay or cancel the sales of shop orders with the flow's maps (the sales target role)."""
        return await SaleWriter(self.client).write(upserts, options)

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Quantity available to promise per known SKU, summed over `warehouses` (None: configured)."""
        return await sku_availability(self.client, skus, warehouses or self.warehouse_codes)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product (template) key behind each SKU, simple or variant; unknown SKUs are absent."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        rows = await self.client.search_read(
            "product.product", [("code", "in", wanted)], ["code", "template"], context={"active_test": False}
        )
        return {row["code"]: str(row["template"]) for row in rows}

    def observe_requests(self, observer: roles.RequestObserver) -> None:
        """Tell `observer` of every request to Tryton (metrics, correlation id)."""
        self.client.observe(observer)

    async def close(self) -> None:
        await self.client.close()

    def _check_entity(self, entity: str) -> None:
        if entity not in ENTITIES:
            raise Permanent(
                f"the Tryton connector does not read {entity!r} (only {', '.join(sorted(ENTITIES))})"
            )


def _category(row: dict[str, Any]) -> Record:
    """A category, or its Unmappable stand-in."""
    return map_or_unmappable(str(row.get("id", "")), functools.partial(category_from_row, row))
