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

from emporion.connectors.guard import typed_mapping
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


def _money(value: Any, field: str) -> Decimal:
    """An amount, 0 when empty; anything that is not a number is a MappingError naming `field`."""
    return parse_decimal(value, field) or Decimal(0)


def _whole(value: Any, field: str) -> int:
    """A WooCommerce id or count (a number or digits); anything else is a MappingError naming `field`."""
    if value in (None, "", 0, False):
        return 0
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 19:
        raise MappingError(f"{field} is not a whole number", field)
    return int(text)


def _block(data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """A nested object (billing, shipping); anything but an object or nothing is a MappingError."""
    value = data.get(name)
    if value is not None and not isinstance(value, Mapping):
        raise MappingError(f"{name} is not an object", name)
    return value


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """A list of objects (line_items, refunds); anything else is a MappingError naming the entry."""
    value = data.get(name) or []
    if not isinstance(value, list):
        raise MappingError(f"{name} is not a list", name)
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise MappingError(f"{name}[{index}] is not an object", f"{name}[{index}]")
    return value


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
    billing = address_from_wc(_block(data, "billing"))
    shipping = address_from_wc(_block(data, "shipping"))
    customer_id = _whole(data.get("customer_id"), "customer_id")
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


def line_from_wc(data: Mapping[str, Any], field: str = "line_items[0]") -> OrderLine:
    """One line item; unit price = subtotal / quantity (before discounts, excluding tax).

    `field` is where the line sits in its order, for the errors.
    """
    quantity = parse_decimal(data.get("quantity"), f"{field}.quantity") or Decimal(0)
    subtotal = _money(data.get("subtotal"), f"{field}.subtotal")
    unit_price = subtotal / quantity if quantity else _money(data.get("price"), f"{field}.price")
    product_id = _whole(data.get("variation_id"), f"{field}.variation_id") or _whole(
        data.get("product_id"), f"{field}.product_id"
    )
    if data.get("id") in (None, ""):
        raise MappingError("line item has no id", f"{field}.id")
    return OrderLine(
        key=str(data["id"]),
        sku=str(data.get("sku") or ""),
        name=str(data.get("name") or ""),
        quantity=quantity,
        unit_price=unit_price,
        total=_money(data.get("total"), f"{field}.total"),
        subtotal=subtotal,
        tax=_money(data.get("total_tax"), f"{field}.total_tax"),
        tax_class=str(data.get("tax_class") or ""),
        product_key=str(product_id) if product_id else None,
    )


def shipping_line_from_wc(data: Mapping[str, Any], field: str = "shipping_lines[0]") -> ShippingLine:
    """One shipping line."""
    return ShippingLine(
        method=str(data.get("method_id") or ""),
        title=str(data.get("method_title") or ""),
        total=_money(data.get("total"), f"{field}.total"),
        tax=_money(data.get("total_tax"), f"{field}.total_tax"),
    )


def _meta_value(meta_data: Any, key: str) -> Any:
    for entry in meta_data if isinstance(meta_data, list) else ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "yes", "true")


@typed_mapping("refund")
def refund_from_wc(data: Json) -> Refund:
    """A refund: positive amount and quantities; lines name the order line they refund."""
    meta = data.get("meta_data") or []
    lines = []
    for index, item in enumerate(_items(data, "line_items")):
        refunded_item = _meta_value(item.get("meta_data"), "_refunded_item_id")
        field = f"line_items[{index}]"
        lines.append(
            RefundLine(
                line_key=str(refunded_item or item["id"]),
                sku=str(item.get("sku") or ""),
                quantity=abs(parse_decimal(item.get("quantity"), f"{field}.quantity") or Decimal(0)),
                amount=abs(_money(item.get("total"), f"{field}.total")),
            )
        )
    key = _meta_value(meta, REFUND_KEY_META)
    return Refund(
        key=str(key) if key not in (None, "") else str(data["id"]),
        amount=abs(_money(data.get("amount"), "amount")),
        reason=str(data.get("reason") or ""),
        lines=lines,
        restock=_truthy(_meta_value(meta, REFUND_RESTOCK_META)),
        created_at=parse_gmt(data.get("date_created_gmt"), "date_created_gmt"),
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


@typed_mapping("order")
def order_from_wc(data: Json, refunds: Iterable[Json] = ()) -> Order:
    """A WooCommerce order (and its refunds, from /orders/<id>/refunds) as a canonical Order."""
    raw_status = str(data.get("status") or "")
    status = status_from_wc(raw_status)
    paid_at = parse_gmt(data.get("date_paid_gmt"), "date_paid_gmt")
    total = _money(data.get("total"), "total")
    return Order(
        key=str(data["id"]),
        number=str(data.get("number") or data["id"]),
        status=status,
        raw_status=raw_status,
        currency=str(data.get("currency") or ""),
        created_at=parse_gmt(data.get("date_created_gmt"), "date_created_gmt"),
        modified_at=parse_gmt(data.get("date_modified_gmt"), "date_modified_gmt"),
        customer=customer_from_order(data),
        billing=address_from_wc(_block(data, "billing")),
        shipping=address_from_wc(_block(data, "shipping")),
        lines=[
            line_from_wc(item, f"line_items[{index}]")
            for index, item in enumerate(_items(data, "line_items"))
        ],
        shipping_lines=[
            shipping_line_from_wc(item, f"shipping_lines[{index}]")
            for index, item in enumerate(_items(data, "shipping_lines"))
        ],
        coupons=[str(item.get("code") or "") for item in _items(data, "coupon_lines")],
        discount_total=_money(data.get("discount_total"), "discount_total"),
        shipping_total=_money(data.get("shipping_total"), "shipping_total"),
        tax_total=_money(data.get("total_tax"), "total_tax"),
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
        custom=meta_from_wc(_meta_list(data)),
    )


def _meta_list(data: Mapping[str, Any]) -> list[Json]:
    """The object entries of a record's meta_data (WooCommerce's own entries are objects)."""
    value = data.get("meta_data")
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


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


@typed_mapping("customer")
def customer_from_wc(data: Json) -> Customer:
    """A WooCommerce customer resource as a canonical Customer (a registered one, keyed by id)."""
    billing = address_from_wc(_block(data, "billing"))
    return Customer(
        key=str(data["id"]),
        email=str(data.get("email") or billing.email),
        first_name=str(data.get("first_name") or ""),
        last_name=str(data.get("last_name") or ""),
        company=billing.company,
        phone=billing.phone,
        billing=billing,
        shipping=address_from_wc(_block(data, "shipping")),
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
