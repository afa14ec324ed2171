"""Tax settings, classes and rates of the sandbox shop, and orders taxed with them (compound, per place)."""

from __future__ import annotations

import httpx


def taxes_on(client: httpx.Client, inclusive: str = "no") -> None:
    for group, name, value in (
        ("general", "woocommerce_default_country", "CA:QC"),
        ("general", "woocommerce_calc_taxes", "yes"),
        ("tax", "woocommerce_prices_include_tax", inclusive),
    ):
        assert client.put(f"/settings/{group}/{name}", json={"value": value}).status_code == 200


def test_settings_classes_and_rates(sandbox_client: httpx.Client) -> None:
    listed = {s["id"]: s for s in sandbox_client.get("/settings/tax").json()}
    assert listed["woocommerce_prices_include_tax"]["value"] == "no"
    assert listed["woocommerce_shipping_tax_class"]["value"] == "inherit"
    bad = sandbox_client.put("/settings/tax/woocommerce_prices_include_tax", json={"value": "maybe"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_setting_value_invalid"
    assert sandbox_client.get("/settings/nowhere").status_code == 404
    classes = sandbox_client.get("/taxes/classes").json()
    assert [c["slug"] for c in classes] == ["standard", "reduced-rate", "zero-rate"]
    made = sandbox_client.post("/taxes/classes", json={"name": "Books & Press"}).json()
    assert made == {"slug": "books-press", "name": "Books & Press"}
    wrong = sandbox_client.post("/taxes", json={"country": "de", "rate": "7", "class": "nope"})
    assert wrong.status_code == 400
    rate = sandbox_client.post("/taxes", json={"country": "de", "rate": "7", "class": "books-press"}).json()
    assert (rate["country"], rate["rate"], rate["class"], rate["shipping"]) == (
        "DE",
        "7.0000",
        "books-press",
        True,
    )
    assert [r["id"] for r in sandbox_client.get("/taxes", params={"class": "books-press"}).json()] == [
        rate["id"]
    ]
    assert sandbox_client.delete(f"/taxes/{rate['id']}").status_code == 501  # rates are not trashed
    assert sandbox_client.delete(f"/taxes/{rate['id']}", params={"force": "true"}).status_code == 200


def test_compound_rates_and_the_place_of_delivery(sandbox_client: httpx.Client) -> None:
    taxes_on(sandbox_client)
    gst = sandbox_client.post(
        "/taxes", json={"country": "CA", "rate": "5", "name": "GST", "priority": 1}
    ).json()
    qst = sandbox_client.post(
        "/taxes",
        json={
            "country": "CA",
            "state": "QC",
            "rate": "9.975",
            "name": "QST",
            "priority": 2,
            "compound": True,
        },
    ).json()
    product = sandbox_client.post("/products", json={"name": "Maple", "regular_price": "100.00"}).json()
    body = {"line_items": [{"product_id": product["id"]}], "shipping": {"country": "CA", "state": "QC"}}
    order = sandbox_client.post("/orders", json=body).json()
    line = order["line_items"][0]
    assert line["taxes"] == [
        {"id": gst["id"], "total": "5.00", "subtotal": "5.00"},
        {"id": qst["id"], "total": "10.47", "subtotal": "10.47"},  # 9.975 % of 105.00
    ]
    assert (order["total_tax"], order["total"]) == ("15.47", "115.47")
    codes = [(t["rate_code"], t["compound"], t["rate_percent"]) for t in order["tax_lines"]]
    assert codes == [("CA-GST-1", False, 5), ("CA-QC-QST-2", True, 9.975)]
    ontario = sandbox_client.post(
        "/orders", json={**body, "shipping": {"country": "CA", "state": "ON"}}
    ).json()  # QST is Québec's only
    assert [t["rate_id"] for t in ontario["tax_lines"]] == [gst["id"]] and ontario["total"] == "105.00"
    abroad = sandbox_client.post(
        "/orders", json={**body, "shipping": {"country": "US", "state": "NY"}}
    ).json()
    assert abroad["tax_lines"] == [] and abroad["total_tax"] == "0.00"


def test_prices_with_tax_are_stored_net(sandbox_client: httpx.Client) -> None:
    taxes_on(sandbox_client, inclusive="yes")
    sandbox_client.post("/taxes", json={"country": "CA", "rate": "19", "name": "VAT"})
    product = sandbox_client.post("/products", json={"name": "Gross", "regular_price": "9.99"}).json()
    order = sandbox_client.post(
        "/orders", json={"line_items": [{"product_id": product["id"], "quantity": 7}]}
    )
    line = order.json()["line_items"][0]
    assert (line["subtotal"], line["subtotal_tax"], line["total"]) == ("58.76", "11.17", "58.76")
    assert order.json()["prices_include_tax"] is True and order.json()["total"] == "69.93"  # 7 x 9.99
