"""The sandbox's catalogue answers like the recorded WooCommerce 10.0.2 shop: the recorded requests replayed,
their answers compared in keys, types, error codes and rendered text."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx

from emporion_devkit.sandbox.woocommerce import LatencyModel, SandboxShop
from tests.devkit.sandbox.support import Replay, recording, untrimmed
from tests.devkit.sandbox.test_payloads import same_shape as shape_of

INHERITED = ("type", "sku", "manage_stock", "stock_quantity", "stock_status", "name", "description")
TEXT = ("name", "description", "short_description", "average_rating", "sku", "slug", "generated_slug")


def same_shape(expected: Any, actual: Any) -> list[str]:
    """Differences in keys and value types from a WooCommerce 10 answer: no key may be missing or added."""
    return shape_of(expected, actual, newer=frozenset())


def client(shop: SandboxShop) -> httpx.Client:
    return httpx.Client(
        base_url=shop.api_url,
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=30,
    )


def records(body: Any) -> list[dict[str, Any]]:
    """The records of an answer: the object, the list, or the items of a batch."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and any(k in body for k in ("create", "update", "delete")):
        return [item for k in ("create", "update", "delete") for item in body.get(k, [])]
    return [body]


def test_view_and_edit_context_render_text_as_the_real_shop(sandbox_client: httpx.Client) -> None:
    exchanges = recording("product-view-vs-edit.json")["exchanges"]
    replay = Replay(sandbox_client)
    category = sandbox_client.post("/products/categories", json={"name": "Küche & Bad"}).json()
    replay.ids[17] = category["id"]  # the recording's category existed before
    for exchange in exchanges:
        answer = replay.send(exchange)
        where = (
            f"{exchange['request']['method']} {exchange['request']['path']} {exchange['request']['query']}"
        )
        assert answer.status_code == exchange["response"]["status"], where
        assert shape_of(exchange["response"]["body"], answer.json()) == [], where
        for expected, got in zip(records(exchange["response"]["body"]), records(answer.json()), strict=True):
            for key in TEXT:
                assert got.get(key) == expected.get(key), f"{where}: {key}"
            if "categories" in expected:
                assert [(c["name"], c["slug"]) for c in got["categories"]] == [
                    (c["name"], c["slug"]) for c in expected["categories"]
                ]
    view = sandbox_client.get(f"/products/{replay.ids[12]}").json()
    assert view["description"].startswith("<p>Erste Zeile.<br />\n") and view["average_rating"] == "0.00"
    assert "generated_slug" not in view and "permalink_template" not in view
    edit = sandbox_client.get(f"/products/{replay.ids[12]}", params={"context": "edit"}).json()
    assert edit["short_description"] == 'Kurz &amp; knapp \u2013 "Größe" XL' and edit["average_rating"] == "0"
    again = sandbox_client.put(f"/products/{replay.ids[12]}", json={"name": edit["name"]}).json()
    assert again["name"] == 'Café &amp; Bar <b>Deluxe</b> "50%" \u2013 Größe XL'  # &amp; sent back is kept


def test_batch_creates_updates_and_item_errors_as_the_real_shop(sandbox_client: httpx.Client) -> None:
    exchanges = recording("products-batch-create-update.json")["exchanges"]
    replay = Replay(sandbox_client)
    for exchange in exchanges:
        answer = replay.send(exchange)
        assert answer.status_code == exchange["response"]["status"] == 200
        expected, got = exchange["response"]["body"], answer.json()
        assert shape_of(expected, got) == []
        assert sorted(got) == sorted(expected)
        for section in expected:
            wanted = untrimmed(expected[section])
            assert len(got[section]) == len(wanted)
            for want, have in zip(wanted, got[section], strict=True):
                if want is None:
                    continue
                assert ("error" in have) == ("error" in want)
                if "error" in want:
                    error = want["error"]
                    data = dict(error["data"])
                    if "resource_id" in data:
                        data["resource_id"] = replay.ids[data["resource_id"]]
                    assert have["error"] == {**error, "data": data}
                    assert have["id"] == replay.ids.get(want["id"], want["id"])
                else:
                    assert have["sku"] == want["sku"] and have["price"] == want["price"]
                    assert have["stock_quantity"] == want["stock_quantity"]
                    assert have["sale_price"] == want["sale_price"] and have["on_sale"] == want["on_sale"]


def test_concurrent_creates_of_one_sku_meet_the_sku_lock() -> None:
    recorded = recording("products-batch-sku-lock-concurrent.json")["exchanges"]
    body = recorded[0]["request"]["body"]
    shapes = {
        item["error"]["code"]: item
        for exchange in recorded[:2]
        for item in exchange["response"]["body"]["create"]
        if "error" in item
    }
    assert set(shapes) == {"woocommerce_rest_product_not_created", "product_invalid_sku"}
    model = LatencyModel.named("wc10", time_scale=0.2, background_s=0, seed=7)
    with SandboxShop.serve(latency=model) as shop:
        answers: list[dict[str, Any]] = []

        def send() -> None:
            with client(shop) as http:
                answers.append(http.post("/products/batch", json=body).json())

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with client(shop) as http:
            skus = ",".join(item["sku"] for item in body["create"])
            stored = http.get("/products", params={"sku": skus, "per_page": 100, "context": "edit"}).json()
    assert Counter(p["sku"] for p in stored) == Counter(item["sku"] for item in body["create"])
    by_sku = {p["sku"]: p["id"] for p in stored}
    created = [item for answer in answers for item in answer["create"] if "error" not in item]
    assert sorted(item["sku"] for item in created) == sorted(by_sku)  # every SKU created once
    for answer in answers:
        for sent, item in zip(body["create"], answer["create"], strict=True):
            if "error" not in item:
                continue
            error = item["error"]
            assert item["id"] == 0
            assert shape_of(shapes[error["code"]], item) == []
            if error["code"] == "product_invalid_sku":
                assert error["data"]["resource_id"] == by_sku[sent["sku"]]
                assert error["data"]["unique_sku"] == sent["sku"] + "-1"
            else:
                assert error["message"] == (
                    f"The product with SKU ({sent['sku']}) you are trying to insert is already present"
                    " in the lookup table"
                )
                assert error["data"] == {"status": 400}


def test_variations_inherit_sku_and_stock_as_the_real_shop(sandbox_client: httpx.Client) -> None:
    exchanges = recording("product-variable-variations.json")["exchanges"]
    replay = Replay(sandbox_client)
    for exchange in exchanges:
        answer = replay.send(exchange)
        where = (
            f"{exchange['request']['method']} {exchange['request']['path']} {exchange['request']['query']}"
        )
        assert answer.status_code == exchange["response"]["status"], where
        assert shape_of(exchange["response"]["body"], answer.json()) == [], where
        expected_items, got_items = records(exchange["response"]["body"]), records(answer.json())
        assert len(got_items) == len(expected_items), where
        for expected, got in zip(expected_items, got_items, strict=True):
            assert got["id"] == replay.ids[expected["id"]], where
            for key in (
                "type",
                "sku",
                "manage_stock",
                "stock_quantity",
                "stock_status",
                "name",
                "description",
            ):
                assert got[key] == expected[key], f"{where}: {key}"
    # `?sku=` of the parent finds the parent only, although two variations show its SKU
    parent_sku = sandbox_client.get("/products", params={"sku": "REC-VAR-1"}).json()
    assert [p["type"] for p in parent_sku] == ["variable"]


def test_products_page_by_date_without_tie_breaker_and_exactly_by_id(sandbox_client: httpx.Client) -> None:
    summary = recording("paging-orderby-date-vs-id.json")["summary"]
    by_date = summary["products orderby=date (default), per_page=7"]
    assert by_date["distinct_ids"] < by_date["ids_returned"]
    same_second = "2026-12-05T08:19:53"
    body = {"create": [{"name": f"Paged {n}", "date_created": same_second} for n in range(42)]}
    ids = [item["id"] for item in sandbox_client.post("/products/batch", json=body).json()["create"]]
    parent = sandbox_client.post("/products", json={"name": "Paged variable", "type": "variable"}).json()
    variations = {"create": [{"regular_price": "1.00", "sku": f"PV-{n}"} for n in range(30)]}
    sandbox_client.post(f"/products/{parent['id']}/variations/batch", json=variations)

    def walk(path: str, per_page: int, **params: Any) -> list[int]:
        seen: list[int] = []
        page = 1
        while True:
            fields = "id,date_created,date_created_gmt"
            answer = sandbox_client.get(
                path, params={"per_page": per_page, "page": page, "_fields": fields, **params}
            )
            assert all(sorted(item) == sorted(fields.split(",")) for item in answer.json())
            seen += [item["id"] for item in answer.json()]
            if page >= int(answer.headers["X-WP-TotalPages"]):
                return seen
            page += 1

    default = walk("/products", 7, include=",".join(map(str, ids)))
    assert len(default) == 42 and len(set(default)) < 42  # pages repeat some products and skip others
    exact = walk("/products", 7, include=",".join(map(str, ids)), orderby="id", order="asc")
    assert exact == sorted(ids)
    listed = walk(f"/products/{parent['id']}/variations", 4)
    assert len(listed) == len(set(listed)) == 30 and listed == sorted(listed, reverse=True)
