"""WooCommerce customer bodies: a canonical Customer as what the customers endpoint takes, and the
difference to an account as held; WooCommerce's refusals of customers as typed errors."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from typing import Any

from emporion.connectors.base import ConnectorError, Permanent, Retryable, WriteItem
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.order_values import text
from emporion.model.orders import CUSTOMER_FIELDS, Address, Customer

Json = dict[str, Any]
META_FIELDS = ("number", "group", "price_list")
ADDRESS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "street": "address_1",
    "street2": "address_2",
    "city": "city",
    "postcode": "postcode",
    "state": "state",
    "country": "country",
    "phone": "phone",
}
EMAIL_EXISTS = "registration-error-email-exists"
# WooCommerce's codes -> the field they concern and what to tell the merchant
REFUSALS: dict[str, tuple[str, str]] = {
    EMAIL_EXISTS: ("email", "another shop account holds the e-mail"),
    "registration-error-invalid-email": ("email", "WordPress does not take the e-mail for an address"),
    "woocommerce_rest_customer_invalid_email": ("email", "another shop account holds the new e-mail"),
    "registration-error-invalid-username": ("email", "no username can be made from the e-mail"),
    "woocommerce_rest_cannot_edit": (
        "email",
        "WooCommerce changes e-mails over its API only for the roles customer and subscriber "
        "(filter woocommerce_rest_customer_allowed_roles)",
    ),
}


def address_to_wc(address: Address, *, email: str | None = None) -> Json:
    """An Address as a WooCommerce billing (with `email`) or shipping block; a phone the address does
    not carry is left as the shop has it (a customer's addresses carry the postal part only)."""
    block = {wc: getattr(address, name) for name, wc in ADDRESS.items() if name != "phone" or address.phone}
    if email is not None:
        block["email"] = address.email or email
    return block


def customer_body(customer: Customer, fields: frozenset[str], meta_keys: Mapping[str, str]) -> Json:
    """The customer's `fields` as a WooCommerce body (company and phone go into the billing block)."""
    body: Json = {
        name: getattr(customer, name) for name in ("email", "first_name", "last_name") if name in fields
    }
    if "billing" in fields and customer.billing is not None:
        body["billing"] = address_to_wc(customer.billing, email=customer.email)
    for name in ("company", "phone"):
        value = getattr(customer, name) or getattr(customer.billing or Address(), name)
        if name in fields and value:
            body.setdefault("billing", {})[name] = value
    if "shipping" in fields and customer.shipping is not None:
        body["shipping"] = address_to_wc(customer.shipping)
    meta = [
        {"key": meta_keys[name], "value": getattr(customer, name)} for name in META_FIELDS if name in fields
    ]
    if meta:
        body["meta_data"] = meta
    return body


def create_body(item: WriteItem, customer: Customer, meta_keys: Mapping[str, str]) -> Json:
    """Everything for a new account: empty meta left out, the flow's create defaults as meta entries."""
    body = customer_body(customer, CUSTOMER_FIELDS, meta_keys)
    meta = [entry for entry in body.pop("meta_data", []) if entry["value"]]
    meta += [{"key": key, "value": value} for key, value in item.defaults.items()]
    if meta:
        body["meta_data"] = meta
    local = unicodedata.normalize("NFKD", customer.email.split("@")[0])
    if not any(char.isascii() and char.isalnum() for char in local):  # WordPress would make ""
        body["username"] = "customer-" + hashlib.sha256(customer.email.lower().encode()).hexdigest()[:10]
    return body


def update_fields(item: WriteItem) -> frozenset[str]:
    """What an update may write: `only` when set, never the target's own `keep_on_update` fields."""
    return (CUSTOMER_FIELDS if item.only is None else CUSTOMER_FIELDS & item.only) - item.keep_on_update


def _same(sent: Any, held: Any, *, email: bool = False) -> bool:
    left, right = text(sent).strip(), text(held).strip()
    return left.lower() == right.lower() if email else left == right


def difference(body: Json, held: Json) -> Json:
    """What of `body` the account `held` does not hold already (the e-mail compared case-blind)."""
    out: Json = {}
    for name, value in body.items():
        if name in ("billing", "shipping"):
            found = held.get(name)
            block: Json = found if isinstance(found, dict) else {}
            changed = {k: v for k, v in value.items() if not _same(v, block.get(k), email=k == "email")}
            if changed:
                out[name] = changed
        elif name == "meta_data":
            current = {
                e.get("key"): e.get("value") for e in held.get("meta_data") or [] if isinstance(e, dict)
            }
            entries = [entry for entry in value if not _same(entry["value"], current.get(entry["key"]))]
            if entries:
                out[name] = entries
        elif not _same(value, held.get(name), email=name == "email"):
            out[name] = value
    return out


def failure(error: WooError, key: str) -> ConnectorError:
    """A refused item as a typed error naming the record and field, without WooCommerce's message."""
    code = error.code or (f"HTTP {error.status}" if error.status else "no code")
    if error.transient or error.missing_id:
        return Retryable(f"WooCommerce could not write customer {key} now ({code})")
    field, why = REFUSALS.get(error.code, (error.field, "WooCommerce refused the customer"))
    return Permanent(f"{why} ({code})", record=f"customer {key}", field=field)
