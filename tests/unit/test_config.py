"""The configuration file: validation, secrets, precise error places, and the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from emporion.config import ConfigError, json_schema, load_settings, parse_settings

VALID = """
version: 1
state:
  url: sqlite:///state.db
connections:
  erp:
    type: tryton
    url: http://127.0.0.1:8000
    database: shop
    username: emporion
    password: env:TEST_TRYTON_PASSWORD
  shop:
    type: woocommerce
    url: https://shop.example.com
    consumer_key: file:{key_file}
    consumer_secret: {{env: TEST_WC_SECRET}}
flows:
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 2
    mapping:
      name: {{template: "{{{{ name }}}} ({{{{ sku }}}})"}}
      list_price: {{expression: "list_price * decimal('1.19')", round: 2}}
"""


@pytest.fixture
def valid_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    key_file = tmp_path / "ck"
    key_file.write_text("ck_from_file\n")
    monkeypatch.setenv("TEST_TRYTON_PASSWORD", "tryton-pw")
    monkeypatch.setenv("TEST_WC_SECRET", "cs_from_env")
    return VALID.format(key_file=key_file)


def test_valid_file_loads_with_secrets_resolved(valid_text: str, tmp_path: Path) -> None:
    path = tmp_path / "emporion.yaml"
    path.write_text(valid_text)
    settings = load_settings(path)
    shop = settings.connections["shop"]
    assert shop.consumer_key.get_secret_value() == "ck_from_file"
    assert shop.consumer_secret.get_secret_value() == "cs_from_env"
    assert settings.connections["erp"].password.get_secret_value() == "tryton-pw"
    assert "cs_from_env" not in repr(settings)  # secrets never print
    assert settings.state.url == f"sqlite:///{tmp_path.resolve() / 'state.db'}"
    flow = settings.flow("catalogue")
    assert flow.entities == ["category", "product"]
    assert str(flow.safety_stock) == "2"


def test_errors_name_the_place(valid_text: str) -> None:
    broken = valid_text.replace("target: shop", "target: shopp").replace(
        "safety_stock: 2", "safety_stock: -1"
    )
    with pytest.raises(ConfigError) as caught:
        parse_settings(broken)
    problems = "\n".join(caught.value.problems)
    assert "flows[0].safety_stock" in problems
    assert "line 22" in problems  # the line of safety_stock in the file


def test_unknown_connection_is_reported(valid_text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(valid_text.replace("target: shop", "target: shopp"))
    assert caught.value.problems == [
        "flows[0].target: no connection named 'shopp' (known: erp, shop) (line 20, column 13)"
    ]


def test_missing_secret_is_reported(valid_text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_WC_SECRET")
    with pytest.raises(ConfigError) as caught:
        parse_settings(valid_text)
    assert caught.value.problems == [
        "connections.shop.consumer_secret: environment variable TEST_WC_SECRET is not set"
        " (line 16, column 22)"
    ]


def test_a_catalogue_flow_from_the_shop_into_the_erp_is_taken(valid_text: str) -> None:
    """Tryton takes a shop's catalogue (a catalogue target), and customers both ways."""
    text = valid_text.replace("source: erp\n    target: shop", "source: shop\n    target: erp")
    assert parse_settings(text).flow("catalogue").target == "erp"
    customers = text.replace("    target: erp\n", "    target: erp\n    entities: [customer]\n")
    assert parse_settings(customers).flow("catalogue").entities == ["customer"]


def test_customers_travel_in_a_flow_of_their_own(valid_text: str) -> None:
    text = valid_text.replace("    target: shop\n", "    target: shop\n    entities: [product, customer]\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    assert any(
        p.startswith("flows[0].entities: customers travel in a flow of their own")
        for p in caught.value.problems
    )


def test_order_flow_needs_an_order_source_and_a_sales_target(valid_text: str) -> None:
    """Orders taken from the ERP into the shop: neither connection plays the part the flow gives it."""
    text = valid_text.replace("    target: shop\n", "    target: shop\n    entities: [order]\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    assert caught.value.problems == [
        "flows[0].source: flow 'catalogue' needs an order source but connection 'erp' (Tryton (JSON-RPC))"
        " is not one (it plays: budgeted connection, catalogue source, catalogue target, customer source,"
        " customer target, sales target) (line 19, column 13)",
        "flows[0].target: flow 'catalogue' needs a sales target but connection 'shop'"
        " (WooCommerce (REST API v3)) is not one (it plays: budgeted connection, catalogue source,"
        " catalogue target, customer source, customer target, order source, webhook source)"
        " (line 20, column 13)",
    ]


def test_rule_with_two_sources_is_rejected(valid_text: str) -> None:
    text = valid_text.replace('{template: "{{ name }} ({{ sku }})"}', '{template: "x", constant: 1}')
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    assert any("flows[0].mapping.name" in p and "give one of" in p for p in caught.value.problems)


def test_unknown_key_is_rejected(valid_text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(valid_text.replace("warehouses:", "warehouse:"))
    assert any(p.startswith("flows[0].warehouse:") for p in caught.value.problems)


def test_json_schema_accepts_the_file(valid_text: str) -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(valid_text), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"connections": {"x": {"type": "sap"}}}, schema)


def test_not_yaml() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("connections: [unclosed")
    assert caught.value.problems[0].startswith("not valid YAML")
