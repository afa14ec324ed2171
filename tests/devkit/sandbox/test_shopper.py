"""The shopper simulator: real orders from guests and registered customers for products in stock."""

from __future__ import annotations

import time

import httpx

from emporion_devkit.sandbox.woocommerce import SandboxShop


def stock_up(client: httpx.Client, count: int, quantity: int) -> list[dict]:
    body = {
        "create": [
            {"name": f"Item {i}", "sku": f"IT-{i}", "regular_price": f"{5 + i}.00", "manage_stock": True}
            | {"stock_quantity": quantity}
            for i in range(count)
        ]
    }
    return client.post("/products/batch", json=body).json()["create"]


def client_for(shop: SandboxShop) -> httpx.Client:
    return httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    )


def test_place_orders_from_varied_shoppers_reduces_stock() -> None:
    with SandboxShop.serve(seed=7) as shop, client_for(shop) as client:
        products = stock_up(client, 5, 100)
        parent = client.post("/products", json={"name": "Tee", "type": "variable"}).json()
        client.post(
            f"/products/{parent['id']}/variations",
            json={"regular_price": "20.00", "manage_stock": True, "stock_quantity": 100, "sku": "TEE-L"},
        )
        orders = shop.place_orders(40)
        assert len(orders) == 40
        listed = client.get("/orders", params={"per_page": 100}).json()
        assert sorted(o["id"] for o in listed) == sorted(o["id"] for o in orders)
        assert {o["created_via"] for o in listed} == {"checkout"}
        assert {o["status"] for o in listed} <= {"processing", "on-hold"}
        assert any(o["customer_id"] == 0 for o in listed) and any(o["customer_id"] > 0 for o in listed)
        assert len({o["billing"]["country"] for o in listed}) >= 4
        assert all(o["billing"]["email"] and o["line_items"] for o in listed)
        assert any(line["variation_id"] for o in listed for line in o["line_items"])
        sold: dict[int, int] = {}
        for order in listed:
            for line in order["line_items"]:
                key = line["variation_id"] or line["product_id"]
                sold[key] = sold.get(key, 0) + line["quantity"]
        for product in products:
            now = client.get(f"/products/{product['id']}").json()
            assert now["stock_quantity"] == 100 - sold.get(product["id"], 0)
        assert int(client.get("/customers").headers["X-WP-Total"]) > 0


def test_shoppers_only_buy_what_is_in_stock(sandbox_shop: SandboxShop, sandbox_client: httpx.Client) -> None:
    stock_up(sandbox_client, 1, 1)
    sandbox_client.post("/products", json={"name": "Sold out", "manage_stock": True, "stock_quantity": 0})
    sandbox_client.post("/products", json={"name": "No price"})
    orders = sandbox_shop.place_orders(5)
    assert len(orders) == 1 and orders[0]["line_items"][0]["quantity"] == 1
    assert sandbox_shop.place_orders(3) == []


def test_simulation_over_http_and_in_the_background(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    stock_up(sandbox_client, 3, 1000)
    simulate = sandbox_shop.base_url + "/__sandbox/orders/simulate"
    answer = sandbox_client.post(simulate, json={"count": 3})
    assert answer.status_code == 201 and len(answer.json()) == 3
    sandbox_shop.simulate_orders(20)
    time.sleep(1.0)
    sandbox_shop.simulate_orders(0)
    total = int(sandbox_client.get("/orders").headers["X-WP-Total"])
    assert total > 3 + 5
    time.sleep(0.3)
    assert int(sandbox_client.get("/orders").headers["X-WP-Total"]) == total


def test_shoppers_can_use_coupons_fees_and_taxes() -> None:
    with SandboxShop.serve(seed=11) as shop, client_for(shop) as client:
        stock_up(client, 4, 500)
        client.put("/settings/general/woocommerce_calc_taxes", json={"value": "yes"})
        for country in ("US", "DE", "FR", "GB"):
            client.post("/taxes", json={"country": country, "rate": "20", "name": "VAT", "shipping": True})
        control = httpx.Client(
            base_url=shop.base_url,
            auth=(shop.consumer_key, shop.consumer_secret),
            headers={"X-Forwarded-Proto": "https"},
        )
        orders = control.post("/__sandbox/orders/simulate", json={"count": 60, "money_lines": True}).json()
        assert len(orders) == 60
        coupons = {line["discount_type"] for order in orders for line in order["coupon_lines"]}
        fees = {line["total"] for order in orders for line in order["fee_lines"]}
        assert coupons == {"percent", "fixed_cart"} and fees == {"2.50", "-3.00"}
        taxed = [order for order in orders if order["tax_lines"]]
        assert taxed and all(order["total_tax"] != "0.00" for order in taxed)
        for order in orders:  # every order adds up as the shop computed it
            lines = sum(float(line["total"]) for line in order["line_items"])
            fees_total = sum(float(line["total"]) for line in order["fee_lines"])
            expected = lines + fees_total + float(order["shipping_total"]) + float(order["total_tax"])
            assert abs(expected - float(order["total"])) < 0.015, order["id"]
        unpaid = [o for o in orders if o["payment_method"] in ("cod", "bacs")]
        assert unpaid and all(o["date_paid"] is None for o in unpaid)
