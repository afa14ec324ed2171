"""The shop's payment booked in Odoo as a prepayment: a posted customer `account.payment`, once.

Odoo books money received before the invoice as an inbound customer payment (`payment_type`
inbound, `partner_type` customer) in a bank or cash journal; once posted, Odoo offers it as an
outstanding credit on the partner's invoice. Odoo's `account.payment` has no link to a sale (the
`sale` module adds none in 18 or 19), so the payment carries the sale's customer reference
(`client_order_ref`, the shop's sale reference) as its memo (`memo` from 18, `ref` on 17: the
profile's `payment_memo`), and that memo with the sale's commercial partner is how it is found
again: searched before creating, so a retried write or a crash between Odoo's answer and
emporion's record books nothing twice; a payment found still in draft (a crash before posting) is
posted. The amount is what the shop's payment method took (`order.payment.amount`, at most the order
total less gift cards and store credit), else that rest. Gift cards and store credit are not money
paid now: they are booked only when `payment_methods` maps `gift_card` / `store_credit` to a journal,
with the memo `<reference> <kind>`. Without any `payment_methods` nothing is booked (the sale keeps
the shop's payment as its Payment Ref. only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.money import wire
from emporion.connectors.odoo.sale_lookup import SaleLookups, label_of
from emporion.connectors.roles import SaleOptions
from emporion.model.orders import Order, PaymentKind

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient

VOUCHERS = (PaymentKind.GIFT_CARD, PaymentKind.STORE_CREDIT)
MONEY_JOURNALS = ["bank", "cash"]


def shop_amount(order: Order) -> Decimal:
    """What the shop's payment method took: its amount, at most the total less gift cards and credit."""
    rest = order.total - sum((order.paid_by(kind) for kind in VOUCHERS), Decimal(0))
    payment = order.payment
    return min(payment.amount, rest) if payment and payment.amount else rest


class PaymentBooker:
    """Books the shop's payment of a sale as posted inbound customer payments, exactly once."""

    def __init__(self, client: OdooClient, lookup: SaleLookups) -> None:
        self.client = client
        self.lookup = lookup

    async def book(self, sale: int, order: Order, options: SaleOptions) -> bool:
        """Book the payment of a paid order's sale once; whether anything was created or posted."""
        if not options.payment_methods or not order.reference:
            return False
        (row,) = await self.client.read("sale.order", [sale], ["partner_id", "currency_id", "state"])
        if row.get("state") == "cancel" or not row.get("partner_id"):
            return False
        partner = await self._commercial_partner(int(row["partner_id"][0]))
        memo_field = self.client.profile.payment_memo
        memos = [order.reference, *(f"{order.reference} {kind.value}" for kind in VOUCHERS)]
        found = await self.client.search_read(
            "account.payment",
            [[memo_field, "in", memos], ["partner_id", "=", partner], ["payment_type", "=", "inbound"]],
            ["state"],
            order="id asc",
        )
        if found:
            drafts = [int(p["id"]) for p in found if p.get("state") == "draft"]
            if drafts:
                await self.client.call("account.payment", "action_post", drafts)
            return bool(drafts)
        base: dict[str, Any] = {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner,
            "date": self._date(order),
        }
        if row.get("currency_id"):
            base["currency_id"] = int(row["currency_id"][0])
        values = await self._payments(order, options, base, memo_field)
        if not values:
            return False
        payments = await self.client.create("account.payment", values)
        await self.client.call("account.payment", "action_post", [int(p) for p in payments])
        return True

    async def _payments(
        self, order: Order, options: SaleOptions, base: dict[str, Any], memo_field: str
    ) -> list[dict[str, Any]]:
        """The values of the payments to book: the shop's method, and vouchers mapped to a journal."""
        label = label_of(order)
        method = order.payment.method if order.payment else ""
        name = options.payment_methods.get(method) or options.payment_methods.get("*")
        if name is None:
            raise Permanent(
                f"no payment journal is configured for payment method {method!r}",
                record=label,
                field="payment.method",
            )
        values = []
        amount = shop_amount(order)
        if amount > 0:
            journal = await self._journal(name, label, "payment.method")
            values.append(
                {**base, "journal_id": journal, "amount": wire(amount), memo_field: order.reference}
            )
        for kind in VOUCHERS:
            paid, voucher_journal = order.paid_by(kind), options.payment_methods.get(kind.value)
            if paid > 0 and voucher_journal:
                journal = await self._journal(voucher_journal, label, f"payments.{kind.value}")
                memo = f"{order.reference} {kind.value}"
                values.append({**base, "journal_id": journal, "amount": wire(paid), memo_field: memo})
        return values

    async def _journal(self, name: str, label: str, field: str) -> int:
        """The bank or cash journal called `name`, else Permanent naming `field`."""
        domain = [["name", "=", name], ["type", "in", MONEY_JOURNALS]]
        return await self.lookup.id_of(
            "account.journal", domain, f"bank or cash journal {name!r}", label, field
        )

    async def _commercial_partner(self, partner: int) -> int:
        """The commercial entity of a partner (the company of a contact), whose invoices the payment meets."""
        (row,) = await self.client.read("res.partner", [partner], ["commercial_partner_id"])
        commercial = row.get("commercial_partner_id")
        return int(commercial[0]) if commercial else partner

    @staticmethod
    def _date(order: Order) -> str:
        """The payment's date: when the shop took the money, else today (UTC)."""
        paid_at = order.payment.paid_at if order.payment and order.payment.paid_at else None
        return (paid_at or datetime.now(UTC)).date().isoformat()
