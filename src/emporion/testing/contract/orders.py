"""The order parts of the contract: a shop's orders (order source) and an ERP taking sales (sales target).

An order source's test class says how a shopper places an order in the system (`place_order`); a
sales target's says which SKU the ERP stocks (`stocked_sku`). The orders the sales target is given
are built here from canonical records, as the engine builds them from a shop's orders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import OrderSource, SaleOptions, SalesTarget
from emporion.model import Address, Customer, Order, OrderLine, OrderStatus
from emporion.testing.contract.base import ContractPart, drain, one, scan_keys

MISSING_KEY = "987654321"
ADDRESS = Address(
    first_name="Ada",
    last_name="Lovelace",
    street="Hauptstr. 1",
    city="Berlin",
    postcode="10115",
    country="DE",
)


class OrderSourceContract(ContractPart):
    """A shop's orders: read, scanned, fed by changes, found by window and e-mail, updated with progress."""

    async def place_order(self, connector: OrderSource, email: str, tag: str) -> str:
        """Place an order as a shopper with `email` would, in the system itself; its key."""
        raise NotImplementedError

    async def test_read_gives_the_order_and_leaves_out_missing_ones(
        self, connector: OrderSource, tag: str
    ) -> None:
        """A placed order reads back as a canonical Order with its lines and the shopper's e-mail."""
        email = f"read-{tag.lower()}@example.com"
        key = await self.place_order(connector, email, tag)
        order = one(await connector.read("order", [key, MISSING_KEY]))
        assert isinstance(order, Order) and order.key == key and order.lines
        assert email in {order.customer.email.lower(), order.billing.email.lower()}

    async def test_scan_yields_each_order_once(self, connector: OrderSource, tag: str) -> None:
        """A full scan has every order, each once."""
        keys = [
            await self.place_order(connector, f"scan-{tag.lower()}-{n}@example.com", tag) for n in range(2)
        ]
        scanned, _ = await scan_keys(connector, "order")
        assert len(scanned) == len(set(scanned)) and set(keys) <= set(scanned)

    async def test_a_new_order_is_reported_by_the_feed_once(self, connector: OrderSource, tag: str) -> None:
        """The order feed reports an order placed after it started, and only once."""
        start = await connector.changes("order", None)
        key = await self.place_order(connector, f"feed-{tag.lower()}@example.com", tag)
        await self.settle()
        first = await drain(connector, "order", start.cursor)
        assert key in first.keys
        assert key not in (await drain(connector, "order", first.cursor)).keys

    async def test_window_covers_a_recent_order(self, connector: OrderSource, tag: str) -> None:
        """The sliding reconcile's window holds an order placed just now."""
        key = await self.place_order(connector, f"window-{tag.lower()}@example.com", tag)
        assert key in await connector.window(30)

    async def test_orders_by_email_match_exactly_in_any_case(self, connector: OrderSource, tag: str) -> None:
        """Orders are found by the shopper's e-mail whatever its case, and only theirs."""
        email = f"mail-{tag.lower()}@example.com"
        key = await self.place_order(connector, email, tag)
        other = await self.place_order(connector, f"other-{tag.lower()}@example.com", tag)
        found = await connector.orders_by_email(email.upper())
        assert key in found and other not in found

    async def test_progress_is_written_back(self, connector: OrderSource, tag: str) -> None:
        """The ERP's progress (here the status) reaches the shop order; other fields stay."""
        key = await self.place_order(connector, f"back-{tag.lower()}@example.com", tag)
        order = one(await connector.read("order", [key]))
        assert isinstance(order, Order)
        done = order.model_copy(update={"status": OrderStatus.COMPLETED})
        item = WriteItem(key, done, {"id": key}, only=frozenset({"status"}))
        (outcome,) = await connector.write("order", [item], [])
        assert outcome.ok, outcome.error
        back = one(await connector.read("order", [key]))
        assert isinstance(back, Order) and back.status is OrderStatus.COMPLETED
        assert back.number == order.number and len(back.lines) == len(order.lines)


class SalesTargetContract(ContractPart):
    """An ERP taking shop orders: customers by e-mail, sales once per reference, stock and product keys."""

    def sale_options(self) -> SaleOptions:
        """The flow's options for the sales (carriers, taxes, payment methods) this ERP needs."""
        return SaleOptions()

    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        """An SKU the ERP sells and has in stock (made in the system itself if need be)."""
        raise NotImplementedError

    def customer(self, email: str) -> Customer:
        """The customer of a shop order."""
        return Customer(key="", email=email, first_name="Ada", last_name="Lovelace", billing=ADDRESS)

    def order(self, tag: str, party: str, sku: str, **changes: Any) -> Order:
        """A paid shop order of two units of `sku`, its sale reference unique to this test."""
        line = OrderLine(
            key="1",
            sku=sku,
            name=f"Item {sku}",
            quantity=Decimal(2),
            unit_price=Decimal(10),
            total=Decimal(20),
        )
        values: dict[str, Any] = {
            "key": f"shop-{tag}",
            "number": f"N{tag}",
            "status": OrderStatus.PROCESSING,
            "currency": "EUR",
            "created_at": datetime.now(UTC),
            "customer": self.customer(f"sale-{tag.lower()}@example.com").model_copy(update={"key": party}),
            "billing": ADDRESS,
            "shipping": ADDRESS,
            "lines": [line],
            "total": Decimal(20),
            "reference": f"CONTRACT-{tag}",
        }
        return Order(**{**values, **changes})

    async def party(self, connector: SalesTarget, tag: str) -> str:
        """The ERP's key of this test's customer, made through the connector."""
        customer = self.customer(f"sale-{tag.lower()}@example.com")
        (outcome,) = await connector.write("customer", [WriteItem(customer.email, customer)], [])
        assert outcome.ok and outcome.target_ref, outcome.error
        return str(outcome.target_ref["id"])

    async def test_a_customer_is_made_once_and_then_matched_by_email(
        self, connector: SalesTarget, tag: str
    ) -> None:
        """Writing the same customer again (unlinked) finds the first by e-mail instead of making another."""
        customer = self.customer(f"party-{tag.lower()}@example.com")
        (first,) = await connector.write("customer", [WriteItem(customer.email, customer)], [])
        upper = customer.model_copy(update={"email": customer.email.upper()})
        (again,) = await connector.write("customer", [WriteItem(customer.email, upper)], [])
        assert (
            first.status is OutcomeStatus.CREATED and again.ok and again.status is not OutcomeStatus.CREATED
        )
        assert first.target_ref and again.target_ref and first.target_ref["id"] == again.target_ref["id"]

    async def test_a_sale_is_made_once_per_reference(self, connector: SalesTarget, tag: str) -> None:
        """The answer to a sale was lost: writing it again unlinked finds it by reference, makes no second."""
        order = self.order(tag, await self.party(connector, tag), await self.stocked_sku(connector, tag))
        (first,) = await connector.write_sales([WriteItem(order.key, order)], self.sale_options())
        assert first.status is OutcomeStatus.CREATED and first.target_ref, first.error
        (again,) = await connector.write_sales([WriteItem(order.key, order)], self.sale_options())
        assert again.ok and again.status is not OutcomeStatus.CREATED
        assert again.target_ref and again.target_ref["id"] == first.target_ref["id"]
        sale = one(await connector.read("order", [str(first.target_ref["id"])]))
        assert isinstance(sale, Order) and sale.reference == order.reference

    async def test_a_sale_with_an_unknown_sku_fails_naming_the_line(
        self, connector: SalesTarget, tag: str
    ) -> None:
        """An SKU the ERP does not know makes that sale FAILED with a Permanent error naming the line."""
        order = self.order(tag, await self.party(connector, tag), f"NO-SUCH-{tag}")
        (outcome,) = await connector.write_sales([WriteItem(order.key, order)], self.sale_options())
        assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
        assert outcome.error.field == "lines[0].sku" and outcome.error.record

    async def test_a_cancelled_order_cancels_its_sale(self, connector: SalesTarget, tag: str) -> None:
        """An order cancelled in the shop before shipping cancels its sale."""
        order = self.order(tag, await self.party(connector, tag), await self.stocked_sku(connector, tag))
        (first,) = await connector.write_sales([WriteItem(order.key, order)], self.sale_options())
        assert first.target_ref, first.error
        cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})
        (outcome,) = await connector.write_sales(
            [WriteItem(order.key, cancelled, first.target_ref)], self.sale_options()
        )
        assert outcome.ok, outcome.error
        sale = one(await connector.read("order", [str(first.target_ref["id"])]))
        assert isinstance(sale, Order) and sale.status is OrderStatus.CANCELLED

    async def test_availability_and_product_keys_know_only_known_skus(
        self, connector: SalesTarget, tag: str
    ) -> None:
        """Stock and product keys answer for SKUs the ERP has and leave unknown ones out."""
        sku = await self.stocked_sku(connector, tag)
        available = await connector.availability([sku, f"NO-SUCH-{tag}"], None)
        assert set(available) == {sku} and isinstance(available[sku], Decimal) and available[sku] > 0
        keys = await connector.product_keys([sku, f"NO-SUCH-{tag}"])
        assert set(keys) == {sku} and keys[sku]

    async def test_a_new_sale_is_reported_by_the_feed(self, connector: SalesTarget, tag: str) -> None:
        """The ERP's order feed reports a sale made after it started (its progress goes back to the shop)."""
        start = await connector.changes("order", None)
        order = self.order(tag, await self.party(connector, tag), await self.stocked_sku(connector, tag))
        (outcome,) = await connector.write_sales([WriteItem(order.key, order)], self.sale_options())
        assert outcome.target_ref, outcome.error
        assert str(outcome.target_ref["id"]) in (await drain(connector, "order", start.cursor)).keys
