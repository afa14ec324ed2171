"""What an order's mapping adds to the generic one: its status, and the customer it belongs to.

The shop's status goes through the entity's `statuses` (shop word -> canonical status); a word it
does not list is Permanent naming the field `status` and the word, so the order waits in the dead
letters until the description says what the word means. `raw_status` keeps the shop's word.
A customer without a mapped account key is a guest known by e-mail (`guest:<email>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.conversions import shown
from emporion.connectors.rest.settings import OrderEntity
from emporion.model import OrderStatus

if TYPE_CHECKING:
    from emporion.connectors.rest.mapping import Reading

Json = Any


def order_values(data: Json, settings: OrderEntity, reading: Reading, values: dict[str, Any]) -> None:
    """Complete an order's canonical values: status and raw status, the customer (guest or account)."""
    from emporion.connectors.rest.mapping import value_at

    path = settings.fields.get("status")
    raw = value_at(data, path) if path is not None else None
    if raw is None or isinstance(raw, dict | list):
        reason = f"nothing at {path}" if path is not None else "it is not mapped"
        raise Permanent(f"status is missing: {reason}", record=reading.record, field="status")
    word = str(raw).lower() if isinstance(raw, bool) else str(raw)
    values["status"] = status_of(word, settings, reading.record)
    values.setdefault("raw_status", word)
    values["customer"] = customer_of(values, settings, reading.record)


def status_of(word: str, settings: OrderEntity, record: str) -> OrderStatus:
    """The canonical status of the shop's status word (by `statuses`; else emporion's own word)."""
    if word in settings.statuses:
        return settings.statuses[word]
    if not settings.statuses:
        try:
            return OrderStatus(word)
        except ValueError:
            pass
    raise Permanent(
        f"unknown order status {shown(word)}: add it to the order's `statuses`", record=record, field="status"
    )


def customer_of(values: dict[str, Any], settings: OrderEntity, record: str) -> dict[str, Any]:
    """The order's customer: its mapped fields, the e-mail from billing if need be, guest without a key."""
    customer = dict(values.get("customer") or {})
    billing = values.get("billing") or {}
    email = customer.get("email") or billing.get("email")
    if not email:
        path = settings.fields.get("customer.email") or settings.fields.get("billing.email")
        reason = f"nothing at {path}" if path else "it is not mapped"
        raise Permanent(f"the customer's e-mail is missing: {reason}", record=record, field="customer.email")
    customer["email"] = email
    for name in ("first_name", "last_name", "company", "phone"):
        if name not in customer and billing.get(name):
            customer[name] = billing[name]
    if "key" not in customer:
        customer["key"] = f"guest:{email.strip().lower()}"
        customer["guest"] = True
    return customer
