"""A declarative shop description is checked while the configuration is read: a wrong field, JSON
path, paging, authentication, preset or written path is refused with its place in the YAML file."""

from __future__ import annotations

import re

import pytest

from emporion.config import ConfigError, parse_settings
from emporion.connectors.rest.settings import OrderEntity, ProductEntity, RestConnection

SHOP = """\
state: {url: "sqlite:///state.db"}
connections:
  shop:
    type: rest
    url: http://127.0.0.1:9/api
AUTH
    entities:
      product:
        list: {path: /products}
        create: {method: POST, path: /products}
PRODUCT
        fields:
          sku: $.sku
          name: $.title
FIELDS
flows: []
"""
AUTH = "    auth: {kind: bearer, token: secret-token}"


def described(auth: str = AUTH, product: str = "", fields: str = "") -> str:
    """The configuration text of one described shop with the given pieces put in."""
    return (
        SHOP.replace("AUTH\n", auth + "\n" if auth else "")
        .replace("PRODUCT\n", product + "\n" if product else "")
        .replace("FIELDS\n", fields + "\n" if fields else "")
    )


def refusal(text: str) -> str:
    """The message of the ConfigError the text is refused with."""
    with pytest.raises(ConfigError) as refused:
        parse_settings(text)
    return str(refused.value)


def located(message: str, place: str) -> tuple[int, int]:
    """The line and column a message gives for `place` (asserting that it names both)."""
    found = re.search(re.escape(place) + r":.*\(line (\d+), column (\d+)\)", message)
    assert found, message
    return int(found.group(1)), int(found.group(2))


def test_a_complete_description_is_taken() -> None:
    connection = parse_settings(described()).connections["shop"]
    assert isinstance(connection, RestConnection)
    product = connection.entities.product
    assert isinstance(product, ProductEntity) and product.fields == {"sku": "$.sku", "name": "$.title"}
    assert "secret-token" not in repr(connection)


def test_an_unknown_canonical_field_is_refused_at_its_line_naming_the_known_ones() -> None:
    message = refusal(described(fields="          skuu: $.code"))
    assert located(message, "connections.shop.entities.product.fields.skuu") == (14, 17)
    assert "Product has no field 'skuu'" in message and "sku," in message


def test_a_bad_json_path_is_refused_at_its_line() -> None:
    message = refusal(described(fields="          list_price: $.prices[0"))
    assert located(message, "connections.shop.entities.product.fields.list_price") == (14, 23)
    assert "'$.prices[0' is not a valid JSON path" in message
    message = refusal(described(fields="          list_price: price"))
    assert "'price' is not a JSON path: it starts with $" in message


def test_a_paging_kind_without_its_required_keys_is_refused_at_its_line() -> None:
    message = refusal(described(product="        paging: {kind: cursor, param: after}"))
    assert located(message, "connections.shop.entities.product.paging.next") == (11, 17)
    assert "Field required" in message


def test_a_connection_without_authentication_is_refused() -> None:
    message = refusal(described(auth=""))
    assert located(message, "connections.shop.auth") == (4, 5)
    assert "Field required" in message


def test_an_unknown_auth_kind_is_refused_naming_the_kinds() -> None:
    message = refusal(described(auth="    auth: {kind: magic}"))
    assert "connections.shop.auth" in message and "'api_key', 'bearer', 'basic', 'oauth2', 'login'" in message


def test_a_preset_that_does_not_exist_is_refused_naming_those_that_do() -> None:
    from emporion.connectors.rest.settings import presets

    message = refusal(described().replace("    type: rest\n", "    type: rest\n    preset: shopware\n"))
    assert located(message, "connections.shop") == (4, 5)
    assert "no preset 'shopware' (there are: " in message
    for name in presets.names():
        assert name in message


def test_a_group_of_fields_or_a_list_of_records_is_refused_as_a_field() -> None:
    message = refusal(described(fields="          sale_price: $.sale"))
    assert "'sale_price' is a group of fields: map each of them (sale_price.<field>)" in message
    message = refusal(described(fields="          variants: $.variants"))
    assert "'variants' is a list of records: it is described by its own list" in message
    located(message, "connections.shop.entities.product.fields.variants")


def test_a_written_field_whose_path_names_no_single_place_is_refused() -> None:
    message = refusal(described(fields="          categories: $.categories[*].id"))
    assert located(message, "connections.shop.entities.product") == (9, 9)
    assert "fields.categories: '$.categories[*].id' names no single place" in message
    read_only = described(fields="          categories: $.categories[*].id").replace(
        "        create: {method: POST, path: /products}\n", ""
    )
    assert parse_settings(read_only).connections["shop"].entities.product.fields["categories"]  # type: ignore[attr-defined]
    with_write_path = described(
        product="        write_fields: {sku: $.sku, name: $.title, categories: $.category_ids}",
        fields="          categories: $.categories[*].id",
    )
    product = parse_settings(with_write_path).connections["shop"].entities.product  # type: ignore[attr-defined]
    assert product.written()["categories"] == "$.category_ids"


def test_value_tables_and_nested_lists_name_canonical_fields_only() -> None:
    message = refusal(described(product="        values: {actve: {published: true}}"))
    assert located(message, "connections.shop.entities.product.values.actve") == (11, 25)
    message = refusal(
        described(product="        variants: {items: $.variants, fields: {sku: $.sku, prize: $.price}}")
    )
    assert "connections.shop.entities.product.variants.fields.prize" in message
    assert "Variant has no field 'prize'" in message
    message = refusal(described(product="        variants: {items: '$.variants[*]', fields: {sku: $.sku}}"))
    assert "variants.items: '$.variants[*]' names no single place" in message


def test_an_order_describes_its_lists_and_statuses() -> None:
    order = OrderEntity.model_validate(
        {
            "fields": {"number": "$.id", "status": "$.state", "currency": "$.cur", "total": "$.sum"},
            "statuses": {"new": "pending", "held": "on-hold"},
            "lines": {"items": "$.lines",
                      "fields": {"sku": "$.sku", "quantity": "$.qty", "unit_price": "$.price"}},
            "refunds": {"items": "$.refunds", "fields": {"amount": "$.amount"},
                        "lines": {"items": "$.items", "fields": {"line_key": "$.line"}}},
            "shipping_lines": {"items": "$.shipping", "fields": {"total": "$.cost"}},
            "payments": {"items": "$.payments", "fields": {"amount": "$.amount"}},
            "tax_lines": {"items": "$.taxes", "fields": {"tax_total": "$.amount"}},
        }
    )  # fmt: skip
    assert order.statuses["held"] == "on_hold"
    assert set(order.sublists()) == {"lines", "refunds", "shipping_lines", "payments", "tax_lines"}
    assert set(order.sublists()["refunds"].sublists()) == {"lines"}
    with pytest.raises(ValueError, match="'lines' is a list of records"):
        OrderEntity.model_validate({"fields": {"lines": "$.lines"}, "lines": {"items": "$.l", "fields": {}}})
    with pytest.raises(ValueError, match=r"statuses\.x\s+Input should be"):
        OrderEntity.model_validate({"lines": {"items": "$.l", "fields": {}}, "statuses": {"x": "lost"}})


def test_an_unknown_time_zone_and_a_lookup_by_an_unknown_field_are_refused() -> None:
    message = refusal(described(product="        timezone: Europe/Atlantis"))
    assert located(message, "connections.shop.entities.product.timezone") == (11, 19)
    assert "'Europe/Atlantis' is not a time zone" in message
    lookup = "        lookup: {field: skew, call: {path: /products}, path: $.sku}"
    message = refusal(described(product=lookup))
    assert "connections.shop.entities.product" in message and "Product has no field 'skew'" in message
