"""Flow mapping: a canonical source record -> the canonical record the target should hold.

Chooses the price list, turns stock per warehouse into what the shop may promise, applies the
flow's field rules (rename, constant, template, expression, value map, rounding) and filters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from jinja2 import TemplateError
from pydantic import ValidationError

from emporion.config import FlowSettings
from emporion.connectors.base import Permanent
from emporion.engine.validation import check_text, text_problem
from emporion.model import Category, Customer, Product, Record, StockLevel, Variant
from emporion.model.orders import CUSTOMER_FIELDS
from emporion.rules import ENVIRONMENT, RuleEvaluator

# product fields whose text goes to the target as it is (checked for broken encoding)
TEXT_FIELDS = {"sku", "name", "description", "short_description", "attributes", "variants", "custom"}


class FlowMapper:
    """Turns source records into target records for one flow."""

    def __init__(self, flow: FlowSettings, allowed_categories: set[str] | None = None) -> None:
        self.flow = flow
        self.allowed_categories = allowed_categories
        self.product_rules = RuleEvaluator(flow.mapping)
        self.variant_rules = RuleEvaluator(flow.variant_mapping)
        self._filter = (
            ENVIRONMENT.compile_expression(flow.filter.expression) if flow.filter.expression else None
        )

    def accepts(self, record: Record) -> bool:
        """Whether the flow sends this record at all (removed from the target when it stops)."""
        if isinstance(record, Customer):
            # a guest has no account to send; the expression picks customers too (e.g. `group` for B2B)
            return not record.guest and self._expression(record, f"customer {record.key}")
        if not isinstance(record, Product):
            return True
        rules = self.flow.filter
        if rules.active_only and not record.active:
            return False
        if rules.salable_only and not record.salable:
            return False
        if self.allowed_categories is not None and not self.allowed_categories.intersection(
            record.categories
        ):
            return False
        return self._expression(record, record.sku)

    def _expression(self, record: Record, label: str) -> bool:
        """The flow's filter expression on a record (true when there is none)."""
        if self._filter is None:
            return True
        try:
            return bool(self._filter(**record.model_dump()))
        except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
            raise Permanent(f"filter expression failed: {error}", record=label, field="filter") from None

    def map(self, record: Record, reserved: Mapping[str, Decimal] | None = None) -> Record:
        """The target record for a source record; Permanent names the record and field when it cannot.

        `reserved` holds units per SKU sold in shops but not yet known to the source (see
        state/reservations.py); they are taken off what the target may promise.
        """
        if isinstance(record, Product):
            return self._map_product(record, reserved or {})
        if isinstance(record, Category):
            check_text(
                record.model_dump(mode="json", include={"name", "slug", "description"}),
                f"category {record.key}",
            )
            return record.model_copy()
        if isinstance(record, Customer):
            # named by its key, never its e-mail or name: the reason is logged (personal data)
            if "@" not in record.email:
                raise Permanent(
                    "customer has no e-mail address", record=f"customer {record.key}", field="email"
                )
            check_text(record.model_dump(mode="json", include=set(CUSTOMER_FIELDS)), f"customer {record.key}")
            return record.model_copy()
        raise Permanent(f"flow {self.flow.name} cannot map {type(record).__name__}", record=record.key)

    def _map_product(self, product: Product, reserved: Mapping[str, Decimal]) -> Product:
        name = product.sku or product.key
        if not product.sku and not product.variants:
            raise Permanent(
                "product has no SKU", record=f"product {product.key} ({product.name})", field="sku"
            )
        data = product.model_dump()
        if product.variants and self.flow.price_list and self.flow.price_list not in product.price_lists:
            data["list_price"] = None  # a variable product's prices live on its variants
        else:
            data["list_price"] = self._price(product.list_price, product.price_lists, name, "list_price")
        data["available"] = (
            None if product.variants else self._available(product.stock, name, reserved.get(product.sku, 0))
        )
        data["stock"], data["price_lists"] = [], {}
        variants = []
        for variant, variant_data in zip(product.variants, data.pop("variants"), strict=True):
            vname = variant.sku or variant.key
            if not variant.sku:
                raise Permanent("variant has no SKU", record=f"{name} variant {variant.key}", field="sku")
            variant_data["list_price"] = self._price(
                variant.list_price if variant.list_price is not None else product.list_price,
                {**product.price_lists, **variant.price_lists},
                vname,
                "list_price",
            )
            if variant_data.get("sale_price") is None and product.sale_price is not None:
                variant_data["sale_price"] = product.sale_price.model_dump()
            variant_data["available"] = self._available(variant.stock, vname, reserved.get(variant.sku, 0))
            variant_data["stock"], variant_data["price_lists"] = [], {}
            self.variant_rules.apply(variant_data, vname, context={"product": data})
            variants.append(variant_data)
        self.product_rules.apply(data, name)
        data["variants"] = variants
        try:
            mapped = Product.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise Permanent(f"mapped value is invalid: {first['msg']}", record=name, field=field) from None
        self._validate(mapped)
        label = f"product {product.key}" if text_problem(name) else name
        check_text(mapped.model_dump(mode="json", include=TEXT_FIELDS), label)
        return mapped

    def _price(
        self, list_price: Decimal | None, price_lists: dict[str, Decimal], name: str, field: str
    ) -> Any:
        if self.flow.price_list is None:
            return list_price
        if self.flow.price_list not in price_lists:
            raise Permanent(
                f"no price in price list {self.flow.price_list!r}",
                record=name,
                field=f"price_lists.{self.flow.price_list}",
            )
        return price_lists[self.flow.price_list]

    def _available(self, levels: Iterable[StockLevel], name: str, reserved: Decimal | int = 0) -> Decimal:
        wanted = self.flow.warehouses
        total = sum(
            (level.quantity for level in levels if wanted is None or level.warehouse in wanted), Decimal(0)
        )
        free = total - self.flow.safety_stock - reserved
        if not free.is_finite() or abs(free) > Decimal(10) ** 9:
            raise Permanent(f"absurd stock quantity {total}", record=name, field="stock")
        return Decimal(max(0, math.floor(free)))

    @staticmethod
    def _validate(product: Product) -> None:
        items: list[Product | Variant] = [product, *product.variants]
        for item in items:
            label = item.sku or item.key
            price = item.list_price
            if price is not None and (not price.is_finite() or price < 0):
                raise Permanent(f"invalid price {price}", record=label, field="list_price")
            sale = item.sale_price
            if sale is not None and (not sale.price.is_finite() or sale.price < 0):
                raise Permanent(f"invalid sale price {sale.price}", record=label, field="sale_price")


def expand_categories(wanted: list[str], categories: Iterable[Category]) -> set[str]:
    """Category keys for a filter given by keys or names, subcategories included."""
    items = list(categories)
    children: dict[str | None, list[str]] = {}
    for category in items:
        children.setdefault(category.parent_key, []).append(category.key)
    roots = {c.key for c in items if c.key in wanted or c.name in wanted}
    result: set[str] = set()
    stack = list(roots)
    while stack:
        key = stack.pop()
        if key not in result:
            result.add(key)
            stack.extend(children.get(key, []))
    return result
