"""WooCommerce orders and customers <-> canonical Order and Customer records.

Statuses: WooCommerce's own map one to one onto emporion's (`on-hold` is `on_hold`,
`checkout-draft` is `draft`); a status added by a plugin (e.g. `shipped`, `awaiting-pickup`) is kept
in `raw_status` and read as on hold, so that nothing acts on an order whose meaning emporion does not
know; its hold reason names the status. `trash` and `auto-draft` (WordPress's own) read as drafts,
which no flow imports. Writing back, `raw_status` is set when it reads as the record's status (how a
plugin status is asked for); otherwise `shipped` becomes `processing` (WooCommerce has no such
status) and `draft` becomes `checkout-draft`. WooCommerce's status names live only in this folder.

Money is Decimal read exactly from WooCommerce's strings (line `price` is a JSON number: read through
`str`). Fee lines (positive and negative), coupon lines, tax lines per rate and the shipping tax are
read into their own fields; coupons are already inside WooCommerce's line totals. Payment state, gift
cards and store credit are in order_payments.py, refunds in refund_mapping.py, notes and the meta
emporion writes in order_meta.py. Names, titles, addresses and notes are unescaped (WooCommerce
hands them out with HTML entities). A line whose product was deleted reads with no SKU and no
product key (WooCommerce: `product_id` 0, `sku` null). A variation without a SKU of its own shows its
parent's SKU, on order lines too: given the parents' SKUs, such a line is refused with an error naming
it, so that the ERP never books the parent product for a variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.guard import typed_mapping
from emporion.connectors.woocommerce.mapping import MappingError, meta_from_wc, parse_decimal, parse_gmt
from emporion.connectors.woocommerce.order_meta import fields_from_meta
from emporion.connectors.woocommerce.order_payments import fee_payment, listed_gift_cards, payment_state
from emporion.connectors.woocommerce.order_values import block, items, money, text, whole
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


# WordPress's own post states an order can be in: never an order to act on, read as drafts
_NOT_ORDERS = frozenset({"trash", "auto-draft"})


def status_from_wc(value: str) -> OrderStatus:
    """WooCommerce status -> canonical; plugin statuses read as on hold (kept in raw_status)."""
    name = value.removeprefix("wc-")
    if name in _NOT_ORDERS:
        return OrderStatus.DRAFT
    return _STATUS_FROM_WC.get(name, OrderStatus.ON_HOLD)


def status_to_wc(status: OrderStatus, raw_status: str = "") -> str:
    """The status to set: `raw_status` when it reads as `status` (plugin statuses), else WooCommerce's own."""
    if raw_status and status_from_wc(raw_status) is status:
        return raw_status.removeprefix("wc-")
    return _STATUS_TO_WC[status]


def address_from_wc(data: Mapping[str, Any] | None) -> Address:
    """A WooCommerce billing or shipping block as an Address."""
    data = data or {}
    return Address(
        first_name=text(data.get("first_name")),
        last_name=text(data.get("last_name")),
        company=text(data.get("company")),
        street=text(data.get("address_1")),
        street2=text(data.get("address_2")),
        city=text(data.get("city")),
        postcode=text(data.get("postcode")),
        state=text(data.get("state")),
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


def line_from_wc(
    data: Mapping[str, Any], field: str = "line_items[0]", parent_skus: Mapping[str, str] | None = None
) -> OrderLine:
    """One line item; unit price = subtotal / quantity (before discounts, excluding tax).

    `field` is where the line sits in its order, for the errors; `parent_skus` (product id -> SKU)
    tells a variation line carrying its parent's SKU, which is refused.
    """
    quantity = parse_decimal(data.get("quantity"), f"{field}.quantity") or Decimal(0)
    subtotal = money(data.get("subtotal"), f"{field}.subtotal")
    unit_price = subtotal / quantity if quantity else money(data.get("price"), f"{field}.price")
    product_id = whole(data.get("variation_id"), f"{field}.variation_id") or whole(
        data.get("product_id"), f"{field}.product_id"
    )
    if data.get("id") in (None, ""):
        raise MappingError("line item has no id", f"{field}.id")
    sku = str(data.get("sku") or "")
    parent = str(whole(data.get("product_id"), f"{field}.product_id"))
    if sku and data.get("variation_id") and parent_skus and parent_skus.get(parent) == sku:
        raise MappingError(
            f"line {data['id']} ({text(data.get('name'))}): variation {data['variation_id']} has no SKU"
            f" of its own and shows its parent's SKU {sku!r}; give the variation its own SKU in the shop",
            f"{field}.sku",
        )
    return OrderLine(
        key=str(data["id"]),
        sku=sku,
        name=text(data.get("name")),
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
        title=text(data.get("method_title")),
        total=money(data.get("total"), f"{field}.total"),
        tax=money(data.get("total_tax"), f"{field}.total_tax"),
    )


def fee_line_from_wc(data: Mapping[str, Any], field: str = "fee_lines[0]") -> FeeLine:
    """One fee line: a charge, or with a negative total an allowance, with its tax."""
    return FeeLine(
        key=str(data.get("id") or ""),
        name=text(data.get("name")),
        total=money(data.get("total"), f"{field}.total"),
        tax=money(data.get("total_tax"), f"{field}.total_tax"),
        tax_class=str(data.get("tax_class") or ""),
        taxable=str(data.get("tax_status") or "taxable") == "taxable",
    )


def discount_line_from_wc(data: Mapping[str, Any], field: str = "coupon_lines[0]") -> DiscountLine:
    """One coupon line; WooCommerce has already taken it off the line totals."""
    return DiscountLine(
        code=text(data.get("code")),
        amount=money(data.get("discount"), f"{field}.discount"),
        tax=money(data.get("discount_tax"), f"{field}.discount_tax"),
        in_line_totals=True,
    )


def tax_line_from_wc(data: Mapping[str, Any], field: str = "tax_lines[0]") -> TaxLine:
    """One tax rate's total over the order (`rate_percent` is a JSON number)."""
    return TaxLine(
        key=str(data.get("id") or ""),
        code=str(data.get("rate_code") or ""),
        label=text(data.get("label")),
        rate_percent=parse_decimal(data.get("rate_percent"), f"{field}.rate_percent"),
        tax_total=money(data.get("tax_total"), f"{field}.tax_total"),
        shipping_tax_total=money(data.get("shipping_tax_total"), f"{field}.shipping_tax_total"),
        compound=bool(data.get("compound")),
    )


def _hold(status: OrderStatus, raw_status: str) -> OrderHold | None:
    """An on-hold order's hold; a plugin status is a hold too, until someone maps it."""
    if status is not OrderStatus.ON_HOLD:
        return None
    known = raw_status.removeprefix("wc-") in _STATUS_FROM_WC
    return OrderHold(reason="" if known else f"shop status {raw_status!r} is not one emporion knows")


def _paid_by(
    data: Json, fees: list[FeeLine], shop_total: Decimal
) -> tuple[list[FeeLine], list[Payment], Decimal]:
    """Fees left, gift card and store credit payments, and the grand total before those payments.

    The shop's `total` is what is left to pay; when it took the gift cards off (the parts add up
    to it only with them taken off), they are added back to make the grand total.
    """
    kept, paid = [], listed_gift_cards(data)
    taken_off = sum((p.amount for p in paid), Decimal(0))
    for fee in fees:
        payment = fee_payment(fee)
        if payment is None:
            kept.append(fee)
        else:
            paid.append(payment)
    parts = (
        sum(
            (
                money(line.get("total"), f"line_items[{index}].total")
                for index, line in enumerate(items(data, "line_items"))
            ),
            Decimal(0),
        )
        + money(data.get("shipping_total"), "shipping_total")
        + sum((fee.total for fee in kept), Decimal(0))
        + money(data.get("total_tax"), "total_tax")
    )
    fee_cards = sum((fee.total for fee in fees if fee not in kept), Decimal(0))  # negative
    grand = shop_total - fee_cards  # a fee payment is inside the shop's total: take it out
    if taken_off and abs(parts - (grand + taken_off)) < abs(parts - grand):
        grand += taken_off  # the plugin took the listed cards off the total
    return kept, paid, grand


def _parts(data: Json, name: str, read: Any) -> list[Any]:
    """Every entry of one list of order parts, read with `read(entry, field)`."""
    return [read(item, f"{name}[{index}]") for index, item in enumerate(items(data, name))]


@typed_mapping("order")
def order_from_wc(
    data: Json, refunds: Iterable[Json] = (), parent_skus: Mapping[str, str] | None = None
) -> Order:
    """A WooCommerce order (and its refunds, from /orders/<id>/refunds) as a canonical Order.

    `parent_skus` (product id -> SKU of the variable products its variation lines belong to) lets
    a line with an inherited SKU be refused (see the module's docstring).
    """
    raw_status = str(data.get("status") or "")
    status = status_from_wc(raw_status)
    paid_at = parse_gmt(data.get("date_paid_gmt"), "date_paid_gmt")
    shop_total = money(data.get("total"), "total")
    line_items = items(data, "line_items")
    refunds_read = refunds_from_wc(list(refunds), line_items)
    fees, paid_by, total = _paid_by(data, _parts(data, "fee_lines", fee_line_from_wc), shop_total)
    state = payment_state(data, paid_at, status, bool(refunds_read))
    return Order(
        key=str(data["id"]),
        number=str(data.get("number") or data["id"]),
        status=status,
        raw_status=raw_status,
        payment_state=state,
        hold=_hold(status, raw_status),
        currency=str(data.get("currency") or ""),
        created_at=parse_gmt(data.get("date_created_gmt"), "date_created_gmt"),
        modified_at=parse_gmt(data.get("date_modified_gmt"), "date_modified_gmt"),
        customer=customer_from_order(data),
        billing=address_from_wc(block(data, "billing")),
        shipping=address_from_wc(block(data, "shipping")),
        lines=[
            line_from_wc(item, f"line_items[{index}]", parent_skus)
            for index, item in enumerate(items(data, "line_items"))
        ],
        shipping_lines=_parts(data, "shipping_lines", shipping_line_from_wc),
        fees=fees,
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
                method_title=text(data.get("payment_method_title")),
                transaction_id=str(data.get("transaction_id") or ""),
                amount=shop_total,
                paid_at=paid_at if state is not PaymentState.UNPAID else None,
            ),
            *paid_by,
        ],
        customer_note=text(data.get("customer_note")),
        refunds=refunds_read,
        **fields_from_meta(meta_from_wc(_meta_list(data))),
    )


def _meta_list(data: Mapping[str, Any]) -> list[Json]:
    """The object entries of a record's meta_data (WooCommerce's own entries are objects)."""
    value = data.get("meta_data")
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


# canonical Customer fields kept in customer meta, and the meta keys a connection names for them
CUSTOMER_META = {"number": "customer_number", "group": "customer_group", "price_list": "price_list"}


@typed_mapping("customer")
def customer_from_wc(data: Json, meta_keys: Mapping[str, str] = CUSTOMER_META) -> Customer:
    """A WooCommerce customer resource as a canonical Customer (a registered one, keyed by id).

    The e-mail is lower-cased (the natural key); company and phone come from the billing address;
    number, group and price list from the meta keys `meta_keys` names (canonical field -> meta key).
    The addresses carry the postal part only: e-mail and phone are the customer's own fields, as in
    an ERP, whose addresses hold neither (the billing block's e-mail is written from the customer's).
    """
    billing = address_from_wc(block(data, "billing"))
    postal = {"email": "", "phone": ""}
    meta = meta_from_wc(_meta_list(data))
    extra = {name: _meta_text(meta.get(key)) for name, key in meta_keys.items()}
    return Customer(
        key=str(data["id"]),
        email=str(data.get("email") or billing.email).strip().lower(),
        first_name=text(data.get("first_name")),
        last_name=text(data.get("last_name")),
        company=billing.company,
        phone=billing.phone,
        billing=billing.model_copy(update=postal),
        shipping=address_from_wc(block(data, "shipping")).model_copy(update=postal),
        guest=False,
        **extra,
    )


def _meta_text(value: Any) -> str:
    """A meta value as text: numbers as written, nothing (or a list, an object) as ""."""
    if value is None or isinstance(value, list | dict | bool):
        return ""
    return str(value).strip()
