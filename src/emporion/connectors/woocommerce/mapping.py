"""Canonical catalogue records <-> WooCommerce REST v3 JSON, both ways.

WooCommerce carries money as strings, dates in `*_gmt` fields without a zone, stock only when
`manage_stock` is true, and custom fields as `meta_data` (keys starting with "_" are its own).
Fields WooCommerce has no place for (currency, price lists, stock per warehouse) are not sent.

Reading maps back what the shop does to text, so that a record reads as it was written: product
names, descriptions and short descriptions come back with every `&` as `&amp;` (even in
`context=edit`; other entities and tags as sent), so `&amp;` is read as `&`; category names are
HTML-escaped terms and are unescaped whole. A variation that leaves its stock to its product reads
`manage_stock: "parent"` with the product's whole stock: it is read without stock of its own. A
variation without a SKU of its own reads its product's SKU: that is reported, never taken as its SKU.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.guard import typed_mapping
from emporion.model import Category, CustomValue, Image, Product, SalePrice, Variant

Json = dict[str, Any]

_CENT = Decimal("0.01")


class MappingError(Permanent):
    """A record that cannot be carried between canonical and WooCommerce terms; names the field."""

    def __init__(self, message: str, field: str, record: str | None = None) -> None:
        super().__init__(message, record=record, field=field)


def woo_id(value: str, field: str) -> int:
    """A WooCommerce id given as a string (category ids, parent ids); anything else is a MappingError."""
    text = str(value).strip()
    if not text.isdigit():
        raise MappingError(f"{field} must hold WooCommerce ids, got {value!r}", field)
    return int(text)


# --- scalars -------------------------------------------------------------------------------------


def format_money(amount: Decimal | None) -> str:
    """Money as WooCommerce wants it: a string with 2 decimals, more when the amount has more."""
    if amount is None:
        return ""
    exponent = amount.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < -2 else 2
    return f"{amount:.{places}f}"


def parse_decimal(value: Any, field: str = "amount") -> Decimal | None:
    """A WooCommerce amount ("21.99", "", null, or a number) as Decimal; empty means none.

    Anything else (text, true/false, lists, NaN, infinity) is a MappingError naming `field`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise MappingError(f"{field} is not a number", field)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise MappingError(f"{field} is not a number", field) from None
    if not number.is_finite():
        raise MappingError(f"{field} is not a finite number", field)
    return number


def format_gmt(moment: datetime | None) -> str | None:
    """A datetime as WooCommerce's GMT form ("2026-11-22T10:00:00"); naive values are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def parse_gmt(value: Any, field: str = "date") -> datetime | None:
    """A WooCommerce `*_gmt` string as an aware UTC datetime; anything else is a MappingError."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} is not a date", field) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stock_quantity(available: Decimal) -> int:
    return int(available.to_integral_value(rounding=ROUND_FLOOR))


def _custom_value(value: Any) -> CustomValue:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def meta_to_wc(custom: Mapping[str, CustomValue]) -> list[Json]:
    """Custom fields as WooCommerce meta_data (Decimals as their exact string)."""
    return [
        {"key": key, "value": str(value) if isinstance(value, Decimal) else value}
        for key, value in custom.items()
    ]


def meta_from_wc(meta_data: Iterable[Json] | None) -> dict[str, CustomValue]:
    """WooCommerce meta_data as custom fields, leaving out WooCommerce's own "_" keys (and non-objects)."""
    custom: dict[str, CustomValue] = {}
    for entry in meta_data if isinstance(meta_data, list | tuple) else ():
        if not isinstance(entry, dict):
            continue
        key = str(entry.get("key", ""))
        if key and not key.startswith("_"):
            custom[key] = _custom_value(entry.get("value"))
    return custom


def ordered_images(images: Iterable[Image]) -> list[Image]:
    """Images in position order, the order WooCommerce keeps and answers them in."""
    return sorted(images, key=lambda image: image.position)


def _image_to_wc(image: Image, image_ids: Mapping[str, int] | None) -> Json:
    """An image by its known attachment id (WooCommerce re-downloads every `src` it is sent), else by URL."""
    known = (image_ids or {}).get(image.url)
    return {"id": known, "alt": image.alt} if known else {"src": image.url, "alt": image.alt}


def _images_to_wc(images: Iterable[Image], image_ids: Mapping[str, int] | None) -> list[Json]:
    return [dict(_image_to_wc(image, image_ids), position=image.position) for image in ordered_images(images)]


def _images_from_wc(images: Any) -> list[Image]:
    """WooCommerce image objects as Images; a position that is no number keeps the list order."""
    if not isinstance(images, list | tuple):
        return []
    found = []
    for index, image in enumerate(images):
        if not isinstance(image, dict):
            raise MappingError(f"images[{index}] is not an object", f"images[{index}]")
        position = image.get("position", index)
        if isinstance(position, bool) or not isinstance(position, int):
            position = int(position) if isinstance(position, str) and position.isdigit() else index
        found.append(Image(url=str(image.get("src", "")), alt=str(image.get("alt") or ""), position=position))
    return found


def _sale_to_wc(sale: SalePrice | None) -> Json:
    if sale is None:
        return {"sale_price": "", "date_on_sale_from_gmt": None, "date_on_sale_to_gmt": None}
    return {
        "sale_price": format_money(sale.price),
        "date_on_sale_from_gmt": format_gmt(sale.start),
        "date_on_sale_to_gmt": format_gmt(sale.end),
    }


def _sale_from_wc(data: Json) -> SalePrice | None:
    price = parse_decimal(data.get("sale_price"), "sale_price")
    if price is None:
        return None
    return SalePrice(
        price=price,
        start=parse_gmt(data.get("date_on_sale_from_gmt"), "date_on_sale_from_gmt"),
        end=parse_gmt(data.get("date_on_sale_to_gmt"), "date_on_sale_to_gmt"),
    )


def _stock_to_wc(available: Decimal | None) -> Json:
    if available is None:
        return {"manage_stock": False}
    return {"manage_stock": True, "stock_quantity": _stock_quantity(available)}


def shop_text(value: Any) -> str:
    """Product text as it was written: the shop turns every `&` into `&amp;` and keeps the rest."""
    return str(value or "").replace("&amp;", "&")


def _available_from_wc(data: Json) -> Decimal | None:
    """The stock quantity when WooCommerce manages stock for the record itself, else None.

    A variation whose stock is its product's reads `manage_stock: "parent"` and the product's whole
    quantity: it has no stock of its own (the product's record carries it).
    """
    if data.get("manage_stock") is not True or data.get("stock_quantity") is None:
        return None
    return parse_decimal(data["stock_quantity"], "stock_quantity")


def _list(value: Any, field: str) -> list[Any]:
    """A JSON list, or nothing; anything else is a MappingError naming `field`."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise MappingError(f"{field} is not a list", field)
    return value


def _objects(data: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects under `field`; anything else is a MappingError naming the entry."""
    items = _list(data.get(field), field)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MappingError(f"{field}[{index}] is not an object", f"{field}[{index}]")
    return items


# --- categories ----------------------------------------------------------------------------------


def category_to_wc(category: Category, parent_id: int | None = None) -> Json:
    """A category as WooCommerce JSON; `parent_id` overrides `parent_key` (a parent created just now)."""
    if parent_id is not None:
        parent = parent_id
    else:
        parent = woo_id(category.parent_key, "parent_key") if category.parent_key else 0
    body: Json = {"name": category.name, "parent": parent, "description": category.description}
    if category.slug:
        body["slug"] = category.slug
    return body


@typed_mapping("category")
def category_from_wc(data: Json) -> Category:
    """A WooCommerce category as a canonical record (term names come HTML-escaped; unescaped here)."""
    parent = int(data.get("parent") or 0)
    return Category(
        key=str(data["id"]),
        name=html.unescape(str(data.get("name", ""))),
        parent_key=str(parent) if parent else None,
        slug=data.get("slug") or None,
        description=shop_text(data.get("description")),
    )


# --- products and variations ---------------------------------------------------------------------


def product_to_wc(product: Product, image_ids: Mapping[str, int] | None = None) -> Json:
    """A product as WooCommerce JSON (parent only; variations go through `variant_to_wc`).

    `image_ids` maps image URLs to the attachment ids WooCommerce gave them when first sent.
    """
    body: Json = {
        "name": product.name,
        "sku": product.sku,
        "type": "variable" if product.is_variable else "simple",
        "status": "publish" if product.active and product.salable else "draft",
        "description": product.description,
        "short_description": product.short_description,
        "categories": [{"id": woo_id(key, "categories")} for key in product.categories],
        "images": _images_to_wc(product.images, image_ids),
        "weight": "" if product.weight is None else str(product.weight),
        "tax_class": product.tax_class or "",
        "meta_data": meta_to_wc(product.custom),
        **_stock_to_wc(product.available),
    }
    attributes = _variable_attributes(product) if product.is_variable else product.attributes
    body["attributes"] = [
        {
            "name": name,
            "options": list(options),
            "variation": product.is_variable,
            "visible": True,
            "position": position,
        }
        for position, (name, options) in enumerate(attributes.items())
    ]
    if not product.is_variable:
        body["regular_price"] = format_money(product.list_price)
        body.update(_sale_to_wc(product.sale_price))
    return body


def _variable_attributes(product: Product) -> dict[str, list[str]]:
    """The product's attributes, completed with any value a variant uses but the product does not list."""
    attributes = {name: list(options) for name, options in product.attributes.items()}
    for variant in product.variants:
        for name, option in variant.attributes.items():
            options = attributes.setdefault(name, [])
            if option not in options:
                options.append(option)
    return attributes


def variant_to_wc(variant: Variant, image_ids: Mapping[str, int] | None = None) -> Json:
    """A variant as a WooCommerce variation (its first image by position is the variation image)."""
    body: Json = {
        "sku": variant.sku,
        "status": "publish" if variant.active else "private",
        "regular_price": format_money(variant.list_price),
        **_sale_to_wc(variant.sale_price),
        **_stock_to_wc(variant.available),
        "attributes": [{"name": name, "option": option} for name, option in variant.attributes.items()],
        "weight": "" if variant.weight is None else str(variant.weight),
        "meta_data": meta_to_wc(variant.custom),
    }
    if variant.images:
        body["image"] = _image_to_wc(ordered_images(variant.images)[0], image_ids)
    return body


@typed_mapping("variation")
def variant_from_wc(data: Json) -> Variant:
    """A WooCommerce variation as a canonical variant."""
    image = data.get("image")
    return Variant(
        key=str(data["id"]),
        sku=str(data.get("sku") or ""),
        attributes={str(a.get("name", "")): str(a.get("option", "")) for a in _objects(data, "attributes")},
        list_price=parse_decimal(data.get("regular_price"), "regular_price"),
        sale_price=_sale_from_wc(data),
        available=_available_from_wc(data),
        weight=parse_decimal(data.get("weight"), "weight"),
        active=data.get("status", "publish") == "publish",
        images=_images_from_wc([image]) if isinstance(image, dict) and image.get("src") else [],
        custom=meta_from_wc(data.get("meta_data")),
    )


@typed_mapping("product")
def product_from_wc(data: Json, variations: Iterable[Json] = ()) -> Product:
    """A WooCommerce product (and its variations, read separately) as a canonical record.

    `publish` reads as active and salable; any other status as active but not salable.
    """
    status = data.get("status", "publish")
    variable = data.get("type") == "variable"
    return Product(
        key=str(data["id"]),
        sku=str(data.get("sku") or ""),
        name=shop_text(data.get("name")),
        description=shop_text(data.get("description")),
        short_description=shop_text(data.get("short_description")),
        active=status != "trash",
        salable=status == "publish",
        categories=[str(category["id"]) for category in _objects(data, "categories")],
        images=_images_from_wc(data.get("images")),
        list_price=None if variable else parse_decimal(data.get("regular_price"), "regular_price"),
        sale_price=None if variable else _sale_from_wc(data),
        available=_available_from_wc(data),
        weight=parse_decimal(data.get("weight"), "weight"),
        tax_class=data.get("tax_class") or None,
        attributes={
            str(a.get("name", "")): [str(o) for o in _list(a.get("options"), "attributes.options")]
            for a in _objects(data, "attributes")
        },
        variants=[variant_from_wc(variation) for variation in _own_skus(data, variations)],
        custom=meta_from_wc(data.get("meta_data")),
    )


def _own_skus(product: Json, variations: Iterable[Json]) -> list[Json]:
    """The variations, refused when one reads its product's SKU (it has none of its own).

    WooCommerce answers a variation without a SKU with its parent's, so the product's SKU would
    name several records: matching by it would write one record's values over another's.
    """
    listed = list(variations)
    parent_sku = str(product.get("sku") or "")
    for variation in listed:
        if parent_sku and isinstance(variation, Mapping) and str(variation.get("sku") or "") == parent_sku:
            raise MappingError(
                f"variation {variation.get('id')} of product {product.get('id')} (SKU {parent_sku}) has "
                "no SKU of its own (WooCommerce shows the product's SKU for it): give it its own SKU",
                "variants.sku",
                record=parent_sku,
            )
    return listed
