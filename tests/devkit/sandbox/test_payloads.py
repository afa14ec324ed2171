"""Every writable resource among WooCommerce's published examples can be created in the sandbox and read
back with the same keys and the same value types."""

from __future__ import annotations

from typing import Any

import httpx

from tests.devkit.sandbox.support import payload

READ_ONLY = {"id", "_links", "date_created", "date_created_gmt", "date_modified", "date_modified_gmt"}
# Keys WooCommerce 10 answers that the 2017 examples do not show (recorded in tests/data/woocommerce-10.0.2)
NEWER = frozenset(
    {
        "targetHints", "brands", "global_unique_id", "has_options", "low_stock_amount", "post_password",
        "generated_slug", "permalink_template", "currency_symbol", "is_editable", "needs_payment",
        "needs_processing", "payment_url", "slug", "name", "parent_id", "type",
    }
)  # fmt: skip
# Keys of orders, their lines and refunds, and of coupons that WooCommerce 10 adds to the 2017 examples
ORDER_NEWER = NEWER | {
    "image", "parent_name", "phone", "instance_id", "tax_status", "display_key", "display_value",
    "discount_type", "nominal_amount", "free_shipping", "email_templates", "status", "shipping_lines",
    "tax_lines", "fee_lines",
}  # fmt: skip


def writable(example: dict[str, Any]) -> dict[str, Any]:
    """An example body without the fields WooCommerce computes."""
    return {key: value for key, value in example.items() if key not in READ_ONLY}


def same_shape(expected: Any, actual: Any, where: str = "$", newer: frozenset[str] = NEWER) -> list[str]:
    """Differences in keys and value types between an example and a sandbox answer (None matches anything).

    The sandbox may answer the keys in `newer` (by default those WooCommerce 10 added) where the example
    has none of them; compared with recordings of WooCommerce 10 itself, pass an empty set.
    """
    if expected is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {type(actual).__name__}"]
        problems = []
        if set(expected) - {"_links"} != set(actual) - {"_links"} - (newer - set(expected)):
            problems.append(f"{where}: keys differ: {sorted(set(expected) ^ set(actual))}")
        for key in set(expected) & set(actual):
            problems += same_shape(expected[key], actual[key], f"{where}.{key}", newer)
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {type(actual).__name__}"]
        if expected and actual:
            return same_shape(expected[0], actual[0], f"{where}[0]", newer)
        return []
    if isinstance(expected, bool) or isinstance(actual, bool):
        ok = isinstance(expected, bool) and isinstance(actual, bool)
    elif isinstance(expected, int | float):
        ok = isinstance(actual, int | float)
    else:
        ok = type(expected) is type(actual)
    return (
        []
        if ok
        else [f"{where}: expected {type(expected).__name__}, got {type(actual).__name__} ({actual!r})"]
    )


def create_and_compare(
    client: httpx.Client,
    path: str,
    example: dict[str, Any],
    body: dict[str, Any],
    newer: frozenset[str] = NEWER,
) -> dict:
    created = client.post(path, json=body)
    assert created.status_code == 201, created.text
    again = client.get(f"{path}/{created.json()['id']}")
    assert again.status_code == 200
    assert same_shape(example, created.json(), newer=newer) == []
    assert same_shape(example, again.json(), newer=newer) == []
    return again.json()


def test_catalogue_examples_round_trip(sandbox_client: httpx.Client) -> None:
    category_example = payload("product-category.json")
    body = writable(category_example)
    body["image"] = {"src": category_example["image"]["src"]}
    clothing = create_and_compare(sandbox_client, "/products/categories", category_example, body)
    assert clothing["name"] == "Clothing" and clothing["image"]["src"].endswith("T_2_front.jpg")
    shirts = sandbox_client.post("/products/categories", json={"name": "T-shirts"}).json()
    categories = [{"id": clothing["id"]}, {"id": shirts["id"]}]
    for name in ("product-simple.json", "product-variable.json"):
        example = payload(name)
        body = writable(example) | {
            "categories": categories,
            "images": [{"src": i["src"]} for i in example["images"]],
        }
        body["slug"] = ""
        product = create_and_compare(sandbox_client, "/products", example, body)
        assert product["name"] == example["name"] and product["type"] == example["type"]
        assert [c["name"] for c in product["categories"]] == ["Clothing", "T-shirts"]
    variable = sandbox_client.get("/products", params={"type": "variable"}).json()[0]
    example = payload("product-variation.json")
    body = writable(example) | {"image": {"src": example["image"]["src"]}, "sku": "BLACK-1"}
    variation = create_and_compare(sandbox_client, f"/products/{variable['id']}/variations", example, body)
    attributes = [{k: v for k, v in a.items() if k != "slug"} for a in variation["attributes"]]
    assert attributes == example["attributes"] and variation["price"] == "9.00"
    assert [a["slug"] for a in variation["attributes"]] == ["color"]  # WooCommerce 10 adds the slug


def test_order_examples_round_trip(sandbox_client: httpx.Client) -> None:
    example = payload("order.json")
    single = sandbox_client.post("/products", json={"name": "Woo Single #1", "regular_price": "3.00"}).json()
    parent = sandbox_client.post("/products", json={"name": "Ship Your Idea", "type": "variable"}).json()
    variation = sandbox_client.post(
        f"/products/{parent['id']}/variations",
        json={
            "regular_price": "12.00",
            "sku": "Bar3",
            "attributes": [{"id": 6, "name": "Color", "option": "black"}],
        },
    ).json()
    body = writable(example)
    for key in ("number", "order_key", "version", "refunds", "tax_lines", "date_paid", "date_paid_gmt"):
        body.pop(key)
    body["line_items"] = [
        {"product_id": single["id"], "quantity": 2},
        {"product_id": parent["id"], "variation_id": variation["id"], "quantity": 1},
    ]
    body["shipping_lines"] = [{"method_id": "flat_rate", "method_title": "Flat Rate", "total": "10.00"}]
    body["meta_data"] = [{"key": "_download_permissions_granted", "value": "yes"}]
    body["set_paid"] = True
    expected = example | {"tax_lines": []}
    order = create_and_compare(sandbox_client, "/orders", expected, body, ORDER_NEWER)
    assert order["total"] == "28.00" and order["line_items"][0]["price"] == 3
    assert order["line_items"][1]["sku"] == "Bar3" and order["status"] == "processing"
    note_example = payload("order-note.json")
    note = create_and_compare(
        sandbox_client, f"/orders/{order['id']}/notes", note_example, writable(note_example)
    )
    assert note["note"] == "Order ok!!!" and note["_links"]["up"][0]["href"].endswith(
        f"/orders/{order['id']}"
    )
    refund_example = payload("order-refund.json")
    body = writable(refund_example) | {"api_refund": False}
    refund = create_and_compare(
        sandbox_client, f"/orders/{order['id']}/refunds", refund_example, body, ORDER_NEWER
    )
    assert refund["amount"] == "10.00" and refund["refunded_payment"] is False


def test_account_and_webhook_examples_round_trip(sandbox_client: httpx.Client) -> None:
    customer_example = payload("customer.json")
    body = writable(customer_example)
    customer = create_and_compare(sandbox_client, "/customers", customer_example, body)
    assert customer["username"] == "john.doe" and customer["billing"] == customer_example["billing"]
    coupon_example = payload("coupon.json")
    coupon = create_and_compare(
        sandbox_client, "/coupons", coupon_example, writable(coupon_example), ORDER_NEWER
    )
    assert coupon["code"] == "10off" and coupon["minimum_amount"] == "100.00"
    webhook_example = payload("webhook.json")
    body = writable(webhook_example) | {"status": "paused"}
    webhook = create_and_compare(sandbox_client, "/webhooks", webhook_example, body)
    assert webhook["hooks"] == ["woocommerce_update_order", "woocommerce_order_refunded"]  # as 10.0.2 says
    assert (webhook["resource"], webhook["event"], webhook["status"]) == ("order", "updated", "paused")
    assert "secret" not in webhook
