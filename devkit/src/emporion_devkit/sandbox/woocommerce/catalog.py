"""Catalogue resources: products (simple, variable, grouped, external), variations and categories."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from emporion_devkit.sandbox.woocommerce import templates
from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.pricing import derive_price, derive_stock, derive_variable
from emporion_devkit.sandbox.woocommerce.render import escape_ampersands
from emporion_devkit.sandbox.woocommerce.resource import ALLOW, Filter, Resource, id_list, slugify, text_list
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

STOCK_FIELDS: dict[str, FieldSpec] = {
    "manage_stock": "boolean",
    "stock_quantity": "integer?",
    "stock_status": ("enum", "instock", "outofstock", "onbackorder"),
    "backorders": ("enum", "no", "notify", "yes"),
}
SALE_FIELDS: dict[str, FieldSpec] = {
    "regular_price": "money",
    "sale_price": "money",
    "date_on_sale_from": "string?",
    "date_on_sale_from_gmt": "string?",
    "date_on_sale_to": "string?",
    "date_on_sale_to_gmt": "string?",
}
SHARED_FIELDS: dict[str, FieldSpec] = {
    **STOCK_FIELDS,
    **SALE_FIELDS,
    "description": "string",
    "sku": "string",
    "virtual": "boolean",
    "downloadable": "boolean",
    "downloads": "array",
    "download_limit": "integer",
    "download_expiry": "integer",
    "tax_status": ("enum", "taxable", "shipping", "none"),
    "tax_class": "string",
    "weight": "string",
    "dimensions": "object",
    "shipping_class": "string",
    "menu_order": "integer",
    "meta_data": "array",
}
PRODUCT_WC10: dict[str, Any] = {
    "brands": [], "global_unique_id": "", "has_options": False, "low_stock_amount": None, "post_password": "",
}  # fmt: skip
VARIATION_WC10: dict[str, Any] = {"global_unique_id": "", "low_stock_amount": None}
# Fields copied as given once their type is checked.
PLAIN = (
    "name", "type", "status", "featured", "catalog_visibility", "description", "short_description",
    "regular_price", "sale_price", "virtual", "downloadable", "download_limit", "download_expiry",
    "external_url", "button_text", "tax_status", "tax_class", "manage_stock", "stock_quantity", "backorders",
    "stock_status", "sold_individually", "weight", "shipping_class", "reviews_allowed", "upsell_ids",
    "cross_sell_ids", "parent_id", "purchase_note", "menu_order", "grouped_products",
)  # fmt: skip


def _image(shop: Shop, given: dict[str, Any], current: dict[int, dict]) -> dict[str, Any]:
    image_id = int(given.get("id") or 0)
    image = dict(current.get(image_id) or {})
    if not image:
        image_id = image_id or shop.store.next_id("product")
        image = {"id": image_id}
        shop.clock.stamp(image, "date_created")
        shop.clock.stamp(image, "date_modified")
    src = given.get("src") or image.get("src") or f"{shop.base_url}/wp-content/uploads/image-{image_id}.jpg"
    return {
        "id": image_id,
        "date_created": image["date_created"],
        "date_created_gmt": image["date_created_gmt"],
        "date_modified": image["date_modified"],
        "date_modified_gmt": image["date_modified_gmt"],
        "src": src,
        "name": given.get("name", image.get("name", "")),
        "alt": given.get("alt", image.get("alt", "")),
    }


def _amount(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _sale_dates(shop: Shop, doc: dict[str, Any], data: dict[str, Any]) -> None:
    for edge in ("from", "to"):
        field = f"date_on_sale_{edge}"
        for name, is_gmt in ((field, False), (field + "_gmt", True)):
            if name not in data:
                continue
            value = data[name]
            if not value:
                doc[field] = doc[field + "_gmt"] = None
                continue
            if len(value) == 10:
                value += "T23:59:59" if edge == "to" else "T00:00:00"
            moment = shop.clock.parse(value, name, is_gmt)
            doc[field], doc[field + "_gmt"] = shop.clock.pair(moment)


def add_wc10_fields(out: dict[str, Any], defaults: dict[str, Any]) -> None:
    """The fields WooCommerce 10 answers that the 2017 documentation does not show."""
    for key, value in defaults.items():
        out.setdefault(key, list(value) if isinstance(value, list) else value)


def unique_sku(shop: Shop, sku: str) -> str:
    """WooCommerce's suggestion for a SKU in use: the SKU with -1, -2, ... appended."""
    n = 1
    while any(shop.store.ids(kind, "sku = ?", [f"{sku}-{n}"]) for kind in ("product", "variation")):
        n += 1
    return f"{sku}-{n}"


def escape_text(doc: dict[str, Any], data: dict[str, Any], names: tuple[str, ...]) -> None:
    """Store the named text fields written in this request with a bare `&` as `&amp;`."""
    for name in names:
        if name in data and isinstance(doc.get(name), str):
            doc[name] = escape_ampersands(doc[name])


def apply_sellable(shop: Shop, resource: Resource, doc: dict, data: dict) -> None:
    """The fields products and variations share: SKU, stock, prices, downloads, dimensions, meta."""
    if "sku" in data and data["sku"] != doc["sku"]:
        sku = data["sku"].strip()
        if sku:
            for kind in ("product", "variation"):
                owners = [i for i in shop.store.ids(kind, "sku = ?", [sku]) if i != doc["id"]]
                if owners:
                    raise ApiError(
                        400,
                        "product_invalid_sku",
                        "Invalid or duplicated SKU.",
                        resource_id=owners[0],
                        unique_sku=unique_sku(shop, sku),
                    )
        doc["sku"] = sku
    if "dimensions" in data:
        doc["dimensions"] = {
            key: str(data["dimensions"].get(key, doc["dimensions"][key]))
            for key in ("length", "width", "height")
        }
    if "downloads" in data:
        doc["downloads"] = [
            {
                # WooCommerce keys a download by the md5 of its file URL (a string)
                "id": str(
                    item.get("id")
                    or hashlib.md5(str(item.get("file", "")).encode(), usedforsecurity=False).hexdigest()
                ),
                "name": str(item.get("name", "")),
                "file": str(item.get("file", "")),
            }
            for item in data["downloads"]
            if isinstance(item, dict)
        ]
    if "meta_data" in data:
        doc["meta_data"] = shop.merge_meta(doc["meta_data"], data["meta_data"])
    _sale_dates(shop, doc, data)
    if (
        doc["sale_price"] != ""
        and doc["regular_price"] != ""
        and _amount(doc["sale_price"]) >= _amount(doc["regular_price"])
    ):
        doc["sale_price"] = ""  # WooCommerce drops a sale price that is not below the regular price
    derive_stock(doc)
    derive_price(doc, shop.clock.pair()[1], shop.currency)


class ProductResource(Resource):
    """`/products`: simple, variable, grouped and external products."""

    kind = "product"
    route = "products"
    topic = "product"
    label = "product"
    id_code = "woocommerce_rest_product_invalid_id"
    update_missing_status = 400  # WooCommerce's CRUD controllers answer 400 to an update of an unknown id
    supports_trash = True
    statuses = ("draft", "pending", "private", "publish", "future")
    fields: ClassVar[dict[str, FieldSpec]] = {
        **SHARED_FIELDS,
        "name": "string",
        "slug": "string",
        "date_created": "string?",
        "date_created_gmt": "string?",
        "type": ("enum", "simple", "grouped", "external", "variable"),
        "status": ("enum", "draft", "pending", "private", "publish", "future"),
        "featured": "boolean",
        "catalog_visibility": ("enum", "visible", "catalog", "search", "hidden"),
        "short_description": "string",
        "external_url": "string",
        "button_text": "string",
        "sold_individually": "boolean",
        "reviews_allowed": "boolean",
        "upsell_ids": "array",
        "cross_sell_ids": "array",
        "parent_id": "integer",
        "purchase_note": "string",
        "categories": "array",
        "tags": "array",
        "images": "array",
        "attributes": "array",
        "default_attributes": "array",
        "grouped_products": "array",
    }
    orderby: ClassVar[dict[str, str]] = {
        **Resource.orderby,
        "price": "CAST(json_extract(doc, '$.price') AS REAL)",
        "popularity": "json_extract(doc, '$.total_sales')",
        "rating": "CAST(json_extract(doc, '$.average_rating') AS REAL)",
        "menu_order": "json_extract(doc, '$.menu_order')",
    }

    def unique_slug(self, shop: Shop, wanted: str, record_id: int) -> str:
        """WordPress' unique slug: the wanted one, or with -2, -3, ... appended."""
        base = wanted or str(record_id)
        slug, n = base, 1
        while [i for i in shop.store.ids(self.kind, "slug = ?", [slug]) if i != record_id]:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a product request into the document."""
        for name in PLAIN:
            if name in data and name in doc:
                doc[name] = data[name]
        escape_text(doc, data, ("name", "description", "short_description"))
        if "slug" in data or creating or ("name" in data and not doc["slug"]):
            doc["slug"] = self.unique_slug(
                shop, slugify(data.get("slug") or doc["slug"] or doc["name"]), doc["id"]
            )
        doc["permalink"] = f"{shop.base_url}/product/{doc['slug']}/"
        for name, is_gmt in (("date_created", False), ("date_created_gmt", True)):
            if data.get(name):
                doc["date_created"], doc["date_created_gmt"] = shop.clock.pair(
                    shop.clock.parse(data[name], name, is_gmt)
                )
        if "categories" in data:
            doc["categories"] = [
                {"id": int(c.get("id") or 0)} for c in data["categories"] if isinstance(c, dict)
            ]
        if "tags" in data:
            doc["tags"] = [
                {
                    "id": int(t.get("id") or 0),
                    "name": str(t.get("name", "")),
                    "slug": str(t.get("slug") or slugify(str(t.get("name", "")))),
                }
                for t in data["tags"]
                if isinstance(t, dict)
            ]
        if "images" in data:
            current = {image["id"]: image for image in doc["images"]}
            doc["images"] = [
                _image(shop, image, current) for image in data["images"] if isinstance(image, dict)
            ]
        if "attributes" in data:
            doc["attributes"] = [
                {
                    "id": int(a.get("id") or 0),
                    "name": str(a.get("name", "")),
                    "position": int(a.get("position") or 0),
                    "visible": bool(a.get("visible", False)),
                    "variation": bool(a.get("variation", False)),
                    "options": [str(option) for option in a.get("options", [])],
                }
                for a in data["attributes"]
                if isinstance(a, dict)
            ]
        if "default_attributes" in data:
            doc["default_attributes"] = [
                {
                    "id": int(a.get("id") or 0),
                    "name": str(a.get("name", "")),
                    "option": str(a.get("option", "")),
                }
                for a in data["default_attributes"]
                if isinstance(a, dict)
            ]
        if doc["type"] == "variable":
            doc["regular_price"] = doc["sale_price"] = ""
        doc["shipping_required"] = not doc["virtual"]
        apply_sellable(shop, self, doc, data)

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a product, with its category ids as `,1,2,`."""
        columns = super().columns(doc, extra)
        columns.update(sku=doc["sku"] or None, slug=doc["slug"], code=doc["type"])
        columns["cats"] = "," + ",".join(str(c["id"]) for c in doc["categories"]) + ","
        return columns

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A product with current category names and, for variable products, its variations' prices."""
        out = super().present(shop, doc, extra)
        names = shop.category_names()
        out["categories"] = [{"id": c["id"], **names[c["id"]]} for c in doc["categories"] if c["id"] in names]
        if doc["sale_price"] and (doc["date_on_sale_from_gmt"] or doc["date_on_sale_to_gmt"]):
            derive_price(out, shop.clock.pair()[1], shop.currency)
        if doc["type"] == "variable":
            children, _ = shop.store.select("variation", ["parent_id = ?"], [doc["id"]], "id", 10**6, 0)
            derive_variable(out, [child for child, _ in children], shop.clock.pair()[1], shop.currency)
        out["attributes"] = [{**a, "slug": a.get("slug") or a["name"]} for a in doc["attributes"]]
        add_wc10_fields(out, PRODUCT_WC10)
        out["has_options"] = doc["type"] in ("variable", "grouped") and bool(doc["attributes"])
        out["generated_slug"] = slugify(doc["name"])  # edit context only
        out["permalink_template"] = f"{shop.base_url}/product/%pagename%/"  # edit context only
        return out

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Products' own list arguments: sku, type, category, parent, slug, stock_status, featured."""
        out: list[Filter] = []
        skus = text_list(params.get("sku", []))
        if skus:
            out.append((f"sku IN ({', '.join('?' * len(skus))})", skus))
        if params.get("type"):
            out.append(("code = ?", [params["type"][0]]))
        for category in id_list("category", params.get("category", [])):
            out.append(("cats LIKE ?", [f"%,{category},%"]))
        parents = id_list("parent", params.get("parent", []))
        if parents:
            out.append((f"parent_id IN ({', '.join('?' * len(parents))})", parents))
        excluded = id_list("parent_exclude", params.get("parent_exclude", []))
        if excluded:
            out.append((f"parent_id NOT IN ({', '.join('?' * len(excluded))})", excluded))
        if params.get("slug"):
            out.append(("slug = ?", [params["slug"][0]]))
        if params.get("stock_status"):
            out.append(("json_extract(doc, '$.stock_status') = ?", [params["stock_status"][0]]))
        if params.get("featured"):
            out.append(("json_extract(doc, '$.featured') = ?", [params["featured"][0] in ("1", "true")]))
        return out

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Deleting a variable product for good deletes its variations."""
        for child in shop.store.ids("variation", "parent_id = ?", [doc["id"]]):
            shop.store.remove("variation", child)


class VariationResource(Resource):
    """`/products/<id>/variations`: the variations of a variable product."""

    kind = "variation"
    route = "products/{parent}/variations"
    parent_kind = "product"
    topic = "product"
    label = "product_variation"
    id_code = "woocommerce_rest_product_variation_invalid_id"
    update_missing_status = 400  # WooCommerce's CRUD controllers answer 400 to an update of an unknown id
    statuses = ("draft", "pending", "private", "publish")
    fields: ClassVar[dict[str, FieldSpec]] = {
        **SHARED_FIELDS,
        "manage_stock": "stockflag",  # true, false or "parent" (= false: the parent's stock counts)
        "status": ("enum", "draft", "pending", "private", "publish"),
        "image": "object?",
        "attributes": "array",
    }
    default_orderby = "date"

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a variation request into the document."""
        for name in PLAIN:
            if name in data and name in doc:
                doc[name] = data[name]
        escape_text(doc, data, ("description",))
        if "image" in data:
            doc["image"] = (
                _image(shop, data["image"], {doc["image"]["id"]: doc["image"]} if doc["image"] else {})
                if data["image"]
                else None
            )
        if "attributes" in data:
            doc["attributes"] = [
                {
                    "id": int(a.get("id") or 0),
                    "name": str(a.get("name", "")),
                    "option": str(a.get("option", "")),
                }
                for a in data["attributes"]
                if isinstance(a, dict)
            ]
        parent = shop.store.get("product", extra["parent"])
        base = parent[0]["permalink"] if parent else f"{shop.base_url}/product/{extra['parent']}/"
        query = "&".join(f"attribute_{slugify(a['name'])}={quote(a['option'])}" for a in doc["attributes"])
        doc["permalink"] = f"{base}?{query}" if query else base
        apply_sellable(shop, self, doc, data)

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a variation."""
        columns = super().columns(doc, extra)
        columns.update(sku=doc["sku"] or None, name=doc["description"])
        return columns

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A variation, its price evaluated against the sale window now, with what it takes from its parent.

        Without its own SKU it shows the parent's; without its own stock, while the parent manages stock,
        `manage_stock` reads "parent" with the parent's quantity and status, as WooCommerce answers.
        """
        out = super().present(shop, doc, extra)
        if doc["sale_price"] and (doc["date_on_sale_from_gmt"] or doc["date_on_sale_to_gmt"]):
            derive_price(out, shop.clock.pair()[1], shop.currency)
        found = shop.store.get("product", extra["parent"])
        parent = found[0] if found else {}
        add_wc10_fields(out, VARIATION_WC10)
        out["attributes"] = [{**a, "slug": slugify(a["name"])} for a in doc["attributes"]]
        out["name"] = ", ".join(a["option"] for a in doc["attributes"]) or parent.get("name", "")
        out["parent_id"] = extra["parent"]
        out["type"] = "variation"
        if not doc["sku"] or doc["manage_stock"] is not True:
            if not doc["sku"]:
                out["sku"] = parent.get("sku", "")
            if doc["manage_stock"] is not True and parent.get("manage_stock") is True:
                out["manage_stock"] = "parent"
                out["stock_quantity"] = parent.get("stock_quantity")
                out["stock_status"] = parent.get("stock_status", out["stock_status"])
        return out

    def as_product(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A variation as `/products` shows it: a product's fields, named after the parent and options."""
        variation = self.present(shop, doc, extra)
        found = shop.store.get("product", extra["parent"])
        parent = found[0] if found else {}
        item = templates.fresh("product")
        item.update({key: value for key, value in variation.items() if key in item or key in PRODUCT_WC10})
        add_wc10_fields(item, PRODUCT_WC10)
        options = ", ".join(a["option"] for a in doc["attributes"])
        item["name"] = f"{parent.get('name', '')} - {options}" if options else parent.get("name", "")
        item["slug"] = slugify(item["name"])
        item["attributes"] = variation["attributes"]
        item["stock_status"] = variation["stock_status"]
        item["total_sales"] = str(item["total_sales"])  # a string for a variation read as a product
        item["_links"] = {
            "self": [{"href": f"{shop.api_url}/products/{doc['id']}", "targetHints": {"allow": ALLOW}}],
            "collection": [{"href": f"{shop.api_url}/products"}],
            "up": [{"href": f"{shop.api_url}/products/{extra['parent']}"}],
        }
        return item

    def after_save(self, shop: Shop, before: dict | None, doc: dict, extra: dict) -> None:
        """A variation's change syncs (and so saves) its parent product, as WooCommerce does."""
        shop.touch("product", extra["parent"])

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Deleting a variation syncs its parent."""
        shop.touch("product", extra["parent"])


class CategoryResource(Resource):
    """`/products/categories`: product categories (WordPress terms, no dates, no trash)."""

    kind = "category"
    route = "products/categories"
    label = "term"
    id_code = "woocommerce_rest_term_invalid"
    id_message = "Resource doesn't exist."
    has_dates = False
    required = ("name",)
    fields: ClassVar[dict[str, FieldSpec]] = {
        "name": "string",
        "slug": "string",
        "parent": "integer",
        "description": "string",
        "display": ("enum", "default", "products", "subcategories", "both"),
        "image": "object?",
        "menu_order": "integer",
    }
    orderby: ClassVar[dict[str, str]] = {
        "id": "id", "include": "id", "name": "name", "slug": "slug", "term_group": "id",
        "description": "json_extract(doc, '$.description')", "count": "id",
    }  # fmt: skip
    default_orderby = "name"
    default_order = "asc"

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a category request into the document."""
        name = data.get("name", doc["name"])
        parent = data.get("parent", doc["parent"])
        if name != doc["name"] or parent != doc["parent"]:
            clash = [
                i
                for i in shop.store.ids(self.kind, "name = ? AND parent_id = ?", [name, parent])
                if i != doc["id"]
            ]
            if clash:
                raise ApiError(
                    400,
                    "term_exists",
                    "A term with the name provided already exists with this parent.",
                    resource_id=clash[0],
                )
        for field in ("name", "parent", "description", "display", "menu_order"):
            if field in data:
                doc[field] = data[field]
        escape_text(doc, data, ("name", "description"))
        if "slug" in data or creating:
            base = slugify(data.get("slug") or doc["name"]) or str(doc["id"])
            slug, n = base, 1
            while [i for i in shop.store.ids(self.kind, "slug = ?", [slug]) if i != doc["id"]]:
                n += 1
                slug = f"{base}-{n}"
            doc["slug"] = slug
        if "image" in data:
            doc["image"] = (
                _image(shop, data["image"], {doc["image"]["id"]: doc["image"]} if doc["image"] else {})
                if data["image"]
                else None
            )
        shop.forget_categories()

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a category (its parent term in parent_id)."""
        return {"parent_id": doc["parent"], "name": doc["name"], "slug": doc["slug"]}

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A category with its current product count."""
        out = super().present(shop, doc, extra)
        out["count"] = int(
            shop.store.scalar(
                "SELECT count(*) FROM product WHERE cats LIKE ? AND status = 'publish'", [f"%,{doc['id']},%"]
            )
        )
        return out

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Categories' own list arguments: parent, slug, hide_empty, product."""
        out: list[Filter] = []
        if params.get("parent"):
            out.append(("parent_id = ?", [int(params["parent"][0])]))
        if params.get("slug"):
            out.append(("slug = ?", [params["slug"][0]]))
        if (params.get("hide_empty") or [""])[0] in ("1", "true"):
            out.append(("EXISTS (SELECT 1 FROM product p WHERE p.cats LIKE '%,' || category.id || ',%')", []))
        return out

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Products lose a deleted category; child categories move up to its parent."""
        shop.forget_categories()
        for child in shop.store.ids(self.kind, "parent_id = ?", [doc["id"]]):
            found = shop.store.get(self.kind, child)
            if found:
                found[0]["parent"] = doc["parent"]
                shop.store.put(self.kind, child, found[0], found[1], self.columns(*found))
        for product_id in shop.store.ids("product", "cats LIKE ?", [f"%,{doc['id']},%"]):
            found = shop.store.get("product", product_id)
            if found:
                found[0]["categories"] = [c for c in found[0]["categories"] if c["id"] != doc["id"]]
                resource = shop.resources["product"]
                shop.store.put("product", product_id, found[0], found[1], resource.columns(*found))
