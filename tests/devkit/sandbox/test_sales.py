"""Orders, notes, refunds, customers and coupons: stock, statuses, totals and refund rules."""

from __future__ import annotations

import httpx


def stocked(client: httpx.Client, quantity: int = 10, price: str = "5.00", sku: str = "S-1") -> dict:
    body = {"name": f"Stocked {sku}", "sku": sku, "regular_price": price, "manage_stock": True}
    return client.post("/products", json=body | {"stock_quantity": quantity}).json()


def test_paid_order_reduces_stock_and_cancel_restores_it(sandbox_client: httpx.Client) -> None:
    product = stocked(sandbox_client, 10)
    pending = sandbox_client.post(
        "/orders", json={"line_items": [{"product_id": product["id"], "quantity": 3}]}
    )
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    assert sandbox_client.get(f"/products/{product['id']}").json()["stock_quantity"] == 10
    order = sandbox_client.put(f"/orders/{pending.json()['id']}", json={"set_paid": True}).json()
    assert order["status"] == "processing" and order["date_paid"] is not None
    after = sandbox_client.get(f"/products/{product['id']}").json()
    assert after["stock_quantity"] == 7 and after["total_sales"] == 3
    sandbox_client.put(f"/orders/{order['id']}", json={"status": "completed"})
    assert sandbox_client.get(f"/products/{product['id']}").json()["stock_quantity"] == 7
    cancelled = sandbox_client.put(f"/orders/{order['id']}", json={"status": "cancelled"}).json()
    assert cancelled["status"] == "cancelled"
    assert sandbox_client.get(f"/products/{product['id']}").json()["stock_quantity"] == 10
    notes = [n["note"] for n in sandbox_client.get(f"/orders/{order['id']}/notes").json()]
    assert "Order status changed from Pending payment to Processing." in notes
    assert any(n.startswith("Stock levels reduced:") for n in notes)


def test_variation_stock_and_order_line_shape(sandbox_client: httpx.Client) -> None:
    parent = sandbox_client.post("/products", json={"name": "Tee", "type": "variable"}).json()
    variation = sandbox_client.post(
        f"/products/{parent['id']}/variations",
        json={
            "regular_price": "12.50",
            "sku": "TEE-M",
            "manage_stock": True,
            "stock_quantity": 2,
            "attributes": [{"id": 0, "name": "Size", "option": "M"}],
        },
    ).json()
    order = sandbox_client.post(
        "/orders",
        json={"set_paid": True, "line_items": [{"sku": "TEE-M", "quantity": 2}]},
    ).json()
    line = order["line_items"][0]
    assert line["product_id"] == parent["id"] and line["variation_id"] == variation["id"]
    assert line["price"] == 12.5 and isinstance(line["price"], float) and line["total"] == "25.00"
    assert line["meta_data"][0]["key"] == "size" and line["meta_data"][0]["value"] == "M"
    left = sandbox_client.get(f"/products/{parent['id']}/variations/{variation['id']}").json()
    assert left["stock_quantity"] == 0 and left["stock_status"] == "outofstock"


def test_statuses_are_kept_as_given(sandbox_client: httpx.Client) -> None:
    product = stocked(sandbox_client)
    draft = sandbox_client.post(
        "/orders", json={"status": "checkout-draft", "line_items": [{"product_id": product["id"]}]}
    ).json()
    assert draft["status"] == "checkout-draft"
    custom = sandbox_client.put(f"/orders/{draft['id']}", json={"status": "awaiting-shipment"}).json()
    assert custom["status"] == "awaiting-shipment"
    listed = sandbox_client.get("/orders", params={"status": "awaiting-shipment"}).json()
    assert [o["id"] for o in listed] == [draft["id"]]


def test_order_notes(sandbox_client: httpx.Client) -> None:
    order = sandbox_client.post("/orders", json={}).json()
    private = sandbox_client.post(f"/orders/{order['id']}/notes", json={"note": "Packed"}).json()
    public = sandbox_client.post(
        f"/orders/{order['id']}/notes",
        json={"note": "On its way", "customer_note": True, "added_by_user": True},
    ).json()
    assert (
        private["customer_note"] is False and public["customer_note"] is True and public["author"] == "admin"
    )
    customer_only = sandbox_client.get(f"/orders/{order['id']}/notes", params={"type": "customer"}).json()
    assert [n["id"] for n in customer_only] == [public["id"]]
    assert sandbox_client.post(f"/orders/{order['id']}/notes", json={}).status_code == 400
    assert (
        sandbox_client.put(f"/orders/{order['id']}/notes/{private['id']}", json={"note": "x"}).status_code
        == 404
    )
    assert sandbox_client.delete(f"/orders/{order['id']}/notes/{private['id']}").status_code == 501
    assert sandbox_client.delete(f"/orders/{order['id']}/notes/{private['id']}?force=true").status_code == 200
    assert sandbox_client.get(f"/orders/{order['id'] + 999}/notes").status_code == 404


def test_refunds_amounts_gateway_and_restock(sandbox_client: httpx.Client) -> None:
    product = stocked(sandbox_client, 10, "10.00")
    order = sandbox_client.post(
        "/orders",
        json={
            "payment_method": "bacs",
            "set_paid": True,
            "line_items": [{"product_id": product["id"], "quantity": 4}],
        },
    ).json()
    item_id = order["line_items"][0]["id"]
    gateway = sandbox_client.post(f"/orders/{order['id']}/refunds", json={"amount": "5.00"})
    assert gateway.status_code == 500
    assert gateway.json()["code"] == "woocommerce_rest_cannot_create_order_refund"
    zero = sandbox_client.post(f"/orders/{order['id']}/refunds", json={"amount": "0", "api_refund": False})
    assert zero.status_code == 400
    too_much = sandbox_client.post(
        f"/orders/{order['id']}/refunds", json={"amount": "41.00", "api_refund": False}
    )
    assert too_much.status_code == 500 and too_much.json()["message"] == "Invalid refund amount."
    refund = sandbox_client.post(
        f"/orders/{order['id']}/refunds",
        json={
            "api_refund": False,
            "api_restock": True,
            "reason": "Damaged",
            "line_items": [{"id": item_id, "quantity": 1, "refund_total": 10}],
        },
    )
    assert refund.status_code == 201
    assert refund.json()["amount"] == "10.00" and refund.json()["line_items"][0]["quantity"] == -1
    assert sandbox_client.get(f"/products/{product['id']}").json()["stock_quantity"] == 7
    no_restock = sandbox_client.post(
        f"/orders/{order['id']}/refunds",
        json={
            "api_refund": False,
            "api_restock": False,
            "line_items": [{"id": item_id, "quantity": 1, "refund_total": 10}],
        },
    ).json()
    assert sandbox_client.get(f"/products/{product['id']}").json()["stock_quantity"] == 7
    after = sandbox_client.get(f"/orders/{order['id']}").json()
    # newest second first; refunds made in one second in id order, as the real shop lists them
    made = sorted([refund.json(), no_restock], key=lambda r: (r["date_created_gmt"], -r["id"]), reverse=True)
    assert [r["id"] for r in after["refunds"]] == [r["id"] for r in made]
    assert {"id": refund.json()["id"], "reason": "Damaged", "total": "-10.00"} in after["refunds"]
    rest = sandbox_client.post(
        f"/orders/{order['id']}/refunds", json={"amount": "20.00", "api_refund": False}
    )
    assert rest.status_code == 201
    assert sandbox_client.get(f"/orders/{order['id']}").json()["status"] == "refunded"
    listed = sandbox_client.get(f"/orders/{order['id']}/refunds")
    assert listed.headers["X-WP-Total"] == "3"


def test_refund_through_a_gateway_that_refunds(sandbox_client: httpx.Client) -> None:
    product = stocked(sandbox_client, 5, "8.00")
    order = sandbox_client.post(
        "/orders",
        json={"payment_method": "stripe", "set_paid": True, "line_items": [{"product_id": product["id"]}]},
    ).json()
    refund = sandbox_client.post(f"/orders/{order['id']}/refunds", json={"amount": "8.00"}).json()
    assert refund["refunded_payment"] is True


def test_customers_and_coupons(sandbox_client: httpx.Client) -> None:
    customer = sandbox_client.post(
        "/customers", json={"email": "Ann@Example.com", "first_name": "Ann"}
    ).json()
    assert customer["username"] == "ann" and customer["role"] == "customer"
    duplicate = sandbox_client.post("/customers", json={"email": "ann@example.com"})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "registration-error-email-exists"
    assert sandbox_client.post("/customers", json={"first_name": "No mail"}).status_code == 400
    found = sandbox_client.get("/customers", params={"email": "ann@example.com"}).json()
    assert [c["id"] for c in found] == [customer["id"]]
    assert sandbox_client.delete(f"/customers/{customer['id']}").status_code == 501
    coupon = sandbox_client.post(
        "/coupons", json={"code": "TENOFF", "discount_type": "percent", "amount": "10"}
    ).json()
    assert coupon["code"] == "tenoff"
    assert sandbox_client.post("/coupons", json={"code": "tenoff"}).json()["code"] == (
        "woocommerce_rest_coupon_code_already_exists"
    )
    product = stocked(sandbox_client, 5, "50.00")
    order = sandbox_client.post(
        "/orders",
        json={
            "customer_id": customer["id"],
            "set_paid": True,
            "line_items": [{"product_id": product["id"], "quantity": 2}],
            "coupon_lines": [{"code": "TenOff"}],
        },
    ).json()
    assert order["discount_total"] == "10.00" and order["total"] == "90.00"
    # a coupon line's discount is written as the shop stores the number: "10", not "10.00"
    assert order["coupon_lines"][0]["discount"] == "10" and set(order["coupon_lines"][0]) == {
        "id",
        "code",
        "discount",
        "discount_tax",
        "meta_data",
        "discount_type",
        "nominal_amount",
        "free_shipping",
    }
    assert sandbox_client.get(f"/coupons/{coupon['id']}").json()["usage_count"] == 1
    assert sandbox_client.get(f"/customers/{customer['id']}").json()["is_paying_customer"] is True
    assert sandbox_client.get("/orders", params={"customer": customer["id"]}).json()[0]["id"] == order["id"]
    bad_customer = sandbox_client.post("/orders", json={"customer_id": 999999})
    assert bad_customer.json()["code"] == "woocommerce_rest_invalid_customer_id"


def test_coupons_limited_to_products_discount_only_those_lines(sandbox_client: httpx.Client) -> None:
    shirt, mug = stocked(sandbox_client, 10, "20.00", "SHIRT"), stocked(sandbox_client, 10, "9.99", "MUG")
    sandbox_client.post(
        "/coupons",
        json={"code": "shirts10", "discount_type": "percent", "amount": "10", "product_ids": [shirt["id"]]},
    )
    sandbox_client.post(
        "/coupons",
        json={"code": "two-off", "discount_type": "fixed_product", "amount": "2",
              "excluded_product_ids": [shirt["id"]]},
    )  # fmt: skip
    lines = [{"product_id": shirt["id"], "quantity": 2}, {"product_id": mug["id"], "quantity": 3}]
    order = sandbox_client.post(
        "/orders", json={"line_items": lines, "coupon_lines": [{"code": "shirts10"}, {"code": "two-off"}]}
    ).json()
    assert [line["total"] for line in order["line_items"]] == ["36.00", "23.97"]  # 40 - 10 %, 29.97 - 3 x 2
    assert [(c["code"], c["discount"]) for c in order["coupon_lines"]] == [
        ("shirts10", "4"),
        ("two-off", "6"),
    ]
    assert (order["discount_total"], order["total"]) == ("10.00", "59.97")
