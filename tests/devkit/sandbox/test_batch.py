"""The batch endpoints: 100 items at most, per-item errors inside a 200, permanent deletes."""

from __future__ import annotations

import httpx

from tests.devkit.sandbox.support import payload
from tests.devkit.sandbox.test_payloads import NEWER


def test_batch_create_update_delete_with_item_errors(sandbox_client: httpx.Client) -> None:
    first = sandbox_client.post("/products", json={"name": "Keep", "sku": "TAKEN"}).json()
    doomed = sandbox_client.post("/products", json={"name": "Doomed"}).json()
    answer = sandbox_client.post(
        "/products/batch",
        json={
            "create": [{"name": "New", "regular_price": 12.5}, {"name": "Clash", "sku": "TAKEN"}],
            "update": [{"id": first["id"], "regular_price": "3.00"}, {"id": 999999, "name": "Ghost"}],
            "delete": [doomed["id"], 888888],
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["create", "update", "delete"]
    assert body["create"][0]["regular_price"] == "12.5" and body["create"][0]["id"] > 0
    assert body["create"][1] == {
        "id": 0,
        "error": {
            "code": "product_invalid_sku",
            "message": "Invalid or duplicated SKU.",
            "data": {"status": 400, "resource_id": first["id"], "unique_sku": "TAKEN-1"},
        },
    }
    assert body["update"][0]["price"] == "3.00"
    assert body["update"][1]["id"] == 999999
    assert body["update"][1]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert body["delete"][0]["id"] == doomed["id"]
    assert body["delete"][1]["error"]["data"] == {"status": 404}
    assert sandbox_client.get(f"/products/{doomed['id']}").status_code == 404
    trash = sandbox_client.get("/products", params={"status": "trash"}).json()
    assert trash == []
    assert not any(
        p["name"] == "Clash" for p in sandbox_client.get("/products", params={"per_page": 100}).json()
    )


def test_batch_limit_counts_all_sections(sandbox_client: httpx.Client) -> None:
    body = {"create": [{"name": f"c{i}"} for i in range(60)], "update": [{"id": i} for i in range(30)]}
    body["delete"] = list(range(11))
    too_many = sandbox_client.post("/products/batch", json=body)
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert sandbox_client.get("/products").headers["X-WP-Total"] == "0"
    exactly = sandbox_client.post("/products/batch", json={"create": [{"name": f"c{i}"} for i in range(100)]})
    assert exactly.status_code == 200 and len(exactly.json()["create"]) == 100


def test_variation_and_category_batches(sandbox_client: httpx.Client) -> None:
    parent = sandbox_client.post("/products", json={"name": "V", "type": "variable"}).json()
    created = sandbox_client.post(
        f"/products/{parent['id']}/variations/batch",
        json={"create": [{"sku": "V-1", "regular_price": "1.00"}, {"sku": "V-2", "regular_price": "2.00"}]},
    ).json()["create"]
    updated = sandbox_client.put(
        f"/products/{parent['id']}/variations/batch",
        json={"update": [{"id": created[0]["id"], "manage_stock": True, "stock_quantity": 4}]},
    ).json()["update"]
    assert updated[0]["stock_quantity"] == 4 and updated[0]["stock_status"] == "instock"
    categories = sandbox_client.post(
        "/products/categories/batch", json={"create": [{"name": "A"}, {"name": "B"}, {"name": "A"}]}
    ).json()["create"]
    assert [c.get("name") for c in categories[:2]] == ["A", "B"]
    assert categories[2]["error"]["code"] == "term_exists"


def test_the_published_batch_answer_has_the_same_shape(sandbox_client: httpx.Client) -> None:
    example = payload("products-batch-response.json")
    existing = sandbox_client.post("/products", json={"name": "Old"}).json()
    doomed = sandbox_client.post("/products", json={"name": "Gone"}).json()
    answer = sandbox_client.post(
        "/products/batch",
        json={
            "create": [{"name": "Woo Single #1", "regular_price": "21.99"}],
            "update": [{"id": existing["id"], "default_attributes": [{"id": 6, "option": "black"}]}],
            "delete": [doomed["id"]],
        },
    ).json()
    assert set(answer) == set(example)
    for section in ("create", "delete"):
        documented = set(example[section][0])
        assert set(answer[section][0]) - (NEWER - documented) == documented
