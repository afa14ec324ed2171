"""The declarative mapping of catalogue records: every conversion, every refusal (record and field
named), and round trips (a body written, then read back, gives the record) on Medusa-, Vendure- and
MerchantPro-shaped records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Permanent, Unmappable, map_or_unmappable
from emporion.connectors.rest.conversions import decode_json, encode_json
from emporion.connectors.rest.mapping import body_from, put_at, record_from, value_at
from emporion.connectors.rest.settings import CategoryEntity, CustomerEntity, ProductEntity
from emporion.model import Category, Customer, Image, Product, StockLevel

WRITES = {"create": {"method": "POST", "path": "/products"}, "update": {"method": "POST", "path": "/p/{id}"}}


def product_settings(**extra: Any) -> ProductEntity:
    """A product entity mapping the given fields (and the rest of `extra`)."""
    return ProductEntity.model_validate(extra)


def medusa_settings() -> ProductEntity:
    """A Medusa v2-like product: handle as SKU, status words, variants with prices and options."""
    return ProductEntity.model_validate(
        {
            **WRITES,
            "fields": {
                "sku": "$.handle",
                "name": "$.title",
                "description": "$.description",
                "active": "$.status",
                "weight": "$.weight",
                "images": "$.images",
                "custom.material": "$.material",
            },
            "values": {"active": {"published": True, "draft": False}},
            "variants": {
                "items": "$.variants",
                "fields": {
                    "key": "$.id",
                    "sku": "$.sku",
                    "list_price": "$.prices[0].amount",
                    "price_lists.wholesale": "$.prices[1].amount",
                    "available": "$.inventory_quantity",
                    "attributes.size": "$.options[0].value",
                },
            },
            "constants": {"$.sales_channels[0].id": "sc_1"},
        }
    )


MEDUSA_PRODUCT = """{
  "id": "prod_01HX", "handle": "tee-classic", "title": "Classic tee", "description": "Cotton tee",
  "status": "published", "weight": 200, "material": "cotton",
  "images": [{"url": "https://cdn.example/tee.png"}, {"url": "https://cdn.example/back.png"}],
  "variants": [
    {"id": "variant_01", "sku": "TEE-S", "inventory_quantity": 12,
     "prices": [{"amount": 19.9, "currency_code": "eur"}, {"amount": 15.5, "currency_code": "eur"}],
     "options": [{"value": "S"}]},
    {"id": "variant_02", "sku": "TEE-M", "inventory_quantity": 0,
     "prices": [{"amount": 21, "currency_code": "eur"}, {"amount": 16.25, "currency_code": "eur"}],
     "options": [{"value": "M"}]}
  ]
}"""


def test_a_medusa_product_reads_with_its_variants_prices_and_options() -> None:
    product = record_from("product", json.loads(MEDUSA_PRODUCT), medusa_settings())
    assert isinstance(product, Product)
    assert (product.key, product.sku, product.name, product.active) == (
        "prod_01HX",
        "tee-classic",
        "Classic tee",
        True,
    )
    assert product.weight == Decimal(200) and product.custom == {"material": "cotton"}
    assert product.images == [
        Image(url="https://cdn.example/tee.png", position=0),
        Image(url="https://cdn.example/back.png", position=1),
    ]
    small, medium = product.variants
    assert (small.key, small.sku, small.attributes) == ("variant_01", "TEE-S", {"size": "S"})
    assert small.list_price == Decimal("19.90") and str(small.list_price) == "19.90"  # no float noise
    assert small.price_lists == {"wholesale": Decimal("15.50")} and small.available == Decimal(12)
    assert medium.list_price == Decimal(21) and medium.available == Decimal(0)


def test_a_medusa_product_round_trips_through_its_body() -> None:
    settings = medusa_settings()
    product = record_from("product", json.loads(MEDUSA_PRODUCT), settings)
    body = body_from("product", product, settings, creating=True)
    assert body["status"] == "published" and body["sales_channels"] == [{"id": "sc_1"}]
    assert body["variants"][0]["prices"] == [{"amount": Decimal("19.90")}, {"amount": Decimal("15.50")}]
    assert "id" not in body and "id" not in body["variants"][0], "a source's keys are never written"
    assert body["variants"][0]["inventory_quantity"] == 12 and isinstance(
        body["variants"][0]["inventory_quantity"], int
    )
    for variant, written in zip(product.variants, body["variants"], strict=True):
        written["id"] = variant.key  # the shop gives each variant its id
    assert record_from("product", body, settings, key=product.key) == product


def vendure_variant_settings() -> ProductEntity:
    """A Vendure-like product whose variants carry priceWithTax in minor units (cents)."""
    return ProductEntity.model_validate(
        {
            **WRITES,
            "money": "minor_units",
            "fields": {
                "sku": "$.slug",
                "name": "$.name",
                "active": "$.enabled",
                "currency": "$.currencyCode",
            },
            "variants": {
                "items": "$.variants",
                "fields": {
                    "key": "$.id",
                    "sku": "$.sku",
                    "list_price": "$.priceWithTax",
                    "price_lists.net": "$.price",
                    "available": "$.stockOnHand",
                    "active": "$.enabled",
                },
            },
        }
    )


VENDURE_PRODUCT = {
    "id": "12",
    "slug": "laptop",
    "name": "Laptop",
    "enabled": True,
    "currencyCode": "USD",
    "variants": [
        {
            "id": "34",
            "sku": "L2201308",
            "priceWithTax": 155880,
            "price": 129900,
            "stockOnHand": 100,
            "enabled": True,
        },
        {"id": "35", "sku": "L2201508", "priceWithTax": 1, "price": 0, "stockOnHand": 0, "enabled": False},
    ],
}


def test_vendure_minor_units_are_divided_by_100_exactly_and_written_back_as_whole_cents() -> None:
    settings = vendure_variant_settings()
    product = record_from("product", VENDURE_PRODUCT, settings)
    first, second = product.variants
    assert first.list_price == Decimal("1558.80") and first.price_lists == {"net": Decimal("1299.00")}
    assert second.list_price == Decimal("0.01") and second.active is False
    body = body_from("product", product, settings)
    assert body["variants"][0]["priceWithTax"] == 155880 and isinstance(
        body["variants"][0]["priceWithTax"], int
    )
    assert body["variants"][1]["price"] == 0
    for variant, written in zip(product.variants, body["variants"], strict=True):
        written["id"] = variant.key
    assert record_from("product", body, settings, key="12") == product


def test_minor_units_that_are_no_whole_number_and_amounts_finer_than_cents_are_refused() -> None:
    settings = vendure_variant_settings()
    data = {**VENDURE_PRODUCT, "variants": [{**VENDURE_PRODUCT["variants"][0], "priceWithTax": 1558.5}]}  # type: ignore[dict-item]
    with pytest.raises(Permanent) as refused:
        record_from("product", data, settings)
    assert refused.value.record == "12" and refused.value.field == "variants[0].list_price"
    assert "not a whole number of minor units" in refused.value.reason
    product = Product(key="12", sku="laptop", name="Laptop", list_price=Decimal("1.005"))
    settings = product_settings(
        **WRITES, money="minor_units", fields={"sku": "$.sku", "list_price": "$.price"}
    )
    with pytest.raises(Permanent) as refused:
        body_from("product", product, settings)
    assert refused.value.field == "list_price" and refused.value.record == "12"


@pytest.mark.parametrize(
    ("sent", "money", "read"),
    [
        (19.9, "decimal", Decimal("19.90")),
        (0.30000000000000004, "decimal", Decimal("0.30")),
        ("12.345", "decimal", Decimal("12.345")),  # text is exact: no rounding
        (Decimal("12.3456"), "decimal", Decimal("12.3456")),
        (7, "decimal", Decimal(7)),
        (" 4.50 ", "string", Decimal("4.50")),
        (1999, "minor_units", Decimal("19.99")),
        ("250", "minor_units", Decimal("2.5")),
    ],
)
def test_amounts_are_read_as_decimals_never_through_float(sent: Any, money: str, read: Decimal) -> None:
    settings = product_settings(
        money=money, fields={"sku": "$.sku", "name": "$.name", "list_price": "$.price"}
    )
    product = record_from("product", {"id": 1, "sku": "A", "name": "A", "price": sent}, settings)
    assert isinstance(product.list_price, Decimal) and product.list_price == read  # type: ignore[attr-defined]


def test_a_float_amount_is_rounded_to_the_currency_minor_unit() -> None:
    fields = {"sku": "$.sku", "name": "$.name", "list_price": "$.price", "currency": "$.currency"}
    settings = product_settings(fields=fields)
    yen = record_from(
        "product", {"id": 1, "sku": "A", "name": "A", "price": 1200.4, "currency": "JPY"}, settings
    )
    dinar = record_from(
        "product", {"id": 1, "sku": "A", "name": "A", "price": 1.2345, "currency": "KWD"}, settings
    )
    assert yen.list_price == Decimal(1200) and dinar.list_price == Decimal("1.235")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "path", "value", "says"),
    [
        ("list_price", "$.price", "abc", "list_price 'abc' is not a number"),
        ("list_price", "$.price", "NaN", "is not a finite number"),
        ("list_price", "$.price", True, "is not a number"),
        ("list_price", "$.price", {"amount": 1}, "is not a number (a dict)"),
        ("weight", "$.weight", "heavy", "weight 'heavy' is not a number"),
        ("active", "$.active", "maybe", "active 'maybe' is not true or false"),
        ("name", "$.title", {"en": "Tee"}, "name is not text (a dict)"),
        ("custom.color", "$.color", ["red"], "custom.color is not a single value (a list)"),
        ("images", "$.images", [{"alt": "no url"}], "images[0] is not an image"),
        ("stock", "$.stock", [{"warehouse": "A"}], "stock[0] is not a stock level"),
    ],
)
def test_a_value_that_does_not_fit_is_permanent_naming_record_and_field(
    field: str, path: str, value: Any, says: str
) -> None:
    fields = {"sku": "$.sku", "name": "$.name", field: path}
    data = {"id": 77, "sku": "A", "name": "A", path.removeprefix("$."): value}
    with pytest.raises(Permanent) as refused:
        record_from("product", data, product_settings(fields=fields))
    assert refused.value.record == "77" and refused.value.field == field
    assert says in refused.value.reason


def test_a_missing_required_field_names_it_and_the_path_that_found_nothing() -> None:
    settings = product_settings(fields={"sku": "$.variants[0].sku", "name": "$.name"})
    with pytest.raises(Permanent) as refused:
        record_from("product", {"id": "p1", "name": "Tee", "variants": []}, settings)
    assert refused.value.field == "sku" and refused.value.record == "p1"
    assert refused.value.reason == "sku is missing: nothing at $.variants[0].sku"
    with pytest.raises(Permanent) as unmapped:
        record_from("product", {"id": "p1", "sku": "A"}, product_settings(fields={"sku": "$.sku"}))
    assert unmapped.value.field == "name" and "not mapped" in unmapped.value.reason
    with pytest.raises(Permanent) as no_id:
        record_from(
            "product", {"sku": "A", "name": "A"}, product_settings(fields={"sku": "$.sku", "name": "$.name"})
        )
    assert no_id.value.field == "key" and "$.id" in no_id.value.reason


def test_a_bad_record_becomes_an_unmappable_stand_in_not_a_failed_page() -> None:
    settings = product_settings(fields={"sku": "$.sku", "name": "$.name", "list_price": "$.price"})
    pages = [
        {"id": 1, "sku": "A", "name": "A", "price": "1.00"},
        {"id": 2, "sku": "B", "name": "B", "price": "x"},
    ]
    read = [
        map_or_unmappable(str(data["id"]), lambda d=data: record_from("product", d, settings))
        for data in pages
    ]
    assert isinstance(read[0], Product) and read[0].list_price == Decimal("1.00")
    assert isinstance(read[1], Unmappable) and (read[1].record, read[1].field) == ("2", "list_price")


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T12:00:00+02:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00.250", datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-03-01 10:00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        (1772359200, datetime(2026, 3, 1, 10, tzinfo=UTC)),
        (1772359200000, datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("1772359200", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_moments_read_from_iso_8601_and_epoch_as_aware_utc(sent: Any, read: datetime) -> None:
    settings = product_settings(
        fields={"sku": "$.sku", "name": "$.name", "sale_price.price": "$.sale", "sale_price.start": "$.from"}
    )
    product = record_from("product", {"id": 1, "sku": "A", "name": "A", "sale": "9", "from": sent}, settings)
    assert product.sale_price is not None and product.sale_price.start == read  # type: ignore[attr-defined]


def test_a_moment_that_is_none_is_refused_naming_the_nested_field() -> None:
    settings = product_settings(
        fields={"sku": "$.sku", "name": "$.name", "sale_price.price": "$.sale", "sale_price.end": "$.to"}
    )
    with pytest.raises(Permanent) as refused:
        record_from("product", {"id": 5, "sku": "A", "name": "A", "sale": "9", "to": "next week"}, settings)
    assert refused.value.field == "sale_price.end" and "is not a date and time" in refused.value.reason


@pytest.mark.parametrize(
    ("sent", "read"), [(True, True), ("yes", True), (1, True), ("0", False), ("off", False), (False, False)]
)
def test_booleans_read_from_the_usual_spellings(sent: Any, read: bool) -> None:
    settings = product_settings(fields={"sku": "$.sku", "name": "$.name", "active": "$.on"})
    assert record_from("product", {"id": 1, "sku": "A", "name": "A", "on": sent}, settings).active is read  # type: ignore[attr-defined]


def test_lists_stock_levels_price_lists_and_custom_values() -> None:
    settings = product_settings(
        fields={
            "sku": "$.sku",
            "name": "$.name",
            "categories": "$.categories[*].id",
            "images": "$.pictures",
            "stock": "$.stock",
            "price_lists.retail": "$.prices[?@.list=='retail'].amount",
            "custom.featured": "$.meta.featured",
            "custom.rank": "$.meta.rank",
            "custom.ratio": "$.meta.ratio",
        }
    )
    data = {
        "id": 9, "sku": "A", "name": "A", "categories": [{"id": 3}, {"id": "7"}],
        "pictures": ["https://x/1.png", {"src": "https://x/2.png", "alt": "side"}],
        "stock": [{"warehouse": "main", "quantity": 4}, {"warehouse": 2, "quantity": "1.5"}],
        "prices": [{"list": "staff", "amount": "1"}, {"list": "retail", "amount": "24.90"}],
        "meta": {"featured": True, "rank": 3, "ratio": 0.25},
    }  # fmt: skip
    product = record_from("product", data, settings)
    assert isinstance(product, Product)
    assert product.categories == ["3", "7"]
    assert product.images == [
        Image(url="https://x/1.png"),
        Image(url="https://x/2.png", alt="side", position=1),
    ]
    assert product.stock == [
        StockLevel(warehouse="main", quantity=Decimal(4)),
        StockLevel(warehouse="2", quantity=Decimal("1.5")),
    ]
    assert product.price_lists == {"retail": Decimal("24.90")}
    assert product.custom == {"featured": True, "rank": 3, "ratio": Decimal("0.25")}


def test_value_at_reads_one_value_or_none() -> None:
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}, "n": None}
    assert value_at(data, "$.a.b[1].c") == 2
    assert (
        value_at(data, "$.a.b[5].c") is None
        and value_at(data, "$.a.x") is None
        and value_at(data, "$.n") is None
    )
    assert value_at(data, "$.a.b[*].c") == 1 and value_at(data, "$.a.b[?@.c > 1].c") == 2
    assert value_at(data, "$") == data and value_at([1], "$.a") is None


def test_a_body_is_built_from_singular_paths_making_objects_and_lists_on_the_way() -> None:
    body: dict[str, Any] = {}
    put_at(body, ("a", "b", 0, "c"), 1)
    put_at(body, ("a", "b", 2, "d"), "x")
    put_at(body, ("a", "e"), Decimal("1.5"))
    assert body == {"a": {"b": [{"c": 1}, None, {"d": "x"}], "e": Decimal("1.5")}}


def test_only_the_written_fields_travel_and_constants_on_create_only() -> None:
    settings = product_settings(
        **WRITES,
        fields={"sku": "$.sku", "name": "$.name", "active": "$.status", "list_price": "$.price.amount"},
        values={"active": {"published": True, "draft": False}},
        money="string",
        constants={"$.type": "simple", "$.channels[0]": "web"},
    )
    product = Product(key="9", sku="A", name="Tea", active=False, list_price=Decimal("4.50"))
    assert body_from("product", product, settings, fields={"active"}) == {"status": "draft"}
    assert body_from("product", product, settings) == {
        "sku": "A", "name": "Tea", "status": "draft", "price": {"amount": "4.50"},
    }  # fmt: skip
    created = body_from("product", product, settings, creating=True)
    assert created["type"] == "simple" and created["channels"] == ["web"]
    settings.constants["$.channels[0]"] = "changed"
    assert created["channels"] == ["web"], "constants are copied into the body"


def test_write_fields_give_a_body_its_own_shape() -> None:
    settings = product_settings(
        **WRITES,
        fields={
            "sku": "$.sku",
            "name": "$.name",
            "categories": "$.categories[*].id",
            "sale_price.price": "$.sale",
        },
        write_fields={
            "sku": "$.sku",
            "name": "$.title",
            "categories": "$.category_ids",
            "sale_price.price": "$.sale",
        },
    )
    product = Product(key="9", sku="A", name="Tea", categories=["3", "4"])
    assert body_from("product", product, settings) == {
        "sku": "A",
        "title": "Tea",
        "category_ids": [3, 4],
        "sale": None,
    }


def test_categories_and_customers_round_trip() -> None:
    categories = CategoryEntity.model_validate(
        {
            **WRITES,
            "fields": {
                "name": "$.name",
                "parent_key": "$.parent_category_id",
                "slug": "$.handle",
                "description": "$.description",
            },
        }
    )
    category = Category(key="pcat_2", name="Green tea", parent_key="pcat_1", slug="green-tea")
    body = body_from("category", category, categories)
    assert body == {
        "name": "Green tea",
        "parent_category_id": "pcat_1",
        "handle": "green-tea",
        "description": "",
    }
    assert record_from("category", {"id": "pcat_2", **body}, categories) == category
    assert (
        record_from("category", {"id": 1, "name": "Top", "parent_category_id": None}, categories).parent_key
        is None
    )  # type: ignore[attr-defined]

    customers = CustomerEntity.model_validate(
        {**WRITES, "fields": {"email": "$.email", "first_name": "$.first_name", "last_name": "$.last_name",
                               "billing.city": "$.addresses[0].city",
                               "billing.country": "$.addresses[0].country_code"}}
    )  # fmt: skip
    data = {
        "id": "cus_1",
        "email": "ana@example.com",
        "first_name": "Ana",
        "last_name": "Pop",
        "addresses": [{"city": "Iasi", "country_code": "RO"}],
    }
    customer = record_from("customer", data, customers)
    assert isinstance(customer, Customer) and customer.billing is not None and customer.billing.city == "Iasi"
    assert (
        record_from("customer", {"id": "cus_1", **body_from("customer", customer, customers)}, customers)
        == customer
    )
    with pytest.raises(Permanent) as refused:
        record_from("customer", {"id": "cus_2", "first_name": "Ana"}, customers)
    assert (refused.value.record, refused.value.field) == ("cus_2", "email")


def test_merchantpro_like_product_with_string_money_and_moments_round_trips() -> None:
    settings = product_settings(
        **WRITES,
        money="string",
        fields={
            "sku": "$.sku", "name": "$.name", "list_price": "$.price_gross",
            "sale_price.price": "$.promo.price",
            "sale_price.start": "$.promo.start", "sale_price.end": "$.promo.end", "available": "$.stock",
            "tax_class": "$.tax_id", "active": "$.status",
        },
        values={"active": {"active": True, "inactive": False}},
    )  # fmt: skip
    data = {
        "id": 501, "sku": "MP-1", "name": "Mug", "price_gross": "39.90", "status": "active", "stock": 3,
        "tax_id": 2,
        "promo": {"price": "29.90", "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"},
    }  # fmt: skip
    product = record_from("product", data, settings)
    assert product.tax_class == "2" and product.sale_price is not None  # type: ignore[attr-defined]
    body = body_from("product", product, settings)
    assert body["promo"] == {"price": "29.90", "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
    assert body["price_gross"] == "39.90" and body["stock"] == 3 and body["status"] == "active"
    assert record_from("product", body, settings, key="501") == product


def test_attributes_kept_as_name_value_pairs_are_read() -> None:
    settings = ProductEntity.model_validate(
        {
            "fields": {"sku": "$.handle", "name": "$.title", "attributes.brand": "$.brand"},
            "attributes": {"items": "$.options", "name": "$.title", "value": "$.values[*].value"},
            "variants": {
                "items": "$.variants",
                "fields": {"key": "$.id", "sku": "$.sku"},
                "attributes": {"items": "$.options", "name": "$.option.title", "value": "$.value"},
            },
        }
    )
    data = {
        "id": "prod_1", "handle": "tee", "title": "Tee", "brand": "Acme",
        "options": [{"title": "Size", "values": [{"value": "S"}, {"value": "M"}]},
                    {"title": "Color", "values": []}],
        "variants": [{"id": "v1", "sku": "TEE-S", "options": [{"option": {"title": "Size"}, "value": "S"}]}],
    }  # fmt: skip
    product = record_from("product", data, settings)
    assert isinstance(product, Product)
    assert product.attributes == {"Size": ["S", "M"], "Color": [], "brand": ["Acme"]}
    assert product.variants[0].attributes == {"Size": "S"}
    with pytest.raises(Permanent) as refused:
        record_from("product", {**data, "options": [{"title": {"en": "Size"}}]}, settings)
    assert refused.value.field == "attributes[0]" and refused.value.record == "prod_1"
    pairs = {"items": "$.options[*]", "name": "$.title", "value": "$.value"}
    with pytest.raises(ValueError, match=r"attributes\.items: '\$\.options\[\*\]' names no single place"):
        ProductEntity.model_validate({**WRITES, "fields": {"sku": "$.sku"}, "attributes": pairs})


def test_attribute_pairs_round_trip_through_a_body() -> None:
    settings = ProductEntity.model_validate(
        {
            **WRITES,
            "fields": {"sku": "$.handle", "name": "$.title"},
            "attributes": {"items": "$.options", "name": "$.title", "value": "$.values"},
            "variants": {
                "items": "$.variants",
                "fields": {"key": "$.id", "sku": "$.sku"},
                "attributes": {"items": "$.options", "name": "$.group.name", "value": "$.name"},
            },
        }
    )
    product = Product(
        key="p", sku="tee", name="Tee", attributes={"Size": ["S", "M"]},
        variants=[{"key": "v1", "sku": "TEE-S", "attributes": {"Size": "S"}}],  # type: ignore[list-item]
    )  # fmt: skip
    body = body_from("product", product, settings)
    assert body["options"] == [{"title": "Size", "values": ["S", "M"]}]
    assert body["variants"][0]["options"] == [{"group": {"name": "Size"}, "name": "S"}]
    body["variants"][0]["id"] = "v1"
    assert record_from("product", body, settings, key="p") == product
    assert "options" not in body_from("product", product, settings, fields={"name"})


def test_bodies_travel_as_exact_json_numbers_and_answers_come_back_as_decimals() -> None:
    settings = medusa_settings()
    product = record_from("product", decode_json(MEDUSA_PRODUCT), settings)
    assert isinstance(product, Product) and str(product.variants[0].list_price) == "19.9"
    text = encode_json(body_from("product", product, settings))
    assert b'"prices":[{"amount":19.9},{"amount":15.5}]' in text
    assert decode_json(text)["variants"][0]["prices"][0]["amount"] == Decimal("19.9")
    assert encode_json({"a": [Decimal("0.10"), "x", None, True]}) == b'{"a":[0.10,"x",null,true]}'
    with pytest.raises(ValueError, match="is not a JSON number"):
        encode_json({"a": Decimal("NaN")})


def test_a_sale_price_without_its_price_is_no_sale_unless_the_price_is_not_mapped() -> None:
    fields = {"sku": "$.sku", "name": "$.name", "sale_price.price": "$.sale", "sale_price.start": "$.from"}
    data = {"id": 3, "sku": "A", "name": "A", "sale": None, "from": "2026-01-01T00:00:00Z"}
    assert record_from("product", data, product_settings(fields=fields)).sale_price is None  # type: ignore[attr-defined]
    del fields["sale_price.price"]
    with pytest.raises(Permanent) as refused:
        record_from("product", data, product_settings(fields=fields))
    assert refused.value.field == "sale_price.price" and "not mapped" in refused.value.reason


@pytest.mark.parametrize(
    ("id_type", "keys", "written"),
    [
        ("auto", ["3", "12"], [3, 12]),
        ("auto", ["pcat_01H", "007"], ["pcat_01H", "007"]),
        ("string", ["3"], ["3"]),
        ("integer", ["3"], [3]),
    ],
)
def test_references_to_the_shops_records_are_written_as_its_ids_are(
    id_type: str, keys: list[str], written: list[Any]
) -> None:
    """A product's categories and a category's parent go as the shop's ids: digits as numbers (auto)."""
    settings = product_settings(**WRITES, fields={"sku": "$.sku", "categories": "$.category_ids"})
    product = Product(key="9", sku="A", name="Tea", categories=keys)
    body = body_from("product", product, settings, id_types={"category": id_type})
    assert body["category_ids"] == written
    assert json.loads(encode_json(body))["category_ids"] == written
    category = CategoryEntity.model_validate(
        {**WRITES, "fields": {"name": "$.name", "parent_key": "$.parent"}}
    )
    child = Category(key="2", name="Green tea", parent_key=keys[0])
    assert body_from("category", child, category, id_types={"category": id_type})["parent"] == written[0]


def test_an_integer_id_type_refuses_an_id_that_is_no_number() -> None:
    """`id_type: integer` and a key of letters: Permanent naming the record and the reference."""
    settings = CategoryEntity.model_validate(
        {**WRITES, "fields": {"name": "$.name", "parent_key": "$.parent"}}
    )
    child = Category(key="2", name="Green tea", parent_key="tea")
    with pytest.raises(Permanent) as refused:
        body_from("category", child, settings, id_types={"category": "integer"})
    assert refused.value.field == "parent_key" and refused.value.record == "2"


def test_a_field_the_record_does_not_have_is_left_out_of_a_create() -> None:
    """No slug or parent: the create leaves both out; an update clears the parent, keeps the shop's slug."""
    fields = {"name": "$.name", "slug": "$.slug", "parent_key": "$.parent"}
    settings = CategoryEntity.model_validate({**WRITES, "fields": fields})
    category = Category(key="c1", name="Tea")
    assert body_from("category", category, settings, creating=True) == {"name": "Tea"}
    assert body_from("category", category, settings) == {"name": "Tea", "parent": None}


def test_fields_the_description_does_not_map_are_declared_unkept() -> None:
    """Unmapped canonical fields are not kept; those mapped at the top, in variants or filled are."""
    from emporion.connectors.rest.fields import unkept

    kept = unkept(medusa_settings())
    assert {"short_description", "sale_price", "categories", "tax_class"} <= kept
    assert not {"key", "sku", "name", "weight", "images", "custom", "variants"} & kept
    assert not {"list_price", "price_lists", "available", "attributes"} & kept, "mapped in the variants"
