"""Products, variations and categories over real HTTP: fields, derived values, SKUs, trash and dates."""

from __future__ import annotations

import time

import httpx

from emporion_devkit.sandbox.woocommerce import SandboxShop


def test_product_create_read_update_delete(sandbox_client: httpx.Client) -> None:
    created = sandbox_client.post("/products", json={"name": "Premium Quality", "regular_price": "21.99"})
    assert created.status_code == 201
    product = created.json()
    assert created.headers["Location"].endswith(f"/products/{product['id']}")
    assert (
        product["slug"] == "premium-quality" and product["price"] == "21.99" and product["on_sale"] is False
    )
    assert product["_links"]["self"][0]["href"].endswith(f"/wp-json/wc/v3/products/{product['id']}")

    updated = sandbox_client.put(f"/products/{product['id']}", json={"sale_price": "19.99"}).json()
    assert updated["price"] == "19.99" and updated["on_sale"] is True
    assert sandbox_client.get(f"/products/{product['id']}").json()["sale_price"] == "19.99"

    trashed = sandbox_client.delete(f"/products/{product['id']}")
    assert trashed.status_code == 200 and trashed.json()["status"] == "trash"
    again = sandbox_client.delete(f"/products/{product['id']}")
    assert again.status_code == 410 and again.json()["code"] == "woocommerce_rest_already_trashed"
    assert [p["id"] for p in sandbox_client.get("/products").json()] == []
    assert [p["id"] for p in sandbox_client.get("/products", params={"status": "trash"}).json()] == [
        product["id"]
    ]

    gone = sandbox_client.delete(f"/products/{product['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["id"] == product["id"]
    missing = sandbox_client.get(f"/products/{product['id']}")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "woocommerce_rest_product_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }


def test_money_must_be_a_string_and_unknown_routes_are_wordpress_404s(sandbox_client: httpx.Client) -> None:
    bad = sandbox_client.post("/products", json={"name": "X", "regular_price": 10})
    assert bad.status_code == 400
    assert bad.json()["code"] == "rest_invalid_param"
    assert bad.json()["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    none = sandbox_client.get("/nothing-here")
    assert none.status_code == 404 and none.json()["code"] == "rest_no_route"
    assert sandbox_client.patch("/products").json()["code"] == "rest_no_route"


def test_stock_quantity_only_counts_with_manage_stock(sandbox_client: httpx.Client) -> None:
    unmanaged = sandbox_client.post("/products", json={"name": "A", "stock_quantity": 7}).json()
    assert unmanaged["manage_stock"] is False and unmanaged["stock_quantity"] is None
    managed = sandbox_client.post(
        "/products",
        json={"name": "B", "manage_stock": True, "stock_quantity": 3, "stock_status": "outofstock"},
    ).json()
    assert managed["stock_quantity"] == 3 and managed["stock_status"] == "instock"
    empty = sandbox_client.put(f"/products/{managed['id']}", json={"stock_quantity": 0}).json()
    assert empty["stock_status"] == "outofstock" and empty["backorders_allowed"] is False
    backorder = sandbox_client.put(f"/products/{managed['id']}", json={"backorders": "notify"}).json()
    assert backorder["stock_status"] == "onbackorder" and backorder["backordered"] is True
    assert backorder["backorders_allowed"] is True


def test_sale_window_decides_price_and_on_sale(sandbox_client: httpx.Client) -> None:
    future = sandbox_client.post(
        "/products",
        json={
            "name": "Later",
            "regular_price": "10.00",
            "sale_price": "8.00",
            "date_on_sale_from": "2999-01-01",
        },
    ).json()
    assert future["price"] == "10.00" and future["on_sale"] is False
    assert future["date_on_sale_from"] == "2999-01-01T00:00:00"
    past = sandbox_client.post(
        "/products",
        json={
            "name": "Over",
            "regular_price": "10.00",
            "sale_price": "8.00",
            "date_on_sale_to": "2000-01-31",
        },
    ).json()
    assert (
        past["price"] == "10.00"
        and past["on_sale"] is False
        and past["date_on_sale_to"] == "2000-01-31T23:59:59"
    )
    now = sandbox_client.post(
        "/products",
        json={"name": "Now", "regular_price": "10.00", "sale_price": "8.00", "date_on_sale_to": "2999-01-01"},
    ).json()
    assert now["price"] == "8.00" and now["on_sale"] is True


def test_skus_are_unique_across_products_and_variations(sandbox_client: httpx.Client) -> None:
    parent = sandbox_client.post("/products", json={"name": "Shirt", "type": "variable"}).json()
    variation = sandbox_client.post(f"/products/{parent['id']}/variations", json={"sku": "SHIRT-S"})
    assert variation.status_code == 201
    clash = sandbox_client.post("/products", json={"name": "Other", "sku": "SHIRT-S"})
    assert clash.status_code == 400
    assert clash.json()["code"] == "product_invalid_sku"
    assert clash.json()["data"]["resource_id"] == variation.json()["id"]
    other = sandbox_client.post("/products", json={"name": "Other", "sku": "OTHER"}).json()
    clash2 = sandbox_client.put(
        f"/products/{parent['id']}/variations/{variation.json()['id']}", json={"sku": "OTHER"}
    )
    assert clash2.status_code == 400 and clash2.json()["data"]["resource_id"] == other["id"]


def test_variable_product_takes_prices_and_ids_from_its_variations(sandbox_client: httpx.Client) -> None:
    parent = sandbox_client.post(
        "/products",
        json={
            "name": "Ship Your Idea",
            "type": "variable",
            "attributes": [{"id": 6, "name": "Color", "variation": True, "options": ["Black", "Green"]}],
        },
    ).json()
    assert parent["price"] == "" and parent["variations"] == [] and parent["purchasable"] is False
    black = sandbox_client.post(
        f"/products/{parent['id']}/variations",
        json={"regular_price": "9.00", "attributes": [{"id": 6, "name": "Color", "option": "Black"}]},
    ).json()
    green = sandbox_client.post(
        f"/products/{parent['id']}/variations",
        json={"regular_price": "12.00", "sale_price": "7.50", "attributes": [{"id": 6, "option": "Green"}]},
    ).json()
    assert black["permalink"].endswith(
        "?attribute_color=Black"
    )  # the option as given, as WooCommerce 10 links
    assert black["_links"]["up"][0]["href"].endswith(f"/products/{parent['id']}")
    again = sandbox_client.get(f"/products/{parent['id']}").json()
    assert again["variations"] == [black["id"], green["id"]]
    assert again["price"] == "7.50" and again["on_sale"] is True
    listed = sandbox_client.get(f"/products/{parent['id']}/variations").json()
    assert sorted(v["id"] for v in listed) == [black["id"], green["id"]]
    sandbox_client.put(f"/products/{parent['id']}/variations/{black['id']}", json={"sku": "SYI-BLACK"})
    by_sku = sandbox_client.get("/products", params={"sku": "SYI-BLACK"})
    assert [(p["id"], p["type"], p["parent_id"]) for p in by_sku.json()] == [
        (black["id"], "variation", parent["id"])
    ]
    assert by_sku.headers["X-WP-Total"] == "1"
    as_product = sandbox_client.get(f"/products/{black['id']}").json()
    assert as_product["type"] == "variation" and as_product["parent_id"] == parent["id"]
    wrong_parent = sandbox_client.get(f"/products/{parent['id'] + 1000}/variations/{black['id']}")
    assert wrong_parent.status_code == 404
    sandbox_client.delete(f"/products/{parent['id']}", params={"force": True})
    assert sandbox_client.get(f"/products/{black['id']}").status_code == 404


def test_categories_names_counts_and_deletion(sandbox_client: httpx.Client) -> None:
    clothing = sandbox_client.post("/products/categories", json={"name": "Clothing"}).json()
    assert clothing["slug"] == "clothing" and clothing["count"] == 0
    duplicate = sandbox_client.post("/products/categories", json={"name": "Clothing"})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "term_exists"
    assert duplicate.json()["data"]["resource_id"] == clothing["id"]
    shirt = sandbox_client.post(
        "/products", json={"name": "Tee", "categories": [{"id": clothing["id"]}]}
    ).json()
    assert shirt["categories"] == [{"id": clothing["id"], "name": "Clothing", "slug": "clothing"}]
    sandbox_client.put(f"/products/categories/{clothing['id']}", json={"name": "Apparel"})
    assert sandbox_client.get(f"/products/{shirt['id']}").json()["categories"][0]["name"] == "Apparel"
    assert sandbox_client.get(f"/products/categories/{clothing['id']}").json()["count"] == 1
    in_category = sandbox_client.get("/products", params={"category": clothing["id"]}).json()
    assert [p["id"] for p in in_category] == [shirt["id"]]
    trash = sandbox_client.delete(f"/products/categories/{clothing['id']}")
    assert trash.status_code == 501 and trash.json()["code"] == "woocommerce_rest_trash_not_supported"
    assert (
        sandbox_client.delete(f"/products/categories/{clothing['id']}", params={"force": True}).status_code
        == 200
    )
    assert sandbox_client.get(f"/products/{shirt['id']}").json()["categories"] == []
    missing = sandbox_client.get(f"/products/categories/{clothing['id']}")
    assert missing.json()["code"] == "woocommerce_rest_term_invalid"


def test_date_modified_moves_on_every_write(sandbox_client: httpx.Client) -> None:
    product = sandbox_client.post("/products", json={"name": "Clock"}).json()
    time.sleep(1.1)
    updated = sandbox_client.put(f"/products/{product['id']}", json={"description": "tick"}).json()
    assert updated["date_modified_gmt"] > product["date_modified_gmt"]
    assert updated["date_created_gmt"] == product["date_created_gmt"]
    parent = sandbox_client.post("/products", json={"name": "Var", "type": "variable"}).json()
    time.sleep(1.1)
    sandbox_client.post(f"/products/{parent['id']}/variations", json={"regular_price": "1.00"})
    assert (
        sandbox_client.get(f"/products/{parent['id']}").json()["date_modified_gmt"]
        > parent["date_modified_gmt"]
    )


def test_shop_survives_a_restart_with_a_file_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "shop.sqlite")
    with SandboxShop.serve(db=db) as shop:
        key, secret = shop.consumer_key, shop.consumer_secret
        with httpx.Client(auth=(key, secret), headers={"X-Forwarded-Proto": "https"}) as client:
            created = client.post(shop.api_url + "/products", json={"name": "Kept", "sku": "KEEP"}).json()
    with SandboxShop.serve(db=db, consumer_key=key, consumer_secret=secret) as shop:
        with httpx.Client(auth=(key, secret), headers={"X-Forwarded-Proto": "https"}) as client:
            again = client.get(shop.api_url + f"/products/{created['id']}").json()
            assert again["sku"] == "KEEP" and again["name"] == "Kept"
            assert client.post(shop.api_url + "/products", json={"name": "Next"}).json()["id"] > created["id"]
