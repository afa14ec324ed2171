"""What paid a WooCommerce order: the payment method, gift cards and store credit, and how far it is paid.

The payment state comes from the shop's own evidence, never from the status: WooCommerce sets
`date_paid` when the money arrived (a gateway's payment, `set_paid`, or completing a cash-on-delivery
order) and leaves it empty for cash on delivery, bank transfer, cheque, pending and on-hold orders,
whatever their status (`processing` for cash on delivery). A transaction id from an online gateway
without a paid date is an authorisation not captured yet.

Gift cards and store credit are payments towards the order, not discounts. Plugins record them in
three ways, all read here: a top-level `gift_cards` list (`code`, `amount`), the meta
`_ywgc_applied_gift_cards` (code -> amount), or an untaxed negative fee named after them ("Gift card
ABC-123", "Store credit"). WooCommerce's `total` is what is left to pay after them; the Order's
`total` is the grand total before them, so they are added back when the shop took them off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.woocommerce.mapping import parse_decimal
from emporion.connectors.woocommerce.order_values import meta_value, money, text
from emporion.model import FeeLine, OrderStatus, Payment, PaymentKind, PaymentState

OFFLINE_METHODS = frozenset({"cod", "bacs", "cheque"})  # paid when the merchant says so, never online
GIFT_CARD_META = ("_ywgc_applied_gift_cards",)
_GIFT_CARD_FEE = re.compile(r"gift.?card|giftcard|gutschein|carte.cadeau|buono.regalo", re.IGNORECASE)
_STORE_CREDIT_FEE = re.compile(r"store.credit|account.(?:credit|funds)|guthaben|wallet", re.IGNORECASE)
_CODE_IN_NAME = re.compile(r"[:#(\s]\s*([A-Z0-9][A-Z0-9-]{3,})\)?\s*$")


def payment_state(
    data: Mapping[str, Any], paid_at: datetime | None, status: OrderStatus, refunded: bool
) -> PaymentState:
    """Paid when the shop dated the payment; authorized with an online transaction id; then refunds."""
    method = str(data.get("payment_method") or "")
    if paid_at is None:  # `date_paid_gmt`, the same moment as the site-local `date_paid`
        transaction = str(data.get("transaction_id") or "").strip()
        online = bool(method) and method not in OFFLINE_METHODS
        return PaymentState.AUTHORIZED if transaction and online else PaymentState.UNPAID
    if status is OrderStatus.REFUNDED:
        return PaymentState.REFUNDED
    return PaymentState.PARTIALLY_REFUNDED if refunded else PaymentState.PAID


def fee_payment(fee: FeeLine) -> Payment | None:
    """An untaxed negative fee that is a gift card or store credit, as that payment; else None."""
    if fee.total >= 0 or fee.tax != 0:
        return None
    if _GIFT_CARD_FEE.search(fee.name):
        kind = PaymentKind.GIFT_CARD
    elif _STORE_CREDIT_FEE.search(fee.name):
        kind = PaymentKind.STORE_CREDIT
    else:
        return None
    found = _CODE_IN_NAME.search(fee.name) if kind is PaymentKind.GIFT_CARD else None
    return Payment(kind=kind, method_title=fee.name, code=found.group(1) if found else "", amount=-fee.total)


def listed_gift_cards(data: Mapping[str, Any]) -> list[Payment]:
    """Gift cards a plugin lists on the order (a `gift_cards` list, or applied-card meta)."""
    cards: list[Payment] = []
    listed = data.get("gift_cards")
    for index, entry in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(entry, Mapping):
            amount = abs(money(entry.get("amount"), f"gift_cards[{index}].amount"))
            if amount:
                cards.append(Payment(kind=PaymentKind.GIFT_CARD, code=text(entry.get("code")), amount=amount))
    for key in GIFT_CARD_META:
        applied = meta_value(data.get("meta_data"), key)
        if isinstance(applied, Mapping):
            for code, value in applied.items():
                amount = abs(parse_decimal(value, f"meta_data.{key}.{code}") or Decimal(0))
                if amount:
                    cards.append(Payment(kind=PaymentKind.GIFT_CARD, code=text(code), amount=amount))
    return cards
