"""The WooCommerce mapper reads the real REST v3 payloads and round-trips canonical records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.woocommerce.mapping import (
    MappingError,
    category_from_wc,
    category_to_wc,
    format_money,
    meta_from_wc,
    product_from_wc,
    product_to_wc,
    variant_from_wc,
    variant_to_wc,
)
from emporion.model import Category, Image, Product, SalePrice, Variant

PAYLOADS = Path("/work/shared/payloads/woocommerce")


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_simple_product_payload_reads_into_canonical_record() -> None:
    product = product_from_wc(load("product-simple.json"))
    assert product.key == "794"
    assert product.name == "Premium Quality"
    assert product.list_price == Decimal("21.99")
    assert product.sale_price is None
    assert product.categories == ["9", "14"]
    assert [image.position for image in product.images] == [0, 1]
    assert product.images[0].url.endswith("T_2_front-4.jpg")
    assert product.available is None  # manage_stock is false
    assert product.active and product.salable
    assert not product.is_variable


def test_variable_product_and_variation_payloads_read_together() -> None:
    product = product_from_wc(load("product-variable.json"), [load("product-variation.json")])
    assert product.attributes == {"Color": ["Black", "Green"], "Size": ["S", "M"]}
    assert product.list_price is None
    [variant] = product.variants
    assert variant.key == "732"
    assert variant.list_price == Decimal("9.00")
    assert variant.attributes == {"Color": "Black"}
    assert variant.images[0].url.endswith("T_4_front-12.jpg")
    assert variant.active


def test_category_payload_and_every_batch_answer_item_read() -> None:
    category = category_from_wc(load("product-category.json"))
    assert category == Category(key="9", name="Clothing", slug="clothing", parent_key=None, description="")
    batch = load("products-batch-response.json")
    products = [product_from_wc(item) for op in ("create", "update", "delete") for item in batch[op]]
    assert [p.key for p in products] == ["801", "804", "799", "794"]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("10"), "10.00"),
        (Decimal("10.5"), "10.50"),
        (Decimal("10.125"), "10.125"),
        (Decimal("0.1000"), "0.1000"),
        (Decimal("1E+1"), "10.00"),
        (None, ""),
    ],
)
def test_money_is_a_string_with_two_decimals_unless_more(amount: Decimal | None, expected: str) -> None:
    assert format_money(amount) == expected


def _simple() -> Product:
    return Product(
        key="500",
        sku="TSHIRT-1",
        name="T-shirt & more",
        description="<p>Soft</p>",
        short_description="Soft",
        categories=["9", "14"],
        images=[
            Image(url="https://img.test/a.jpg"),
            Image(url="https://img.test/b.jpg", alt="back", position=1),
        ],
        list_price=Decimal("19.9"),
        sale_price=SalePrice(
            price=Decimal("14.5"),
            start=datetime(2026, 12, 1, tzinfo=UTC),
            end=datetime(2026, 12, 24, 23, tzinfo=UTC),
        ),
        available=Decimal("12"),
        weight=Decimal("0.25"),
        tax_class="reduced-rate",
        attributes={"Material": ["Cotton"]},
        custom={"gtin": "4006381333931", "pack": 3, "fragile": True},
    )


def _as_shop_answer(body: dict[str, Any], ident: int) -> dict[str, Any]:
    """What WooCommerce answers for a posted body: the same fields, plus an id, images unpositioned."""
    answer = dict(body, id=ident)
    answer["images"] = [{"src": image["src"], "alt": image["alt"]} for image in body.get("images", [])]
    answer["meta_data"] = [dict(meta, id=index + 1) for index, meta in enumerate(body.get("meta_data", []))]
    return answer


def test_simple_product_to_woocommerce() -> None:
    body = product_to_wc(_simple())
    assert body["type"] == "simple"
    assert body["status"] == "publish"
    assert body["regular_price"] == "19.90"
    assert body["sale_price"] == "14.50"
    assert body["date_on_sale_from_gmt"] == "2026-12-01T00:00:00"
    assert body["date_on_sale_to_gmt"] == "2026-12-24T23:00:00"
    assert body["manage_stock"] is True
    assert body["stock_quantity"] == 12
    assert body["categories"] == [{"id": 9}, {"id": 14}]
    assert [image["src"] for image in body["images"]] == ["https://img.test/a.jpg", "https://img.test/b.jpg"]
    shuffled = _simple().model_copy(update={"images": list(reversed(_simple().images))})
    assert product_to_wc(shuffled)["images"] == body["images"]  # sent in position order
    assert body["weight"] == "0.25"
    assert body["meta_data"] == [
        {"key": "gtin", "value": "4006381333931"},
        {"key": "pack", "value": 3},
        {"key": "fragile", "value": True},
    ]


def test_simple_product_round_trip_is_lossless() -> None:
    product = _simple()
    back = product_from_wc(_as_shop_answer(product_to_wc(product), 500))
    assert back == product


def test_variable_product_round_trip_is_lossless() -> None:
    variants = [
        Variant(
            key="601",
            sku="HOODIE-S",
            attributes={"Size": "S"},
            list_price=Decimal("49"),
            sale_price=SalePrice(price=Decimal("39"), end=datetime(2027, 1, 1, tzinfo=UTC)),
            available=Decimal("4"),
            weight=Decimal("0.6"),
            images=[Image(url="https://img.test/s.jpg", alt="small")],
            custom={"ean": "123"},
        ),
        Variant(key="602", sku="HOODIE-M", attributes={"Size": "M"}, list_price=Decimal("49"), active=False),
    ]
    product = Product(
        key="600", sku="HOODIE", name="Hoodie", attributes={"Size": ["S", "M"]}, variants=variants
    )
    body = product_to_wc(product)
    assert body["type"] == "variable"
    assert "regular_price" not in body
    assert body["attributes"] == [
        {"name": "Size", "options": ["S", "M"], "variation": True, "visible": True, "position": 0}
    ]
    bodies = [variant_to_wc(v) for v in variants]
    assert bodies[0]["attributes"] == [{"name": "Size", "option": "S"}]
    assert bodies[0]["image"] == {"src": "https://img.test/s.jpg", "alt": "small"}
    assert bodies[1]["status"] == "private"
    assert bodies[1]["manage_stock"] is False and "stock_quantity" not in bodies[1]
    answers = [
        dict(_as_shop_answer(b, int(v.key)), image=b.get("image"))
        for b, v in zip(bodies, variants, strict=True)
    ]
    back = product_from_wc(_as_shop_answer(body, 600), answers)
    assert back == product


def test_status_follows_active_and_salable() -> None:
    assert product_to_wc(Product(key="1", sku="A", name="A", salable=False))["status"] == "draft"
    assert product_to_wc(Product(key="1", sku="A", name="A", active=False))["status"] == "draft"
    draft = product_from_wc({"id": 1, "sku": "A", "name": "A", "status": "draft"})
    assert draft.active and not draft.salable


def test_stock_is_an_integer_and_only_managed_when_known() -> None:
    assert product_to_wc(Product(key="1", sku="A", name="A", available=Decimal("3.7")))["stock_quantity"] == 3
    unmanaged = product_to_wc(Product(key="1", sku="A", name="A"))
    assert unmanaged["manage_stock"] is False and "stock_quantity" not in unmanaged
    ignored = product_from_wc({"id": 1, "name": "A", "manage_stock": False, "stock_quantity": 9})
    assert ignored.available is None


def test_clearing_a_sale_sends_empty_price_and_no_dates() -> None:
    body = product_to_wc(Product(key="1", sku="A", name="A", list_price=Decimal("5")))
    assert body["sale_price"] == ""
    assert body["date_on_sale_from_gmt"] is None and body["date_on_sale_to_gmt"] is None


def test_meta_data_leaves_out_woocommerce_private_keys() -> None:
    meta = [
        {"id": 1, "key": "_edit_lock", "value": "1"},
        {"id": 2, "key": "gtin", "value": "1234"},
        {"id": 3, "key": "ratio", "value": 1.5},
        {"id": 4, "key": "dims", "value": {"w": 2}},
    ]
    assert meta_from_wc(meta) == {"gtin": "1234", "ratio": Decimal("1.5"), "dims": '{"w":2}'}


def test_category_both_ways_with_parent_and_escaped_name() -> None:
    category = Category(key="15", name="Shirts & Tops", parent_key="9", slug="shirts", description="d")
    body = category_to_wc(category)
    assert body == {"name": "Shirts & Tops", "parent": 9, "description": "d", "slug": "shirts"}
    assert category_to_wc(category, parent_id=33)["parent"] == 33
    answer = dict(body, id=15, name="Shirts &amp; Tops")
    assert category_from_wc(answer) == category
    assert category_to_wc(Category(key="1", name="Top"))["parent"] == 0


def test_variation_payload_without_image_reads() -> None:
    variation = dict(load("product-variation.json"), image=None, manage_stock=True, stock_quantity=7)
    variant = variant_from_wc(variation)
    assert variant.images == []
    assert variant.available == Decimal("7")


def test_ids_that_are_not_woocommerce_ids_are_refused_with_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        product_to_wc(Product(key="1", sku="A", name="A", categories=["clothing"]))
    assert caught.value.field == "categories"
    with pytest.raises(MappingError):
        category_to_wc(Category(key="2", name="B", parent_key="erp-1"))
