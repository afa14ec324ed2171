"""Mapped row fields -> canonical records: categories, customers, and products with their sub-entities.

The fields come from `rows.mapping.RowMapper` as the row held them (typed by a SQL driver, or text
from a file); here they are typed with the source's parsing options, and a product is put together
from its own row and the rows of its variants, prices, sale prices, stock and images, joined by SKU.

A value that cannot be typed fails its record with `Permanent` naming the record (the fields'
`_where`, e.g. `file artikel.csv row 17`, else `<entity> <key>`) and the field. `products_from`
turns such a product into an `Unmappable` stand-in and assembles the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.rows.fields import (
    attribute_values,
    attributes_of,
    custom_of,
    keys_of,
    required_text,
    typed,
    where,
)
from emporion.connectors.rows.values import (
    DEFAULT_PARSING,
    Parsing,
    to_bool,
    to_datetime,
    to_decimal,
    to_text,
)
from emporion.model import Address, Category, Customer, Image, Product, Record, SalePrice, StockLevel, Variant

T = TypeVar("T")
DEFAULT_WAREHOUSE = "default"  # stock rows of an ERP with one store and no warehouse column
_ADDRESS_FIELDS = tuple(Address.model_fields)
_LIST_SEPARATORS = (",", "|", ";")


@dataclass
class Related:
    """The mapped fields of the sub-entity rows of a set of products (variants by `product`, the
    rest by `sku`, a product's or a variant's)."""

    variants: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)
    sale_prices: list[dict[str, Any]] = field(default_factory=list)
    stock: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)


def category_from(key: str, fields: Mapping[str, Any], parsing: Parsing = DEFAULT_PARSING) -> Category:
    """A category row as a Category; a parent that is empty, `0` or the category itself means a root."""
    record = where(fields, "category", key)
    name = required_text(record, "name", fields)
    parent = typed(record, "parent", to_text, fields.get("parent"))
    return Category(
        key=key,
        name=name,
        parent_key=None if parent in ("", "0", key) else parent,
        slug=typed(record, "slug", to_text, fields.get("slug")) or None,
        description=typed(record, "description", to_text, fields.get("description")),
    )


def customer_from(key: str, fields: Mapping[str, Any], parsing: Parsing = DEFAULT_PARSING) -> Customer:
    """A customer row as a Customer (its e-mail required); `number` has no canonical field and is dropped."""
    record = where(fields, "customer", key)
    text = {
        name: typed(record, name, to_text, fields.get(name))
        for name in ("email", "first_name", "last_name", "company", "phone")
    }
    if not text["email"]:
        raise Permanent("the customer has no e-mail address", record=record, field="email")
    return Customer(
        key=key,
        **text,
        billing=_address(record, "billing", fields.get("billing")),
        shipping=_address(record, "shipping", fields.get("shipping")),
    )


def _address(record: str, name: str, value: Any) -> Address | None:
    """`billing.*` or `shipping.*` fields as an Address; None when they say nothing."""
    if not isinstance(value, Mapping):
        return None
    parts = {
        part: typed(record, f"{name}.{part}", to_text, value.get(part))
        for part in _ADDRESS_FIELDS
        if part in value
    }
    if "country" in parts:
        parts["country"] = parts["country"].upper()
    return Address(**parts) if any(parts.values()) else None


def products_from(
    products: Sequence[tuple[str, Mapping[str, Any]]],
    related: Related,
    *,
    parsing: Parsing = DEFAULT_PARSING,
    currency: str | None = None,
    now: datetime | None = None,
) -> list[Record]:
    """Each product row with its related rows as a Product, or an Unmappable naming record and field.

    `now` chooses the sale price (the one in force, else the next to start); the current time by
    default.
    """
    moment = now or datetime.now(UTC)
    variants: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in related.variants:
        variants[to_text(row.get("product"))].append(row)
    by_sku = {
        name: _by_sku(rows)
        for name, rows in (
            ("prices", related.prices),
            ("sale_prices", related.sale_prices),
            ("stock", related.stock),
            ("images", related.images),
        )
    }
    assembler = _Assembler(parsing, currency, moment, by_sku)
    built: list[Record] = []
    for key, fields in products:
        try:
            built.append(assembler.product(key, fields, variants.get(key, [])))
        except Permanent as error:
            built.append(Unmappable.of(key, error))
    return built


def _by_sku(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Rows grouped by their SKU as text; a row without one belongs to no product and is left out."""
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        try:
            sku = to_text(row.get("sku"))
        except ValueError:
            continue
        if sku:
            grouped[sku].append(row)
    return grouped


@dataclass
class _Assembler:
    """Puts products together from their rows (the sub-entity rows indexed by SKU)."""

    parsing: Parsing
    currency: str | None
    now: datetime
    by_sku: dict[str, dict[str, list[Mapping[str, Any]]]]

    def product(self, key: str, fields: Mapping[str, Any], variant_rows: list[Mapping[str, Any]]) -> Product:
        """One product: its own fields, its variants and the rows under its SKU."""
        record = where(fields, "product", key)
        sku = required_text(record, "sku", fields)
        variants = [self.variant(row) for row in variant_rows]
        prices = self.prices(sku)
        list_price = self.number(record, "list_price", fields.get("list_price"))
        currency = typed(record, "currency", to_text, fields.get("currency")) or self.currency
        tax_class = typed(record, "tax_class", to_text, fields.get("tax_class"))
        return Product(
            key=key,
            sku=sku,
            name=required_text(record, "name", fields),
            description=typed(record, "description", to_text, fields.get("description")),
            short_description=typed(record, "short_description", to_text, fields.get("short_description")),
            active=self.flag(record, "active", fields),
            salable=self.flag(record, "salable", fields),
            categories=typed(record, "categories", keys_of, fields.get("categories")),
            images=self.images(sku),
            currency=currency.upper() if currency else None,
            list_price=list_price,
            sale_price=self.sale_price(sku),
            price_lists=prices,
            stock=self.stock(sku),
            weight=self.number(record, "weight", fields.get("weight")),
            tax_class=tax_class or None,
            attributes=attribute_values(variants),
            variants=variants,
            custom=custom_of(record, fields.get("custom")),
        )

    def variant(self, fields: Mapping[str, Any]) -> Variant:
        """One variant row (keyed by `_key` when the connector gave one, else by its SKU)."""
        sku = typed(where(fields, "variant", "?"), "sku", to_text, fields.get("sku"))
        record = where(fields, "variant", sku or "?")
        if not sku:
            raise Permanent("the variant has no SKU", record=record, field="sku")
        return Variant(
            key=typed(record, "_key", to_text, fields.get("_key")) or sku,
            sku=sku,
            attributes=attributes_of(record, fields.get("attributes")),
            list_price=self.number(record, "list_price", fields.get("list_price")),
            sale_price=self.sale_price(sku),
            price_lists=self.prices(sku),
            stock=self.stock(sku),
            weight=self.number(record, "weight", fields.get("weight")),
            active=self.flag(record, "active", fields),
            images=self.images(sku),
            custom=custom_of(record, fields.get("custom")),
        )

    def number(self, record: str, name: str, value: Any) -> Decimal | None:
        """A number field with the source's decimal mark."""
        return typed(record, name, lambda v: to_decimal(v, self.parsing), value)

    def flag(self, record: str, name: str, fields: Mapping[str, Any]) -> bool:
        """A yes/no field; true when the row does not give it."""
        return name not in fields or typed(record, name, to_bool, fields[name])

    def prices(self, sku: str) -> dict[str, Decimal]:
        """The price per price list for one SKU (a list with no price left out)."""
        lists: dict[str, Decimal] = {}
        for row in self.by_sku["prices"].get(sku, []):
            record = where(row, "price", sku)
            name = typed(record, "price_list", to_text, row.get("price_list"))
            if not name:
                raise Permanent("the price has no price list", record=record, field="price_list")
            price = self.number(record, "price", row.get("price"))
            if price is not None:
                lists[name] = price
        return lists

    def sale_price(self, sku: str) -> SalePrice | None:
        """The sale price in force now (the latest to start), else the next to start; None when none is."""
        current: list[SalePrice] = []
        coming: list[SalePrice] = []
        for row in self.by_sku["sale_prices"].get(sku, []):
            record = where(row, "sale price", sku)
            price = self.number(record, "price", row.get("price"))
            start = typed(record, "start", lambda v: to_datetime(v, self.parsing), row.get("start"))
            end = typed(record, "end", lambda v: to_datetime(v, self.parsing), row.get("end"))
            if price is None or (end is not None and end <= self.now):
                continue
            sale = SalePrice(price=price, start=start, end=end)
            (coming if start is not None and start > self.now else current).append(sale)
        if current:
            oldest = datetime.min.replace(tzinfo=UTC)
            return max(current, key=lambda sale: (sale.start or oldest, -sale.price))
        return min(coming, key=lambda sale: (sale.start, sale.price)) if coming else None

    def stock(self, sku: str) -> list[StockLevel]:
        """Quantity per warehouse for one SKU, summed over its rows, by warehouse name."""
        levels: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.by_sku["stock"].get(sku, []):
            record = where(row, "stock", sku)
            warehouse = typed(record, "warehouse", to_text, row.get("warehouse")) or DEFAULT_WAREHOUSE
            levels[warehouse] += self.number(record, "quantity", row.get("quantity")) or Decimal(0)
        return [StockLevel(warehouse=name, quantity=levels[name]) for name in sorted(levels)]

    def images(self, sku: str) -> list[Image]:
        """Images of one SKU by position (rows without one after those with, in their order)."""
        found: list[tuple[int, int, Image]] = []
        for index, row in enumerate(self.by_sku["images"].get(sku, [])):
            record = where(row, "image", sku)
            url = typed(record, "url", to_text, row.get("url"))
            if not url:
                continue
            given = self.number(record, "position", row.get("position"))
            if given is not None and given != given.to_integral_value():
                raise Permanent("an image position is a whole number", record=record, field="position")
            position = int(given) if given is not None else 1_000_000 + index
            alt = typed(record, "alt", to_text, row.get("alt"))
            found.append((position, index, Image(url=url, alt=alt, position=0)))
        found.sort(key=lambda item: item[:2])
        return [image.model_copy(update={"position": place}) for place, (_, _, image) in enumerate(found)]
