"""Customer and coupon resources."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce.errors import ApiError, invalid_param
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


# WordPress's roles and WooCommerce's; a plugin adds its own (`CustomerResource.add_role`)
ROLES = ("administrator", "editor", "author", "contributor", "subscriber", "customer", "shop_manager")
# roles whose e-mail and password the API may change, and whose accounts it may delete
# (filter woocommerce_rest_customer_allowed_roles)
ALLOWED_ROLES = ("customer", "subscriber")
# local parts WooCommerce does not make usernames of: it takes the domain instead
COMMON_PREFIXES = ("sales", "hello", "mail", "contact", "info")
EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


def is_email(value: str) -> bool:
    """WordPress's `is_email` in short: a local part, an @ and a domain with at least one dot."""
    return bool(EMAIL.match(value)) and len(value) >= 6


def sanitize_user(name: str) -> str:
    """WordPress's `sanitize_user(…, strict)`: accents removed, only a-z, 0-9, space, _ . - @ kept."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9 _.@-]", "", plain).strip()


class CustomerResource(Resource):
    """`/customers`: WordPress users, listed by role (`customer` unless the request names another).

    As WooCommerce 10.0.2 (`WC_REST_Customers_V1/V2_Controller`, `wc_create_new_customer`): `role`
    is read-only (new accounts are customers); no date filters (unknown arguments are ignored);
    `email` and `role` are checked arguments; a username is made from the e-mail when none is sent;
    protected meta (leading "_") is neither shown nor written.
    """

    kind = "customer"
    route = "customers"
    topic = "customer"
    label = "customer"
    id_code = "woocommerce_rest_invalid_id"
    id_message = "Invalid resource ID."
    date_filters = False
    trash_message = "Customers do not support trashing."
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

    def __init__(self) -> None:
        self.roles = list(ROLES)

    def add_role(self, role: str) -> None:
        """A role a plugin registers (`add_role`), such as a B2B plugin's wholesale_customer."""
        if role not in self.roles:
            self.roles.append(role)

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a customer request: unique email, generated username, addresses, meta."""
        if not creating:
            self._check_update(shop, doc, data)
        if "email" in data:
            self._email(shop, doc, data["email"].strip(), creating)
        if creating:
            doc["username"] = self._username(shop, doc, data)
        for name in ("first_name", "last_name"):
            if name in data:
                doc[name] = data[name]
        for name in ("billing", "shipping"):
            if name in data:
                doc[name] = merge_address(doc[name], data[name])
        if "meta_data" in data:
            public = [m for m in data["meta_data"] if not str((m or {}).get("key", "")).startswith("_")]
            doc["meta_data"] = shop.merge_meta(doc["meta_data"], public)

    def _email(self, shop: Shop, doc: dict, email: str, creating: bool) -> None:
        """A new e-mail: an address WordPress takes that no other user holds (case-blind, as MySQL).

        An update to an address any user holds, this one included, that is not the very same string is
        refused (`email_exists($email) && $email !== $customer->get_email()`): a change of case too.
        """
        holders = shop.store.ids(self.kind, "email = ? COLLATE NOCASE", [email]) if email else []
        if not creating:
            if holders and email != doc["email"]:
                raise ApiError(400, "woocommerce_rest_customer_invalid_email", "Email address is invalid.")
            if email and not is_email(email):
                raise ApiError(400, "customer_invalid_email", "Invalid email address")
        elif not is_email(email):
            raise ApiError(400, "registration-error-invalid-email", "Please provide a valid email address.")
        elif holders:
            raise ApiError(
                400,
                "registration-error-email-exists",
                f"An account is already registered with {html.escape(email)}. Please log in or use a "
                "different email address.",
            )
        if email and email != doc["email"]:
            doc["email"] = email
            digest = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
            doc["avatar_url"] = f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"

    def _check_update(self, shop: Shop, doc: dict, data: dict) -> None:
        """What WooCommerce refuses in an update: a new username; e-mail or password of other roles."""
        if data.get("username") and data["username"] != doc["username"]:
            raise ApiError(400, "woocommerce_rest_customer_invalid_argument", "Username isn't editable.")
        if doc["role"] not in ALLOWED_ROLES:
            for name in ("email", "password"):
                if name in data and (name == "password" or data[name] != doc["email"]):
                    raise ApiError(
                        403,
                        "woocommerce_rest_cannot_edit",
                        f"Sorry, {name} cannot be updated via this endpoint for a user with role "
                        f"{doc['role']}.",
                    )

    def _username(self, shop: Shop, doc: dict, data: dict) -> str:
        """The sent username, or `wc_create_new_customer_username`'s: the e-mail's local part, lower case."""
        taken = [
            i for i in shop.store.ids(self.kind, "code = ?", [data.get("username") or ""]) if i != doc["id"]
        ]
        if data.get("username"):
            if taken:
                raise ApiError(
                    400,
                    "registration-error-username-exists",
                    "An account is already registered with that username. Please choose another.",
                )
            return str(data["username"])
        local, _, domain = doc["email"].partition("@")
        base = sanitize_user(domain if local in COMMON_PREFIXES else local).lower()
        if not base:
            raise ApiError(
                400, "registration-error-invalid-username", "Please provide a valid account username."
            )
        username, attempt = base, 0
        while shop.store.ids(self.kind, "code = ?", [username]):
            attempt += 1
            username = f"{base}-{(doc['id'] * 7919 + attempt * 104729) % 10000:04d}"  # WooCommerce: random
        return username

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A customer as an administrator's key sees it (protected meta left out)."""
        out = super().present(shop, doc, extra)
        out["meta_data"] = [m for m in out.get("meta_data", []) if not str(m.get("key", "")).startswith("_")]
        return out

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a customer (display name, email, username)."""
        columns = super().columns(doc, extra)
        display = f"{doc['first_name']} {doc['last_name']}".strip() or doc["username"]
        columns.update(
            name=f"{display} {doc['email']}", email=doc["email"], code=doc["username"], status=doc["role"]
        )
        return columns

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Customers' own list arguments: email (an address) and role (`all` or a known role)."""
        out: list[Filter] = []
        email = (params.get("email") or [""])[0]
        if email:
            if not is_email(email):
                raise invalid_param("email", "Invalid email address.", "rest_invalid_email")
            out.append(("email = ? COLLATE NOCASE", [email]))
        role = (params.get("role") or ["customer"])[0]
        if role not in ("all", *self.roles):
            listed = ", ".join(("all", *self.roles))
            raise invalid_param("role", f"role is not one of {listed}.", "rest_not_in_enum")
        if role != "all":
            out.append(("status = ?", [role]))
        return out

    def delete_check(self, doc: dict) -> None:
        """WooCommerce deletes accounts of the allowed roles only."""
        if doc["role"] not in ALLOWED_ROLES:
            raise ApiError(
                403,
                "woocommerce_rest_cannot_delete",
                f"Sorry, users with {doc['role']} role cannot be deleted via this endpoint. "
                f"Allowed roles: {', '.join(ALLOWED_ROLES)}",
            )

    # -- what happens in the shop outside the API (wp-admin, plugins) -----------------------------

    def set_role(self, shop: Shop, record_id: int, role: str) -> None:
        """wp-admin's "Change role to" (`WP_User::set_role`): no `date_modified` move, no webhook."""
        self.add_role(role)
        doc, extra = shop.load(self.kind, record_id)
        doc["role"] = role
        shop.store.put(self.kind, record_id, doc, extra, self.columns(doc, extra))

    def set_meta(self, shop: Shop, record_id: int, key: str, value: Any) -> None:
        """A plugin's `update_user_meta` (a B2B group): no `date_modified` move, no webhook."""
        doc, extra = shop.load(self.kind, record_id)
        doc["meta_data"] = shop.merge_meta(doc["meta_data"], [{"key": key, "value": value}])
        shop.store.put(self.kind, record_id, doc, extra, self.columns(doc, extra))


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
