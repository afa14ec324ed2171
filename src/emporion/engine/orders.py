"""Order intake: shop orders become ERP sales, validated, customers first, exactly once.

One order flow per shop (`entities: [order]`, source = the shop, target = the ERP). Intake reads the
shop's orders (webhooks and polls only say which), checks SKUs, stock and totals, makes sure the
customer exists in the ERP (claimed in the state database so two workers never both create it), and
writes the sale, which the ERP connector first searches by reference. Refunds in the shop become
returns in the ERP. The way back (sale states, tracking, invoices) is in feedback.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from emporion.alerts import Alert, AlertKind, Severity
from emporion.config import FlowSettings
from emporion.connectors.base import (
    ConnectorError,
    Held,
    Outcome,
    Permanent,
    Retryable,
    Unmappable,
    WriteItem,
)
from emporion.connectors.roles import OrderSource, SaleOptions, SalesTarget
from emporion.engine.order_admission import Admission, admission, held, with_deleted_products
from emporion.engine.outcomes import BatchResult, OutcomeApplier, Written
from emporion.engine.validation import check_order
from emporion.model import Customer, Order, OrderHold, OrderNote, OrderStatus, PaymentKind, fingerprint
from emporion.state import DeadLetter, JournalEntry, Link, StateStore

HOLD_RECHECK_SECONDS = 300.0
CLAIM_LEASE_SECONDS = 120.0


def sale_options(flow: FlowSettings) -> SaleOptions:
    """The ERP's options for the sales of one order flow: its maps from shop names to ERP names."""
    orders = flow.orders
    return SaleOptions(
        warehouse=orders.warehouse,
        carriers=dict(orders.carriers),
        taxes=dict(orders.taxes),
        payment_methods=dict(orders.payment_methods),
        confirm=orders.confirm,
    )


def reference_prefix(flow: FlowSettings) -> str:
    """What the ERP sale reference starts with for this flow's orders (`CATALOGUE-` style by default)."""
    return (
        flow.orders.reference_prefix if flow.orders.reference_prefix is not None else f"{flow.name.upper()}-"
    )


def customer_key(flow: FlowSettings, order: Order) -> str:
    """The key a customer is matched and claimed by: the e-mail (lower case), or the order itself."""
    if flow.orders.customer_match == "email":
        email = (order.customer.email or order.billing.email).strip().lower()
        if not email:
            raise Permanent(
                f"order {order.number} has no customer e-mail",
                record=f"order {order.number}",
                field="billing.email",
            )
        return email
    return f"order:{order.key}"


def intake_fingerprint(order: Order) -> str:
    """What the ERP cares about in a shop order; anything else changing does not touch the sale."""
    return fingerprint(
        {
            "cancelled": order.status is OrderStatus.CANCELLED,
            "paid": order.paid,
            "lines": [(line.sku, line.quantity, line.total) for line in order.lines],
            "total": order.total,
            "shipping": order.shipping_total,
            "email": order.customer.email,
            "refunds": sorted(refund.key for refund in order.refunds),
        }
    )


def check_totals(order: Order, tolerance: Decimal) -> None:
    """Lines + shipping + fees - discounts outside the lines + tax must make the total.

    Fees may be negative (allowances); discounts already inside the line totals are not taken off
    twice. Gift cards and store credit are payments towards the total and may not exceed it.
    """
    lines = sum((line.total for line in order.lines), Decimal(0))
    shipping = (
        sum((line.total for line in order.shipping_lines), Decimal(0))
        if order.shipping_lines
        else order.shipping_total
    )
    fees = sum((fee.total for fee in order.fees), Decimal(0))
    discounts = sum((d.amount for d in order.discounts if not d.in_line_totals), Decimal(0))
    expected = lines + shipping + fees - discounts + order.tax_total
    gift_cards = order.paid_by(PaymentKind.GIFT_CARD)
    store_credit = order.paid_by(PaymentKind.STORE_CREDIT)
    if abs(expected - order.total) > tolerance:
        raise Permanent(
            f"order total {order.total} does not match lines {lines} + shipping {shipping}"
            f" + fees {fees} - discounts {discounts} + tax {order.tax_total}"
            f" (gift cards {gift_cards} and store credit {store_credit} are payments towards it)",
            record=f"order {order.number}",
            field="total",
        )
    if gift_cards + store_credit > order.total + tolerance:
        raise Permanent(
            f"gift cards {gift_cards} + store credit {store_credit}"
            f" pay more than the order total {order.total}",
            record=f"order {order.number}",
            field="payments",
        )
    for index, line in enumerate(order.lines):
        if line.quantity <= 0 or line.quantity > 100_000:
            raise Permanent(
                f"absurd quantity {line.quantity}",
                record=f"order {order.number} line {line.key}",
                field=f"lines[{index}].quantity",
            )
        if not line.sku:
            raise Permanent(
                "line has no SKU", record=f"order {order.number} line {line.key}", field=f"lines[{index}].sku"
            )


class OrderIntake:
    """Shop -> ERP for one order flow."""

    def __init__(
        self, flow: FlowSettings, shop: OrderSource, erp: SalesTarget, store: StateStore, worker: str
    ) -> None:
        self.flow = flow
        self.shop: OrderSource = shop
        self.erp: SalesTarget = erp
        self.store = store
        self.worker = worker
        self.options = flow.orders
        self.prefix = reference_prefix(flow)

    async def sync_keys(self, keys: Sequence[str], *, reason: str) -> BatchResult:
        """Bring the ERP's sales in line with these shop orders."""
        result = BatchResult()
        keys = list(dict.fromkeys(keys))
        orders: dict[str, Order] = {}
        for record in await self.shop.read("order", keys):
            if isinstance(record, Unmappable):
                self._dead_unread(result, record, reason)
            elif isinstance(record, Order):
                orders[record.key] = record
        links = await self.store.get_links(self.flow.name, "order", keys)
        todo: list[tuple[Order, Link | None, str]] = []
        for key in keys:
            order, link = orders.get(key), links.get(key)
            if order is None:
                result.counts["absent"] += 1
                continue
            if link is None:
                verdict = admission(order, self.options)
                if verdict is Admission.HOLD:
                    self._dead(result, order, held(order), reason)
                    continue
                if verdict is Admission.WAIT:
                    result.counts["waiting"] += 1
                    continue
            digest = intake_fingerprint(order)
            if link and link.state == "synced" and link.fingerprint == digest:
                result.counts["unchanged"] += 1
                continue
            try:
                order = orders[key] = with_deleted_products(order, self.options)
                check_order(order, self.options.taxes)
                check_totals(order, self.options.totals_tolerance)
            except Permanent as error:
                self._dead(result, order, error, reason)
                continue
            todo.append((order, link, digest))
        # the shop moved its own stock when these orders were placed, paid, cancelled or restocked, and
        # reservations change below: the catalogue flows send these SKUs' stock again after this batch
        result.stock_skus.update(line.sku for order, _, _ in todo for line in order.lines)
        await self._reserve([(order, link) for order, link, _ in todo], result)
        todo = await self._check_stock(todo, result, reason)
        parties, refused = await self._customers(
            [order for order, link, _ in todo if link is None or not link.target_ref], result, reason
        )
        await self._write_sales(todo, parties, refused, result, reason)
        await self._write_returns([orders[k] for k in keys if k in orders], result, reason)
        return result

    async def _reserve(self, orders: list[tuple[Order, Link | None]], result: BatchResult) -> None:
        """Hold back the units of orders the ERP does not have yet, and re-send those SKUs' stock."""
        for order, link in orders:
            if link is not None and link.target_ref:
                continue
            if order.status is OrderStatus.CANCELLED:
                await self.store.release_reservations(self.flow.name, [order.key])
                continue
            quantities: dict[str, Decimal] = {}
            for line in order.lines:
                quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
            await self.store.reserve(self.flow.name, order.key, quantities)

    def importable(self, order: Order) -> bool:
        """Whether the order is in a status the ERP takes (the others wait or are held)."""
        return admission(order, self.options) is Admission.IMPORT

    async def _check_stock(
        self, todo: list[tuple[Order, Link | None, str]], result: BatchResult, reason: str
    ) -> list[tuple[Order, Link | None, str]]:
        """Unknown SKUs are dead letters; a shortage follows the flow's policy (new orders only)."""
        new = [
            (order, link, digest)
            for order, link, digest in todo
            if link is None and order.status is not OrderStatus.CANCELLED
        ]
        if not new:
            return todo
        skus = sorted({line.sku for order, _, _ in new for line in order.lines})
        warehouses = [self.options.warehouse] if self.options.warehouse else None
        available = await self.erp.availability(skus, warehouses)
        kept = [item for item in todo if item not in new]
        for order, link, digest in new:
            missing = [(i, line) for i, line in enumerate(order.lines) if line.sku not in available]
            if missing:
                index, line = missing[0]
                error = Permanent(
                    f"SKU {line.sku} is not in the ERP",
                    record=f"order {order.number} line {line.key}",
                    field=f"lines[{index}].sku",
                )
                self._dead(result, order, error, reason)
                continue
            wanted: dict[str, Decimal] = {}
            for line in order.lines:
                wanted[line.sku] = wanted.get(line.sku, Decimal(0)) + line.quantity
            short = {sku: (qty, available[sku]) for sku, qty in wanted.items() if available[sku] < qty}
            if not short or self.options.shortage == "accept":
                if short:
                    message = f"stock short in the ERP: {self._describe(short)}"
                    self._alert(result, order, message, reason, AlertKind.STOCK_SHORT)
                kept.append((order, link, digest))
                continue
            await self._refuse(order, short, result, reason)
        return kept

    @staticmethod
    def _describe(short: dict[str, tuple[Decimal, Decimal]]) -> str:
        return ", ".join(
            f"{sku} ordered {qty}, available {have}" for sku, (qty, have) in sorted(short.items())
        )

    async def _refuse(
        self, order: Order, short: dict[str, tuple[Decimal, Decimal]], result: BatchResult, reason: str
    ) -> None:
        """Hold (on-hold with a note, checked again later) or reject (cancelled with a note)."""
        hold = self.options.shortage == "hold"
        status = OrderStatus.ON_HOLD if hold else OrderStatus.CANCELLED
        note = ("On hold" if hold else "Rejected") + f": not enough stock ({self._describe(short)})."
        marker = f"stock-{'hold' if hold else 'reject'}"
        update = order.model_copy(
            update={
                "status": status,
                "hold": OrderHold(reason=note) if hold else None,
                "notes": [OrderNote(key=marker, text=note, customer_visible=False)],
            }
        )
        outcomes = await self.shop.write(
            "order",
            [WriteItem(order.key, update, {"id": order.key}, only=frozenset({"status", "hold", "notes"}))],
            [],
        )
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise Retryable(f"could not put order {order.number} on hold: {failed[0].error}")
        self._alert(result, order, note, reason, AlertKind.STOCK_SHORT)
        if hold:
            result.retry.append((order.key, note, HOLD_RECHECK_SECONDS))
        else:
            await self.store.release_reservations(self.flow.name, [order.key])
            result.links.append(
                Link(self.flow.name, "order", order.key, None, order.number, None, "rejected", note)
            )
            result.counts["rejected"] += 1

    async def _customers(
        self, orders: list[Order], result: BatchResult, reason: str
    ) -> tuple[dict[str, dict[str, Any]], dict[str, ConnectorError]]:
        """ERP party references by customer key, creating missing customers once (claimed).

        Also returns the customers the ERP refused to create, with its error; their claims are given up
        so that a retry after a fix (by any worker) creates them.
        """
        wanted: dict[str, Order] = {}
        for order in orders:
            try:
                wanted.setdefault(customer_key(self.flow, order), order)
            except Permanent as error:
                self._dead(result, order, error, reason)
        links = await self.store.get_links(self.flow.name, "customer", list(wanted))
        ready = {
            k: link.target_ref for k, link in links.items() if link.state == "synced" and link.target_ref
        }
        create: list[WriteItem] = []
        for key, order in wanted.items():
            if key in ready:
                continue
            claim = await self.store.claim_link(
                self.flow.name, "customer", key, owner=self.worker, lease_seconds=CLAIM_LEASE_SECONDS
            )
            if claim is not None and claim.state == "synced" and claim.target_ref:
                ready[key] = claim.target_ref
            elif claim is None:
                create.append(WriteItem(key, self._customer(order, key)))
        refused: dict[str, ConnectorError] = {}
        if create:
            outcomes = await self.erp.write("customer", create, [])
            made: list[Link] = []
            applier = OutcomeApplier(self.flow.name, "customer", reason, result)
            for outcome in outcomes:
                if not outcome.ok:
                    await self.store.release_claim(self.flow.name, "customer", outcome.key, owner=self.worker)
                    refused[outcome.key] = outcome.error or Permanent("the ERP did not create the customer")
                elif outcome.target_ref:
                    ready[outcome.key] = outcome.target_ref
                    applier.succeeded(outcome, Written(outcome.key, outcome.key, counted=False), links=made)
            # committed at once, so that other workers waiting on the claim see the customer
            await self.store.record(links=made)
        return ready, refused

    @staticmethod
    def _customer(order: Order, key: str) -> Customer:
        customer = order.customer
        return customer.model_copy(
            update={
                "key": key,
                "email": customer.email or order.billing.email,
                "billing": customer.billing or order.billing,
                "shipping": customer.shipping or order.shipping,
                "phone": customer.phone or order.billing.phone,
            }
        )

    async def _write_sales(
        self,
        todo: list[tuple[Order, Link | None, str]],
        parties: dict[str, dict[str, Any]],
        refused: dict[str, ConnectorError],
        result: BatchResult,
        reason: str,
    ) -> None:
        items: list[WriteItem] = []
        digests: dict[str, tuple[str, Link | None, Order]] = {}
        for order, link, digest in todo:
            ref = link.target_ref if link and link.target_ref else None
            if ref is None:
                key = customer_key(self.flow, order)
                party = parties.get(key)
                if key in refused:
                    self._customer_refused(result, order, refused[key], reason)
                    continue
                if party is None:
                    result.retry.append((order.key, f"customer {order.number} is being created", 5.0))
                    result.counts["waiting"] += 1
                    continue
                customer = order.customer.model_copy(update={"key": str(party["id"])})
            else:
                customer = order.customer
            sale = order.model_copy(update={"reference": self.prefix + order.number, "customer": customer})
            items.append(WriteItem(order.key, sale, ref))
            digests[order.key] = (digest, link, order)
        if not items:
            return
        outcomes: list[Outcome] = await self.erp.write_sales(items, sale_options(self.flow))
        applier = OutcomeApplier(self.flow.name, "order", reason, result)
        for outcome in outcomes:
            digest, link, order = digests[outcome.key]
            written = Written(
                outcome.key,
                f"order {order.number}",
                natural_key=order.number,
                before=link.fingerprint if link else None,
                after=digest,
                target_ref=link.target_ref if link else None,
                payload=order.model_dump(mode="json"),
            )
            if outcome.ok:
                await self.store.release_reservations(self.flow.name, [outcome.key])  # the ERP counts it now
                applier.succeeded(outcome, written)
            elif isinstance(outcome.error, Held):
                await self._hold_sale(order, outcome.error, result, reason)
            elif (error := applier.failed(outcome.error, written)) and order.status is OrderStatus.CANCELLED:
                self._alert(result, order, str(error), reason, AlertKind.SHIPPED_CANCELLATION)

    async def _hold_sale(self, order: Order, error: Held, result: BatchResult, reason: str) -> None:
        """The ERP made the sale but its figures differ: the shop order goes on hold, checked again later."""
        note = f"On hold: {error.reason}"
        update = order.model_copy(
            update={
                "status": OrderStatus.ON_HOLD,
                "hold": OrderHold(reason=error.reason),
                "notes": [OrderNote(key="erp-hold", text=note, customer_visible=False)],
            }
        )
        item = WriteItem(order.key, update, {"id": order.key}, only=frozenset({"status", "hold", "notes"}))
        failed = [o for o in await self.shop.write("order", [item], []) if not o.ok]
        if failed:
            raise Retryable(f"could not put order {order.number} on hold: {failed[0].error}")
        self._alert(result, order, error.reason, reason, AlertKind.ORDER_HELD)
        result.retry.append((order.key, note, HOLD_RECHECK_SECONDS))
        result.counts["held"] += 1

    async def _write_returns(self, orders: list[Order], result: BatchResult, reason: str) -> None:
        """Shop refunds the ERP does not have yet become returns (return sale, credit note)."""
        with_refunds = [order for order in orders if order.refunds]
        if not with_refunds:
            return
        sales = {**await self.store.get_links(self.flow.name, "order", [o.key for o in with_refunds])}
        sales.update({link.source_key: link for link in result.links if link.entity == "order"})
        keys = [f"{o.key}/{r.key}" for o in with_refunds for r in o.refunds]
        done = await self.store.get_links(self.flow.name, "return", keys)
        items = []
        for order in with_refunds:
            sale = sales.get(order.key)
            if sale is None or not sale.target_ref:
                continue
            for refund in order.refunds:
                key = f"{order.key}/{refund.key}"
                if key in done and done[key].state == "synced":
                    continue
                record = order.model_copy(
                    update={"refunds": [refund], "reference": self.prefix + order.number}
                )
                items.append(WriteItem(key, record, sale.target_ref))
        if not items:
            return
        applier = OutcomeApplier(self.flow.name, "return", reason, result)
        for outcome in await self.erp.write("return", items, []):
            order_key = outcome.key.split("/", 1)[0]  # the work item: the shop order
            written = Written(
                outcome.key, f"refund {outcome.key}", outcome.key, retry_key=order_key, counter="returned"
            )
            applier.apply(outcome, written)

    def _customer_refused(
        self, result: BatchResult, order: Order, error: ConnectorError, reason: str
    ) -> None:
        """The ERP did not create the order's customer: retry later if transient, else a dead letter."""
        if isinstance(error, Retryable):
            result.retry.append((order.key, f"customer of order {order.number}: {error}", error.after))
            return
        field = getattr(error, "field", None) or "customer"
        message = f"the ERP refused the customer of order {order.number}: {error}"
        self._dead(result, order, Permanent(message, record=f"order {order.number}", field=field), reason)

    def _dead(self, result: BatchResult, order: Order, error: Permanent, reason: str) -> None:
        label = error.record or f"order {order.number}"
        result.dead.append(
            DeadLetter(
                self.flow.name,
                "order",
                order.key,
                str(error),
                error.field,
                label,
                order.model_dump(mode="json"),
            )
        )
        result.journal.append(
            JournalEntry(
                self.flow.name,
                "order",
                order.key,
                "dead",
                reason,
                detail={"error": str(error), "field": error.field, "label": label},
            )
        )
        result.counts["failed"] += 1

    def _dead_unread(self, result: BatchResult, unread: Unmappable, reason: str) -> None:
        """A shop order that could not be read into an Order: a dead letter naming record and field."""
        error = unread.error()
        result.dead_letter(
            self.flow.name, "order", unread.key, error, reason, error.record or f"order {unread.key}"
        )

    def _alert(self, result: BatchResult, order: Order, message: str, reason: str, kind: AlertKind) -> None:
        """Journal what a person must look at, and hand it to the engine's alert sink."""
        result.journal.append(
            JournalEntry(
                self.flow.name,
                "order",
                order.key,
                "alert",
                reason,
                detail={"alert": message, "label": f"order {order.number}"},
            )
        )
        result.counts["alerts"] += 1
        severity = Severity.CRITICAL if kind is AlertKind.SHIPPED_CANCELLATION else Severity.WARNING
        subject = f"order {order.number}"
        result.alerts.append(Alert(kind, subject, f"{subject}: {message}", severity, flow=self.flow.name))
