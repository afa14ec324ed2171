"""WooCommerce orders, refunds and notes <-> canonical Order, Customer and Refund records.

Statuses: WooCommerce's own map one to one (`checkout-draft` is `draft`); a status added by a plugin
(e.g. `shipped`, `awaiting-pickup`) is kept in `raw_status` and read as `on-hold`, so that nothing
acts on an order whose meaning emporion does not know. Writing back, `raw_status` is set when it reads
as the record's status (how a plugin status is asked for); otherwise `shipped` becomes `processing`
(WooCommerce has no such status) and `draft` becomes `checkout-draft`.

Money is Decimal read exactly from WooCommerce's strings (line `price` is a JSON number: read through
`str`). A refund that emporion created carries `_emporion_refund` (its canonical key) and
`_emporion_restock` in its meta_data; reading it back gives the same key, so a write is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.woocommerce.mapping import (
    MappingError,
    format_money,
    meta_from_wc,
    parse_decimal,
    parse_gmt,
)
from emporion.model import (
    Address,
    Customer,
    CustomValue,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundLine,
    ShippingLine,
)

Json = dict[str, Any]

REFUND_KEY_META = "_emporion_refund"
REFUND_RESTOCK_META = "_emporion_restock"
NOTE_PREFIX = "note:"
NOTE_CUSTOMER_PREFIX = "note_customer:"
API_REFUND_KEY = "api_refund"
OPEN_STATUSES = ("pending", "on-hold", "processing")

_STATUS_FROM_WC: dict[str, OrderStatus] = {
    "pending": OrderStatus.PENDING,
    "on-hold": OrderStatus.ON_HOLD,
    "processing": OrderStatus.PROCESSING,
    "completed": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
    "failed": OrderStatus.FAILED,
    "checkout-draft": OrderStatus.DRAFT,
}
_STATUS_TO_WC: dict[OrderStatus, str] = {
    **{status: name for name, status in _STATUS_FROM_WC.items()},
    OrderStatus.SHIPPED: "processing",
}
# custom keys that steer the write instead of becoming meta_data
_CONTROL_PREFIXES = (NOTE_PREFIX, NOTE_CUSTOMER_PREFIX)


def status_from_wc(value: str) -> OrderStatus:
    """WooCommerce status -> canonical; plugin statuses read as on-hold (kept in raw_status)."""
    return _STATUS_FROM_WC.get(value.removeprefix("wc-"), OrderStatus.ON_HOLD)


def status_to_wc(status: OrderStatus, raw_status: str = "") -> str:
    """The status to set: `raw_status` when it reads as `status` (plugin statuses), else WooCommerce's own."""
    if raw_status and status_from_wc(raw_status) is status:
        return raw_status.removeprefix("wc-")
    return _STATUS_TO_WC[status]


def _money(value: Any) -> Decimal:
    return parse_decimal(value) or Decimal(0)


def address_from_wc(data: Mapping[str, Any] | None) -> Address:
    """A WooCommerce billing or shipping block as an Address."""
    data = data or {}
    return Address(
        first_name=str(data.get("first_name") or ""),
        last_name=str(data.get("last_name") or ""),
        company=str(data.get("company") or ""),
        street=str(data.get("address_1") or ""),
        street2=str(data.get("address_2") or ""),
        city=str(data.get("city") or ""),
        postcode=str(data.get("postcode") or ""),
        state=str(data.get("state") or ""),
        country=str(data.get("country") or "").upper(),
        email=str(data.get("email") or ""),
        phone=str(data.get("phone") or ""),
    )


def customer_from_order(data: Json) -> Customer:
    """The order's customer: a registered one by id, a guest as `guest:<lower-cased e-mail>`."""
    billing = address_from_wc(data.get("billing"))
    shipping = address_from_wc(data.get("shipping"))
    customer_id = int(data.get("customer_id") or 0)
    email = billing.email.strip()
    return Customer(
        key=str(customer_id) if customer_id else f"guest:{email.lower()}",
        email=email,
        first_name=billing.first_name,
        last_name=billing.last_name,
        company=billing.company,
        phone=billing.phone,
        billing=billing,
        shipping=shipping,
        guest=not customer_id,
    )


def line_from_wc(data: Json) -> OrderLine:
    """One line item; unit price = subtotal / quantity (before discounts, excluding tax)."""
    quantity = Decimal(str(data.get("quantity") or 0))
    subtotal = _money(data.get("subtotal"))
    unit_price = subtotal / quantity if quantity else _money(data.get("price"))
    product_id = int(data.get("variation_id") or 0) or int(data.get("product_id") or 0)
    return OrderLine(
        key=str(data["id"]),
        sku=str(data.get("sku") or ""),
        name=str(data.get("name") or ""),
        quantity=quantity,
        unit_price=unit_price,
        total=_money(data.get("total")),
        subtotal=subtotal,
        tax=_money(data.get("total_tax")),
        tax_class=str(data.get("tax_class") or ""),
        product_key=str(product_id) if product_id else None,
    )


def shipping_line_from_wc(data: Json) -> ShippingLine:
    """One shipping line."""
    return ShippingLine(
        method=str(data.get("method_id") or ""),
        title=str(data.get("method_title") or ""),
        total=_money(data.get("total")),
        tax=_money(data.get("total_tax")),
    )


def _meta_value(meta_data: Iterable[Json] | None, key: str) -> Any:
    for entry in meta_data or ():
        if entry.get("key") == key:
            return entry.get("value")
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "yes", "true")


def refund_from_wc(data: Json) -> Refund:
    """A refund: positive amount and quantities; lines name the order line they refund."""
    meta = data.get("meta_data") or []
    lines = []
    for item in data.get("line_items") or []:
        refunded_item = _meta_value(item.get("meta_data"), "_refunded_item_id")
        lines.append(
            RefundLine(
                line_key=str(refunded_item or item["id"]),
                sku=str(item.get("sku") or ""),
                quantity=abs(Decimal(str(item.get("quantity") or 0))),
                amount=abs(_money(item.get("total"))),
            )
        )
    key = _meta_value(meta, REFUND_KEY_META)
    return Refund(
        key=str(key) if key not in (None, "") else str(data["id"]),
        amount=abs(_money(data.get("amount"))),
        reason=str(data.get("reason") or ""),
        lines=lines,
        restock=_truthy(_meta_value(meta, REFUND_RESTOCK_META)),
        created_at=parse_gmt(data.get("date_created_gmt")),
    )


def refund_keys(refunds: Iterable[Json]) -> set[str]:
    """Every key a shop refund answers to: its id and the emporion key it was created with."""
    keys: set[str] = set()
    for data in refunds:
        keys.add(str(data["id"]))
        keys.add(refund_from_wc(data).key)
    return keys


def refund_to_wc(refund: Refund, api_refund: bool) -> Json:
    """The POST body of a refund; `api_refund` false records it without paying the money out."""
    for line in refund.lines:
        if not line.line_key.isdigit():
            raise MappingError(
                f"refund {refund.key} names line {line.line_key!r}, not a WooCommerce line item id", "refunds"
            )
    return {
        "amount": format_money(refund.amount),
        "reason": refund.reason,
        "api_refund": api_refund,
        "api_restock": refund.restock,
        "line_items": [
            {
                "id": int(line.line_key),
                "quantity": int(line.quantity),
                "refund_total": format_money(line.amount),
            }
            for line in refund.lines
        ],
        "meta_data": [
            {"key": REFUND_KEY_META, "value": refund.key},
            {"key": REFUND_RESTOCK_META, "value": "yes" if refund.restock else "no"},
        ],
    }


def order_from_wc(data: Json, refunds: Iterable[Json] = ()) -> Order:
    """A WooCommerce order (and its refunds, from /orders/<id>/refunds) as a canonical Order."""
    raw_status = str(data.get("status") or "")
    status = status_from_wc(raw_status)
    paid_at = parse_gmt(data.get("date_paid_gmt"))
    total = _money(data.get("total"))
    return Order(
        key=str(data["id"]),
        number=str(data.get("number") or data["id"]),
        status=status,
        raw_status=raw_status,
        currency=str(data.get("currency") or ""),
        created_at=parse_gmt(data.get("date_created_gmt")),
        modified_at=parse_gmt(data.get("date_modified_gmt")),
        customer=customer_from_order(data),
        billing=address_from_wc(data.get("billing")),
        shipping=address_from_wc(data.get("shipping")),
        lines=[line_from_wc(item) for item in data.get("line_items") or []],
        shipping_lines=[shipping_line_from_wc(item) for item in data.get("shipping_lines") or []],
        coupons=[str(item.get("code") or "") for item in data.get("coupon_lines") or []],
        discount_total=_money(data.get("discount_total")),
        shipping_total=_money(data.get("shipping_total")),
        tax_total=_money(data.get("total_tax")),
        total=total,
        prices_include_tax=bool(data.get("prices_include_tax")),
        paid=paid_at is not None or status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED),
        payment=Payment(
            method=str(data.get("payment_method") or ""),
            method_title=str(data.get("payment_method_title") or ""),
            transaction_id=str(data.get("transaction_id") or ""),
            amount=total,
            paid_at=paid_at,
        ),
        customer_note=str(data.get("customer_note") or ""),
        refunds=[refund_from_wc(item) for item in refunds],
        custom=meta_from_wc(data.get("meta_data")),
    )


def note_marker(note_id: str) -> str:
    """The marker appended to a note emporion adds, so that it is added once."""
    return f" [emporion:{note_id}]"


def wanted_notes(custom: Mapping[str, CustomValue]) -> list[tuple[str, str, bool]]:
    """(note id, text, customer-visible) of the `note:<id>` / `note_customer:<id>` entries."""
    notes = []
    for key, value in custom.items():
        if key.startswith(NOTE_PREFIX) and value not in (None, ""):
            note_id = key.removeprefix(NOTE_PREFIX)
            visible = _truthy(custom.get(f"{NOTE_CUSTOMER_PREFIX}{note_id}", False))
            notes.append((note_id, str(value), visible))
    return notes


def wanted_meta(custom: Mapping[str, CustomValue]) -> dict[str, CustomValue]:
    """The custom entries that become order meta_data (not notes, not the api_refund switch)."""
    return {
        key: value
        for key, value in custom.items()
        if key != API_REFUND_KEY and not key.startswith(_CONTROL_PREFIXES)
    }


def meta_changes(custom: Mapping[str, CustomValue], meta_data: Iterable[Json] | None) -> list[Json]:
    """The meta_data entries to send: wanted values that the shop's meta does not hold yet."""
    current = meta_from_wc(meta_data)
    changes = []
    for key, value in wanted_meta(custom).items():
        text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        have = current.get(key)
        have_text = "" if have is None else str(have).lower() if isinstance(have, bool) else str(have)
        if key not in current or text != have_text:
            changes.append({"key": key, "value": text})
    return changes


def customer_from_wc(data: Json) -> Customer:
    """A WooCommerce customer resource as a canonical Customer (a registered one, keyed by id)."""
    billing = address_from_wc(data.get("billing"))
    return Customer(
        key=str(data["id"]),
        email=str(data.get("email") or billing.email),
        first_name=str(data.get("first_name") or ""),
        last_name=str(data.get("last_name") or ""),
        company=billing.company,
        phone=billing.phone,
        billing=billing,
        shipping=address_from_wc(data.get("shipping")),
        guest=False,
    )


def note_ids(notes: Iterable[Json]) -> set[str]:
    """The ids of the emporion notes among an order's notes (by the marker at their end)."""
    found = set()
    for note in notes:
        text = str(note.get("note") or "")
        if text.endswith("]") and " [emporion:" in text:
            found.add(text.rsplit(" [emporion:", 1)[1][:-1])
    return found
