"""Paging, headers and list filters as WordPress' REST server answers them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx


def make_products(client: httpx.Client, count: int) -> list[dict]:
    body = {
        "create": [
            {"name": f"P{i:02d}", "sku": f"SKU-{i:02d}", "regular_price": "1.00"} for i in range(count)
        ]
    }
    return client.post("/products/batch", json=body).json()["create"]


def test_page_headers_and_link(sandbox_client: httpx.Client) -> None:
    make_products(sandbox_client, 25)
    first = sandbox_client.get("/products", params={"per_page": 10, "orderby": "id", "order": "asc"})
    assert first.headers["X-WP-Total"] == "25" and first.headers["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    last = sandbox_client.get(
        "/products", params={"per_page": 10, "page": 3, "orderby": "id", "order": "asc"}
    )
    assert [p["name"] for p in last.json()] == ["P20", "P21", "P22", "P23", "P24"]
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    assert "page=2" in next_url and "per_page=10" in next_url
    offset = sandbox_client.get(
        "/products", params={"per_page": 2, "offset": 5, "orderby": "id", "order": "asc"}
    )
    assert [p["name"] for p in offset.json()] == ["P05", "P06"]
    beyond = sandbox_client.get("/products", params={"page": 9})
    assert beyond.status_code == 200 and beyond.json() == []


def test_per_page_bounds(sandbox_client: httpx.Client) -> None:
    for bad in ("0", "101", "abc"):
        answer = sandbox_client.get("/products", params={"per_page": bad})
        assert answer.status_code == 400 and answer.json()["code"] == "rest_invalid_param"
        assert "per_page" in answer.json()["data"]["params"]
    assert sandbox_client.get("/products", params={"per_page": 100}).status_code == 200


def test_filters(sandbox_client: httpx.Client) -> None:
    products = make_products(sandbox_client, 6)
    ids = [p["id"] for p in products]
    by_sku = sandbox_client.get("/products", params={"sku": "SKU-03"}).json()
    assert [p["id"] for p in by_sku] == [ids[3]]
    both = sandbox_client.get("/products", params={"sku": "SKU-01,SKU-02", "orderby": "id", "order": "asc"})
    assert [p["id"] for p in both.json()] == ids[1:3]
    include = sandbox_client.get("/products", params={"include": f"{ids[4]},{ids[0]}", "orderby": "include"})
    assert [p["id"] for p in include.json()] == [ids[4], ids[0]]
    exclude = sandbox_client.get("/products", params={"exclude[]": [ids[0], ids[1]], "per_page": 100})
    assert sorted(p["id"] for p in exclude.json()) == ids[2:]
    search = sandbox_client.get("/products", params={"search": "P05"}).json()
    assert [p["id"] for p in search] == [ids[5]]
    draft = sandbox_client.post("/products", json={"name": "Draft", "status": "draft"}).json()
    drafts = sandbox_client.get("/products", params={"status": "draft"}).json()
    assert [p["id"] for p in drafts] == [draft["id"]]
    fields = sandbox_client.get(
        "/products", params={"_fields": "id,sku,dimensions.width", "include": ids[0]}
    ).json()
    assert fields == [{"id": ids[0], "sku": "SKU-00", "dimensions": {"width": ""}}]
    child = sandbox_client.post("/products", json={"name": "Child", "parent_id": ids[0]}).json()
    assert [p["id"] for p in sandbox_client.get("/products", params={"parent": ids[0]}).json()] == [
        child["id"]
    ]
    ordered = sandbox_client.get(
        "/products", params={"orderby": "title", "order": "desc", "per_page": 3}
    ).json()
    assert [p["name"] for p in ordered] == ["P05", "P04", "P03"]


def test_modified_after_and_dates_are_gmt(sandbox_client: httpx.Client) -> None:
    old = make_products(sandbox_client, 2)
    time.sleep(1.1)
    changed = sandbox_client.put(f"/products/{old[0]['id']}", json={"name": "Changed"}).json()
    since = old[0]["date_modified_gmt"]
    recent = sandbox_client.get("/products", params={"modified_after": since, "dates_are_gmt": "true"}).json()
    assert [p["id"] for p in recent] == [changed["id"]]
    zoned = sandbox_client.get("/products", params={"modified_after": since + "Z"}).json()
    assert [p["id"] for p in zoned] == [changed["id"]]
    before = sandbox_client.get("/products", params={"modified_before": changed["date_modified_gmt"]}).json()
    assert [p["id"] for p in before] == [old[1]["id"]]
    created_after = sandbox_client.get("/products", params={"after": since}).json()
    assert created_after == []
    bad = sandbox_client.get("/products", params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_order_by_price_and_unpaged_notes(sandbox_client: httpx.Client) -> None:
    for name, price in (("mid", "5.50"), ("low", "1.00"), ("high", "20.00")):
        sandbox_client.post("/products", json={"name": name, "regular_price": price})
    cheapest = sandbox_client.get("/products", params={"orderby": "price", "order": "asc"}).json()
    assert [p["name"] for p in cheapest] == ["low", "mid", "high"]
    order = sandbox_client.post("/orders", json={}).json()
    for n in range(12):
        sandbox_client.post(f"/orders/{order['id']}/notes", json={"note": f"n{n}"})
    notes = sandbox_client.get(f"/orders/{order['id']}/notes")
    assert len(notes.json()) == 12 and "X-WP-Total" not in notes.headers
    assert notes.json()[0]["note"] == "n11"


def test_site_time_and_gmt_differ_in_a_shop_east_of_greenwich() -> None:
    from emporion_devkit.sandbox.woocommerce import SandboxShop

    with SandboxShop.serve(utc_offset_minutes=120) as shop:
        auth = {"auth": (shop.consumer_key, shop.consumer_secret), "headers": {"X-Forwarded-Proto": "https"}}
        with httpx.Client(base_url=shop.api_url, **auth) as client:  # type: ignore[arg-type]
            product = client.post("/products", json={"name": "Local"}).json()
            gmt = datetime.fromisoformat(product["date_modified_gmt"])
            assert datetime.fromisoformat(product["date_modified"]) - gmt == timedelta(hours=2)
            an_hour_later = (gmt + timedelta(hours=1)).isoformat()
            # read as site time (UTC+2) an hour after the change in GMT is an hour before it
            as_site_time = client.get("/products", params={"modified_after": an_hour_later}).json()
            assert [p["id"] for p in as_site_time] == [product["id"]]
            as_gmt = client.get("/products", params={"modified_after": an_hour_later, "dates_are_gmt": True})
            assert as_gmt.json() == []
