"""An order flow on memory systems: a shop order becomes exactly one ERP sale, and its progress goes back."""

from __future__ import annotations

from decimal import Decimal

from emporion.engine.worker import Engine
from emporion.model import Customer, Order, OrderLine, OrderStatus, Product, Shipment, StockLevel
from emporion.model.orders import PaymentState
from emporion.testing import MemorySystem
from tests.engine.conftest import Harness

FLOWS = """
  - name: orders
    source: shop
    target: erp
    entities: [order]
"""


def seed(harness: Harness) -> str:
    """A mug in the ERP with stock, and a paid shop order of two mugs; the order's key."""
    stock = [StockLevel(warehouse="WH", quantity=Decimal(10))]
    harness.erp.put("product", Product(key="p1", sku="MUG-1", name="Mug", stock=stock))
    line = OrderLine(key="1", sku="MUG-1", quantity=Decimal(2), unit_price=Decimal(8), total=Decimal(16))
    order = Order(
        key="",
        number="1001",
        status=OrderStatus.PROCESSING,
        payment_state=PaymentState.PAID,
        currency="EUR",
        customer=Customer(key="", email="ada@example.com", first_name="Ada"),
        lines=[line],
        total=Decimal(16),
    )
    return harness.shop.put("order", order).key


def sales(erp: MemorySystem) -> list[Order]:
    return [record for record in erp.all("order") if isinstance(record, Order)]


async def run_until_idle(engine: Engine) -> None:
    """Poll both feeds and work the queue until nothing is left to do."""
    flow = engine.settings.flow("orders")
    while await engine.poll(flow) or await engine.work(flow):
        pass


async def test_a_shop_order_becomes_exactly_one_sale(harness: Harness) -> None:
    key = seed(harness)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()  # the sliding window queues the recent order
        await run_until_idle(engine)
        harness.shop.put("order", harness.shop.get("order", key))  # the shop touches it again
        await run_until_idle(engine)
        (link,) = (await engine.store.get_links("orders", "order", [key])).values()
    (sale,) = sales(harness.erp)
    assert sale.reference == "ORDERS-1001" and [line.sku for line in sale.lines] == ["MUG-1"]
    (party,) = harness.erp.all("customer")
    assert sale.customer.key == party.key and link.target_ref == {"id": sale.key}


async def test_the_sales_progress_goes_back_to_the_shop_order(harness: Harness) -> None:
    key = seed(harness)
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        (sale,) = sales(harness.erp)
        shipment = Shipment(key="s1", carrier="DHL", tracking_numbers=["TRACK-1"])
        harness.erp.put(
            "order", sale.model_copy(update={"status": OrderStatus.COMPLETED, "shipments": [shipment]})
        )
        await run_until_idle(engine)
    order = harness.shop.get("order", key)
    assert isinstance(order, Order) and order.status is OrderStatus.COMPLETED
    assert [s.tracking_numbers for s in order.shipments] == [["TRACK-1"]]
    assert any("TRACK-1" in note.text for note in order.notes)
    assert order.lines and order.customer.email == "ada@example.com"  # the shopper's side stays
