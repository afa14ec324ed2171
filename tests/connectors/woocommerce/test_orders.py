"""WooCommerce orders against the sandbox shop over real HTTP: read, feed, window, write-back, webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.webhooks import ORDER_TOPICS, is_ping, verify_webhook
from emporion.model import (
    Invoice,
    Order,
    OrderHold,
    OrderNote,
    OrderStatus,
    Refund,
    RefundLine,
    RefundOrigin,
    Shipment,
)
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.devkit.sandbox.support import Receiver


@pytest.fixture
def shop() -> Iterator[SandboxShop]:
    """A sandbox with ten stocked products and a deterministic shopper."""
    with SandboxShop.serve(seed=11) as served, api(served) as client:
        body = {
            "create": [
                {"name": f"Item {i}", "sku": f"IT-{i}", "regular_price": f"{5 + i}.00", "manage_stock": True}
                | {"stock_quantity": 500}
                for i in range(10)
            ]
        }
        client.post("/products/batch", json=body).raise_for_status()
        yield served


def api(shop: SandboxShop) -> httpx.Client:
    return httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 and a free port."""
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
async def woo(shop: SandboxShop) -> AsyncIterator[WooCommerceConnector]:
    connector = WooCommerceConnector(
        "shop", shop.base_url, shop.consumer_key, shop.consumer_secret, change_overlap=1
    )
    yield connector
    await connector.close()


async def read_one(woo: WooCommerceConnector, ident: int) -> Order:
    (order,) = await woo.read("order", [str(ident)])
    assert isinstance(order, Order)
    return order


def item_for(order: Order, **changes: Any) -> WriteItem:
    """The write the engine makes: the Order as the shop should show it, addressed by shop id."""
    return WriteItem(
        key=order.key, record=order.model_copy(update=changes), target_ref={"id": int(order.key)}
    )


def paid_order(shop: SandboxShop) -> dict[str, Any]:
    """An order that took stock (paid through checkout), with at least one line of quantity 2+."""
    for _ in range(50):
        (placed,) = shop.place_orders(1)
        if placed["date_paid_gmt"] and any(line["quantity"] >= 2 for line in placed["line_items"]):
            return placed
    raise AssertionError("the shopper placed no paid order with a line of 2")


async def test_placed_orders_read_as_canonical_orders(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    placed = {order["id"]: order for order in shop.place_orders(15)}
    orders = {order.key: order for order in await woo.read("order", [str(i) for i in placed] + ["999999"])}
    assert set(orders) == {str(i) for i in placed}
    kinds = set()
    for ident, data in placed.items():
        order = orders[str(ident)]
        assert isinstance(order, Order)
        assert order.total == Decimal(data["total"]) and order.number == data["number"]
        assert sum(line.total for line in order.lines) + order.shipping_total + order.tax_total == order.total
        assert [line.sku for line in order.lines] == [line["sku"] for line in data["line_items"]]
        assert all(line.sku.startswith("IT-") and line.unit_price > 0 for line in order.lines)
        email = data["billing"]["email"]
        if data["customer_id"]:
            assert (order.customer.key, order.customer.guest) == (str(data["customer_id"]), False)
        else:
            assert (order.customer.key, order.customer.guest) == (f"guest:{email.lower()}", True)
        assert order.customer.email == email and order.billing.street == data["billing"]["address_1"]
        assert order.paid == bool(data["date_paid_gmt"]) or order.status is OrderStatus.PROCESSING
        kinds.add(order.customer.guest)
    assert kinds == {True, False}
    scanned = [order.key async for page in woo.scan("order") for order in page]
    assert sorted(scanned, key=int) == sorted(orders, key=int)


async def test_change_feed_reports_a_status_change_only(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    placed = shop.place_orders(5)
    await asyncio.sleep(2.1)  # dates have second resolution; the overlap window is one second here
    batch = await woo.changes("order", None)
    assert batch.keys == []
    batch = await woo.changes("order", batch.cursor)
    assert batch.keys == []
    target = placed[2]
    with api(shop) as client:
        client.put(f"/orders/{target['id']}", json={"status": "cancelled"}).raise_for_status()
    batch = await woo.changes("order", batch.cursor)
    assert batch.keys == [str(target["id"])]
    assert (await read_one(woo, target["id"])).status is OrderStatus.CANCELLED


async def test_change_feed_reports_an_order_again_only_when_it_changed_again(shop: SandboxShop) -> None:
    """A long overlap window re-reads recent orders at every poll; only new stamps are reported."""
    earlier = shop.place_orders(2)  # placed before the feed starts: in its window, never reported
    woo = WooCommerceConnector(
        "shop", shop.base_url, shop.consumer_key, shop.consumer_secret, change_overlap=600
    )
    try:
        await asyncio.sleep(1.1)  # their second is over, so the start knows their stamps for good
        first = await woo.changes("order", None)  # from now on: the window's older orders are known
        placed = shop.place_orders(3)
        await asyncio.sleep(1.1)  # stamps have second resolution: this one's second is over
        batch = await woo.changes("order", first.cursor)
        assert {str(o["id"]) for o in placed} <= set(batch.keys)
        assert not {str(o["id"]) for o in earlier} & set(batch.keys)
        batch = await woo.changes("order", batch.cursor)
        assert batch.keys == []
        target = placed[1]
        with api(shop) as client:
            client.put(f"/orders/{target['id']}", json={"customer_note": "ring twice"}).raise_for_status()
        batch = await woo.changes("order", batch.cursor)
        assert batch.keys == [str(target["id"])]
        await asyncio.sleep(1.1)
        batch = await woo.changes("order", batch.cursor)  # reported again at most while its second lasts
        assert batch.keys in ([], [str(target["id"])])
        assert (await woo.changes("order", batch.cursor)).keys == []
    finally:
        await woo.close()


async def test_status_write_back_applies_once(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    (placed,) = shop.place_orders(1)
    order = await read_one(woo, placed["id"])
    item = item_for(order, status=OrderStatus.COMPLETED, reference="SHOP-1")
    (outcome,) = await woo.write("order", [item], [])
    assert (outcome.status, outcome.target_ref) == (OutcomeStatus.UPDATED, {"id": placed["id"]})
    assert (await read_one(woo, placed["id"])).raw_status == "completed"
    (again,) = await woo.write("order", [item], [])
    assert again.status is OutcomeStatus.UNCHANGED


async def test_hold_with_note_writes_only_status_and_notes(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    (placed,) = shop.place_orders(1)
    order = await read_one(woo, placed["id"])
    hold = order.model_copy(
        update={
            "status": OrderStatus.ON_HOLD,
            "hold": OrderHold(reason="On hold: not enough stock."),
            "notes": [OrderNote(key="stock-hold", text="On hold: not enough stock.")],
            "refunds": [Refund(key="never", amount=Decimal(1))],
            "custom": {"never": "written"},
        }
    )
    item = WriteItem(order.key, hold, {"id": order.key}, only=frozenset({"status", "hold", "notes"}))
    (outcome,) = await woo.write("order", [item], [])
    assert outcome.status is OutcomeStatus.UPDATED
    after = await read_one(woo, placed["id"])
    assert (after.raw_status, after.refunds) == ("on-hold", [])  # the stale raw status was not sent back
    assert after.status is OrderStatus.ON_HOLD and after.hold is not None and "never" not in after.custom
    with api(shop) as client:
        notes = [n["note"] for n in client.get(f"/orders/{placed['id']}/notes").json()]
    assert "On hold: not enough stock. [emporion:stock-hold]" in notes


async def test_tracking_note_and_meta_are_written_once(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    (placed,) = shop.place_orders(1)
    order = await read_one(woo, placed["id"])
    notes = [
        OrderNote(
            key="shipment-4", text="Shipped with DHL, tracking 00340434161094042557", customer_visible=True
        ),
        OrderNote(key="invoice-9", text="Invoice INV-2026-0009"),
    ]
    shipment = Shipment(key="4", carrier="DHL", tracking_numbers=["00340434161094042557"])
    explicit = {
        "notes": notes,
        "shipments": [shipment],
        "invoices": [Invoice(key="9", number="INV-2026-0009")],
        "reference": "SO-0009",
    }
    item = item_for(order, **explicit)
    outcomes = [(await woo.write("order", [item], []))[0] for _ in range(2)]
    assert [o.status for o in outcomes] == [OutcomeStatus.UPDATED, OutcomeStatus.UNCHANGED]
    with api(shop) as client:
        written = client.get(f"/orders/{placed['id']}/notes").json()
        meta = {m["key"]: m["value"] for m in client.get(f"/orders/{placed['id']}").json()["meta_data"]}
    ours = sorted(
        (n["note"], n["customer_note"]) for n in written if "INV-" in n["note"] or "DHL" in n["note"]
    )
    assert ours == [
        ("Invoice INV-2026-0009 [emporion:invoice-9]", False),  # private: the marker may stay
        ("Shipped with DHL, tracking 00340434161094042557", True),  # the customer sees no marker
    ]
    assert meta["_emporion_notes"] == "invoice-9,shipment-4"  # hidden meta: added once
    assert meta["tracking_number"] == "00340434161094042557" and meta["tracking_carrier"] == "DHL"
    assert meta["invoice_number"] == "INV-2026-0009" and meta["erp_reference"] == "SO-0009"
    reread = await read_one(woo, placed["id"])
    assert [(s.carrier, s.tracking_numbers) for s in reread.shipments] == [("DHL", ["00340434161094042557"])]
    assert [i.number for i in reread.invoices] == ["INV-2026-0009"] and reread.reference == "SO-0009"
    moved = shipment.model_copy(update={"tracking_numbers": ["JJD000390007"]})
    changed = item_for(reread, **{**explicit, "shipments": [moved]})
    (outcome,) = await woo.write("order", [changed], [])
    assert outcome.status is OutcomeStatus.UPDATED
    assert (await read_one(woo, placed["id"])).shipments[0].tracking_numbers == ["JJD000390007"]


async def test_a_customer_note_added_before_a_crash_is_not_added_again(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    (placed,) = shop.place_orders(1)
    text = "Shipped with UPS, tracking 1Z999AA10123456784"
    with api(shop) as client:  # the note went out, the meta recording it did not
        client.post(f"/orders/{placed['id']}/notes", json={"note": text, "customer_note": True})
    order = await read_one(woo, placed["id"])
    note = OrderNote(key="ship-6", text=text, customer_visible=True)
    (outcome,) = await woo.write("order", [item_for(order, notes=[note])], [])
    assert outcome.ok
    with api(shop) as client:
        notes = [n["note"] for n in client.get(f"/orders/{placed['id']}/notes").json()]
        meta = {m["key"]: m["value"] for m in client.get(f"/orders/{placed['id']}").json()["meta_data"]}
    assert notes.count(text) == 1 and not any("[emporion:" in n for n in notes)
    assert meta["_emporion_notes"] == "ship-6"


def stock_of(shop: SandboxShop, product_id: int) -> int:
    with api(shop) as client:
        return int(client.get(f"/products/{product_id}").json()["stock_quantity"])


async def test_partial_then_full_refund_created_once(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    placed = paid_order(shop)
    line = next(line for line in placed["line_items"] if line["quantity"] >= 2)
    stock_before = stock_of(shop, line["product_id"])
    order = await read_one(woo, placed["id"])
    unit = Decimal(line["total"]) / line["quantity"]
    partial = Refund(
        key="4711",
        amount=unit,
        reason="damaged in transit",
        restock=True,
        lines=[RefundLine(line_key=str(line["id"]), sku=line["sku"], quantity=Decimal(1), amount=unit)],
    )
    item = item_for(order, refunds=[partial])  # made in the ERP, not paid out (the default)
    for expected in (OutcomeStatus.UPDATED, OutcomeStatus.UNCHANGED):
        (outcome,) = await woo.write("order", [item], [])
        assert outcome.status is expected, outcome.error
    assert stock_of(shop, line["product_id"]) == stock_before + 1
    order = await read_one(woo, placed["id"])
    assert [(r.key, r.amount, r.restock) for r in order.refunds] == [("4711", unit, True)]
    assert order.refunds[0].origin is RefundOrigin.SHOP  # written as given
    assert order.refunds[0].lines == [  # the shop's own restock meta on the order line says it went back
        RefundLine(line_key=str(line["id"]), sku=line["sku"], quantity=Decimal(1), amount=unit, restock=True)
    ]
    rest = Refund(key="4712", amount=order.total - unit, reason="order returned")
    full = item_for(order, status=OrderStatus.REFUNDED)
    full.record.refunds.append(rest)  # type: ignore[attr-defined]
    for expected in (OutcomeStatus.UPDATED, OutcomeStatus.UNCHANGED):
        (outcome,) = await woo.write("order", [full], [])
        assert outcome.status is expected, outcome.error
    order = await read_one(woo, placed["id"])
    assert [(r.key, r.restock) for r in order.refunds] == [("4711", True), ("4712", False)]
    assert order.status is OrderStatus.REFUNDED
    assert stock_of(shop, line["product_id"]) == stock_before + 1  # the full refund did not restock
    with api(shop) as client:
        refunds = client.get(f"/orders/{placed['id']}/refunds").json()
    assert [r["refunded_payment"] for r in refunds] == [False, False]


async def test_write_failures_name_the_order(shop: SandboxShop, woo: WooCommerceConnector) -> None:
    (placed,) = shop.place_orders(1)
    order = await read_one(woo, placed["id"])
    too_much = Refund(key="9", amount=order.total + 100)
    items = [
        item_for(order, refunds=[too_much]),
        WriteItem(key="404", record=order, target_ref={"id": 987654}),
    ]
    first, missing = await woo.write("order", items, [])
    assert first.status is OutcomeStatus.FAILED and isinstance(first.error, Permanent)
    assert (first.error.record, first.error.field) == (f"order {placed['id']}", "refunds")
    assert missing.status is OutcomeStatus.FAILED and isinstance(missing.error, Permanent)
    assert missing.error.record == "order 987654"
    assert (await read_one(woo, placed["id"])).refunds == []


async def test_sliding_window_lists_open_and_recent_orders(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    placed = shop.place_orders(6)
    with api(shop) as client:
        for order in placed[:2]:
            client.put(f"/orders/{order['id']}", json={"status": "completed"}).raise_for_status()
    ids = {str(order["id"]) for order in placed}
    assert set(await woo.window(30)) == ids
    later = datetime.now(UTC) + timedelta(days=40)
    open_only = await woo.orders.window(30, now=later)
    assert set(open_only) == ids - {str(order["id"]) for order in placed[:2]}


async def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_order_webhooks_registered_repaired_and_delivered(
    shop: SandboxShop, woo: WooCommerceConnector, receiver: Receiver
) -> None:
    ids = await woo.ensure_webhooks(receiver.url, "first-secret", ORDER_TOPICS, installation="i1")
    assert len(set(ids)) == 3
    await wait_for(lambda: len(receiver.requests) >= 3)  # the activation pings
    pings = [(h, b) for h, b in receiver.requests if "x-wc-webhook-topic" not in h]
    assert len(pings) == 3 and all(woo.is_ping(h, b) for h, b in pings)
    assert woo.parse_webhook(*pings[0]) is None
    assert await woo.ensure_webhooks(receiver.url, "first-secret", ORDER_TOPICS, installation="i1") == ids
    with api(shop) as client:
        client.put(f"/webhooks/{ids[1]}", json={"status": "disabled"}).raise_for_status()
        client.put(f"/webhooks/{ids[0]}", json={"status": "paused"}).raise_for_status()
    assert await woo.ensure_webhooks(receiver.url, "second-secret", ORDER_TOPICS, installation="i1") == ids
    with api(shop) as client:
        hooks = {str(hook["id"]): hook for hook in client.get("/webhooks").json()}
    assert len(hooks) == 3 and all(hooks[i]["status"] == "active" for i in ids)
    (placed,) = shop.place_orders(1)
    await wait_for(
        lambda: any(h.get("x-wc-webhook-topic") == "order.created" for h, _ in receiver.deliveries())
    )
    headers, body = next(
        (h, b) for h, b in receiver.deliveries() if h["x-wc-webhook-topic"] == "order.created"
    )
    assert verify_webhook(body, headers["x-wc-webhook-signature"], "second-secret")
    assert not verify_webhook(body, headers["x-wc-webhook-signature"], "first-secret")
    assert not is_ping(headers, body)
    hint = woo.parse_webhook(headers, body)
    assert hint is not None and (hint.entity, hint.keys) == ("order", [str(placed["id"])])


async def test_the_parents_of_variation_lines_are_read_for_their_skus(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    with api(shop) as client:
        body = {
            "name": "Shirt",
            "type": "variable",
            "sku": "SHIRT",
            "attributes": [{"name": "Size", "options": ["S"], "variation": True}],
        }
        parent = client.post("/products", json=body).json()
        size = {"regular_price": "20.00", "sku": "SHIRT-S", "attributes": [{"name": "Size", "option": "S"}]}
        variation = client.post(f"/products/{parent['id']}/variations", json=size).json()
        line = {"product_id": parent["id"], "variation_id": variation["id"], "quantity": 1}
        placed = client.post(
            "/orders", json={"line_items": [line], "billing": {"email": "v@example.test"}}
        ).json()
    assert await woo.orders.parent_skus([placed]) == {str(parent["id"]): "SHIRT"}
    assert await woo.orders.parent_skus([{"line_items": [{"product_id": parent["id"], "sku": "X"}]}]) == {}
    (read,) = await woo.read("order", [str(placed["id"])])
    assert isinstance(read, Order) and [ln.sku for ln in read.lines] == ["SHIRT-S"]  # its own SKU: fine


async def test_a_cash_on_delivery_order_reads_unpaid_until_the_shop_dates_the_payment(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    (placed,) = shop.place_orders(1)
    line = {"product_id": placed["line_items"][0]["product_id"], "quantity": 1}
    body = {
        "payment_method": "cod",
        "payment_method_title": "Cash on delivery",
        "status": "processing",
        "line_items": [line],
        "billing": {"email": "cod@example.test"},
    }
    with api(shop) as client:
        cod = client.post("/orders", json=body).json()
    assert (cod["status"], cod["date_paid_gmt"]) == ("processing", None)
    order = await read_one(woo, cod["id"])
    assert order.status is OrderStatus.PROCESSING and not order.paid
    with api(shop) as client:
        client.put(f"/orders/{cod['id']}", json={"status": "completed"}).raise_for_status()
    order = await read_one(woo, cod["id"])
    assert order.paid and order.payment is not None and order.payment.paid_at is not None


async def test_line_names_reach_the_contract_without_html_entities(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    with api(shop) as client:
        product = client.post(
            "/products", json={"name": "Café & Bar <Deluxe>", "sku": "CAFE-1", "regular_price": "5.00"}
        ).json()
        placed = client.post(
            "/orders",
            json={
                "line_items": [{"product_id": product["id"], "quantity": 1}],
                "billing": {"email": "e@example.test"},
            },
        ).json()
    assert placed["line_items"][0]["name"] == "Café &amp; Bar <Deluxe>"  # as WooCommerce stores it
    order = await read_one(woo, placed["id"])
    assert order.lines[0].name == "Café & Bar <Deluxe>"


async def test_a_line_whose_product_was_deleted_reads_without_sku_or_product_key(
    shop: SandboxShop, woo: WooCommerceConnector
) -> None:
    with api(shop) as client:
        product = client.post(
            "/products", json={"name": "Gone", "sku": "GONE-1", "regular_price": "5.00"}
        ).json()
        placed = client.post(
            "/orders",
            json={
                "line_items": [{"product_id": product["id"], "quantity": 1}],
                "billing": {"email": "d@example.test"},
            },
        ).json()
        client.delete(f"/products/{product['id']}", params={"force": "true"}).raise_for_status()
        line = client.get(f"/orders/{placed['id']}").json()["line_items"][0]
    assert (line["product_id"], line["sku"]) == (0, None)  # as WooCommerce 10 answers
    order = await read_one(woo, placed["id"])
    assert (order.lines[0].sku, order.lines[0].product_key, order.lines[0].name) == ("", None, "Gone")
