"""WooCommerce orders and customers <-> canonical Order and Customer records.

Statuses: WooCommerce's own map one to one onto emporion's (`on-hold` is `on_hold`,
`checkout-draft` is `draft`); a status added by a plugin (e.g. `shipped`, `awaiting-pickup`) is kept
in `raw_status` and read as on hold, so that nothing acts on an order whose meaning emporion does not
know. Writing back, `raw_status` is set when it reads as the record's status (how a plugin status is
asked for); otherwise `shipped` becomes `processing` (WooCommerce has no such status) and `draft`
becomes `checkout-draft`. WooCommerce's status names live only in this folder.

Money is Decimal read exactly from WooCommerce's strings (line `price` is a JSON number: read through
`str`). Fee lines (positive and negative), coupon lines, tax lines per rate and the shipping tax are
read into their own fields; coupons are already inside WooCommerce's line totals. Refunds are in
refund_mapping.py, notes and the meta emporion writes in order_meta.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.guard import typed_mapping
from emporion.connectors.woocommerce.mapping import MappingError, meta_from_wc, parse_decimal, parse_gmt
from emporion.connectors.woocommerce.order_meta import fields_from_meta
from emporion.connectors.woocommerce.order_values import block, items, money, whole
from emporion.connectors.woocommerce.refund_mapping import refunds_from_wc
from emporion.model import (
    Address,
    Customer,
    DiscountLine,
    FeeLine,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentState,
    ShippingLine,
    TaxLine,
)

Json = dict[str, Any]

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


def status_from_wc(value: str) -> OrderStatus:
    """WooCommerce status -> canonical; plugin statuses read as on hold (kept in raw_status)."""
    return _STATUS_FROM_WC.get(value.removeprefix("wc-"), OrderStatus.ON_HOLD)


def status_to_wc(status: OrderStatus, raw_status: str = "") -> str:
    """The status to set: `raw_status` when it reads as `status` (plugin statuses), else WooCommerce's own."""
    if raw_status and status_from_wc(raw_status) is status:
        return raw_status.removeprefix("wc-")
    return _STATUS_TO_WC[status]


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
    billing = address_from_wc(block(data, "billing"))
    shipping = address_from_wc(block(data, "shipping"))
    customer_id = whole(data.get("customer_id"), "customer_id")
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
    subtotal = money(data.get("subtotal"), f"{field}.subtotal")
    unit_price = subtotal / quantity if quantity else money(data.get("price"), f"{field}.price")
    product_id = whole(data.get("variation_id"), f"{field}.variation_id") or whole(
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
        total=money(data.get("total"), f"{field}.total"),
        subtotal=subtotal,
        tax=money(data.get("total_tax"), f"{field}.total_tax"),
        tax_class=str(data.get("tax_class") or ""),
        product_key=str(product_id) if product_id else None,
    )


def shipping_line_from_wc(data: Mapping[str, Any], field: str = "shipping_lines[0]") -> ShippingLine:
    """One shipping line, with its tax."""
    return ShippingLine(
        key=str(data.get("id") or ""),
        method=str(data.get("method_id") or ""),
        title=str(data.get("method_title") or ""),
        total=money(data.get("total"), f"{field}.total"),
        tax=money(data.get("total_tax"), f"{field}.total_tax"),
    )


def fee_line_from_wc(data: Mapping[str, Any], field: str = "fee_lines[0]") -> FeeLine:
    """One fee line: a charge, or with a negative total an allowance, with its tax."""
    return FeeLine(
        key=str(data.get("id") or ""),
        name=str(data.get("name") or ""),
        total=money(data.get("total"), f"{field}.total"),
        tax=money(data.get("total_tax"), f"{field}.total_tax"),
        tax_class=str(data.get("tax_class") or ""),
        taxable=str(data.get("tax_status") or "taxable") == "taxable",
    )


def discount_line_from_wc(data: Mapping[str, Any], field: str = "coupon_lines[0]") -> DiscountLine:
    """One coupon line; WooCommerce has already taken it off the line totals."""
    return DiscountLine(
        code=str(data.get("code") or ""),
        amount=money(data.get("discount"), f"{field}.discount"),
        tax=money(data.get("discount_tax"), f"{field}.discount_tax"),
        in_line_totals=True,
    )


def tax_line_from_wc(data: Mapping[str, Any], field: str = "tax_lines[0]") -> TaxLine:
    """One tax rate's total over the order (`rate_percent` is a JSON number)."""
    return TaxLine(
        key=str(data.get("id") or ""),
        code=str(data.get("rate_code") or ""),
        label=str(data.get("label") or ""),
        rate_percent=parse_decimal(data.get("rate_percent"), f"{field}.rate_percent"),
        tax_total=money(data.get("tax_total"), f"{field}.tax_total"),
        shipping_tax_total=money(data.get("shipping_tax_total"), f"{field}.shipping_tax_total"),
        compound=bool(data.get("compound")),
    )


def _payment_state(paid: bool, status: OrderStatus, refunded: bool) -> PaymentState:
    """Paid when WooCommerce says so (a paid date, or processing/completed), refunded after that."""
    if not paid:
        return PaymentState.UNPAID
    if status is OrderStatus.REFUNDED:
        return PaymentState.REFUNDED
    return PaymentState.PARTIALLY_REFUNDED if refunded else PaymentState.PAID


def _hold(status: OrderStatus, raw_status: str) -> OrderHold | None:
    """An on-hold order's hold; a plugin status is a hold too, until someone maps it."""
    if status is not OrderStatus.ON_HOLD:
        return None
    known = raw_status.removeprefix("wc-") in _STATUS_FROM_WC
    return OrderHold(reason="" if known else f"shop status {raw_status!r} is not one emporion knows")


def _parts(data: Json, name: str, read: Any) -> list[Any]:
    """Every entry of one list of order parts, read with `read(entry, field)`."""
    return [read(item, f"{name}[{index}]") for index, item in enumerate(items(data, name))]


@typed_mapping("order")
def order_from_wc(data: Json, refunds: Iterable[Json] = ()) -> Order:
    """A WooCommerce order (and its refunds, from /orders/<id>/refunds) as a canonical Order."""
    raw_status = str(data.get("status") or "")
    status = status_from_wc(raw_status)
    paid_at = parse_gmt(data.get("date_paid_gmt"), "date_paid_gmt")
    total = money(data.get("total"), "total")
    line_items = items(data, "line_items")
    refunds_read = refunds_from_wc(list(refunds), line_items)
    paid = paid_at is not None or status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED)
    return Order(
        key=str(data["id"]),
        number=str(data.get("number") or data["id"]),
        status=status,
        raw_status=raw_status,
        payment_state=_payment_state(paid, status, bool(refunds_read)),
        hold=_hold(status, raw_status),
        currency=str(data.get("currency") or ""),
        created_at=parse_gmt(data.get("date_created_gmt"), "date_created_gmt"),
        modified_at=parse_gmt(data.get("date_modified_gmt"), "date_modified_gmt"),
        customer=customer_from_order(data),
        billing=address_from_wc(block(data, "billing")),
        shipping=address_from_wc(block(data, "shipping")),
        lines=_parts(data, "line_items", line_from_wc),
        shipping_lines=_parts(data, "shipping_lines", shipping_line_from_wc),
        fees=_parts(data, "fee_lines", fee_line_from_wc),
        discounts=_parts(data, "coupon_lines", discount_line_from_wc),
        tax_lines=_parts(data, "tax_lines", tax_line_from_wc),
        discount_total=money(data.get("discount_total"), "discount_total"),
        discount_tax=money(data.get("discount_tax"), "discount_tax"),
        shipping_total=money(data.get("shipping_total"), "shipping_total"),
        shipping_tax=money(data.get("shipping_tax"), "shipping_tax"),
        tax_total=money(data.get("total_tax"), "total_tax"),
        total=total,
        prices_include_tax=bool(data.get("prices_include_tax")),
        payments=[
            Payment(
                method=str(data.get("payment_method") or ""),
                method_title=str(data.get("payment_method_title") or ""),
                transaction_id=str(data.get("transaction_id") or ""),
                amount=total,
                paid_at=paid_at,
            )
        ],
        customer_note=str(data.get("customer_note") or ""),
        refunds=refunds_read,
        **fields_from_meta(meta_from_wc(_meta_list(data))),
    )


def _meta_list(data: Mapping[str, Any]) -> list[Json]:
    """The object entries of a record's meta_data (WooCommerce's own entries are objects)."""
    value = data.get("meta_data")
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


@typed_mapping("customer")
def customer_from_wc(data: Json) -> Customer:
    """A WooCommerce customer resource as a canonical Customer (a registered one, keyed by id)."""
    billing = address_from_wc(block(data, "billing"))
    return Customer(
        key=str(data["id"]),
        email=str(data.get("email") or billing.email),
        first_name=str(data.get("first_name") or ""),
        last_name=str(data.get("last_name") or ""),
        company=billing.company,
        phone=billing.phone,
        billing=billing,
        shipping=address_from_wc(block(data, "shipping")),
        guest=False,
    )
