"""Shop orders into Odoo and Odoo's progress back, end to end: the dev kit's Odoo sandbox (18 over
JSON-RPC, 19 over JSON-2), the WooCommerce sandbox, the engine on a real state database.

Shop orders become exactly one sale.order each (also when seen again or when their link was lost),
with one partner per customer; the stock Odoo reserves for them reaches the shop; shipments with
tracking, invoice numbers, cancellations both ways, refunds and credit notes travel as with Tryton
(tests/integration/test_order_flow.py); `emporion run` SIGKILLed during intake loses and duplicates
no order and makes no second partner.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from emporion.engine.sync import verify_flow
from emporion_devkit.demo import odoo_config
from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration import odoo_erp_support as odoo_support
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.odoo_erp_support import OdooErp
from tests.integration.odoo_order_support import (
    POLL,
    all_in_odoo,
    assert_one_sale_each,
    drain_orders,
    order_settings,
    sale_references,
    start,
)
from tests.integration.process_support import EmporionProcess


@pytest.fixture(params=["18-jsonrpc", "19-json2"])
def odoo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OdooErp]:
    """The Odoo sandbox per API mode: Odoo 18 over JSON-RPC, Odoo 19 over JSON-2."""
    version, api = str(request.param).split("-")
    with odoo_support.odoo_erp(tmp_path, int(version), api) as erp:
        yield erp


async def test_orders_become_one_sale_order_each_with_one_partner_per_customer(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sale.order per order and one partner per e-mail, also when seen again; stock reserved."""
    settings = order_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        products = odoo_support.shop_products(api)
        returning = "stamm.kunde@example.org"
        placed = [
            odoo_support.order_for(api, products, 0, email=returning),
            odoo_support.order_for(api, products, 1),
            odoo_support.order_for(api, products, 2, email=returning.upper()),  # the same customer
        ]
        await drain_orders(engine)
        assert_one_sale_each(odoo, placed)
        (partner,) = odoo_support.partners(odoo, returning)
        first, _, third = (odoo_support.sale(odoo, odoo_support.reference(o)) for o in placed)
        assert first["partner_id"][0] == third["partner_id"][0] == partner["id"]
        assert len(odoo_support.partners(odoo, "kunde1@example.org")) == 1

        # seen again (a webhook, the sliding window) and a link lost in a crash: matched, never twice
        flow = engine.order_flows[odoo_config.ORDER_FLOW].flow
        await engine.store.enqueue(flow.name, "order", [str(o["id"]) for o in placed], reason="again")
        async with engine.store._db.engine.begin() as conn:
            from sqlalchemy import delete

            from emporion.state.tables import link

            await conn.execute(
                delete(link).where(link.c.flow == flow.name, link.c.source_key == str(placed[1]["id"]))
            )
        await drain_orders(engine)
        assert_one_sale_each(odoo, placed)
        assert len(odoo_support.partners(odoo, returning)) == 1
        assert engine.processed["matched"] >= 1
        assert await engine.store.list_dead(flow=flow.name) == []

        # the stock Odoo reserved for the sales reaches the shop as available to promise
        await engine.drain(engine.runners[odoo_config.CATALOGUE_FLOW].flow)
        for sku in {item["sku"] for order in placed for item in order["line_items"]}:
            shown = (odoo_support.by_sku(api, sku) or {}).get("stock_quantity")
            assert shown == odoo_support.free_quantity(odoo, sku), sku
        report = await verify_flow(engine.runners[odoo_config.CATALOGUE_FLOW])
        assert report.clean, [(e.entity, e.failed, e.mismatches[:2], e.missing) for e in report.entities]


async def test_shipment_invoice_and_cancellations_travel_both_ways(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracking and invoice number reach the shop once; cancellations go both ways; a shipped one alerts."""
    settings = order_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        products = odoo_support.shop_products(api)
        shipped, cancelled_in_odoo, cancelled_in_shop = (
            odoo_support.order_for(api, products, n) for n in range(3)
        )
        await drain_orders(engine)
        flow = engine.order_flows[odoo_config.ORDER_FLOW].flow

        # shipped in Odoo with a tracking number, invoiced and posted -> completed, one note, meta data
        sale = odoo_support.sale(odoo, odoo_support.reference(shipped))
        odoo.sandbox.ship(sale["id"], "JJD000123")
        invoice = odoo.sandbox.invoice(sale["id"])
        (posted,) = odoo.sandbox.search_read("account.move", [("id", "=", invoice)], ["name"])
        await drain_orders(engine)
        order = api.get(f"/orders/{shipped['id']}").json()
        assert order["status"] == "completed"
        meta = {m["key"]: m["value"] for m in order["meta_data"]}
        assert meta["tracking_number"] == "JJD000123"
        assert meta["tracking_carrier"] == odoo_config.CARRIER
        assert meta.get("invoice_number") == posted["name"]
        notes = api.get(f"/orders/{shipped['id']}/notes").json()
        tracking = [n for n in notes if "JJD000123" in n["note"]]
        assert len(tracking) == 1 and tracking[0]["customer_note"] is True
        await engine.store.enqueue(flow.name, "sale", [str(sale["id"])], reason="again")
        await drain_orders(engine)
        notes = api.get(f"/orders/{shipped['id']}/notes").json()
        assert len([n for n in notes if "JJD000123" in n["note"]]) == 1

        # cancelled in Odoo (the cancel wizard) -> cancelled in the shop
        odoo.sandbox.cancel_sale(odoo_support.sale(odoo, odoo_support.reference(cancelled_in_odoo))["id"])
        await drain_orders(engine)
        assert api.get(f"/orders/{cancelled_in_odoo['id']}").json()["status"] == "cancelled"

        # cancelled in the shop before shipping -> the sale is cancelled in Odoo
        api.put(f"/orders/{cancelled_in_shop['id']}", json={"status": "cancelled"})
        await drain_orders(engine)
        assert odoo_support.sale(odoo, odoo_support.reference(cancelled_in_shop))["state"] == "cancel"

        # cancelled in the shop after shipping -> an alert, the sale stays
        api.put(f"/orders/{shipped['id']}", json={"status": "cancelled"})
        await drain_orders(engine)
        assert odoo_support.sale(odoo, odoo_support.reference(shipped))["state"] != "cancel"
        journal = await engine.store.journal_for(flow.name, "order", str(shipped["id"]))
        assert any(entry.action == "alert" for entry in journal)


async def test_refunds_and_credit_notes_go_both_ways(
    odoo: OdooErp, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop refund is one credit note and one return in Odoo; an Odoo credit note is a shop refund."""
    settings = order_settings(odoo, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await start(engine)
        products = odoo_support.shop_products(api)
        from_shop, from_odoo = (odoo_support.order_for(api, products, n) for n in range(2))
        await drain_orders(engine)
        flow = engine.order_flows[odoo_config.ORDER_FLOW].flow
        shop_sale = odoo_support.sale(odoo, odoo_support.reference(from_shop))
        odoo.sandbox.ship(shop_sale["id"], "JJD000555")
        odoo.sandbox.invoice(shop_sale["id"])
        await drain_orders(engine)

        # a partial refund with restock in the shop -> a return of the goods and a credit note, once
        line = from_shop["line_items"][0]
        api.post(
            f"/orders/{from_shop['id']}/refunds",
            json={
                "amount": line["total"],
                "api_refund": False,
                "api_restock": True,
                "line_items": [{"id": line["id"], "quantity": 1, "refund_total": line["total"]}],
            },
        )
        await drain_orders(engine)
        await engine.store.enqueue(flow.name, "order", [str(from_shop["id"])], reason="again")
        await drain_orders(engine)
        reference = odoo_support.reference(from_shop)
        notes = odoo.sandbox.search_read(
            "account.move",
            [("move_type", "=", "out_refund"), ("ref", "=like", f"{reference}/R%")],
            ["amount_total", "state"],
        )
        assert len(notes) == 1, notes
        assert Decimal(str(notes[0]["amount_total"])) == Decimal(line["total"])
        returns = odoo.sandbox.search_read(
            "stock.picking",
            [("origin", "=like", f"{reference}/R%"), ("picking_type_code", "=", "incoming")],
            ["state", "move_ids"],
        )
        assert len(returns) == 1, returns
        assert await engine.store.list_dead(flow=flow.name) == []

        # a credit note made in Odoo -> a shop refund that pays nothing out
        odoo_sale = odoo_support.sale(odoo, odoo_support.reference(from_odoo))
        odoo.sandbox.ship(odoo_sale["id"], "JJD000999")
        invoice = odoo.sandbox.invoice(odoo_sale["id"])
        odoo.sandbox.credit_note(invoice)
        await drain_orders(engine)
        refunds = api.get(f"/orders/{from_odoo['id']}/refunds").json()
        assert len(refunds) == 1 and refunds[0]["amount"] == from_odoo["total"], refunds
        assert refunds[0]["refunded_payment"] is False


KILLS = 4


async def test_sigkill_during_intake_loses_and_duplicates_no_order(
    odoo: OdooErp,
    sandbox_shop: SandboxShop,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`emporion run` killed while taking orders in, again and again: every order once, one partner each."""
    flows = [
        {**odoo_config.catalogue_flow(poll_interval=POLL), "batch_size": 5},
        {**odoo_config.order_flow(poll_interval=POLL, shortage="accept"), "batch_size": 3},
    ]
    port = free_port()
    document = odoo_support.document(odoo, sandbox_shop, pg_url, monkeypatch, flows, server_port=port)
    config = odoo_support.write_config(document, tmp_path / "emporion.yaml")
    process = EmporionProcess(config, tmp_path / "emporion.log", pg_url)
    api = shop_api(sandbox_shop)
    rng = random.Random(16)
    placed: list[dict[str, Any]] = []
    in_flight: list[int] = []  # per kill: orders placed and not in Odoo yet (intake interrupted)
    try:
        process.start()
        await process.ready()
        await odoo_support.eventually(
            lambda: anyio.to_thread.run_sync(lambda: len(odoo_support.shop_products(api)) >= 6),
            120,
            f"the initial sync\n{process.tail()}",
        )
        products = odoo_support.shop_products(api)
        for round_ in range(KILLS):
            await odoo_support.eventually(  # intake runs: what was placed so far is in Odoo
                lambda: all_in_odoo(odoo, placed), 60, f"intake after a restart\n{process.tail()}"
            )
            for _ in range(3):  # shoppers order while the engine takes orders in
                placed.append(odoo_support.order_for(api, products, len(placed)))
                await anyio.sleep(rng.uniform(0.3, 0.9))
            in_odoo = set(sale_references(odoo))
            process.kill()
            in_flight.append(len({odoo_support.reference(o) for o in placed} - in_odoo))
            placed.append(odoo_support.order_for(api, products, len(placed)))  # one while it is down
            await anyio.sleep(rng.uniform(0.05, 0.5))
            process.start()
            await process.ready()
            print(f"round {round_ + 1}: killed with {in_flight[-1]} of {len(placed) - 1} orders not in Odoo")

        wanted = {odoo_support.reference(o) for o in placed}

        await odoo_support.eventually(
            lambda: all_in_odoo(odoo, placed), 120, f"all orders in Odoo\n{process.tail()}"
        )
        await anyio.sleep(3)  # three more polls: nothing else may arrive
        assert process.stop() == 0
    finally:
        process.close()
    assert any(in_flight), "no kill landed while orders were waiting to be taken in"
    counts = sale_references(odoo)
    assert {ref: n for ref, n in counts.items() if n > 1} == {}, "orders made twice in Odoo"
    assert set(counts) == wanted, "orders lost or unexpected"
    assert_one_sale_each(odoo, placed)
    for n in range(len(placed)):  # one partner per customer, however often intake was interrupted
        assert len(odoo_support.partners(odoo, f"kunde{n}@example.org")) == 1, n
