"""The sandbox's orders answer like the recorded WooCommerce 10.0.2 shop, to the cent.

The recorded requests are replayed against a sandbox set up like the recorded shop (base DE:BE, the
recorded products, coupons and tax rates, the same tax settings); the money of every answer is compared
field by field and its shape key by key. The recorded Store API checkouts (order C) are placed through the
REST API with the same cart, as the sandbox has no Store API; their money still matches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import httpx
import pytest

from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.devkit.sandbox.support import Receiver, recording
from tests.devkit.sandbox.test_payloads import same_shape

API = "/wp-json/wc/v3"
ORDER_MONEY = (
    "discount_total", "discount_tax", "shipping_total", "shipping_tax", "cart_tax", "total", "total_tax",
    "prices_include_tax",
)  # fmt: skip
LINE_MONEY = (
    "quantity",
    "tax_class",
    "subtotal",
    "subtotal_tax",
    "total",
    "total_tax",
    "taxes",
    "price",
    "sku",
)
FEE_MONEY = ("name", "tax_class", "tax_status", "amount", "total", "total_tax", "taxes")
SHIPPING_MONEY = ("method_id", "method_title", "total", "total_tax", "taxes", "tax_status")
COUPON_MONEY = ("code", "discount", "discount_tax", "discount_type", "nominal_amount", "free_shipping")
TAX_MONEY = ("rate_code", "label", "compound", "tax_total", "shipping_tax_total", "rate_percent")
TAX_SETTINGS = {"off": ("no", "no"), "excl": ("yes", "no"), "incl": ("yes", "yes")}


class Shop:
    """A sandbox set up like the recorded shop, and the recorded product ids translated to its ids."""

    def __init__(self, client: httpx.Client, taxes: str) -> None:
        self.client = client
        self.products: dict[int, int] = {}
        self.setting("general", "woocommerce_default_country", "DE:BE")
        for exchange in recording("store-settings.json")["exchanges"]:
            request, answer = exchange["request"], exchange["response"]["body"]
            if request["method"] not in ("POST", "PUT") or "settings" in request["path"]:
                continue
            made = client.post(request["path"].removeprefix(API), json=request["body"])
            assert made.status_code == 201, made.text
            kept = {k: v for k, v in answer.items() if k != "_trimmed"}  # products were recorded trimmed
            got = {k: v for k, v in made.json().items() if k in kept or "_trimmed" not in answer}
            assert same_shape(kept, got, newer=frozenset()) == [], request["path"]
            if request["path"].endswith("/products"):
                self.products[answer["id"]] = made.json()["id"]
        calc, inclusive = TAX_SETTINGS[taxes]
        self.setting("general", "woocommerce_calc_taxes", calc)
        self.setting("tax", "woocommerce_prices_include_tax", inclusive)

    def setting(self, group: str, name: str, value: str) -> None:
        answer = self.client.put(f"/settings/{group}/{name}", json={"value": value})
        assert answer.status_code == 200 and answer.json()["value"] == value, answer.text

    def order_body(self, recorded: dict[str, Any]) -> dict[str, Any]:
        """A recorded order request with the sandbox's product ids."""
        body = json.loads(json.dumps(recorded))
        for line in body.get("line_items", []):
            line["product_id"] = self.products[line["product_id"]]
        return body

    def checkout_body(self, exchanges: list[dict[str, Any]], placed: dict[str, Any]) -> dict[str, Any]:
        """The REST order a recorded Store API checkout made: its addresses, payment and cart."""
        checkout = next(
            e["request"]["body"] for e in reversed(exchanges) if e["request"]["path"].endswith("/checkout")
        )
        methods = {"cod": "Cash on delivery", "bacs": "Direct bank transfer"}
        body = {
            "status": placed["status"],
            "created_via": "store-api",
            "payment_method": checkout["payment_method"],
            "payment_method_title": methods[checkout["payment_method"]],
            "billing": checkout["billing_address"],
            "shipping": checkout["shipping_address"],
            "customer_note": checkout.get("customer_note", ""),
            "line_items": [
                {"product_id": self.products[line["product_id"]], "quantity": line["quantity"]}
                for line in placed["line_items"]
            ],
            "shipping_lines": [
                {"method_id": "flat_rate", "method_title": "Flat rate", "instance_id": "2", "total": "4.90"}
            ],
        }
        if placed["coupon_lines"]:
            body["coupon_lines"] = [{"code": line["code"]} for line in placed["coupon_lines"]]
        return body


def money_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every money field of an order (and its lines) that differs from the recorded one, and shape drift."""
    problems = [
        f"{key}: {expected[key]!r} != {actual[key]!r}" for key in ORDER_MONEY if expected[key] != actual[key]
    ]
    for kind, keys in (
        ("line_items", LINE_MONEY),
        ("fee_lines", FEE_MONEY),
        ("shipping_lines", SHIPPING_MONEY),
        ("coupon_lines", COUPON_MONEY),
        ("tax_lines", TAX_MONEY),
    ):
        if len(expected[kind]) != len(actual[kind]):
            problems.append(f"{kind}: {len(expected[kind])} lines != {len(actual[kind])}")
            continue
        for n, (want, got) in enumerate(zip(expected[kind], actual[kind], strict=True)):
            problems += [f"{kind}[{n}].{k}: {want[k]!r} != {got[k]!r}" for k in keys if want[k] != got[k]]
    ignored = {"customer_ip_address", "customer_user_agent", "cart_hash", "meta_data"}
    shape = {k: v for k, v in expected.items() if k not in ignored}
    return problems + same_shape(
        shape, {k: v for k, v in actual.items() if k not in ignored}, newer=frozenset()
    )


@pytest.mark.parametrize("taxes", ["off", "excl", "incl"])
def test_orders_match_the_real_shop_to_the_cent(sandbox_client: httpx.Client, taxes: str) -> None:
    shop = Shop(sandbox_client, taxes)
    exchanges = recording(f"orders-taxes-{taxes}.json")["exchanges"]
    compared = 0
    for n, exchange in enumerate(exchanges):
        request, recorded = exchange["request"], exchange["response"]["body"]
        if request["method"] == "POST" and request["path"] == f"{API}/orders":
            body = shop.order_body(request["body"])
        elif request["method"] == "GET" and request["path"].startswith(f"{API}/orders/"):
            body = shop.checkout_body(exchanges[:n], recorded)  # the Store API checkout, through REST
        else:
            continue
        answer = sandbox_client.post("/orders", json=body)
        assert answer.status_code == 201, answer.text
        assert money_differences(recorded, answer.json()) == [], f"order {recorded['id']} ({taxes})"
        assert answer.json()["version"] == recorded["version"] == "10.0.2"
        compared += 1
    assert compared == 3


def test_fee_tax_and_coupon_cents_follow_the_shops_rounding(sandbox_client: httpx.Client) -> None:
    """The recorded one-cent inconsistencies of a tax-inclusive shop come out the same."""
    shop = Shop(sandbox_client, "incl")
    recorded = recording("orders-taxes-incl.json")["exchanges"]
    a = sandbox_client.post("/orders", json=shop.order_body(recorded[2]["request"]["body"])).json()
    b = sandbox_client.post("/orders", json=shop.order_body(recorded[3]["request"]["body"])).json()
    assert (a["discount_total"], a["discount_tax"]) == ("21.80", "3.21")  # 25.01 in all
    assert (a["coupon_lines"][0]["discount"], a["coupon_lines"][0]["discount_tax"]) == ("21.8", "3.2")
    fee = b["fee_lines"][0]
    assert (fee["total_tax"], fee["taxes"][0]["total"]) == ("0.47", "0.48")
    assert (b["discount_total"], b["discount_tax"]) == ("6.16", "0.83")
    assert (b["coupon_lines"][0]["discount"], b["coupon_lines"][0]["discount_tax"]) == ("6.15", "0.84")
    assert a["line_items"][0]["subtotal"] == "16.80" and a["line_items"][0]["price"] == 9.789916


def reduced_stock(order: dict[str, Any]) -> list[str | None]:
    """Each line's `_reduced_stock` meta value (None where there is none)."""
    return [
        next((m["value"] for m in line["meta_data"] if m["key"] == "_reduced_stock"), None)
        for line in order["line_items"]
    ]


def test_payment_dates_and_stock_follow_the_real_shop(sandbox_client: httpx.Client) -> None:
    shop = Shop(sandbox_client, "excl")
    exchanges = recording("orders-statuses-payment.json")["exchanges"]
    placed: dict[int, dict[str, Any]] = {}
    for n, exchange in enumerate(exchanges):
        request, recorded = exchange["request"], exchange["response"]["body"]
        if request["method"] == "POST" and request["path"] == f"{API}/orders":
            answer = sandbox_client.post("/orders", json=shop.order_body(request["body"])).json()
        elif (
            request["method"] == "GET"
            and request["path"].startswith(f"{API}/orders/")
            and "notes" not in (request["path"])
        ):
            answer = sandbox_client.post("/orders", json=shop.checkout_body(exchanges[:n], recorded)).json()
        elif request["method"] == "PUT":
            answer = sandbox_client.put(
                f"/orders/{placed[recorded['id']]['id']}", json=request["body"]
            ).json()
        else:
            continue
        assert money_differences(recorded, answer) == [], f"order {recorded['id']}"
        assert (answer["status"], answer["date_paid"] is None) == (
            recorded["status"],
            recorded["date_paid"] is None,
        )
        assert reduced_stock(answer) == reduced_stock(recorded), f"order {recorded['id']}"
        placed[recorded["id"]] = answer
    cod = placed[111]
    assert cod["status"] == "completed" and cod["date_paid"] == cod["date_completed"]
    cancelled = placed[109]
    assert cancelled["date_paid"] is not None and reduced_stock(cancelled) == [None]
    notes = [n["note"] for n in sandbox_client.get(f"/orders/{cancelled['id']}/notes").json()]
    assert any(note.startswith("Stock levels increased: Rec Standard 19 (REC-STD)") for note in notes)


def test_refunds_have_the_real_layout(sandbox_client: httpx.Client) -> None:
    shop = Shop(sandbox_client, "excl")
    exchanges = recording("order-refunds.json")["exchanges"]
    before = recording("orders-taxes-excl.json")["exchanges"][3]
    order = sandbox_client.post("/orders", json=shop.order_body(before["request"]["body"])).json()
    recorded_order = before["response"]["body"]
    lines = {
        old["id"]: new["id"]
        for kind in ("line_items", "shipping_lines", "fee_lines")
        for old, new in zip(recorded_order[kind], order[kind], strict=True)
    }
    product = shop.products[91]
    stock = sandbox_client.get(f"/products/{product}").json()["stock_quantity"]
    made = []
    for exchange in exchanges:
        request, recorded = exchange["request"], exchange["response"]["body"]
        if request["method"] != "POST":
            continue
        body = json.loads(json.dumps(request["body"]))
        for line in body.get("line_items", []):
            line["id"] = lines[line["id"]]
        answer = sandbox_client.post(f"/orders/{order['id']}/refunds", json=body)
        assert answer.status_code == 201, answer.text
        refund = answer.json()
        assert same_shape(recorded, refund, newer=frozenset()) == []
        assert "refund_total" not in json.dumps(refund)
        assert refund["amount"] == recorded["amount"]
        for kind in ("line_items", "shipping_lines", "fee_lines"):
            assert [(x["quantity"] if "quantity" in x else None, x["total"], x["total_tax"], x["taxes"])
                    for x in refund[kind]] == [
                (x["quantity"] if "quantity" in x else None, x["total"], x["total_tax"], x["taxes"])
                for x in recorded[kind]
            ]  # fmt: skip
            assert [m["value"] for x in refund[kind] for m in x["meta_data"]] == [
                str(lines[int(m["value"])]) for x in recorded[kind] for m in x["meta_data"]
            ]
        assert [{k: t[k] for k in TAX_MONEY} for t in refund["tax_lines"]] == [
            {k: t[k] for k in TAX_MONEY} for t in recorded["tax_lines"]
        ]
        made.append(refund)
    assert sandbox_client.get(f"/products/{product}").json()["stock_quantity"] == stock + 1
    after = sandbox_client.get(f"/orders/{order['id']}").json()
    recorded_after = exchanges[8]["response"]["body"]
    assert (after["status"], after["total"]) == (recorded_after["status"], recorded_after["total"])
    assert [
        {k: m["value"] for m in line["meta_data"] for k in [m["key"]]} for line in after["line_items"]
    ] == [
        {k: m["value"] for m in line["meta_data"] for k in [m["key"]]}
        for line in recorded_after["line_items"]
    ]
    assert sorted(r["total"] for r in after["refunds"]) == sorted(
        r["total"] for r in recorded_after["refunds"]
    )
    assert set(after["refunds"][0]) == {"id", "reason", "total"}
    listed_notes = sandbox_client.get(f"/orders/{order['id']}/notes").json()
    recorded_notes = exchanges[9]["response"]["body"]
    assert {n["author"] for n in listed_notes} == {n["author"] for n in recorded_notes} == {"WooCommerce"}
    notes = [n["note"] for n in listed_notes]
    assert f"Item #{product} stock increased from {stock} to {stock + 1}." in notes
    assert not any(note.startswith("Refunded") for note in notes)  # no note for money not paid out
    listed = sandbox_client.get(f"/orders/{order['id']}/refunds").json()
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in made)


def test_a_deleted_products_order_line_reads_product_0_and_sku_null(sandbox_client: httpx.Client) -> None:
    shop = Shop(sandbox_client, "excl")
    placed = recording("orders-taxes-excl.json")["exchanges"][2]
    order = sandbox_client.post("/orders", json=shop.order_body(placed["request"]["body"])).json()
    exchanges = recording("order-line-deleted-product.json")["exchanges"]
    assert money_differences(exchanges[0]["response"]["body"], order) == []
    deleted = sandbox_client.delete(f"/products/{shop.products[96]}", params={"force": "true"})
    assert deleted.status_code == 200
    for exchange in exchanges[2:]:
        recorded = exchange["response"]["body"]
        answer = sandbox_client.get(f"/orders/{order['id']}", params=exchange["request"]["query"]).json()
        assert money_differences(recorded, answer) == []
        want, got = recorded["line_items"][2], answer["line_items"][2]
        assert (got["product_id"], got["sku"], got["image"]) == (0, None, {"id": 0, "src": ""})
        assert (want["product_id"], want["sku"], want["image"]) == (0, None, {"id": 0, "src": ""})
        assert got["name"] == want["name"] and reduced_stock(answer) == reduced_stock(recorded)


def test_dates_follow_the_site_time_zone(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    exchanges = recording("order-timezone-berlin.json")["exchanges"]
    body = {k: v for k, v in exchanges[0]["request"]["body"].items() if k != "line_items"}
    utc = sandbox_client.post("/orders", json=body).json()
    product = sandbox_client.post("/products", json={"name": "Made in UTC"}).json()
    assert utc["date_created"] == utc["date_created_gmt"] and not utc["date_created"].endswith("Z")
    control = httpx.Client(
        base_url=sandbox_shop.base_url,
        auth=(sandbox_shop.consumer_key, sandbox_shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    )
    switched = control.put("/__sandbox/timezone", json={"timezone": "Europe/Berlin"})
    assert switched.json() == {"timezone": "Europe/Berlin"}
    berlin = sandbox_client.post("/orders", json=body).json()
    again = sandbox_client.get(f"/orders/{utc['id']}").json()

    def hours_ahead(order: dict[str, Any], field: str) -> float:
        local, gmt = (time.strptime(order[f], "%Y-%m-%dT%H:%M:%S") for f in (field, f"{field}_gmt"))
        return (time.mktime(local) - time.mktime(gmt)) / 3600

    recorded_berlin, recorded_again = exchanges[1]["response"]["body"], exchanges[2]["response"]["body"]
    for field in ("date_created", "date_modified", "date_paid"):
        assert hours_ahead(berlin, field) == hours_ahead(recorded_berlin, field) == 1  # December: CET
        assert hours_ahead(again, field) == hours_ahead(recorded_again, field) == 1  # re-rendered
    assert again["date_created_gmt"] == utc["date_created_gmt"]
    assert hours_ahead(sandbox_client.get(f"/products/{product['id']}").json(), "date_created") == 1
    note = sandbox_client.get(f"/orders/{berlin['id']}/notes").json()[0]
    assert hours_ahead(note, "date_created") == 1
    assert control.put("/__sandbox/timezone", json={"timezone": "Mars/Olympus"}).status_code == 400


def test_two_deliveries_of_one_webhook_in_one_second_share_a_delivery_id(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client, receiver: Receiver
) -> None:
    recorded = recording("webhooks-order-updated.json")
    shop = Shop(sandbox_client, "excl")
    created = recording("orders-taxes-excl.json")["exchanges"]
    orders = [
        sandbox_client.post("/orders", json=shop.order_body(created[n]["request"]["body"])).json()
        for n in (2, 3)
    ]
    hook_body = recorded["exchanges"][0]["request"]["body"] | {"delivery_url": receiver.url}
    webhook = sandbox_client.post("/webhooks", json=hook_body).json()
    assert webhook["hooks"] == recorded["exchanges"][0]["response"]["body"]["hooks"]
    deadline = time.monotonic() + 5
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    ping_headers, ping_body = receiver.requests[0]
    assert ping_body == f"webhook_id={webhook['id']}".encode()
    assert not [h for h in ping_headers if h.startswith("x-wc-webhook")]
    while time.time() % 1 > 0.6:  # both updates inside one second
        time.sleep(0.05)
    threads = [
        threading.Thread(
            target=sandbox_client.put,
            args=(f"/orders/{o['id']}",),
            kwargs={"json": {"customer_note": "same second"}},
        )
        for o in orders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox_shop.sandbox.webhooks.idle(10)
    time.sleep(0.1)
    deliveries = receiver.deliveries()
    assert sorted(json.loads(body)["id"] for _, body in deliveries) == sorted(o["id"] for o in orders)
    assert len({headers["x-wc-webhook-delivery-id"] for headers, _ in deliveries}) == 1
    recorded_delivery = recorded["deliveries_async"][1]
    transport = {"host", "accept", "accept-encoding", "connection", "content-length"}
    expected_headers = {k.lower() for k in recorded_delivery["headers"]} - transport
    for headers, body in deliveries:
        assert expected_headers <= set(headers)
        assert headers["user-agent"] == recorded_delivery["headers"]["User-Agent"]
        signature = base64.b64encode(
            hmac.new(b"rec-webhook-secret-1", body, hashlib.sha256).digest()
        ).decode()
        assert headers["x-wc-webhook-signature"] == signature
        assert len(headers["x-wc-webhook-delivery-id"]) == len(
            recorded_delivery["headers"]["X-WC-Webhook-Delivery-ID"]
        )
    real = json.loads(recorded_delivery["body_raw"])
    ours = json.loads(deliveries[0][1])
    assert (
        same_shape(
            {k: v for k, v in real.items() if k != "meta_data"},
            {k: v for k, v in ours.items() if k != "meta_data"},
            newer=frozenset(),
        )
        == []
    )


def test_an_unknown_time_zone_is_one_clear_cli_error() -> None:
    from typer.testing import CliRunner

    from emporion_devkit.sandbox.cli import sandbox_app

    result = CliRunner().invoke(
        sandbox_app, ["woocommerce", "--db", ":memory:", "--port", "0", "--timezone", "Mars/Olympus"]
    )
    assert result.exit_code == 2 and "Mars/Olympus" in result.output and "Traceback" not in result.output
