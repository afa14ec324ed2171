"""The shop's payment booked in Odoo on the sandbox (JSON-RPC on 18, JSON-2 on 19; 17's `ref`): one
posted inbound customer payment per paid order, in the mapped journal, never twice, none unpaid."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model.orders import Order, Payment, PaymentKind, PaymentState
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import FEE_SKU, OPTIONS, connector, order, partner, stocked, tag

__all__ = ["connector"]

PAYING = replace(OPTIONS, payment_methods={"stripe": "Bank"})
POSTED = {17: "posted", 18: "in_process", 19: "in_process"}  # a bank journal's outstanding receipts


def payments_of(sandbox: RunningSandbox, shop: Order, memo: str = "memo") -> list[dict[str, Any]]:
    """The account.payment rows whose memo is the order's sale reference."""
    return sandbox.sandbox.search_read(
        "account.payment",
        [(memo, "=", shop.reference)],
        ["state", "amount", "journal_id", "payment_type", "partner_type", "partner_id", "currency_id"],
    )


async def paid_order(connector: OdooConnector, sandbox: RunningSandbox, **values: Any) -> Order:
    """A paid shop order of 29.63 EUR paid by Stripe, for a new customer."""
    label = tag()
    shop = order(label, await partner(connector, f"{label}@example.com"), stocked(sandbox, label), **values)
    shop.payments.append(Payment(method="stripe", transaction_id=f"pi_{label}", amount=shop.total))
    return shop


async def test_a_paid_order_books_one_posted_payment_once(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """One posted inbound customer payment of the order's total in "Bank"; written again: none more."""
    shop = await paid_order(connector, odoo_sandbox)
    (first,) = await connector.write_sales([WriteItem(shop.key, shop)], PAYING)
    assert first.status is OutcomeStatus.CREATED, first.error
    (again,) = await connector.write_sales([WriteItem(shop.key, shop, first.target_ref)], PAYING)
    assert again.status is OutcomeStatus.UNCHANGED, again.error
    (matched,) = await connector.write_sales([WriteItem(shop.key, shop)], PAYING)
    assert matched.status is OutcomeStatus.MATCHED, matched.error
    (payment,) = payments_of(odoo_sandbox, shop)
    assert payment["state"] == POSTED[odoo_sandbox.version]
    assert Decimal(str(payment["amount"])) == Decimal("29.63")
    assert payment["journal_id"][1] == "Bank"
    assert (payment["payment_type"], payment["partner_type"]) == ("inbound", "customer")
    assert payment["partner_id"][0] == int(shop.customer.key)
    assert payment["currency_id"] and payment["currency_id"][1] == "EUR"


async def test_a_gift_card_is_left_out_unless_mapped(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A 10.00 gift card: the card payment is the 19.63 rest; mapped to "Bank", the card is booked too."""
    shop = await paid_order(connector, odoo_sandbox)
    shop.payments[0] = shop.payments[0].model_copy(update={"amount": Decimal("19.63")})
    shop.payments.append(Payment(kind=PaymentKind.GIFT_CARD, code="GC-1", amount=Decimal("10.00")))
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], PAYING)
    assert outcome.ok, outcome.error
    (payment,) = payments_of(odoo_sandbox, shop)
    assert Decimal(str(payment["amount"])) == Decimal("19.63")
    other = await paid_order(connector, odoo_sandbox)
    other.payments.append(Payment(kind=PaymentKind.GIFT_CARD, code="GC-2", amount=Decimal("10.00")))
    cards = replace(OPTIONS, payment_methods={"*": "Bank", "gift_card": "Bank"})
    (outcome,) = await connector.write_sales([WriteItem(other.key, other)], cards)
    assert outcome.ok, outcome.error
    amounts = odoo_sandbox.sandbox.search_read(
        "account.payment", [("memo", "like", other.reference)], ["amount", "memo"]
    )
    assert sorted((Decimal(str(p["amount"])), p["memo"]) for p in amounts) == [
        (Decimal("10.00"), f"{other.reference} gift_card"),
        (Decimal("19.63"), other.reference),
    ]


async def test_an_unpaid_order_or_no_mapping_books_no_payment(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Unpaid: no payment; paid but no `payment_methods`: the Payment Ref. only, no payment."""
    unpaid = await paid_order(connector, odoo_sandbox, payment_state=PaymentState.UNPAID)
    (outcome,) = await connector.write_sales([WriteItem(unpaid.key, unpaid)], PAYING)
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    assert payments_of(odoo_sandbox, unpaid) == []
    unmapped = await paid_order(connector, odoo_sandbox)
    (outcome,) = await connector.write_sales([WriteItem(unmapped.key, unmapped)], OPTIONS)
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    assert payments_of(odoo_sandbox, unmapped) == []
    (sale,) = odoo_sandbox.sandbox.search_read(
        "sale.order", [("client_order_ref", "=", unmapped.reference)], ["reference"]
    )
    assert sale["reference"] == unmapped.payments[0].transaction_id


async def test_an_unknown_journal_fails_naming_the_payment_method(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A journal name Odoo does not have (or a sale journal): FAILED, Permanent on `payment.method`."""
    for journal in ("Petty cash", "Customer Invoices"):
        shop = await paid_order(connector, odoo_sandbox)
        options = replace(OPTIONS, payment_methods={"*": journal})
        (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], options)
        assert outcome.status is OutcomeStatus.FAILED
        assert isinstance(outcome.error, Permanent) and outcome.error.field == "payment.method"
        assert journal in str(outcome.error)
        assert payments_of(odoo_sandbox, shop) == []


async def test_odoo_17_keeps_the_memo_in_ref(odoo_sandbox_17: RunningSandbox) -> None:
    """On 17 the payment's memo is `ref`: booked once there, found again by it."""
    odoo_sandbox_17.sandbox.create_product("Fees", FEE_SKU, 0.0, type="service", is_storable=False)
    connector = OdooConnector("odoo", odoo_sandbox_17.settings(fee_product=FEE_SKU))
    try:
        shop = await paid_order(connector, odoo_sandbox_17)
        for _ in range(2):
            (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], PAYING)
            assert outcome.ok, outcome.error
    finally:
        await connector.close()
    (payment,) = payments_of(odoo_sandbox_17, shop)
    assert payment["state"] == "posted" and Decimal(str(payment["amount"])) == Decimal("29.63")
