"""Customer and coupon resources."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.resource import Filter, Resource, text_list
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop


def merge_address(current: dict[str, str], given: Any) -> dict[str, str]:
    """An address with the given keys replaced (unknown keys ignored), values as strings."""
    if not isinstance(given, dict):
        return current
    return {
        key: str(given[key]) if key in given and given[key] is not None else value
        for key, value in current.items()
    }


class CustomerResource(Resource):
    """`/customers`: registered shoppers (WordPress users with the customer role)."""

    kind = "customer"
    route = "customers"
    topic = "customer"
    label = "customer"
    id_code = "woocommerce_rest_invalid_id"
    id_message = "Invalid resource ID."
    required = ("email",)
    fields: ClassVar[dict[str, FieldSpec]] = {
        "email": "string",
        "first_name": "string",
        "last_name": "string",
        "username": "string",
        "password": "string",
        "billing": "object",
        "shipping": "object",
        "meta_data": "array",
    }
    orderby: ClassVar[dict[str, str]] = {
        "id": "id",
        "include": "id",
        "name": "name",
        "registered_date": "created_gmt",
    }
    default_orderby = "name"
    default_order = "asc"

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a customer request: unique email, generated username, addresses, meta."""
        if "email" in data and data["email"].lower() != doc["email"].lower():
            email = data["email"].strip()
            if "@" not in email:
                raise ApiError(
                    400, "registration-error-invalid-email", "Please provide a valid email address."
                )
            if [i for i in shop.store.ids(self.kind, "email = ? COLLATE NOCASE", [email]) if i != doc["id"]]:
                raise ApiError(
                    400,
                    "registration-error-email-exists",
                    "An account is already registered with your email address. Please log in.",
                )
            doc["email"] = email
            digest = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
            doc["avatar_url"] = f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"
        if creating:
            username = data.get("username") or doc["email"].split("@")[0]
            if [i for i in shop.store.ids(self.kind, "code = ?", [username]) if i != doc["id"]]:
                if data.get("username"):
                    raise ApiError(
                        400,
                        "registration-error-username-exists",
                        "An account is already registered with that username.",
                    )
                username = f"{username}-{doc['id']}"
            doc["username"] = username
        for name in ("first_name", "last_name"):
            if name in data:
                doc[name] = data[name]
        for name in ("billing", "shipping"):
            if name in data:
                doc[name] = merge_address(doc[name], data[name])
        if "meta_data" in data:
            doc["meta_data"] = shop.merge_meta(doc["meta_data"], data["meta_data"])

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a customer (display name, email, username)."""
        columns = super().columns(doc, extra)
        display = f"{doc['first_name']} {doc['last_name']}".strip() or doc["username"]
        columns.update(
            name=f"{display} {doc['email']}", email=doc["email"], code=doc["username"], status=doc["role"]
        )
        return columns

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Customers' own list arguments: email and role."""
        out: list[Filter] = []
        if params.get("email"):
            out.append(("email = ? COLLATE NOCASE", [params["email"][0]]))
        role = (params.get("role") or ["customer"])[0]
        if role != "all":
            out.append(("status = ?", [role]))
        return out


class CouponResource(Resource):
    """`/coupons`: discount codes (unique, stored lower case)."""

    kind = "coupon"
    route = "coupons"
    topic = "coupon"
    label = "shop_coupon"
    id_code = "woocommerce_rest_shop_coupon_invalid_id"
    supports_trash = True
    required = ("code",)
    fields: ClassVar[dict[str, FieldSpec]] = {
        "code": "string",
        "amount": "money",
        "discount_type": ("enum", "percent", "fixed_cart", "fixed_product"),
        "description": "string",
        "date_expires": "string?",
        "date_expires_gmt": "string?",
        "individual_use": "boolean",
        "product_ids": "array",
        "excluded_product_ids": "array",
        "usage_limit": "integer?",
        "usage_limit_per_user": "integer?",
        "limit_usage_to_x_items": "integer?",
        "free_shipping": "boolean",
        "product_categories": "array",
        "excluded_product_categories": "array",
        "exclude_sale_items": "boolean",
        "minimum_amount": "money",
        "maximum_amount": "money",
        "email_restrictions": "array",
        "meta_data": "array",
    }
    orderby: ClassVar[dict[str, str]] = {**Resource.orderby, "title": "code"}

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a coupon request: unique lower-case code, expiry date, plain fields."""
        if "code" in data:
            code = data["code"].strip().lower()
            if [i for i in shop.store.ids(self.kind, "code = ?", [code]) if i != doc["id"]]:
                raise ApiError(
                    400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"
                )
            doc["code"] = code
        for name, is_gmt in (("date_expires", False), ("date_expires_gmt", True)):
            if name in data:
                value = data[name]
                if value:
                    doc["date_expires"], doc["date_expires_gmt"] = shop.clock.pair(
                        shop.clock.parse(value, name, is_gmt)
                    )
                else:
                    doc["date_expires"] = doc["date_expires_gmt"] = None
        for name, value in data.items():
            if name in doc and name not in (
                "code",
                "date_expires",
                "date_expires_gmt",
                "meta_data",
                "status",
            ):
                doc[name] = value
        if "meta_data" in data:
            doc["meta_data"] = shop.merge_meta(doc["meta_data"], data["meta_data"])
        doc.setdefault("status", "publish")

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a coupon (its code)."""
        columns = super().columns(doc, extra)
        columns.update(code=doc["code"], name=doc["code"])
        return columns

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A coupon with its post status (`publish`, as WooCommerce 10 shows it) and local dates."""
        out = super().present(shop, doc, extra)
        return out

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Coupons' own list argument: code."""
        codes = [code.lower() for code in text_list(params.get("code", []))]
        return [(f"code IN ({', '.join('?' * len(codes))})", codes)] if codes else []
