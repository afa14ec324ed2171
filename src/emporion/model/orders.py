"""Order-to-cash records: customers, addresses, orders with lines, payments, shipments, invoices, refunds.

This is the system-neutral order contract: every connector reads its orders into these records and
writes them from these records. Nothing here is named after a system, and no system's keys, prefixes
or status names travel inside `custom`: notes, fulfilments, payment state, holds, refunds with their
origin and payout, fees, discounts, tax lines and gift cards each have their own typed field.
Money is Decimal; amounts exclude tax unless named `tax`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from emporion.model.base import CustomValue, Record

# the canonical customer's fields a customer write carries (the e-mail is its natural key)
CUSTOMER_FIELDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "billing",
        "shipping",
        "number",
        "group",
        "price_list",
    }
)


def _full_name(first: str, last: str) -> str:
    """First and last name joined ("" when both are empty)."""
    return " ".join(part for part in (first, last) if part).strip()


def split_name(name: str) -> tuple[str, str]:
    """First and last name of a person's full name, split on the last space (spaces collapsed)."""
    first, _, last = " ".join(name.split()).rpartition(" ")
    return first, last


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

    @property
    def person_name(self) -> str:
        """The name of the person at the address ("" when it names none)."""
        return _full_name(self.first_name, self.last_name)


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
    number: str = ""  # the ERP's customer number, where it keeps one (matched before the e-mail)
    group: str = ""  # customer group or role (B2B: "wholesale"), in the flow's words
    price_list: str = ""  # the price list that applies to the customer, by name

    @property
    def person_name(self) -> str:
        """The person's first and last name ("" when the customer names none)."""
        return _full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        """The customer's name: the company if there is one, else the person's, else the e-mail."""
        return self.company or self.person_name or self.email


class OrderStatus(StrEnum):
    """Where an order stands, in emporion's own words; each connector maps its system's states to these."""

    DRAFT = "draft"
    PENDING = "pending"  # awaiting payment
    ON_HOLD = "on_hold"  # waiting for someone to look at it (see `Order.hold`)
    PROCESSING = "processing"  # paid / confirmed, to be shipped
    SHIPPED = "shipped"  # partly or wholly shipped, not finished
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"

    @classmethod
    def _missing_(cls, value: object) -> OrderStatus | None:
        """Older spellings (configurations and stored records wrote `on-hold`) read as today's."""
        if isinstance(value, str):
            spelled = value.strip().lower().replace("-", "_")
            for member in cls:
                if member.value == spelled:
                    return member
        return None


def status_name(name: str) -> str:
    """emporion's spelling of a status name (`on-hold` -> `on_hold`); other names are kept as given."""
    try:
        return OrderStatus(name).value
    except ValueError:
        return name


class PaymentState(StrEnum):
    """How far the order is paid, apart from how far it is fulfilled."""

    UNPAID = "unpaid"
    AUTHORIZED = "authorized"  # reserved on the customer's card or account, not captured yet
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


PAID_STATES = frozenset({PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED})


class PaymentKind(StrEnum):
    """What paid: a payment method (card, bank transfer, cash on delivery...), a gift card, store credit."""

    METHOD = "method"
    GIFT_CARD = "gift_card"
    STORE_CREDIT = "store_credit"


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
    """A shipping charge: the method the shop offered and its cost, with its tax."""

    key: str = ""
    method: str = ""
    title: str = ""
    total: Decimal = Decimal(0)  # excluding tax
    tax: Decimal = Decimal(0)


class FeeLine(Part):
    """An extra charge (gift wrap) or, negative, an allowance (loyalty discount) outside the products."""

    key: str = ""
    name: str = ""
    total: Decimal = Decimal(0)  # excluding tax; negative for an allowance
    tax: Decimal = Decimal(0)  # negative with a negative total
    tax_class: str = ""
    taxable: bool = True


class DiscountLine(Part):
    """A coupon or discount on the order; `amount` and `tax` are what it took off (positive)."""

    code: str = ""
    amount: Decimal = Decimal(0)  # excluding tax
    tax: Decimal = Decimal(0)
    # True: already taken off the line totals (the lines show the discounted price);
    # False: taken off the order total only, so that the totals check subtracts it
    in_line_totals: bool = True


class TaxLine(Part):
    """The tax of one rate over the whole order."""

    key: str = ""
    code: str = ""  # the system's rate code
    label: str = ""
    rate_percent: Decimal | None = None
    tax_total: Decimal = Decimal(0)  # on lines and fees
    shipping_tax_total: Decimal = Decimal(0)
    compound: bool = False


class Payment(Part):
    """One payment towards the order: the payment method, a gift card or store credit."""

    kind: PaymentKind = PaymentKind.METHOD
    method: str = ""
    method_title: str = ""
    code: str = ""  # a gift card's code
    transaction_id: str = ""
    amount: Decimal = Decimal(0)
    paid_at: datetime | None = None


class Shipment(Part):
    """A fulfilment: a delivery of some or all of an order, with its carrier and tracking."""

    key: str
    state: str = ""  # the system's own shipment state, kept as given
    carrier: str = ""
    tracking_numbers: list[str] = Field(default_factory=list)
    tracking_url: str = ""
    shipped_at: datetime | None = None

    @property
    def tracking(self) -> str:
        """The tracking numbers as one text, as people quote them."""
        return ", ".join(self.tracking_numbers)


class Invoice(Part):
    """An invoice or credit note the ERP posted for the order."""

    key: str
    number: str = ""
    state: str = ""
    total: Decimal | None = None
    credit_note: bool = False


class OrderNote(Part):
    """A note on the order; `key` makes it unique, so that the same note is added once."""

    key: str
    text: str
    customer_visible: bool = False  # else a private note for the shop's staff


class OrderHold(Part):
    """Why an order is on hold (emporion holds orders it cannot take yet, e.g. stock short)."""

    reason: str = ""


class RefundOrigin(StrEnum):
    """Where a refund was made: in the shop, or in the ERP (then sent to the shop)."""

    SHOP = "shop"
    ERP = "erp"


class RefundLine(Part):
    """The refunded part of one order line: quantity, amount and tax, and whether the goods went back."""

    line_key: str
    sku: str = ""
    quantity: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)  # excluding tax
    tax: Decimal = Decimal(0)
    restock: bool = False


class Refund(Part):
    """Money (and optionally goods) given back on an order; amounts are positive.

    `restock` asks for the refunded goods to go back to stock (per line: what did); `payout`
    whether writing the refund pays the money out through the payment method (else it only
    records a refund paid some other way).
    """

    key: str
    origin: RefundOrigin = RefundOrigin.SHOP
    amount: Decimal
    reason: str = ""
    lines: list[RefundLine] = Field(default_factory=list)
    shipping: Decimal = Decimal(0)
    shipping_tax: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fees_tax: Decimal = Decimal(0)
    restock: bool = False
    payout: bool = False
    created_at: datetime | None = None


class Order(Record):
    """An order as both sides know it. `number` is what people quote; `reference` the other side's id.

    `total` is the grand total: lines + shipping + fees + tax, less discounts not already in the
    line totals. Gift cards and store credit are payments towards it (in `payments`), not
    discounts. `notes`, `shipments`, `invoices` and `refunds` with `origin == erp` are what an ERP
    reports back to the shop; each connector writes them its own way.
    """

    number: str
    status: OrderStatus
    raw_status: str = ""  # the system's own status, kept as given (plugin statuses too)
    payment_state: PaymentState = PaymentState.UNPAID
    hold: OrderHold | None = None
    currency: str
    created_at: datetime | None = None
    modified_at: datetime | None = None
    customer: Customer
    billing: Address = Field(default_factory=Address)
    shipping: Address = Field(default_factory=Address)
    lines: list[OrderLine] = Field(default_factory=list)
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    fees: list[FeeLine] = Field(default_factory=list)
    discounts: list[DiscountLine] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    discount_total: Decimal = Decimal(0)
    discount_tax: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)
    shipping_tax: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal
    prices_include_tax: bool = False  # how the shop showed prices; amounts here always exclude tax
    payments: list[Payment] = Field(default_factory=list)
    customer_note: str = ""
    notes: list[OrderNote] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    reference: str | None = None
    custom: dict[str, CustomValue] = Field(default_factory=dict)

    @property
    def paid(self) -> bool:
        """Whether the money was taken (refunds later do not undo that)."""
        return self.payment_state in PAID_STATES

    @property
    def payment(self) -> Payment | None:
        """The payment through a payment method (not a gift card or store credit), if any."""
        return next((p for p in self.payments if p.kind is PaymentKind.METHOD), None)

    @property
    def coupons(self) -> list[str]:
        """The codes of the order's coupons."""
        return [discount.code for discount in self.discounts if discount.code]

    def paid_by(self, kind: PaymentKind) -> Decimal:
        """What payments of one kind (gift cards, store credit) put towards the order."""
        return sum((p.amount for p in self.payments if p.kind is kind), Decimal(0))
