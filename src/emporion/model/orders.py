"""Order-to-cash records: customers, addresses, orders with lines, payments, shipments, invoices, refunds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from emporion.model.base import CustomValue, Record


class Part(BaseModel):
    """A value inside a record (not a record of its own)."""

    model_config = ConfigDict(extra="forbid")


class Address(Part):
    """A postal address with the contact details that come with it; `country` is ISO 3166-1 alpha-2."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    postcode: str = ""
    state: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""


class Customer(Record):
    """A customer; `key` is the system's id, or `guest:<email>` for a shop guest without an account."""

    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    billing: Address | None = None
    shipping: Address | None = None
    guest: bool = False


class OrderStatus(StrEnum):
    """Where an order stands, in words both sides can map their own states to."""

    DRAFT = "draft"
    PENDING = "pending"  # awaiting payment
    ON_HOLD = "on-hold"
    PROCESSING = "processing"  # paid / confirmed, to be shipped
    SHIPPED = "shipped"  # partly or wholly shipped, not finished
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"


class OrderLine(Part):
    """One line; money excludes tax unless named `*_tax`; `product_key` is the system's product id."""

    key: str
    sku: str
    name: str = ""
    quantity: Decimal
    unit_price: Decimal
    total: Decimal  # after line discounts, excluding tax
    subtotal: Decimal | None = None  # before line discounts, excluding tax
    tax: Decimal = Decimal(0)
    tax_class: str = ""
    product_key: str | None = None


class ShippingLine(Part):
    method: str = ""
    title: str = ""
    total: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)


class Payment(Part):
    method: str = ""
    method_title: str = ""
    transaction_id: str = ""
    amount: Decimal = Decimal(0)
    paid_at: datetime | None = None


class Shipment(Part):
    """A delivery of some or all of an order, with its tracking."""

    key: str
    state: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    shipped_at: datetime | None = None


class Invoice(Part):
    key: str
    number: str = ""
    state: str = ""
    total: Decimal | None = None
    credit_note: bool = False


class RefundLine(Part):
    line_key: str
    sku: str = ""
    quantity: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)


class Refund(Part):
    """Money (and optionally goods) given back on an order."""

    key: str
    amount: Decimal
    reason: str = ""
    lines: list[RefundLine] = Field(default_factory=list)
    restock: bool = False
    created_at: datetime | None = None


class Order(Record):
    """An order as both sides know it. `number` is what people quote; `reference` the other side's id."""

    number: str
    status: OrderStatus
    raw_status: str = ""  # the system's own status, kept as given (plugin statuses too)
    currency: str
    created_at: datetime | None = None
    modified_at: datetime | None = None
    customer: Customer
    billing: Address = Field(default_factory=Address)
    shipping: Address = Field(default_factory=Address)
    lines: list[OrderLine] = Field(default_factory=list)
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    coupons: list[str] = Field(default_factory=list)
    discount_total: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal
    prices_include_tax: bool = False
    paid: bool = False
    payment: Payment | None = None
    customer_note: str = ""
    shipments: list[Shipment] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    reference: str | None = None
    custom: dict[str, CustomValue] = Field(default_factory=dict)
