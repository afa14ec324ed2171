"""Which shop orders reach the ERP: statuses imported, held or ignored; deleted products; cancellations.

The real engine and state database on memory systems; the WooCommerce reading of these cases (plugin
statuses as holds, a deleted product's line without SKU) is tested against recorded orders.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from emporion.config import OrderOptions
from emporion.engine.order_admission import Admission, admission
from emporion.model import (
    Customer,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    PaymentState,
    Product,
    StockLevel,
)
from tests.engine.conftest import Harness
from tests.engine.test_order_flow import run_until_idle, sales


def flows(options: str = "") -> str:
    return f"""
  - name: orders
    source: shop
    target: erp
    entities: [order]
    orders:
      import_statuses: [processing, on_hold, completed]
{options}
"""


def order(status: OrderStatus, raw: str, *, lines: list[OrderLine] | None = None) -> Order:
    """A shop order as a connector reads it: a status it does not know is on hold, with a reason."""
    known = raw in ("", "on-hold", "processing", "completed", "pending", "cancelled")
    hold = OrderHold(reason=f"shop status {raw!r} is not one emporion knows") if not known else None
    line = OrderLine(
        key="7", sku="MUG-1", name="Mug", quantity=Decimal(1), unit_price=Decimal(8), total=Decimal(8)
    )
    return Order(
        key="",
        number="1001",
        status=status,
        raw_status=raw,
        hold=hold if status is OrderStatus.ON_HOLD else None,
        payment_state=PaymentState.PAID,
        currency="EUR",
        customer=Customer(key="", email="ada@example.com"),
        lines=lines or [line],
        total=sum((line.total for line in lines or [line]), Decimal(0)),
    )


def seed(harness: Harness, shop_order: Order) -> str:
    stock = [StockLevel(warehouse="WH", quantity=Decimal(10))]
    for sku in ("MUG-1", "GONE"):
        harness.erp.put("product", Product(key=f"p-{sku}", sku=sku, name=sku, stock=stock))
    return harness.shop.put("order", shop_order).key


@pytest.mark.parametrize(
    ("raw", "options", "verdict"),
    [
        ("partial-payment", {}, Admission.HOLD),  # a plugin's status: not imported because on_hold is
        ("shipped", {}, Admission.HOLD),
        ("awaiting-shipment", {"ignore_statuses": ["awaiting-shipment"]}, Admission.WAIT),
        ("awaiting-shipment", {"import_statuses": ["awaiting-shipment"]}, Admission.IMPORT),
        ("on-hold", {}, Admission.IMPORT),  # WooCommerce's own on-hold, imported as configured
        ("on-hold", {"hold_statuses": ["on-hold"]}, Admission.HOLD),
    ],
)
def test_a_status_is_matched_by_the_shops_name_first(raw: str, options: dict, verdict: Admission) -> None:
    settings = OrderOptions.model_validate({"import_statuses": ["processing", "on_hold"], **options})
    assert admission(order(OrderStatus.ON_HOLD, raw), settings) is verdict


def test_trash_and_drafts_and_pending_orders_wait() -> None:
    settings = OrderOptions()
    for status, raw in (
        (OrderStatus.DRAFT, "trash"),
        (OrderStatus.DRAFT, "auto-draft"),
        (OrderStatus.PENDING, ""),
    ):
        assert admission(order(status, raw), settings) is Admission.WAIT


async def test_an_unknown_shop_status_is_held_with_a_dead_letter_naming_it(harness: Harness) -> None:
    seed(harness, order(OrderStatus.ON_HOLD, "partial-payment"))
    async with harness.engine(flows()) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        (dead,) = await engine.store.list_dead("orders")
    assert sales(harness.erp) == []
    assert (dead.record, dead.field) == ("order 1001", "status")
    assert "'partial-payment'" in dead.reason and "orders.import_statuses" in dead.reason


async def test_an_ignored_shop_status_waits_silently_and_an_imported_one_becomes_a_sale(
    harness: Harness,
) -> None:
    key = seed(harness, order(OrderStatus.ON_HOLD, "awaiting-shipment"))
    options = "      ignore_statuses: [partial-payment]\n"
    async with harness.engine(flows(options)) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        assert await engine.store.list_dead("orders") != []  # not listed anywhere: held
    harness.shop.put("order", order(OrderStatus.ON_HOLD, "partial-payment").model_copy(update={"key": key}))
    async with harness.engine(flows(options)) as engine:
        await engine.store.enqueue("orders", "order", [key], reason="test")
        await run_until_idle(engine)
        assert engine.processed["waiting"] == 1 and sales(harness.erp) == []
    options = "      import_statuses: [partial-payment]\n"
    async with harness.engine(
        flows(options).replace("      import_statuses: [processing, on_hold, completed]\n", "")
    ) as engine:
        await engine.store.enqueue("orders", "order", [key], reason="test")
        await run_until_idle(engine)
    (sale,) = sales(harness.erp)
    assert sale.reference == "ORDERS-1001"


def deleted_line_order() -> Order:
    lines = [
        OrderLine(key="20", sku="MUG-1", quantity=Decimal(1), unit_price=Decimal(8), total=Decimal(8)),
        OrderLine(
            key="22",
            sku="",
            name="Rec Deleted Later",
            quantity=Decimal(1),
            unit_price=Decimal(5),
            total=Decimal(5),
            product_key=None,
        ),
    ]
    return order(OrderStatus.PROCESSING, "processing", lines=lines)


async def test_a_line_whose_product_was_deleted_holds_the_order_naming_the_line(harness: Harness) -> None:
    seed(harness, deleted_line_order())
    async with harness.engine(flows()) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        (dead,) = await engine.store.list_dead("orders")
    assert sales(harness.erp) == []
    assert (dead.record, dead.field) == ("order 1001 line 22", "lines[1].sku")
    assert "Rec Deleted Later" in dead.reason and "deleted_product_sku" in dead.reason


async def test_a_line_whose_product_was_deleted_is_booked_on_the_stand_in_product(harness: Harness) -> None:
    seed(harness, deleted_line_order())
    async with harness.engine(flows("      deleted_product_sku: GONE\n")) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        assert await engine.store.list_dead("orders") == []
    (sale,) = sales(harness.erp)
    assert [(line.sku, line.name, line.total) for line in sale.lines] == [
        ("MUG-1", "", Decimal(8)),
        ("GONE", "Rec Deleted Later", Decimal(5)),
    ]


async def test_a_cancellation_in_the_shop_reaches_the_sale(harness: Harness) -> None:
    key = seed(harness, order(OrderStatus.PROCESSING, "processing"))
    async with harness.engine(flows()) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        (sale,) = sales(harness.erp)
        assert sale.status is not OrderStatus.CANCELLED
        shop_order = harness.shop.get("order", key)
        assert isinstance(shop_order, Order)
        harness.shop.put(
            "order",
            shop_order.model_copy(update={"status": OrderStatus.CANCELLED, "raw_status": "cancelled"}),
        )
        await run_until_idle(engine)
    (sale,) = sales(harness.erp)
    assert sale.status is OrderStatus.CANCELLED


async def test_a_cash_on_delivery_order_is_booked_unpaid_until_the_shop_says_paid(harness: Harness) -> None:
    unpaid = order(OrderStatus.PROCESSING, "processing").model_copy(
        update={"payment_state": PaymentState.UNPAID}
    )
    key = seed(harness, unpaid)
    async with harness.engine(flows()) as engine:
        await engine.ensure_initial_sync()
        await run_until_idle(engine)
        (sale,) = sales(harness.erp)
        assert not sale.paid  # processing in the shop, but no payment date: not paid
        shop_order = harness.shop.get("order", key)
        assert isinstance(shop_order, Order)
        harness.shop.put("order", shop_order.model_copy(update={"payment_state": PaymentState.PAID}))
        await run_until_idle(engine)
    (sale,) = sales(harness.erp)
    assert sale.paid
