"""Records that cannot be mapped become dead letters naming record and field; the rest of the batch goes on.

Both directions, against a real Tryton and the sandbox shop: catalogue records broken in the ERP, and
shop orders broken the ways plugins and hand edits break them (written straight into the sandbox's
store where its API would refuse them, as a real shop's database can hold them anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest

from emporion.engine.sync import sync_flow
from emporion.state import DeadLetter
from emporion_devkit.demo.erp_changes import product_by_sku, receive_stock, rename, set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, settings_for, shop_api
from tests.integration.test_catalogue_sync import all_products, simple_skus
from tests.integration.test_order_flow import drain_orders, sales_by_reference, start
from tests.integration.test_order_flow import settings_for as order_settings

pytestmark = pytest.mark.tryton


def by_key(dead: list[DeadLetter]) -> dict[str, DeadLetter]:
    return {letter.key: letter for letter in dead}


async def test_broken_catalogue_records_are_dead_letters_and_the_rest_arrives(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
"""
    no_sku, negative, absurd, garbled, control = (await simple_skus(tryton_server))[:5]
    admin = tryton_server.admin()
    try:
        templates = {no_sku: (await product_by_sku(admin, no_sku))["template"]}
        await admin.model("product.template", "write", [templates[no_sku]], {"code": None})
        await set_list_price(admin, negative, Decimal("-5.00"))
        await receive_stock(admin, absurd, Decimal(10) ** 10)
        await rename(admin, garbled, "Stuhl M\ufffd\ufffdller")  # bytes lost in a bad conversion
        await rename(admin, control, "Chair\x1b[31m red")
    finally:
        await admin.close()
    settings = settings_for(tryton_server, {"shop": sandbox_shop}, sqlite_url, flows, monkeypatch)
    async with running_engine(settings) as engine:
        report = await sync_flow(engine.runners["catalogue"])
        dead = await engine.store.list_dead(flow="catalogue", limit=100)
        links = await engine.store.get_links("catalogue", "product", [d.key for d in dead])

    assert not report.clean
    assert len(dead) == 5, [(d.record, d.field, d.reason) for d in dead]
    letters = {letter.field: letter for letter in dead}
    assert letters["sku"].reason.startswith("product has no SKU") and f"product {templates[no_sku]}" in (
        letters["sku"].record or ""
    )
    assert letters["list_price"].record == negative and "invalid price -5" in letters["list_price"].reason
    assert letters["stock"].record == absurd and "absurd stock quantity" in letters["stock"].reason
    assert letters["name"].record == garbled and "U+FFFD" in letters["name"].reason
    broken_names = [d for d in dead if d.field == "name"]
    assert len(broken_names) == 2 and {d.record for d in broken_names} == {garbled, control}
    assert any("control character U+001B" in d.reason for d in broken_names)
    assert all(d.payload for d in dead)  # the canonical record, for whoever repairs it
    assert links == {}  # nothing written for them

    shop_skus = {product["sku"] for product in all_products(shop_api(sandbox_shop))}
    assert not shop_skus & {negative, absurd, garbled, control}
    assert len(shop_skus) == report.entities[1].source_count - 5  # everything else arrived


def corrupt(shop: SandboxShop, order_id: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Change a stored order's document the way a plugin or a hand edit in the database would."""
    store = shop.sandbox.store
    found = store.get("order", order_id)
    assert found is not None
    doc, _ = found
    change(doc)
    with store.lock:
        store.db.execute('UPDATE "order" SET doc = ? WHERE id = ?', (orjson.dumps(doc).decode(), order_id))


def line(doc: dict[str, Any], **values: Any) -> None:
    doc["line_items"][0].update(values)


async def test_broken_shop_orders_are_dead_letters_and_the_good_one_becomes_a_sale(
    tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = order_settings(tryton_server, {"shop": sandbox_shop}, sqlite_url, monkeypatch)
    async with running_engine(settings) as engine:
        await start(engine)
        shop = shop_api(sandbox_shop)
        simple = [p for p in shop.get("/products", params={"per_page": 20}).json() if p["type"] == "simple"]
        no_sku = shop.post("/products", json={"name": "Shop-only mug", "regular_price": "4.00"}).json()

        def order(product_id: int, **fields: Any) -> dict[str, Any]:
            billing = {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.org",
                "address_1": "12 St James's Square",
                "city": "London",
                "postcode": "SW1Y 4LB",
                "country": "GB",
            }
            body = {
                "billing": billing | fields.pop("billing", {}),
                "line_items": [{"product_id": product_id, "quantity": 1, **fields.pop("line", {})}],
                "set_paid": True,
                "payment_method": "stripe",
                **fields,
            }
            response = shop.post("/orders", json=body)
            response.raise_for_status()
            return response.json()

        good = order(simple[0]["id"])
        cases: dict[str, tuple[dict[str, Any], str, str]] = {}  # name -> (order, field, reason part)

        def case(name: str, placed: dict[str, Any], field: str, reason: str) -> None:
            cases[name] = (placed, field, reason)

        case("missing sku", order(no_sku["id"]), "lines[0].sku", "line has no SKU")
        case(
            "tax class",
            order(simple[1]["id"], line={"tax_class": "reduced-rate"}),
            "lines[0].tax_class",
            "reduced-rate",
        )
        garbled_name = order(simple[2]["id"], billing={"first_name": "J\ufffdrg", "email": "j@example.org"})
        case("garbled name", garbled_name, "billing.first_name", "U+FFFD")
        control = order(simple[2]["id"], shipping={"address_1": "Main St 1\x00", "country": "DE"})
        case("control character", control, "shipping.street", "U+0000")
        for name, quantity, reason in (
            ("zero", 0, "absurd quantity 0"),
            ("negative", -2, "absurd quantity -2"),
            ("fractional", 1.5, "fractional quantity 1.5"),
            ("huge", 10**9, "absurd quantity 1000000000"),
        ):
            placed = order(simple[3]["id"])
            corrupt(sandbox_shop, placed["id"], lambda doc, q=quantity: line(doc, quantity=q))
            case(name, placed, "lines[0].quantity", reason)
        price = order(simple[4]["id"])
        corrupt(sandbox_shop, price["id"], lambda doc: line(doc, total="12,50 EUR"))
        case("invalid line total", price, "line_items[0].total", "not a number")
        total = order(simple[4]["id"])
        corrupt(sandbox_shop, total["id"], lambda doc: doc.update(total="-3.00"))
        case("negative total", total, "total", "invalid amount -3.00")
        item = order(simple[4]["id"])
        corrupt(sandbox_shop, item["id"], lambda doc: doc.update(line_items=[["not", "an", "object"]]))
        case("line not an object", item, "line_items[0]", "not an object")

        flow = engine.order_flows["orders-shop"].flow
        keys = [str(good["id"]), *(str(placed["id"]) for placed, _, _ in cases.values())]
        await engine.store.enqueue(flow.name, "order", keys, reason="test")
        await drain_orders(engine)
        dead = by_key(await engine.store.list_dead(flow=flow.name, limit=100))
        good_link = (await engine.store.get_links(flow.name, "order", [str(good["id"])]))[str(good["id"])]

    for name, (placed, field, reason) in cases.items():
        letter = dead.get(str(placed["id"]))
        assert letter is not None, f"{name}: no dead letter"
        assert letter.field == field, f"{name}: {letter.field} {letter.reason}"
        assert reason in letter.reason, f"{name}: {letter.reason}"
        assert f"order {placed['number']}" in (letter.record or ""), f"{name}: {letter.record}"
        assert not await sales_by_reference(tryton_server, f"WEB-{placed['number']}"), name
    assert len(dead) == len(cases)
    assert good_link.state == "synced"
    assert len(await sales_by_reference(tryton_server, f"WEB-{good['number']}")) == 1
