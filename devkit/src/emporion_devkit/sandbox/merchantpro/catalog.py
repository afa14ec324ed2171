"""Products (basic or with variants), categories and inventory units: the catalogue endpoints' rules.

A write is checked whole before anything is stored, so a refused request changes nothing. A change
of a variant or of an inventory unit stamps its product, whose `updated_at` the change filter reads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion_devkit.sandbox.merchantpro.errors import ApiError, invalid
from emporion_devkit.sandbox.merchantpro.store import Store
from emporion_devkit.sandbox.merchantpro.units import (
    PRICE_FIELDS,
    apply_unit,
    flag,
    new_unit,
    sku_owner,
    text,
    unit_view,
)

PRODUCT_WRITABLE = {
    "type",
    "name",
    "description",
    "short_description",
    "status",
    "category_id",
    "categories",
    "tax_id",
    "variants",
    "variant_attributes",
    "allow_backorders",
    "meta_title",
    "meta_description",
    "sku",
    "ext_ref",
    "inventory_enabled",
    "stock",
    "weight",
    *PRICE_FIELDS,
}
READ_ONLY = {
    "id",
    "created_at",
    "updated_at",
    "url",
    "category_name",
    "tax_value",
    "tax_name",
    "stock_reserved",
}
CATEGORY_WRITABLE = {"name", "parent_id", "description", "status", "meta_title", "meta_description"}
PARENT_ONLY_UNIT = ("stock", "weight", *PRICE_FIELDS)  # a multi-variant product keeps these on its variants


def check_fields(data: object, writable: set[str], ignore_unknown: bool) -> dict[str, Any]:
    """The body as a mapping; a field the resource does not have is refused unless told to ignore it."""
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidRequest", "The request body must be a JSON object")
    unknown = sorted(set(data) - writable - READ_ONLY)
    if unknown and not ignore_unknown:
        raise invalid(
            unknown[0], "the resource has no such field (send ignore_nonexistent_fields=1 to skip it)"
        )
    return {key: value for key, value in data.items() if key in writable}


def category_ids(store: Store, value: object) -> list[int]:
    """The ids of a `categories` list ([{"id": 3}] or [3]); each must name an existing category."""
    if not isinstance(value, list):
        raise invalid("categories", "a list of categories is required")
    ids: list[int] = []
    for item in value:
        raw = item.get("id") if isinstance(item, dict) else item
        try:
            number = int(str(raw))
        except ValueError:
            number = -1
        if store.find("category", number) is None:
            raise invalid("categories", f"the category {raw!r} does not exist")
        ids.append(number)
    return ids


def write_product(store: Store, product: dict[str, Any], data: dict[str, Any], creating: bool) -> None:
    """Check and apply a product body onto `product` (a fresh dict when `creating`)."""
    kind = data.get("type", product.get("type", "basic"))
    if kind not in ("basic", "multi_variant"):
        raise invalid("type", f"{kind!r} is not one of basic, multi_variant")
    if creating or "name" in data:
        product["name"] = text(data.get("name"), "name", required=True)
    if kind == "multi_variant" and not creating:
        sent = [field for field in PARENT_ONLY_UNIT if field in data]
        if sent:
            raise invalid(sent[0], "a multi-variant product keeps it on its variants")
    if creating and "sku" not in data:
        raise invalid("sku", "a non-empty text is required")
    apply_unit(
        store, product, {k: v for k, v in data.items() if kind == "basic" or k not in PARENT_ONLY_UNIT}
    )
    if "status" in data:
        if data["status"] not in ("active", "inactive"):
            raise invalid("status", f"{data['status']!r} is not one of active, inactive")
        product["status"] = data["status"]
    for field in ("description", "short_description", "meta_title", "meta_description"):
        if field in data:
            product[field] = text(data[field], field)
    if "allow_backorders" in data:
        product["allow_backorders"] = flag(data["allow_backorders"], "allow_backorders")
    if "categories" in data:
        product["categories"] = category_ids(store, data["categories"])
    if "category_id" in data:
        primary = data["category_id"]
        product["category_id"] = category_ids(store, [primary])[0] if primary not in (None, "", 0) else None
        if product["category_id"] and product["category_id"] not in product.setdefault("categories", []):
            product["categories"].insert(0, product["category_id"])
    if product.get("categories") and not product.get("category_id"):
        product["category_id"] = product["categories"][0]
    product["type"] = kind
    if "variants" in data:
        if kind != "multi_variant":
            raise invalid("variants", "only a multi_variant product has variants")
        write_variants(store, product, data["variants"])


def write_variants(store: Store, product: dict[str, Any], variants: object) -> None:
    """Update the variants sent with an id (or the SKU of one), add the others; those not sent stay."""
    if not isinstance(variants, list) or not all(isinstance(item, dict) for item in variants):
        raise invalid("variants", "a list of variant objects is required")
    current = {variant["id"]: variant for variant in product.setdefault("variants", [])}
    for index, data in enumerate(variants):
        prefix = f"variants[{index}]."
        if data.get("id") not in (None, "", 0):
            variant = current.get(int(str(data["id"])))
            if variant is None:
                raise invalid(prefix + "id", f"the product has no variant {data['id']}")
        elif (same := next((v for v in current.values() if v["sku"] == data.get("sku")), None)) is not None:
            variant = same  # a variant sent without its id is the product's variant with that SKU
        else:
            if not data.get("sku"):
                raise invalid(prefix + "sku", "a non-empty text is required")
            variant = {**new_unit(), "id": store.new_id("variant"), "variant_options": []}
            product["variants"].append(variant)
            current[variant["id"]] = variant
        apply_unit(store, variant, data, prefix)
        if "variant_options" in data:
            options = data["variant_options"]
            if not isinstance(options, list) or not all(isinstance(o, dict) and "name" in o for o in options):
                raise invalid(prefix + "variant_options", "a list of {name, value} is required")
            variant["variant_options"] = [
                {"name": str(o["name"]), "value": str(o.get("value", ""))} for o in options
            ]


def create_product(store: Store, data: object, ignore_unknown: bool = False) -> dict[str, Any]:
    """POST /products: a new product (and its variants)."""
    body = check_fields(data, PRODUCT_WRITABLE, ignore_unknown)
    product: dict[str, Any] = {**new_unit(), "status": "active", "description": "", "categories": []}
    product["category_id"] = None
    with store.locked():
        write_product(store, product, body, creating=True)
        return store.add("product", product)


def update_product(
    store: Store, product_id: object, data: object, ignore_unknown: bool = False
) -> dict[str, Any]:
    """PATCH /products/{id}: the fields sent change, the others stay."""
    body = check_fields(data, PRODUCT_WRITABLE, ignore_unknown)
    with store.locked():
        product = store.get("product", product_id)
        draft = {**product, "variants": [dict(v) for v in product.get("variants", [])]}
        write_product(store, draft, body, creating=False)
        product.clear()
        product.update(draft)
        store.touch("product", product)
        return product


def product_view(store: Store, product: dict[str, Any], with_variants: bool) -> dict[str, Any]:
    """A product as the API shows it; `variants` only when side-loaded (`include=variants`)."""
    names = {c["id"]: c["name"] for c in store.all("category")}
    view = {"id": product["id"], **{key: value for key, value in product.items() if key != "variants"}}
    view["category_name"] = names.get(product.get("category_id") or 0)
    view["categories"] = [{"id": cid, "name": names.get(cid)} for cid in product.get("categories", [])]
    view["tax_id"], view["tax_value"] = 1, store.vat_percent
    view["url"] = f"{store.base_url}/product-{product['id']}"
    variants = product.get("variants", [])
    if product.get("type") == "multi_variant":
        view.update(dict.fromkeys(PARENT_ONLY_UNIT))
        view["stock"] = sum((v.get("stock") or Decimal(0) for v in variants), Decimal(0))
        attributes: dict[str, list[str]] = {}
        for variant in variants:
            for option in variant.get("variant_options", []):
                values = attributes.setdefault(option["name"], [])
                values += [] if option["value"] in values else [option["value"]]
        view["variant_attributes"] = [
            {"name": name, "options": [{"value": value} for value in values]}
            for name, values in attributes.items()
        ]
    if with_variants:
        view["variants"] = [{**v, "product_id": product["id"]} for v in variants]
    return view


def unit_of(
    store: Store, unit_id: object = None, sku: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inventory unit (basic product or variant) by id or SKU, with its product; else a 404."""
    with store.locked():
        for product in store.all("product"):
            units = [product] if product.get("type") == "basic" else product.get("variants", [])
            for unit in units:
                if (sku is not None and unit.get("sku") == sku) or (
                    sku is None and str(unit["id"]) == str(unit_id)
                ):
                    return unit, product
    raise ApiError(404, "NotFound", f"The inventory unit {sku or unit_id} was not found")


def update_unit(store: Store, unit: dict[str, Any], product: dict[str, Any], data: object) -> dict[str, Any]:
    """PATCH /inventory/{id}: stock, prices or `inventory_enabled` of one unit; stamps its product."""
    body = check_fields(data, {"stock", "inventory_enabled", *PRICE_FIELDS}, False)
    with store.locked():
        draft = dict(unit)
        apply_unit(store, draft, body)
        unit.update(draft)
        store.touch("product", product)
    return unit_view(unit, product["id"])


def write_category(store: Store, category: dict[str, Any], data: object, creating: bool) -> dict[str, Any]:
    """POST or PATCH /categories: a category, its parent checked to exist (and not to be itself)."""
    body = check_fields(data, CATEGORY_WRITABLE, False)
    with store.locked():
        draft = dict(category)
        if creating or "name" in body:
            draft["name"] = text(body.get("name"), "name", required=True)
        if body.get("parent_id") not in (None, "", 0):
            parent = category_ids(store, [body["parent_id"]])[0]
            if parent == draft.get("id"):
                raise invalid("parent_id", "a category cannot be its own parent")
            draft["parent_id"] = parent
        elif "parent_id" in body:
            draft["parent_id"] = None
        for field in ("description", "meta_title", "meta_description"):
            if field in body:
                draft[field] = text(body[field], field)
        if "status" in body and body["status"] not in ("active", "inactive"):
            raise invalid("status", f"{body['status']!r} is not one of active, inactive")
        draft["status"] = body.get("status", draft.get("status", "active"))
        if creating:
            return store.add("category", {"parent_id": None, "description": "", **draft})
        category.update(draft)
        store.touch("category", category)
        return category


def delete_category(store: Store, category_id: object) -> None:
    """DELETE /categories/{id}: refused while it has subcategories; products lose it."""
    with store.locked():
        category = store.get("category", category_id)
        if any(other.get("parent_id") == category["id"] for other in store.all("category")):
            raise ApiError(400, "InvalidRequest", "The category has subcategories; delete them first")
        for product in store.all("product"):
            if category["id"] in product.get("categories", []):
                product["categories"].remove(category["id"])
                product["category_id"] = product["categories"][0] if product["categories"] else None
                store.touch("product", product)
        store.remove("category", category["id"])


__all__ = [
    "create_product",
    "product_view",
    "sku_owner",
    "unit_of",
    "unit_view",
    "update_product",
    "update_unit",
]
