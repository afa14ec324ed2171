"""The guide's "Directions and field ownership" says what the code does.

Every YAML example in the section is a whole configuration emporion accepts; the worked example is
the configuration the two-way end-to-end tests run (polling and warehouses aside); the fields it
lists per entity are the ones an ownership may name; the shop's meta keys are the connection's
defaults.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from emporion.config import EITHER, OWNED_FIELDS, ownership_of, parse_settings, reverse_flow
from emporion.connectors.woocommerce.settings import WooCommerceConnection
from tests.integration.two_way_support import CATALOGUE_FLOWS, CUSTOMER_FLOWS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
HEADING = "## Directions and field ownership"
WORKED = "### Worked example"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
SECRETS = {"TRYTON_PASSWORD": "not-the-real-one", "SHOP_KEY": "ck_example", "SHOP_SECRET": "cs_example"}
TEST_ONLY = {"poll_interval", "warehouses"}  # what the end-to-end tests add for speed and their catalogue
ENTITY_BULLETS = {"categories": "category", "products": "product", "customers": "customer"}


def section() -> str:
    """The section's text, up to the next top-level heading."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end != -1 else len(text)]


def yaml_blocks(text: str) -> list[str]:
    """The YAML examples, in order."""
    return YAML_BLOCK.findall(text)


@pytest.fixture(autouse=True)
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the examples' `env:` secrets name."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("number", range(len(yaml_blocks(section()))))
def test_each_yaml_example_is_a_configuration_emporion_accepts(number: int) -> None:
    """A whole configuration with a two-way pair: every flow has a reverse flow and one ownership."""
    block = yaml_blocks(section())[number]
    data = yaml.safe_load(block)
    assert isinstance(data, dict) and "connections" in data, "an example is a whole configuration"
    settings = parse_settings(block)
    assert settings.flows
    for flow in settings.flows:
        partner = reverse_flow(settings, flow)
        assert partner is not None, f"{flow.name} has no reverse flow"
        if any(entity in flow.entities for entity in ("product", "customer")):
            assert ownership_of(settings, flow) == ownership_of(settings, partner) is not None


def test_the_section_has_examples_and_a_worked_example() -> None:
    """The short example and the worked example, which has the table of edits after it."""
    text = section()
    assert len(yaml_blocks(text)) >= 2
    worked = text[text.index(WORKED) :]
    assert len(yaml_blocks(worked)) == 1
    assert "| edit | what emporion does |" in worked


def without_test_settings(flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flows without what the end-to-end tests add, entities as the parsed settings list them."""
    out = []
    for flow in flows:
        flow = {key: value for key, value in flow.items() if key not in TEST_ONLY}
        flow.setdefault("entities", ["category", "product"])
        out.append(flow)
    return out


def test_the_worked_example_is_what_the_end_to_end_tests_run() -> None:
    """The four flows of the worked example are those of tests/integration/two_way_support.py."""
    text = section()
    (block,) = yaml_blocks(text[text.index(WORKED) :])
    documented = yaml.safe_load(block)["flows"]
    tested = yaml.safe_load(CATALOGUE_FLOWS) + yaml.safe_load(CUSTOMER_FLOWS)
    assert without_test_settings(documented) == without_test_settings(tested)


def test_the_worked_example_gives_each_direction_the_fields_the_table_says() -> None:
    """Tryton owns prices and stock, the shop descriptions and images, either the name; the ERP groups."""
    text = section()
    (block,) = yaml_blocks(text[text.index(WORKED) :])
    settings = parse_settings(block)
    flows = {flow.name: flow for flow in settings.flows}
    back = ownership_of(settings, flows["catalogue-back"])
    assert back is not None
    assert [back.owner(f) for f in ("list_price", "available", "description", "images", "name")] == [
        "erp",
        "erp",
        "shop",
        "shop",
        EITHER,
    ]
    assert (back.policy("list_price"), back.policy("description")) == ("revert", "report")
    customers = ownership_of(settings, flows["customers-back"])
    assert customers is not None
    assert [customers.owner(f) for f in ("billing", "group", "price_list", "number")] == [
        "shop",
        "erp",
        "erp",
        "erp",
    ]
    assert flows["catalogue-back"].create_defaults == {"unit": "u", "account_category": "Goods"}


def test_the_fields_listed_per_entity_are_those_an_ownership_may_name() -> None:
    """The bullet list of fields per entity is OWNED_FIELDS."""
    listed: dict[str, set[str]] = {}
    for line in section().replace("\n  ", " ").splitlines():
        found = re.match(r"- (categories|products|customers)\b[^:]*: (.*)", line)
        if found:
            listed[ENTITY_BULLETS[found.group(1)]] = set(re.findall(r"`([a-z_]+)`", found.group(2)))
    assert listed == {entity: set(OWNED_FIELDS[entity]) for entity in ENTITY_BULLETS.values()}


def test_the_shop_meta_keys_named_are_the_connections_defaults() -> None:
    """`customer_group`, `price_list` and `customer_number` are what a WooCommerce connection uses."""
    text = section()
    fields = WooCommerceConnection.model_fields
    metas = ("customer_group_meta", "customer_price_list_meta", "customer_number_meta")
    for setting in (*metas, "customer_roles"):
        assert f"`{setting}`" in text, setting
    for setting in metas:
        assert f"`{fields[setting].default}`" in text, setting
