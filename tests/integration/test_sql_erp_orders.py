"""Shop orders into a Warenwirtschaft's import tables and its progress back, end to end.

Real MariaDB and PostgreSQL, the WooCommerce sandbox: orders land exactly once in import_auftrag and
import_position (header and lines, totals to the cent), also when they are seen again and when the
`emporion run` process is SIGKILLed during intake and started again; the ERP takes an order, ships it
with a tracking number, and the shop order shows the status, the tracking number and a note.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from emporion.config import Settings
from emporion.engine.sync import sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.wawi import erp as wawi_erp
from emporion_devkit.wawi import schema
from tests.integration import sql_erp_support as wawi
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.process_support import EmporionProcess


def order_settings(url: str, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The sample Warenwirtschaft (created here) with its import tables, a catalogue and an order flow."""
    wawi.create_sample(url)
    return wawi.settings(order_document(url, shop, state_url, monkeypatch))


def order_document(
    url: str, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The configuration as a document: both flows, polling every second."""
    return wawi.config(
        wawi.connection(url, monkeypatch, orders=True),
        wawi.shop_connection(shop, monkeypatch),
        state_url,
        [wawi.catalogue_flow(1.0), wawi.order_flow(1.0)],
    )


def shop_products(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The shop's published simple products that have stock, by SKU."""
    found = api.get("/products", params={"per_page": 100}).json()
    return {p["sku"]: p for p in found if p["type"] == "simple" and (p["stock_quantity"] or 0) > 5}


def order_for(api: httpx.Client, products: dict[str, dict[str, Any]], n: int) -> dict[str, Any]:
    """A paid order of two sample articles with shipping, by customer n (deterministic per n)."""
    skus = sorted(products)
    first, second = skus[n % len(skus)], skus[(n + 1) % len(skus)]
    body = {
        "billing": {
            "first_name": "Kunde",
            "last_name": f"Nummer {n}",
            "email": f"kunde{n}@example.org",
            "address_1": "Hauptstr. 1",
            "postcode": "10117",
            "city": "Berlin",
            "country": "DE",
        },
        "line_items": [
            {"product_id": products[first]["id"], "quantity": 1 + n % 2},
            {"product_id": products[second]["id"], "quantity": 1},
        ],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.90"}],
        "set_paid": True,
        "payment_method": "bacs",
        "status": "processing",
    }
    response = api.post("/orders", json=body)
    response.raise_for_status()
    return response.json()


def reference(order: dict[str, Any]) -> str:
    """The shop order's reference in the ERP."""
    return f"{wawi.ORDER_PREFIX}{order['number']}"


def assert_staged_once(url: str, orders: list[dict[str, Any]]) -> None:
    """Each order has exactly one header and its lines in the import tables, to the cent."""
    headers = wawi.staged_orders(url)
    counts = Counter(row["shop_referenz"] for row in headers)
    assert {ref: n for ref, n in counts.items() if n > 1} == {}, "orders staged twice"
    assert sorted(counts) == sorted(reference(o) for o in orders), "orders lost or unexpected"
    by_reference = {row["shop_referenz"]: row for row in headers}
    for order in orders:
        header = by_reference[reference(order)]
        assert isinstance(header["summe"], Decimal)
        assert header["summe"] == Decimal(order["total"]), reference(order)
        assert header["versandkosten"] == Decimal(order["shipping_total"]), reference(order)
        assert header["shop_bestellnr"] == str(order["number"])
        assert header["kunde_email"] == order["billing"]["email"]
        payments = wawi.staged_lines(url, reference(order), schema.import_zahlung)
        assert [p["betrag"] for p in payments] == [Decimal(order["total"])], reference(order)
        lines = wawi.staged_lines(url, reference(order))
        assert sorted(
            (line["artikelnr"], line["menge"], line["einzelpreis"] * line["menge"]) for line in lines
        ) == sorted(
            (item["sku"], Decimal(item["quantity"]), Decimal(item["total"])) for item in order["line_items"]
        ), reference(order)


async def drain_orders(engine: Engine) -> None:
    await engine.drain(engine.order_flows["orders"].flow)


async def test_orders_land_once_in_the_import_tables_and_shipment_with_tracking_comes_back(
    erp_db_url: str, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = order_settings(erp_db_url, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        await sync_flow(engine.runners["catalogue"])
        await engine.ensure_initial_sync()
        products = shop_products(api)
        placed = [order_for(api, products, n) for n in range(3)]
        await drain_orders(engine)
        assert_staged_once(erp_db_url, placed)

        # seen again (a webhook, the sliding window): matched by reference, never a second row
        flow = engine.order_flows["orders"].flow
        await engine.store.enqueue(flow.name, "order", [str(o["id"]) for o in placed], reason="again")
        await drain_orders(engine)
        assert_staged_once(erp_db_url, placed)
        assert await engine.store.list_dead(flow="orders") == []

        # the ERP takes the first order and ships it with a tracking number
        shipped = placed[0]
        with wawi.erp_engine(erp_db_url) as erp:
            taken = wawi_erp.take_orders(erp)
            assert sorted(taken.orders) == sorted(reference(o) for o in placed)
            wawi_erp.ship(erp, reference(shipped), "JJD0099887766", carrier="DHL")
            wawi_erp.invoice(erp, reference(shipped))
        await drain_orders(engine)
        order = api.get(f"/orders/{shipped['id']}").json()
        assert order["status"] == "completed"
        meta = {m["key"]: m["value"] for m in order["meta_data"]}
        assert meta["tracking_number"] == "JJD0099887766"
        assert meta["tracking_carrier"] == "DHL"
        notes = [n for n in api.get(f"/orders/{shipped['id']}/notes").json() if "JJD0099887766" in n["note"]]
        assert len(notes) == 1 and notes[0]["customer_note"] is True
        await drain_orders(engine)  # polled again: no second note
        again = api.get(f"/orders/{shipped['id']}/notes").json()
        assert len([n for n in again if "JJD0099887766" in n["note"]]) == 1
        for other in placed[1:]:  # taken, not shipped: the shop order is left as it was
            assert api.get(f"/orders/{other['id']}").json()["status"] == "processing"

        # the flow's maps from shop names to the ERP's reach the import tables
        methods = {
            p["zahlungsart"]
            for o in placed
            for p in wawi.staged_lines(erp_db_url, reference(o), schema.import_zahlung)
        }
        assert methods == {"Vorkasse"}, "the flow's payment_methods map bacs to the ERP's Vorkasse"


def ordered(orders: list[dict[str, Any]]) -> Counter[str]:
    """Units ordered per SKU."""
    units: Counter[str] = Counter()
    for order in orders:
        for item in order["line_items"]:
            units[item["sku"]] += int(item["quantity"])
    return units


async def test_stock_in_the_shop_is_available_to_promise_less_orders_the_erp_has_not_taken(
    erp_db_url: str, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = order_settings(erp_db_url, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings, worker="w1") as engine:
        catalogue = engine.runners["catalogue"].flow
        await sync_flow(engine.runners["catalogue"])
        await engine.ensure_initial_sync()
        products = shop_products(api)
        before = {sku: wawi.expected_stock(erp_db_url, sku) for sku in products}
        placed = [order_for(api, products, n) for n in range(2)]
        units = ordered(placed)
        await drain_orders(engine)
        await engine.drain(catalogue)  # the ordered products are written again
        for sku, quantity in units.items():  # staged, not taken: held back once (not twice)
            assert wawi.expected_stock(erp_db_url, sku) == before[sku]
            shown = (wawi.by_sku(api, sku) or {}).get("stock_quantity")
            assert shown == before[sku] - quantity, (sku, before[sku], quantity, shown)

        with wawi.erp_engine(erp_db_url) as erp:  # the ERP takes them: its own stock goes down
            wawi_erp.take_orders(erp)
        await drain_orders(engine)
        await engine.drain(catalogue)
        for sku, quantity in units.items():
            assert wawi.expected_stock(erp_db_url, sku) == before[sku] - quantity
            assert (wawi.by_sku(api, sku) or {}).get("stock_quantity") == before[sku] - quantity, sku
        report = await verify_flow(engine.runners["catalogue"])
        assert report.clean, [(e.entity, e.failed, e.mismatches[:2], e.missing) for e in report.entities]


def write_process_config(
    directory: Path, url: str, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The configuration file for `emporion run`, with its server on a free port for /healthz."""
    return wawi.write_process_config(directory, order_document(url, shop, state_url, monkeypatch))


async def catalogue_in_shop(process: EmporionProcess, api: httpx.Client) -> None:
    """Wait until `emporion run` has put the catalogue into the shop (its initial sync)."""
    await wawi.eventually(
        lambda: anyio.to_thread.run_sync(lambda: len(shop_products(api)) >= 8),
        120,
        f"the initial sync\n{process.tail()}",
    )


async def kill_during_intake(
    process: EmporionProcess,
    api: httpx.Client,
    placed: list[dict[str, Any]],
    landed: Callable[[], set[str]],
    while_down: Callable[[int], Awaitable[None]],
    *,
    kills: int,
    rng: random.Random,
) -> list[int]:
    """Rounds of shop orders placed while `emporion run` takes orders in, each ended by SIGKILL.

    Each round places three orders, kills the process within a poll of the last one, places one more
    while it is down, runs `while_down(round)` and starts it again. `placed` grows with every order;
    `landed()` gives the references the ERP holds. Per kill: how many placed orders had not landed.
    """
    products = shop_products(api)
    in_flight: list[int] = []
    for round_ in range(kills):
        for _ in range(3):  # shoppers order while the engine takes orders in
            placed.append(order_for(api, products, len(placed)))
            await anyio.sleep(rng.uniform(0.05, 0.4))
        await anyio.sleep(rng.uniform(0.0, 0.3))  # within a poll of the last order: intake under way
        held = landed()
        process.kill()
        in_flight.append(len({reference(o) for o in placed} - held))
        placed.append(order_for(api, products, len(placed)))  # one while it is down
        await while_down(round_)
        process.start()
        await process.ready()
        print(f"round {round_ + 1}: killed with {in_flight[-1]} of {len(placed) - 1} orders not landed yet")
    return in_flight


KILLS = 5


async def test_sigkill_during_intake_loses_and_duplicates_no_order(
    mariadb_url: str, sandbox_shop: SandboxShop, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wawi.create_sample(mariadb_url)
    config = write_process_config(tmp_path, mariadb_url, sandbox_shop, pg_url, monkeypatch)
    process = EmporionProcess(config, tmp_path / "emporion.log", pg_url)
    api = shop_api(sandbox_shop)
    rng = random.Random(15)
    placed: list[dict[str, Any]] = []
    try:
        process.start()
        await process.ready()
        await catalogue_in_shop(process, api)

        def staged() -> set[str]:
            return {row["shop_referenz"] for row in wawi.staged_orders(mariadb_url)}

        async def while_down(_round: int) -> None:
            await anyio.sleep(rng.uniform(0.05, 0.5))

        in_flight = await kill_during_intake(process, api, placed, staged, while_down, kills=KILLS, rng=rng)

        async def all_staged() -> bool:
            staged = await anyio.to_thread.run_sync(wawi.staged_orders, mariadb_url)
            return {row["shop_referenz"] for row in staged} >= {reference(o) for o in placed}

        await wawi.eventually(all_staged, 120, f"all orders staged\n{process.tail()}")
        await anyio.sleep(3)  # three more polls: nothing else may arrive
        assert process.stop() == 0
    finally:
        process.close()
    assert any(in_flight), "no kill landed while orders were waiting to be taken in"
    assert_staged_once(mariadb_url, placed)
