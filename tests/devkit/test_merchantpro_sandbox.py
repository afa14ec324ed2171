"""The MerchantPro sandbox answers as MerchantPro's API v2 documentation says (and as its README chose)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emporion_devkit.sandbox.merchantpro import MerchantProSandbox


def unique(prefix: str) -> str:
    """A SKU or e-mail part no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def every_page(api: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every record of a list, following `meta.links.next`, and how many pages it took."""
    answer = api.get(path, params=params).json()
    records, pages = list(answer["data"]), 1
    while answer["meta"]["links"].get("next"):
        answer = api.get(answer["meta"]["links"]["next"]).json()
        records += answer["data"]
        pages += 1
    return records, pages


def test_basic_auth_with_key_and_secret_and_403_after_repeated_failures() -> None:
    """The right key and secret pass; a wrong one is a 401, and after repeated failures a 403."""
    sandbox = MerchantProSandbox(api_key="key", api_secret="secret")
    with sandbox.serve():
        url = sandbox.api_url + "/products"
        assert httpx.get(url, auth=("key", "secret")).status_code == 200
        assert httpx.get(url).status_code == 401
        wrong = [httpx.get(url, auth=("key", "nope")) for _ in range(7)]
        assert [answer.status_code for answer in wrong[:4]] == [401] * 4  # five failures with the first
        assert wrong[-1].status_code == 403
        assert wrong[-1].json()["error"]["name"] == "Forbidden"
        assert httpx.get(url, auth=("key", "secret")).status_code == 200


def test_lists_page_by_meta_links_next_each_record_once(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """Following `meta.links.next` yields every product once; the last page has no next link."""
    tag = unique("PG")
    made = {merchantpro.add_product(f"{tag}-{n}", f"Paged {n}")["id"] for n in range(5)}
    records, pages = every_page(merchantpro_api, "/products", limit=2)
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids)) and made <= set(ids)
    assert pages >= 3
    first = merchantpro_api.get("/products", params={"limit": 2}).json()
    assert first["meta"]["count"]["total"] == len(ids)
    assert merchantpro_api.get("/products", params={"limit": 101}).status_code == 400


def test_fields_cut_records_and_include_side_loads_variants(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """`fields=` keeps the fields named (and the id); variants come only with `include=variants`."""
    sku = unique("SHIRT")
    variants = [
        {
            "sku": f"{sku}-{size}",
            "price_gross": 20,
            "stock": 3,
            "variant_options": [{"name": "Size", "value": size}],
        }
        for size in ("S", "M")
    ]
    product = merchantpro.add_product(sku, "Shirt", type="multi_variant", variants=variants)
    plain = merchantpro_api.get(f"/products/{product['id']}").json()
    assert "variants" not in plain and plain["stock"] == 6 and plain["price_gross"] is None
    full = merchantpro_api.get(f"/products/{product['id']}", params={"include": "variants"}).json()
    assert [v["sku"] for v in full["variants"]] == [f"{sku}-S", f"{sku}-M"]
    cut = merchantpro_api.get("/products", params={"sku": sku, "fields": "sku,name"}).json()["data"]
    assert cut == [{"id": product["id"], "sku": sku, "name": "Shirt"}]


def test_sku_filter_finds_the_product_of_a_variant(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """Looking a SKU up finds the product that has it, itself or in one of its variants."""
    sku = unique("MUG")
    variants = [
        {"sku": f"{sku}-RED", "price_gross": 5, "variant_options": [{"name": "Colour", "value": "red"}]}
    ]
    product = merchantpro.add_product(sku, "Mug", type="multi_variant", variants=variants)
    found = merchantpro_api.get("/products", params={"sku": f"{sku}-RED"}).json()["data"]
    assert [record["id"] for record in found] == [product["id"]]
    assert merchantpro_api.get("/products", params={"sku": f"{sku}-BLUE"}).json()["data"] == []


def test_writes_are_checked_and_refusals_name_the_field(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """Unknown categories, duplicate SKUs and unknown fields are refused with a 400 naming the field."""
    sku = unique("CHK")
    created = merchantpro_api.post("/products", json={"sku": sku, "name": "Checked", "price_gross": 9.99})
    assert created.status_code == 201 and created.json()["price_gross"] == 9.99
    bad = merchantpro_api.post(
        "/products", json={"sku": unique("B"), "name": "B", "categories": [{"id": 9999}]}
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "categories"
    assert "categories" in bad.json()["error"]["message"]
    again = merchantpro_api.post("/products", json={"sku": sku, "name": "Twice"})
    assert again.status_code == 400 and again.json()["error"]["field"] == "sku"
    extra = {"sku": unique("X"), "name": "Extra", "colour": "red"}
    assert merchantpro_api.post("/products", json=extra).status_code == 400
    ignored = merchantpro_api.post("/products", json=extra, params={"ignore_nonexistent_fields": 1})
    assert ignored.status_code == 201 and "colour" not in ignored.json()


def test_patch_changes_only_what_is_sent_and_delete_removes(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """A PATCH keeps the fields it does not send; a DELETE answers 204 and the product is gone."""
    product = merchantpro.add_product(unique("P"), "Before", price_gross="12.10", ext_ref="erp-1")
    changed = merchantpro_api.patch(f"/products/{product['id']}", json={"name": "After"}).json()
    assert changed["name"] == "After" and changed["price_gross"] == 12.1 and changed["ext_ref"] == "erp-1"
    assert merchantpro_api.delete(f"/products/{product['id']}").status_code == 204
    missing = merchantpro_api.get(f"/products/{product['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["name"] == "NotFound"


def test_a_multi_variant_product_keeps_stock_and_prices_on_its_variants(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """Sending stock or a price for a multi-variant product itself is refused."""
    sku = unique("MV")
    product = merchantpro.add_product(sku, "Multi", type="multi_variant", variants=[{"sku": f"{sku}-1"}])
    refused = merchantpro_api.patch(f"/products/{product['id']}", json={"stock": 4})
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "stock"


def test_a_variant_sent_without_its_id_is_found_by_its_sku(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """A PATCH naming a variant by SKU changes that variant; a new SKU adds one."""
    sku = unique("VAR")
    product = merchantpro.add_product(
        sku, "Var", type="multi_variant", variants=[{"sku": f"{sku}-1", "stock": 1}]
    )
    body = {"variants": [{"sku": f"{sku}-1", "stock": 5}, {"sku": f"{sku}-2", "stock": 2}]}
    merchantpro_api.patch(f"/products/{product['id']}", json=body)
    variants = merchantpro_api.get(f"/products/{product['id']}", params={"include": "variants"}).json()[
        "variants"
    ]
    assert [(v["sku"], v["stock"]) for v in variants] == [(f"{sku}-1", 5), (f"{sku}-2", 2)]
    assert variants[0]["id"] == product["variants"][0]["id"]


def test_inventory_by_sku_sets_stock_and_stamps_the_product(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """`/inventory/sku/{sku}` reads and sets a unit's stock; its product then shows as changed."""
    sku = unique("INV")
    product = merchantpro.add_product(sku, "Stocked", stock=4)
    assert merchantpro_api.get(f"/inventory/sku/{sku}").json()["stock"] == 4
    time.sleep(1.1)  # stamps are in whole seconds
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    assert merchantpro_api.patch(f"/inventory/sku/{sku}", json={"stock": 7}).json()["stock"] == 7
    assert merchantpro_api.get(f"/inventory/{product['id']}").json()["stock"] == 7
    changed = merchantpro_api.get("/products", params={"updated_since": since, "fields": "id"}).json()["data"]
    assert product["id"] in [record["id"] for record in changed]
    assert merchantpro_api.get(f"/inventory/sku/{sku}-NONE").status_code == 404


def test_updated_since_is_inclusive_and_leaves_older_changes_out(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """A product stamped at the moment asked for is listed; one changed before it is not."""
    old = merchantpro.add_product(unique("OLD"), "Old")
    new = merchantpro.add_product(unique("NEW"), "New")
    merchantpro.change_product(old["id"], stamp=datetime.now(UTC) - timedelta(hours=1), name="Old too")
    listed = merchantpro_api.get("/products", params={"updated_since": new["updated_at"]}).json()["data"]
    ids = {record["id"] for record in listed}
    assert new["id"] in ids and old["id"] not in ids
    assert merchantpro_api.get("/products", params={"updated_since": "yesterday"}).status_code == 400


def test_orders_keep_payment_and_shipping_statuses_and_take_stock(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """A placed order has its lines and three statuses; a PATCH sets them; its units leave the stock."""
    sku = unique("TEA")
    merchantpro.add_product(sku, "Tea", price_gross="4.50", stock=10)
    email = f"{unique('buyer').lower()}@example.ro"
    order = merchantpro.place_order(email, [(sku, 2)])
    read = merchantpro_api.get(f"/orders/{order['id']}").json()
    assert read["line_items"][0]["sku"] == sku and read["line_items"][0]["quantity"] == 2
    assert (read["status"], read["payment_status"], read["shipping_status"]) == ("new", "unpaid", "unshipped")
    assert read["total"] == 9.0 and read["type"] == "order"
    assert merchantpro_api.get(f"/inventory/sku/{sku}").json()["stock"] == 8
    body = {"status": "completed", "payment_status": "paid", "shipping_status": "shipped", "ext_ref": "SO-1"}
    done = merchantpro_api.patch(f"/orders/{order['id']}", json=body).json()
    assert (done["status"], done["payment_status"], done["shipping_status"], done["ext_ref"]) == (
        "completed", "paid", "shipped", "SO-1",
    )  # fmt: skip
    wrong = merchantpro_api.patch(f"/orders/{order['id']}", json={"status": "lost"})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "status"
    assert merchantpro_api.patch(f"/orders/{order['id']}", json={"total": 1}).status_code == 400
    assert merchantpro_api.delete(f"/orders/{order['id']}").status_code == 405


def test_orders_are_found_by_email_whatever_its_case(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """The `email` filter matches the shopper's e-mail exactly, in any case."""
    sku = unique("EM")
    merchantpro.add_product(sku, "Mail")
    email = f"{unique('case').lower()}@example.ro"
    mine = merchantpro.place_order(email, [(sku, 1)])
    merchantpro.place_order(f"x{email}", [(sku, 1)])
    found = merchantpro_api.get("/orders", params={"email": email.upper()}).json()["data"]
    assert [order["id"] for order in found] == [mine["id"]]


def test_a_return_is_an_order_of_its_own(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """A return is a separate order of type "return" naming its order; more than was bought is refused."""
    sku = unique("RET")
    merchantpro.add_product(sku, "Returned")
    order = merchantpro.place_order(f"{unique('ret').lower()}@example.ro", [(sku, 3)])
    returned = merchantpro.place_return(order["id"], [(sku, 1)])
    assert returned["id"] != order["id"] and returned["type"] == "return"
    assert returned["source_order_id"] == order["id"] and returned["email"] == order["email"]
    returns = merchantpro_api.get("/orders", params={"type": "return", "email": order["email"]}).json()[
        "data"
    ]
    assert [record["id"] for record in returns] == [returned["id"]]
    body = {"type": "return", "source_order_id": order["id"], "line_items": [{"sku": sku, "quantity": 4}]}
    too_many = merchantpro_api.post("/orders", json=body)
    assert too_many.status_code == 400 and too_many.json()["error"]["field"] == "line_items[0].quantity"


def test_an_order_for_an_unknown_sku_is_refused_naming_the_line(merchantpro_api: httpx.Client) -> None:
    """POST /orders with a SKU nobody sells is a 400 naming the line's SKU."""
    body = {"email": "nobody@example.ro", "line_items": [{"sku": unique("NONE"), "quantity": 1}]}
    refused = merchantpro_api.post("/orders", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "line_items[0].sku"


def test_customers_have_unique_emails_and_are_found_by_email(
    merchantpro: MerchantProSandbox, merchantpro_api: httpx.Client
) -> None:
    """An e-mail has one account, whatever its case; the `email` filter finds it."""
    email = f"{unique('cust').lower()}@example.ro"
    created = merchantpro_api.post("/customers", json={"email": email, "first_name": "Ana", "ext_ref": "C-1"})
    assert created.status_code == 201
    twice = merchantpro_api.post("/customers", json={"email": email.upper()})
    assert twice.status_code == 400 and twice.json()["error"]["field"] == "email"
    found = merchantpro_api.get("/customers", params={"email": email.upper()}).json()["data"]
    assert [c["id"] for c in found] == [created.json()["id"]] and found[0]["ext_ref"] == "C-1"
    order = merchantpro.place_order(email, [(merchantpro.add_product(unique("C"), "C")["sku"], 1)])
    assert order["customer_id"] == created.json()["id"]


def test_categories_check_their_parent(merchantpro_api: httpx.Client) -> None:
    """A subcategory names an existing parent; a category with subcategories is not deleted."""
    parent = merchantpro_api.post("/categories", json={"name": unique("Drinks")}).json()
    child = merchantpro_api.post("/categories", json={"name": "Tea", "parent_id": parent["id"]})
    assert child.status_code == 201 and child.json()["parent_id"] == parent["id"]
    orphan = merchantpro_api.post("/categories", json={"name": "Orphan", "parent_id": 99999})
    assert orphan.status_code == 400 and orphan.json()["error"]["field"] == "categories"
    assert merchantpro_api.delete(f"/categories/{parent['id']}").status_code == 400
    assert merchantpro_api.delete(f"/categories/{child.json()['id']}").status_code == 204


def test_injected_faults_and_the_rate_limit_answer_as_the_api_does() -> None:
    """`fail_next` answers the next request with its status; beyond the rate a 429 with Retry-After."""
    sandbox = MerchantProSandbox(api_key="k", api_secret="s", max_requests_per_second=4)
    with sandbox.serve(), httpx.Client(base_url=sandbox.api_url, auth=("k", "s")) as api:
        sandbox.fail_next(503)
        assert api.get("/orders").status_code == 503
        answers = [api.get("/orders") for _ in range(6)]
        limited = [answer for answer in answers if answer.status_code == 429]
        assert limited and limited[0].headers["Retry-After"] == "1"
        assert limited[0].json()["error"]["name"] == "TooManyRequests"


@pytest.mark.parametrize("path", ["/nothing", "/products/1/extra"])
def test_unknown_paths_are_404(merchantpro_api: httpx.Client, path: str) -> None:
    """A path the API does not have answers 404 in the error shape."""
    answer = merchantpro_api.get(path)
    assert answer.status_code == 404 and answer.json()["error"]["name"] == "NotFound"
