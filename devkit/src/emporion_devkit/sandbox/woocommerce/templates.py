"""Default documents with WooCommerce's exact field set and types (those of the REST v3 examples)."""

from __future__ import annotations

from typing import Any

import orjson

_SALE_DATES = {
    "date_on_sale_from": None,
    "date_on_sale_from_gmt": None,
    "date_on_sale_to": None,
    "date_on_sale_to_gmt": None,
}
_STOCK = {
    "manage_stock": False,
    "stock_quantity": None,
    "stock_status": "instock",
    "backorders": "no",
    "backorders_allowed": False,
    "backordered": False,
}
_DATES = {"date_created": None, "date_created_gmt": None, "date_modified": None, "date_modified_gmt": None}

PRODUCT: dict[str, Any] = {
    "id": 0, "name": "", "slug": "", "permalink": "", **_DATES,
    "type": "simple", "status": "publish", "featured": False, "catalog_visibility": "visible",
    "description": "", "short_description": "", "sku": "", "price": "", "regular_price": "",
    "sale_price": "", **_SALE_DATES, "price_html": "", "on_sale": False, "purchasable": False,
    "total_sales": 0, "virtual": False, "downloadable": False, "downloads": [], "download_limit": -1,
    "download_expiry": -1, "external_url": "", "button_text": "", "tax_status": "taxable", "tax_class": "",
    **_STOCK, "sold_individually": False, "weight": "",
    "dimensions": {"length": "", "width": "", "height": ""}, "shipping_required": True,
    "shipping_taxable": True, "shipping_class": "", "shipping_class_id": 0, "reviews_allowed": True,
    "average_rating": "0.00", "rating_count": 0, "related_ids": [], "upsell_ids": [], "cross_sell_ids": [],
    "parent_id": 0, "purchase_note": "", "categories": [], "tags": [], "images": [], "attributes": [],
    "default_attributes": [], "variations": [], "grouped_products": [], "menu_order": 0, "meta_data": [],
}  # fmt: skip

VARIATION: dict[str, Any] = {
    "id": 0, **_DATES, "description": "", "permalink": "", "sku": "", "price": "", "regular_price": "",
    "sale_price": "", **_SALE_DATES, "on_sale": False, "status": "publish", "purchasable": False,
    "virtual": False, "downloadable": False, "downloads": [], "download_limit": -1, "download_expiry": -1,
    "tax_status": "taxable", "tax_class": "", **_STOCK, "weight": "",
    "dimensions": {"length": "", "width": "", "height": ""}, "shipping_class": "", "shipping_class_id": 0,
    "image": None, "attributes": [], "menu_order": 0, "meta_data": [],
}  # fmt: skip

CATEGORY: dict[str, Any] = {
    "id": 0, "name": "", "slug": "", "parent": 0, "description": "", "display": "default", "image": None,
    "menu_order": 0, "count": 0,
}  # fmt: skip

ADDRESS = {
    "first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
    "state": "", "postcode": "", "country": "",
}  # fmt: skip
BILLING = {**ADDRESS, "email": "", "phone": ""}

ORDER: dict[str, Any] = {
    "id": 0, "parent_id": 0, "number": "", "order_key": "", "created_via": "rest-api", "version": "",
    "status": "pending", "currency": "USD", **_DATES, "discount_total": "0.00", "discount_tax": "0.00",
    "shipping_total": "0.00", "shipping_tax": "0.00", "cart_tax": "0.00", "total": "0.00",
    "total_tax": "0.00", "prices_include_tax": False, "customer_id": 0, "customer_ip_address": "",
    "customer_user_agent": "", "customer_note": "", "billing": BILLING, "shipping": {**ADDRESS, "phone": ""},
    "payment_method": "", "payment_method_title": "", "transaction_id": "", "date_paid": None,
    "date_paid_gmt": None, "date_completed": None, "date_completed_gmt": None, "cart_hash": "",
    "meta_data": [], "line_items": [], "tax_lines": [], "shipping_lines": [], "fee_lines": [],
    "coupon_lines": [], "refunds": [],
}  # fmt: skip

NOTE: dict[str, Any] = {
    "id": 0, "author": "WooCommerce", "date_created": None, "date_created_gmt": None, "note": "",
    "customer_note": False,
}  # fmt: skip

REFUND: dict[str, Any] = {
    "id": 0, "date_created": None, "date_created_gmt": None, "amount": "0.00", "reason": "",
    "refunded_by": 1, "refunded_payment": False, "meta_data": [], "line_items": [], "shipping_lines": [],
    "tax_lines": [], "fee_lines": [],
}  # fmt: skip

CUSTOMER: dict[str, Any] = {
    "id": 0, **_DATES, "email": "", "first_name": "", "last_name": "", "role": "customer", "username": "",
    "billing": BILLING, "shipping": ADDRESS, "is_paying_customer": False, "avatar_url": "", "meta_data": [],
}  # fmt: skip

COUPON: dict[str, Any] = {
    "id": 0, "code": "", "amount": "0", **_DATES, "discount_type": "fixed_cart", "description": "",
    "date_expires": None, "date_expires_gmt": None, "usage_count": 0, "individual_use": False,
    "product_ids": [], "excluded_product_ids": [], "usage_limit": None, "usage_limit_per_user": None,
    "limit_usage_to_x_items": None, "free_shipping": False, "product_categories": [],
    "excluded_product_categories": [], "exclude_sale_items": False, "minimum_amount": "0.00",
    "maximum_amount": "0.00", "email_restrictions": [], "used_by": [], "meta_data": [],
}  # fmt: skip

WEBHOOK: dict[str, Any] = {
    "id": 0, "name": "", "status": "active", "topic": "", "resource": "", "event": "", "hooks": [],
    "delivery_url": "", **_DATES,
}  # fmt: skip

_FROZEN = {
    name: orjson.dumps(value)
    for name, value in {
        "product": PRODUCT, "variation": VARIATION, "category": CATEGORY, "order": ORDER, "note": NOTE,
        "refund": REFUND, "customer": CUSTOMER, "coupon": COUPON, "webhook": WEBHOOK,
        "address": ADDRESS, "billing": BILLING,
    }.items()
}  # fmt: skip


def fresh(kind: str) -> dict[str, Any]:
    """A new default document of a kind (a deep copy, safe to mutate)."""
    return orjson.loads(_FROZEN[kind])
