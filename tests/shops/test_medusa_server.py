"""A real Medusa v2 (tests/fixtures/medusa.py) behaves as the Medusa preset expects: the record of 2.21.

Each test talks to the session's server the way emporion will: Admin API with the secret key, Store
API with the publishable key for orders.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.fixtures.medusa import (
    SCRIPT,
    SHIPPING_PRICE,
    RunningMedusa,
    _free_port,
    _wait_until_up,
    admin,
    create_product,
    get,
    place_order,
    post,
    stock_of,
    variant_by_sku,
)
from tests.shops.server_support import dying_server

CENT = Decimal("0.01")
FULFILLMENT_FIELDS = "+fulfillment_status,*fulfillments,*fulfillments.labels"
ORDER_FIELDS = (
    "+email,*items,*shipping_methods,*payment_collections,*payment_collections.payments,*fulfillments"
)


def _sku(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3).upper()}"


async def test_admin_api_lists_products_with_the_secret_key_as_basic_auth(medusa: RunningMedusa) -> None:
    await create_product(medusa, _sku("LIST"), "Listed mug", Decimal("9.99"), 3)
    async with admin(medusa) as client:
        page = await get(client, "/admin/products", limit=1, offset=0)
    assert page["count"] >= 1 and len(page["products"]) == 1 and page["limit"] == 1
    async with httpx.AsyncClient(base_url=medusa.url) as anonymous:
        assert (await anonymous.get("/admin/products")).status_code == 401
        bearer = await anonymous.get(
            "/admin/products", headers={"authorization": f"Bearer {medusa.secret_key}"}
        )
    assert bearer.status_code == 401 and "Basic" in bearer.json()["message"]


async def test_a_created_product_reads_back_with_price_and_stock(medusa: RunningMedusa) -> None:
    sku = _sku("TEE")
    product = await create_product(
        medusa,
        sku,
        "Shirt",
        Decimal("19.90"),
        5,
        variants=[
            {"sku": f"{sku}-S", "value": "S"},
            {"sku": f"{sku}-M", "value": "M", "price": Decimal("21.50"), "stock": 7},
        ],
    )
    prices = {
        v["sku"]: [p["amount"] for p in v["prices"] if p["currency_code"] == "eur"]
        for v in product["variants"]
    }
    assert prices == {f"{sku}-S": [Decimal("19.9")], f"{sku}-M": [Decimal("21.5")]}
    assert all(v["manage_inventory"] for v in product["variants"])
    assert await stock_of(medusa, f"{sku}-S") == 5
    assert await stock_of(medusa, f"{sku}-M") == 7
    assert (await variant_by_sku(medusa, f"{sku}-M"))["product_id"] == product["id"]


async def test_an_order_from_the_store_api_appears_in_the_admin_api(medusa: RunningMedusa) -> None:
    sku = _sku("MUG")
    product = await create_product(medusa, sku, "Mug", Decimal("12.34"), 10)
    placed = await place_order(medusa, "erika@example.test", [(product["variants"][0]["id"], 2)])
    async with admin(medusa) as client:
        listed = await get(client, "/admin/orders", fields="id,email", limit=50, order="-created_at")
        order = (await get(client, f"/admin/orders/{placed['id']}", fields=ORDER_FIELDS))["order"]
    assert placed["id"] in [o["id"] for o in listed["orders"]]
    assert order["email"] == "erika@example.test"
    assert [(i["variant_sku"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        (sku, 2, Decimal("12.34"))
    ]
    assert order["item_subtotal"] == Decimal("24.68") and order["shipping_subtotal"] == SHIPPING_PRICE
    # Medusa keeps tax unrounded (19% of 29.58 = 5.6202): whoever shows cents rounds them
    assert order["tax_total"] == (Decimal("24.68") + SHIPPING_PRICE) * Decimal("0.19") == Decimal("5.6202")
    assert order["total"] == order["item_subtotal"] + order["shipping_subtotal"] + order["tax_total"]
    assert order["total"].quantize(CENT) == Decimal("35.20")
    assert order["status"] == "pending" and order["payment_status"] == "authorized"
    assert order["fulfillment_status"] == "not_fulfilled"
    assert await stock_of(medusa, sku) == 10  # stock falls at fulfillment; the order only reserves


async def test_a_fulfillment_with_tracking_is_created_and_shipped(medusa: RunningMedusa) -> None:
    product = await create_product(medusa, _sku("CAP"), "Cap", Decimal("15.00"), 4)
    placed = await place_order(medusa, "max@example.test", [(product["variants"][0]["id"], 1)])
    label = {
        "tracking_number": "00340434161094000001",
        "tracking_url": "https://track.example/1",
        "label_url": "https://label.example/1",
    }
    items = [{"id": item["id"], "quantity": item["quantity"]} for item in placed["items"]]
    async with admin(medusa) as client:
        await post(
            client,
            f"/admin/orders/{placed['id']}/fulfillments",
            {"items": items, "location_id": medusa.stock_location_id},
        )  # 2.21 refuses labels here: they come with the shipment
        fulfilled = (await get(client, f"/admin/orders/{placed['id']}", fields=FULFILLMENT_FIELDS))["order"]
        fulfillment = fulfilled["fulfillments"][0]
        assert fulfilled["fulfillment_status"] == "fulfilled"
        assert fulfillment["labels"] == [] and fulfillment["shipped_at"] is None
        await post(
            client,
            f"/admin/orders/{placed['id']}/fulfillments/{fulfillment['id']}/shipments",
            {"items": items, "labels": [label]},
        )
        shipped = (await get(client, f"/admin/orders/{placed['id']}", fields=FULFILLMENT_FIELDS))["order"]
    assert shipped["fulfillment_status"] == "shipped" and shipped["fulfillments"][0]["shipped_at"] is not None
    assert [(lb["tracking_number"], lb["tracking_url"]) for lb in shipped["fulfillments"][0]["labels"]] == [
        (label["tracking_number"], label["tracking_url"])
    ]
    assert await stock_of(medusa, product["variants"][0]["sku"]) == 3


async def test_a_captured_payment_is_partly_refunded(medusa: RunningMedusa) -> None:
    product = await create_product(medusa, _sku("BAG"), "Bag", Decimal("40.00"), 2)
    placed = await place_order(medusa, "lena@example.test", [(product["variants"][0]["id"], 1)])
    async with admin(medusa) as client:
        order = (await get(client, f"/admin/orders/{placed['id']}", fields=ORDER_FIELDS))["order"]
        assert order["payment_status"] == "authorized"
        payment = order["payment_collections"][0]["payments"][0]
        assert payment["amount"] == order["total"]
        captured = (await post(client, f"/admin/payments/{payment['id']}/capture", {}))["payment"]
        assert captured["captured_at"] is not None
        refunded = await post(
            client, f"/admin/payments/{payment['id']}/refund", {"amount": Decimal("10.00"), "note": "scratch"}
        )
        assert [r["amount"] for r in refunded["payment"]["refunds"]] == [Decimal("10")]
        after = (await get(client, f"/admin/orders/{placed['id']}", fields="*payment_collections"))["order"]
    assert after["payment_status"] == "partially_refunded"
    assert after["payment_collections"][0]["refunded_amount"] == Decimal("10")


async def test_catalogue_writes_and_incremental_reads(medusa: RunningMedusa) -> None:
    sku = _sku("SOCK")
    product = await create_product(medusa, sku, "Socks", Decimal("5.00"), 1)
    variant = product["variants"][0]
    item_id = variant["inventory_items"][0]["inventory_item_id"]
    async with admin(medusa) as client:
        since = max(variant["updated_at"], product["updated_at"])  # ISO times in UTC sort as text
        path = f"/admin/products/{product['id']}/variants/{variant['id']}"
        await post(client, path, {"prices": [{"currency_code": "eur", "amount": Decimal("5.95")}]})
        await post(
            client,
            f"/admin/inventory-items/{item_id}/location-levels/{medusa.stock_location_id}",
            {"stocked_quantity": 9},
        )
        newer = {"updated_at[$gt]": since}
        products = await get(client, "/admin/products", fields="id", **newer)
        variants = await get(client, "/admin/product-variants", fields="id", **newer)
        by_sku = await get(client, "/admin/product-variants", sku=sku, fields="id,sku,*prices")
        first = await get(client, "/admin/products", limit=1, offset=0, order="created_at")
        second = await get(client, "/admin/products", limit=1, offset=1, order="created_at")
        levels = [
            {"inventory_item_id": item_id, "location_id": medusa.stock_location_id, "stocked_quantity": 11}
        ]
        await post(client, "/admin/inventory-items/location-levels/batch", {"update": levels})
        body = {"title": f"Twice {sku}", "options": [{"title": "Default", "values": ["Default"]}]}
        once = await client.post("/admin/products", json=body, headers={"Idempotency-Key": sku})
        again = await client.post("/admin/products", json=body, headers={"Idempotency-Key": sku})
    # a price change dates the variant, never its product; a stock change dates only the inventory level
    assert product["id"] not in [p["id"] for p in products["products"]]
    assert variant["id"] in [v["id"] for v in variants["variants"]]
    assert [(v["sku"], [p["amount"] for p in v["prices"]]) for v in by_sku["variants"]] == [
        (sku, [Decimal("5.95")])
    ]
    assert (
        first["count"] == second["count"] >= 2 and first["products"][0]["id"] != second["products"][0]["id"]
    )
    assert await stock_of(medusa, sku) == 11
    # no idempotency for HTTP writes: the same key runs the write again (the handle then clashes)
    assert (
        once.status_code == 200 and again.status_code == 400 and "already exists" in again.json()["message"]
    )


def test_a_server_that_dies_at_start_fails_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "medusa.log"
    dying = dying_server(log, "console.log('Error: relation product does not exist'); process.exit(3)")
    with pytest.raises(pytest.fail.Exception, match=r"exit code 3[\s\S]*relation product does not exist"):
        _wait_until_up(f"http://127.0.0.1:{_free_port()}", dying, log)


def test_the_prepare_script_is_quick_once_done(medusa: RunningMedusa) -> None:
    started = time.monotonic()
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120, check=True)
    elapsed = time.monotonic() - started
    cache = Path(done.stdout.splitlines()[-1])
    assert elapsed < 10 and (cache / "node_modules" / ".bin" / "medusa").exists()
    assert cache.name.startswith("medusa-") and not cache.is_relative_to(SCRIPT.parents[1])
