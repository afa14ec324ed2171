"""Order-to-cash end to end: sandbox shop orders -> real Tryton sales -> progress back to the shop."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from emporion.config import Settings
from emporion.engine import dead_letters
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.model import OrderStatus, status_name
from emporion_devkit.demo import erp_orders
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import place_order, running_engine, shop_api
from tests.integration.engine_support import settings_for as shared_settings

pytestmark = pytest.mark.tryton

ORDER_OPTIONS = """
    orders:
      reference_prefix: "WEB-"
      shortage: {shortage}
      carriers: {{"*": DHL}}
      payment_methods: {{stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}}
      tracking_note: customer
"""


def settings_for(
    tryton: RunningTryton,
    shops: dict[str, SandboxShop],
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    shortage: str = "accept",
) -> Settings:
    """Each shop gets a catalogue flow (from the ERP) and an order flow (into the ERP)."""
    flows = ""
    for name in shops:
        flows += f"""
  - name: catalogue-{name}
    source: erp
    target: {name}
    warehouses: [WH]
  - name: orders-{name}
    source: {name}
    target: erp
    entities: [order]
{ORDER_OPTIONS.format(shortage=shortage)}"""
    return shared_settings(tryton, shops, state_url, flows, monkeypatch)


async def sales_by_reference(tryton: RunningTryton, reference: str) -> list[dict[str, Any]]:
    return await tryton.rpc(
        "sale.sale",
        "search_read",
        [("reference", "=", reference)],
        0,
        None,
        None,
        ["state", "party", "lines", "number"],
    )


async def start(engine: Engine, shop: str = "shop") -> None:
    """Catalogue into the shop, then the order flow's feeds start (the first drain reads the window)."""
    await sync_flow(engine.runners[f"catalogue-{shop}"])
    await engine.ensure_initial_sync()


async def drain_orders(engine: Engine, shop: str = "shop") -> None:
    await engine.drain(engine.order_flows[f"orders-{shop}"].flow)


async def test_shop_orders_become_one_sale_each_even_when_seen_again(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, state_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        placed = sandbox_shop.place_orders(3)
        await drain_orders(engine)
        flow = engine.order_flows["orders-shop"].flow
        for order in placed:
            if status_name(order["status"]) not in flow.orders.import_statuses:
                continue
            sales = await sales_by_reference(tryton_server, f"WEB-{order['number']}")
            assert len(sales) == 1, f"order {order['number']} has {len(sales)} sales"
            assert sales[0]["state"] in ("confirmed", "processing")
        imported = [o for o in placed if status_name(o["status"]) in flow.orders.import_statuses]
        assert imported, "the shopper placed no importable order"

        # the same orders again (a duplicate webhook, a poll, the sliding window) and a lost link
        keys = [str(o["id"]) for o in imported]
        await engine.store.enqueue(flow.name, "order", keys, reason="webhook")
        lost = imported[0]
        async with engine.store._db.engine.begin() as conn:  # a crash between sale creation and link commit
            from sqlalchemy import delete

            from emporion.state.tables import link

            await conn.execute(
                delete(link).where(link.c.flow == flow.name, link.c.source_key == str(lost["id"]))
            )
        await drain_orders(engine)
        for order in imported:
            assert len(await sales_by_reference(tryton_server, f"WEB-{order['number']}")) == 1
        assert engine.processed["matched"] >= 1


async def test_two_workers_and_one_new_customer_make_one_party(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with (
        running_engine(settings, worker="w1") as first,
        running_engine(settings, worker="w2") as second,
    ):
        await start(first)
        shop = shop_api(sandbox_shop)
        product = next(
            p for p in shop.get("/products", params={"per_page": 50}).json() if p["type"] == "simple"
        )
        email = "new.customer@example.org"
        billing = {
            "first_name": "Nina",
            "last_name": "Neu",
            "email": email,
            "country": "DE",
            "city": "Berlin",
        }
        body = {
            "billing": {**billing, "address_1": "Unter den Linden 1", "postcode": "10117"},
            "line_items": [{"product_id": product["id"], "quantity": 1}],
            "set_paid": True,
            "payment_method": "stripe",
        }
        one, two = shop.post("/orders", json=body).json(), shop.post("/orders", json=body).json()
        flow = first.order_flows["orders-shop"].flow
        await first.store.enqueue(flow.name, "order", [str(one["id"])], reason="webhook")
        await second.store.enqueue(flow.name, "order", [str(two["id"])], reason="webhook")
        for _ in range(20):  # both workers at the same moment, then until both orders are done
            await asyncio.gather(first.work(flow), second.work(flow))
            if len(await sales_by_reference(tryton_server, f"WEB-{two['number']}")) and len(
                await sales_by_reference(tryton_server, f"WEB-{one['number']}")
            ):
                break
            await asyncio.sleep(0.5)
        parties = await tryton_server.rpc(
            "party.contact_mechanism", "search_read", [("value", "=", email)], 0, None, None, ["party"]
        )
        assert len({row["party"] for row in parties}) == 1
        sale_one = (await sales_by_reference(tryton_server, f"WEB-{one['number']}"))[0]
        sale_two = (await sales_by_reference(tryton_server, f"WEB-{two['number']}"))[0]
        assert sale_one["party"] == sale_two["party"]


async def test_unknown_sku_is_a_dead_letter_and_shortage_holds_the_order(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch, shortage="hold")
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        shop = shop_api(sandbox_shop)
        shop_only = shop.post(
            "/products", json={"name": "Shop only", "sku": "SHOP-ONLY-1", "regular_price": "3.00"}
        ).json()
        simple = next(
            p
            for p in shop.get("/products", params={"per_page": 50}).json()
            if p["type"] == "simple" and p["sku"].startswith("SKU-")
        )
        unknown = place_order(shop, "ab@example.org", shop_only["id"], 1, set_paid=True)
        too_many = place_order(shop, "ab@example.org", simple["id"], 5000, status="processing")
        flow = engine.order_flows["orders-shop"].flow
        await engine.store.enqueue(
            flow.name, "order", [str(unknown["id"]), str(too_many["id"])], reason="webhook"
        )
        await drain_orders(engine)
        (dead,) = await engine.store.list_dead(flow=flow.name)
        assert dead.key == str(unknown["id"]) and dead.field == "lines[0].sku"
        assert f"order {unknown['number']} line" in (dead.record or "") and "SHOP-ONLY-1" in dead.reason
        held = shop.get(f"/orders/{too_many['id']}").json()
        assert held["status"] == "on-hold"
        notes = shop.get(f"/orders/{too_many['id']}/notes").json()
        assert any("not enough stock" in note["note"] for note in notes)
        assert await sales_by_reference(tryton_server, f"WEB-{too_many['number']}") == []


async def admin_action(tryton: RunningTryton, action: Any, *args: Any) -> Any:
    client = tryton.admin()
    try:
        return await action(client, *args)
    finally:
        await client.close()


async def test_erp_progress_reaches_the_shop_and_cancellations_go_both_ways(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    shop = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        placed = [o for o in sandbox_shop.place_orders(6) if o["status"] in ("processing", "on-hold")]
        assert len(placed) >= 3, "the shopper placed too few importable orders"
        await drain_orders(engine)
        shipped, cancelled_in_erp, cancelled_in_shop = placed[:3]

        # shipped in Tryton with a tracking number, invoice posted -> completed, one note, meta data
        await admin_action(tryton_server, erp_orders.ship_sale, f"WEB-{shipped['number']}", "JJD000123", None)
        await admin_action(tryton_server, erp_orders.post_invoices, f"WEB-{shipped['number']}")
        await drain_orders(engine)
        order = shop.get(f"/orders/{shipped['id']}").json()
        assert order["status"] == "completed"
        meta = {m["key"]: m["value"] for m in order["meta_data"]}
        assert meta["tracking_number"] == "JJD000123" and meta.get("invoice_number")
        assert meta["tracking_carrier"] == "DHL"
        notes = shop.get(f"/orders/{shipped['id']}/notes").json()
        tracking = [n for n in notes if "JJD000123" in n["note"]]
        assert len(tracking) == 1 and tracking[0]["customer_note"] is True
        await engine.store.enqueue(engine.order_flows["orders-shop"].flow.name, "sale", [], reason="noop")
        await drain_orders(engine)
        assert (
            len([n for n in shop.get(f"/orders/{shipped['id']}/notes").json() if "JJD000123" in n["note"]])
            == 1
        )

        # cancelled in Tryton -> cancelled in the shop
        await admin_action(tryton_server, erp_orders.cancel_sale, f"WEB-{cancelled_in_erp['number']}")
        await drain_orders(engine)
        assert shop.get(f"/orders/{cancelled_in_erp['id']}").json()["status"] == "cancelled"

        # cancelled in the shop before shipping -> the sale is cancelled (a processing sale in Tryton:
        # all its shipments cancelled, which reads back as cancelled)
        shop.put(f"/orders/{cancelled_in_shop['id']}", json={"status": "cancelled"})
        await drain_orders(engine)
        (sale,) = await sales_by_reference(tryton_server, f"WEB-{cancelled_in_shop['number']}")
        (read_back,) = await engine.order_flows["orders-shop"].target.read("order", [str(sale["id"])])
        assert read_back.status is OrderStatus.CANCELLED

        # cancelled in the shop after shipping -> an alert, the sale stays
        shop.put(f"/orders/{shipped['id']}", json={"status": "cancelled"})
        await drain_orders(engine)
        (sale,) = await sales_by_reference(tryton_server, f"WEB-{shipped['number']}")
        assert sale["state"] != "cancelled"
        flow = engine.order_flows["orders-shop"].flow
        journal = await engine.store.journal_for(flow.name, "order", str(shipped["id"]))
        assert any(entry.action == "alert" for entry in journal)


async def test_refunds_go_both_ways(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    shop = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        placed = [o for o in sandbox_shop.place_orders(6) if o["status"] in ("processing", "on-hold")]
        await drain_orders(engine)
        from_shop, from_erp = placed[:2]

        # a partial refund with restock in the shop -> return sale + credit note in Tryton, once
        line = from_shop["line_items"][0]
        shop.post(
            f"/orders/{from_shop['id']}/refunds",
            json={
                "amount": line["total"],
                "api_refund": False,
                "api_restock": True,
                "line_items": [{"id": line["id"], "quantity": 1, "refund_total": line["total"]}],
            },
        )
        await drain_orders(engine)
        await engine.store.enqueue(
            engine.order_flows["orders-shop"].flow.name, "order", [str(from_shop["id"])], reason="again"
        )
        await drain_orders(engine)
        returns = await tryton_server.rpc(
            "sale.sale",
            "search_read",
            [("reference", "like", f"WEB-{from_shop['number']}/R%")],
            0,
            None,
            None,
            ["state"],
        )
        assert len(returns) == 1

        # a return processed in Tryton -> a shop refund that pays nothing out
        await admin_action(
            tryton_server, erp_orders.ship_sale, f"WEB-{from_erp['number']}", "JJD000999", None
        )
        await admin_action(
            tryton_server, erp_orders.return_sale, f"WEB-{from_erp['number']}", None, Decimal("5.00")
        )
        await drain_orders(engine)
        refunds = shop.get(f"/orders/{from_erp['id']}/refunds").json()
        assert len(refunds) == 1 and refunds[0]["amount"] == "5.00"
        assert refunds[0]["refunded_payment"] is False


async def test_an_order_the_erp_has_not_taken_lowers_the_other_shops_stock_at_once(
    tryton_server: RunningTryton, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxShop.serve(db=":memory:") as first, SandboxShop.serve(db=":memory:") as second:
        settings = settings_for(tryton_server, {"one": first, "two": second}, sqlite_url, monkeypatch)
        async with running_engine(settings, worker="w1") as engine:
            await start(engine, "one")
            await start(engine, "two")
            one, two = shop_api(first), shop_api(second)
            product = next(
                p
                for p in one.get("/products", params={"per_page": 50}).json()
                if p["type"] == "simple" and p["stock_quantity"]
            )
            before = next(p for p in two.get("/products", params={"sku": product["sku"]}).json())
            order = place_order(one, "cd@example.org", product["id"], 1, set_paid=True)
            flow = engine.order_flows["orders-one"].flow
            # another worker is creating this customer: the order waits, its stock is already reserved
            assert (
                await engine.store.claim_link(flow.name, "customer", "cd@example.org", owner="other") is None
            )
            await engine.store.enqueue(flow.name, "order", [str(order["id"])], reason="webhook")
            await engine.work(flow)
            assert await sales_by_reference(tryton_server, f"WEB-{order['number']}") == []
            await engine.work(engine.runners["catalogue-two"].flow)
            after = next(p for p in two.get("/products", params={"sku": product["sku"]}).json())
            assert after["stock_quantity"] == before["stock_quantity"] - 1


async def test_orders_placed_before_the_flow_started_come_in_through_the_sliding_window(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        await sync_flow(engine.runners["catalogue-shop"])
        earlier = [
            o for o in sandbox_shop.place_orders(3) if o["status"] in ("processing", "on-hold", "completed")
        ]
        await engine.ensure_initial_sync()  # the order feed starts now; the window looks back 30 days
        await drain_orders(engine)
        for order in earlier:
            assert len(await sales_by_reference(tryton_server, f"WEB-{order['number']}")) == 1


async def test_reject_policy_cancels_the_shop_order_with_a_note(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch, shortage="reject")
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        shop = shop_api(sandbox_shop)
        simple = next(
            p for p in shop.get("/products", params={"per_page": 50}).json() if p["type"] == "simple"
        )
        order = place_order(shop, "rj@example.org", simple["id"], 9000, status="processing")
        flow = engine.order_flows["orders-shop"].flow
        await engine.store.enqueue(flow.name, "order", [str(order["id"])], reason="webhook")
        await drain_orders(engine)
        assert shop.get(f"/orders/{order['id']}").json()["status"] == "cancelled"
        assert any("Rejected" in n["note"] for n in shop.get(f"/orders/{order['id']}/notes").json())
        assert await sales_by_reference(tryton_server, f"WEB-{order['number']}") == []
        assert await engine.store.reserved([simple["sku"]]) == {}


async def test_a_customer_the_erp_refuses_is_a_dead_letter_and_its_retry_after_the_fix_makes_one_sale(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        flow = engine.order_flows["orders-shop"].flow
        # the ERP administrator takes away the right to create parties (an access rule for everyone)
        (rule,) = await tryton_server.rpc(
            "ir.model.access",
            "create",
            [{"model": "party.party", "perm_read": True, "perm_write": True, "perm_create": False}],
        )
        placed = [
            o for o in sandbox_shop.place_orders(3) if status_name(o["status"]) in flow.orders.import_statuses
        ]
        assert placed, "the shopper placed no importable order"
        await engine.store.enqueue(flow.name, "order", [str(o["id"]) for o in placed], reason="webhook")
        await drain_orders(engine)

        dead = {letter.key: letter for letter in await engine.store.list_dead(flow=flow.name)}
        assert set(dead) == {str(o["id"]) for o in placed}
        for order in placed:
            letter = dead[str(order["id"])]
            assert letter.field == "customer" and letter.record == f"order {order['number']}"
            assert "refused the customer" in letter.reason and "Party" in letter.reason
            assert await sales_by_reference(tryton_server, f"WEB-{order['number']}") == []
        emails = [o["billing"]["email"].strip().lower() for o in placed]
        assert await engine.store.get_links(flow.name, "customer", emails) == {}  # no claim left behind

        await tryton_server.rpc("ir.model.access", "delete", [rule])  # the administrator fixes the rights
        ids = [letter.id for letter in dead.values()]
        assert sorted((await dead_letters.retry(engine.store, ids)).done) == sorted(ids)
        await drain_orders(engine)
        for order in placed:
            (sale,) = await sales_by_reference(tryton_server, f"WEB-{order['number']}")
            assert sale["state"] in ("confirmed", "processing")
        assert await engine.store.list_dead(flow=flow.name) == []


async def test_stock_the_shop_restores_on_a_cancellation_is_set_back_to_the_erps(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merchant cancels a sale in Tryton: the ERP's stock comes back and reaches the shop first,
    then the shop restocks the order's units on top when it hears of the cancellation. The shop's figure
    is not one emporion wrote, so the order's SKUs are written again even though the ERP's did not move.
    """
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    shop = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        catalogue = engine.runners["catalogue-shop"]
        flow = engine.order_flows["orders-shop"].flow
        product = next(
            p
            for p in shop.get("/products", params={"per_page": 50}).json()
            if p["type"] == "simple" and (p["stock_quantity"] or 0) > 2
        )
        billing = {"first_name": "Rita", "last_name": "Storno", "email": "rs@example.org", "country": "DE"}
        address = {"address_1": "Hauptstr. 1", "postcode": "10117", "city": "Berlin"}
        order = place_order(
            shop, "", product["id"], 2, billing={**billing, **address}, set_paid=True, payment_method="stripe"
        )
        await engine.store.enqueue(flow.name, "order", [str(order["id"])], reason="webhook")
        await drain_orders(engine)
        assert len(await sales_by_reference(tryton_server, f"WEB-{order['number']}")) == 1
        await engine.drain(catalogue.flow)
        assert (await verify_flow(catalogue)).clean
        in_erp = shop.get(f"/products/{product['id']}").json()["stock_quantity"]

        await admin_action(tryton_server, erp_orders.cancel_sale, f"WEB-{order['number']}")
        await engine.drain(catalogue.flow)  # the ERP's stock, two units up, reaches the shop
        assert shop.get(f"/products/{product['id']}").json()["stock_quantity"] == in_erp + 2
        await drain_orders(engine)  # the cancellation reaches the shop, which restocks two more
        assert shop.get(f"/orders/{order['id']}").json()["status"] == "cancelled"
        assert shop.get(f"/products/{product['id']}").json()["stock_quantity"] == in_erp + 4

        await engine.store.enqueue(flow.name, "order", [str(order["id"])], reason="webhook")
        await drain_orders(engine)
        await engine.drain(catalogue.flow)
        assert shop.get(f"/products/{product['id']}").json()["stock_quantity"] == in_erp + 2
        assert (await verify_flow(catalogue)).clean


async def test_run_once_does_the_work_one_flow_queues_for_another(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The order flow, drained after the catalogue flow, queues the ordered products for the catalogue
    # flow (their stock moved): `run --once` goes round the flows until none has work left, so that a
    # verify afterwards compares a shop that holds everything
    from emporion.cli.processes import _work_until_idle

    settings = settings_for(tryton_server, {"shop": sandbox_shop}, state_url, monkeypatch)
    async with running_engine(settings, worker="w1") as engine:
        await _work_until_idle(engine)
        placed = sandbox_shop.place_orders(2)
        await _work_until_idle(engine)
        for order in placed:
            assert await sales_by_reference(tryton_server, f"WEB-{order['number']}"), order["number"]
        depth = await engine.store.queue_depth("catalogue-shop")
        assert sum(depth.values()) == 0, depth
        report = await verify_flow(engine.runners["catalogue-shop"])
        assert report.clean, [(e.entity, e.linked, e.source_count, e.mismatches[:2]) for e in report.entities]
