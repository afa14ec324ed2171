"""The declarative mapping of orders: statuses (an unknown one named), the customer (guest or
account), addresses, lines, shipping, tax, payments, shipments with tracking numbers and refunds with
their lines, on MerchantPro-, Medusa- and Vendure-shaped orders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.rest.mapping import body_from, record_from
from emporion.connectors.rest.settings import OrderEntity
from emporion.model import Order, OrderStatus, PaymentState

MERCHANTPRO = OrderEntity.model_validate(
    {
        "fields": {
            "number": "$.id",
            "reference": "$.ext_ref",
            "status": "$.status",
            "payment_state": "$.payment_status",
            "currency": "$.currency",
            "created_at": "$.date_created",
            "total": "$.total_amount",
            "shipping_total": "$.shipping_amount",
            "tax_total": "$.vat_amount",
            "discount_total": "$.discount_amount",
            "customer_note": "$.customer_comment",
            "billing.first_name": "$.billing_address.first_name",
            "billing.last_name": "$.billing_address.last_name",
            "billing.email": "$.billing_address.email",
            "billing.street": "$.billing_address.address",
            "billing.city": "$.billing_address.city",
            "billing.country": "$.billing_address.country_code",
            "shipping.city": "$.shipping_address.city",
            "shipping.postcode": "$.shipping_address.zip",
        },
        "values": {"payment_state": {"awaiting": "unpaid", "paid": "paid"}},
        "statuses": {
            "new": "pending",
            "confirmed": "processing",
            "shipped": "shipped",
            "canceled": "cancelled",
        },
        "lines": {
            "items": "$.line_items",
            "fields": {
                "key": "$.id",
                "sku": "$.sku",
                "name": "$.name",
                "quantity": "$.quantity",
                "unit_price": "$.unit_price_net",
                "tax": "$.vat_amount",
                "product_key": "$.product_id",
            },
        },
    }
)


def merchantpro_order(**changes: Any) -> dict[str, Any]:
    """A MerchantPro-like order: an external reference, naive local moments, money as text."""
    order = {
        "id": 1042, "ext_ref": "ERP-55", "status": "confirmed", "payment_status": "paid", "currency": "RON",
        "date_created": "2026-05-01 10:00:00", "total_amount": "119.00", "shipping_amount": "15.00",
        "vat_amount": "19.00", "discount_amount": "0", "customer_comment": "Ring twice",
        "billing_address": {"first_name": "Ana", "last_name": "Pop", "email": "Ana@Example.com",
                            "address": "Str. Lunga 1", "city": "Iasi", "country_code": "RO"},
        "shipping_address": {"city": "Iasi", "zip": "700001"},
        "line_items": [
            {"id": 1, "sku": "MUG-1", "name": "Mug", "quantity": 2, "unit_price_net": "42.50",
             "vat_amount": "16.15", "product_id": 501},
        ],
    }  # fmt: skip
    return {**order, **changes}


def test_a_merchantpro_order_reads_with_its_reference_customer_addresses_and_lines() -> None:
    order = record_from("order", merchantpro_order(), MERCHANTPRO)
    assert isinstance(order, Order)
    assert (order.key, order.number, order.reference) == ("1042", "1042", "ERP-55")
    assert order.status is OrderStatus.PROCESSING and order.raw_status == "confirmed"
    assert order.payment_state is PaymentState.PAID and order.currency == "RON"
    assert order.created_at == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert (order.total, order.shipping_total, order.tax_total) == (
        Decimal("119.00"),
        Decimal(15),
        Decimal(19),
    )
    assert order.customer.key == "guest:ana@example.com" and order.customer.guest
    assert (order.customer.email, order.customer.first_name, order.customer.last_name) == (
        "Ana@Example.com", "Ana", "Pop",
    )  # fmt: skip
    assert order.billing.street == "Str. Lunga 1" and order.billing.country == "RO"
    assert order.shipping.postcode == "700001" and order.customer_note == "Ring twice"
    (line,) = order.lines
    assert (line.key, line.sku, line.quantity, line.unit_price) == (
        "1",
        "MUG-1",
        Decimal(2),
        Decimal("42.50"),
    )
    assert line.total == Decimal("85.00"), "an unmapped line total is the unit price times the quantity"
    assert line.tax == Decimal("16.15") and line.product_key == "501"


def test_an_unknown_status_is_permanent_naming_the_field_and_the_word() -> None:
    with pytest.raises(Permanent) as refused:
        record_from("order", merchantpro_order(status="awaiting_pickup"), MERCHANTPRO)
    assert refused.value.field == "status" and refused.value.record == "1042"
    assert "'awaiting_pickup'" in refused.value.reason and "statuses" in refused.value.reason


def test_a_missing_status_email_or_line_field_is_named() -> None:
    no_status = merchantpro_order()
    del no_status["status"]
    with pytest.raises(Permanent) as refused:
        record_from("order", no_status, MERCHANTPRO)
    assert (refused.value.field, refused.value.reason) == ("status", "status is missing: nothing at $.status")
    no_email = merchantpro_order(billing_address={"first_name": "Ana"})
    with pytest.raises(Permanent) as refused:
        record_from("order", no_email, MERCHANTPRO)
    assert refused.value.field == "customer.email" and "$.billing_address.email" in refused.value.reason
    no_sku = merchantpro_order(
        line_items=[{"id": 1, "sku": "A", "quantity": 1, "unit_price_net": "1"}, {"id": 2}]
    )
    with pytest.raises(Permanent) as refused:
        record_from("order", no_sku, MERCHANTPRO)
    assert (
        refused.value.field == "lines[1].sku" and refused.value.reason == "sku is missing: nothing at $.sku"
    )
    bad_quantity = merchantpro_order(
        line_items=[{"id": 1, "sku": "A", "quantity": "two", "unit_price_net": "1"}]
    )
    with pytest.raises(Permanent) as refused:
        record_from("order", bad_quantity, MERCHANTPRO)
    assert refused.value.field == "lines[0].quantity" and "'two' is not a number" in refused.value.reason
    no_total = merchantpro_order()
    del no_total["total_amount"]
    with pytest.raises(Permanent) as refused:
        record_from("order", no_total, MERCHANTPRO)
    assert refused.value.field == "total" and "$.total_amount" in refused.value.reason


MEDUSA = OrderEntity.model_validate(
    {
        "fields": {
            "number": "$.display_id",
            "status": "$.status",
            "currency": "$.currency_code",
            "total": "$.total",
            "tax_total": "$.tax_total",
            "shipping_total": "$.shipping_subtotal",
            "shipping_tax": "$.shipping_tax_total",
            "discount_total": "$.discount_total",
            "modified_at": "$.updated_at",
            "customer.key": "$.customer_id",
            "customer.email": "$.email",
            "customer.first_name": "$.customer.first_name",
            "shipping.first_name": "$.shipping_address.first_name",
            "shipping.street": "$.shipping_address.address_1",
            "shipping.country": "$.shipping_address.country_code",
        },
        "statuses": {"pending": "processing", "completed": "completed", "canceled": "cancelled"},
        "lines": {
            "items": "$.items",
            "fields": {
                "key": "$.id",
                "sku": "$.variant_sku",
                "name": "$.title",
                "quantity": "$.quantity",
                "unit_price": "$.unit_price",
                "subtotal": "$.subtotal",
                "total": "$.total",
                "tax": "$.tax_total",
            },
        },
        "shipping_lines": {
            "items": "$.shipping_methods",
            "fields": {"key": "$.id", "title": "$.name", "total": "$.subtotal", "tax": "$.tax_total"},
        },
        "shipments": {
            "items": "$.fulfillments",
            "fields": {
                "key": "$.id",
                "carrier": "$.provider_id",
                "tracking_numbers": "$.labels[*].tracking_number",
                "tracking_url": "$.labels[0].tracking_url",
                "shipped_at": "$.shipped_at",
            },
        },
        "payments": {
            "items": "$.payment_collections[*].payments[*]",
            "fields": {"method": "$.provider_id", "amount": "$.amount", "transaction_id": "$.id"},
        },
        "tax_lines": {
            "items": "$.tax_summary",
            "fields": {"code": "$.code", "rate_percent": "$.rate", "tax_total": "$.amount"},
        },
        "refunds": {
            "items": "$.refunds",
            "fields": {"key": "$.id", "amount": "$.amount", "reason": "$.note", "created_at": "$.created_at"},
            "lines": {
                "items": "$.items",
                "fields": {"line_key": "$.item_id", "quantity": "$.quantity", "amount": "$.amount"},
            },
        },
    }
)

MEDUSA_ORDER = {
    "id": "order_01", "display_id": 12, "status": "pending", "currency_code": "eur",
    "email": "bo@example.com",
    "customer_id": "cus_01", "customer": {"first_name": "Bo"}, "updated_at": "2026-05-02T08:30:00.000Z",
    "total": 54.5, "tax_total": 8.7, "shipping_subtotal": 5, "shipping_tax_total": 0.95, "discount_total": 0,
    "shipping_address": {"first_name": "Bo", "address_1": "Main St 1", "country_code": "de"},
    "items": [{"id": "item_1", "variant_sku": "TEE-S", "title": "Tee S", "quantity": 2, "unit_price": 20,
               "subtotal": 40, "total": 40, "tax_total": 7.6}],
    "shipping_methods": [{"id": "sm_1", "name": "Standard", "subtotal": 5, "tax_total": 0.95}],
    "fulfillments": [{"id": "ful_1", "provider_id": "manual", "shipped_at": "2026-05-03T09:00:00Z",
                      "labels": [{"tracking_number": "1Z999", "tracking_url": "https://t/1Z999"},
                                 {"tracking_number": "1Z998"}]}],
    "payment_collections": [{"payments": [{"id": "pay_1", "provider_id": "pp_stripe", "amount": 54.5}]}],
    "tax_summary": [{"code": "DE19", "rate": 19, "amount": 8.7}],
    "refunds": [{"id": "ref_1", "amount": 20, "note": "too small", "created_at": "2026-05-05T00:00:00Z",
                 "items": [{"item_id": "item_1", "quantity": 1, "amount": 20}]}],
}  # fmt: skip


def test_a_medusa_order_reads_with_shipping_tax_payments_shipments_and_refunds() -> None:
    order = record_from("order", MEDUSA_ORDER, MEDUSA)
    assert isinstance(order, Order)
    assert (order.key, order.number, order.status, order.raw_status) == (
        "order_01",
        "12",
        OrderStatus.PROCESSING,
        "pending",
    )
    assert order.customer.key == "cus_01" and not order.customer.guest and order.customer.first_name == "Bo"
    assert (
        order.total == Decimal("54.50")
        and order.tax_total == Decimal("8.70")
        and order.shipping_tax == Decimal("0.95")
    )
    assert order.modified_at == datetime(2026, 5, 2, 8, 30, tzinfo=UTC)
    assert order.shipping.street == "Main St 1" and order.shipping.country == "de"
    (line,) = order.lines
    assert (line.subtotal, line.total, line.tax) == (Decimal(40), Decimal(40), Decimal("7.60"))
    (method,) = order.shipping_lines
    assert (method.key, method.title, method.total, method.tax) == (
        "sm_1",
        "Standard",
        Decimal(5),
        Decimal("0.95"),
    )
    (shipment,) = order.shipments
    assert shipment.tracking_numbers == ["1Z999", "1Z998"] and shipment.tracking_url == "https://t/1Z999"
    assert shipment.shipped_at == datetime(2026, 5, 3, 9, tzinfo=UTC) and shipment.carrier == "manual"
    (payment,) = order.payments
    assert (payment.method, payment.amount, payment.transaction_id) == (
        "pp_stripe",
        Decimal("54.50"),
        "pay_1",
    )
    (tax,) = order.tax_lines
    assert (tax.code, tax.rate_percent, tax.tax_total) == ("DE19", Decimal(19), Decimal("8.70"))
    (refund,) = order.refunds
    assert (refund.key, refund.amount, refund.reason) == ("ref_1", Decimal(20), "too small")
    assert [(r.line_key, r.quantity, r.amount) for r in refund.lines] == [("item_1", Decimal(1), Decimal(20))]


def test_an_order_without_refunds_or_shipments_has_empty_lists_and_a_bad_refund_line_is_named() -> None:
    quiet = {key: value for key, value in MEDUSA_ORDER.items() if key not in {"refunds", "fulfillments"}}
    order = record_from("order", quiet, MEDUSA)
    assert order.refunds == [] and order.shipments == []  # type: ignore[attr-defined]
    broken = {**MEDUSA_ORDER, "refunds": [{"id": "ref_1", "amount": 20, "items": [{"quantity": 1}]}]}
    with pytest.raises(Permanent) as refused:
        record_from("order", broken, MEDUSA)
    assert refused.value.field == "refunds[0].lines[0].line_key" and refused.value.record == "order_01"


def test_without_a_statuses_table_emporion_words_are_taken_and_written_back() -> None:
    vendure = OrderEntity.model_validate(
        {
            "update": {"method": "POST", "path": "/orders/{id}"},
            "money": "minor_units",
            "fields": {"number": "$.code", "status": "$.state", "currency": "$.currencyCode",
                       "total": "$.totalWithTax", "customer.email": "$.customer.emailAddress"},
            "lines": {"items": "$.lines", "fields": {"key": "$.id", "sku": "$.productVariant.sku",
                      "quantity": "$.quantity", "unit_price": "$.unitPrice", "total": "$.linePrice"}},
        }
    )  # fmt: skip
    data = {
        "id": "7", "code": "T7X", "state": "on-hold", "currencyCode": "USD", "totalWithTax": 1099,
        "customer": {"emailAddress": "cy@example.com"},
        "lines": [{"id": "3", "productVariant": {"sku": "A"}, "quantity": 1, "unitPrice": 999,
                   "linePrice": 999}],
    }  # fmt: skip
    order = record_from("order", data, vendure)
    assert order.status is OrderStatus.ON_HOLD and order.total == Decimal("10.99")  # type: ignore[attr-defined]
    assert order.lines[0].unit_price == Decimal("9.99")  # type: ignore[attr-defined]
    body = body_from("order", order, vendure, fields={"status", "total"})
    assert body == {"state": "on_hold", "totalWithTax": 1099}
    with pytest.raises(Permanent) as refused:
        record_from("order", {**data, "state": "ArrangingPayment"}, vendure)
    assert refused.value.field == "status" and "ArrangingPayment" in refused.value.reason


def test_an_order_status_is_written_in_the_shop_word() -> None:
    settings = MERCHANTPRO.model_copy(
        update={"write_fields": {"status": "$.status", "reference": "$.ext_ref"}}
    )
    order = record_from("order", merchantpro_order(), MERCHANTPRO)
    shipped = order.model_copy(update={"status": OrderStatus.SHIPPED, "reference": "ERP-56"})
    assert body_from("order", shipped, settings, fields={"status", "reference"}) == {
        "status": "shipped", "ext_ref": "ERP-56",
    }  # fmt: skip
    whole = body_from("order", shipped, settings)
    assert whole["status"] == "shipped" and whole["line_items"][0]["unit_price_net"] == Decimal("42.50")
    assert body_from("order", shipped, settings, fields={"reference"}) == {"ext_ref": "ERP-56"}


def test_moments_without_an_offset_are_read_in_the_shop_time_zone() -> None:
    local = MERCHANTPRO.model_copy(update={"timezone": "Europe/Bucharest"})
    order = record_from("order", merchantpro_order(date_created="2026-05-01 10:00:00"), local)
    assert order.created_at == datetime(2026, 5, 1, 7, tzinfo=UTC)  # type: ignore[attr-defined]  # EEST, UTC+3
    winter = record_from("order", merchantpro_order(date_created="2026-01-15T10:00:00"), local)
    assert winter.created_at == datetime(2026, 1, 15, 8, tzinfo=UTC)  # type: ignore[attr-defined]
    offset = record_from("order", merchantpro_order(date_created="2026-01-15T10:00:00+01:00"), local)
    assert offset.created_at == datetime(2026, 1, 15, 9, tzinfo=UTC), "an offset the shop sends wins"  # type: ignore[attr-defined]
