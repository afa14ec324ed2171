"""Field ownership in the configuration: owners are the flow's connections, fields exist, a pair agrees."""

from __future__ import annotations

import pytest

from emporion.config import ConfigError, ownership_of, parse_settings, reverse_flow

BASE = """
connections:
  erp: {type: tryton, url: "http://127.0.0.1:8000", database: shop, username: emporion, password: pw}
  shop: {type: woocommerce, url: "https://shop.example.com", consumer_key: ck, consumer_secret: cs}
flows:
  - name: catalogue
    source: erp
    target: shop
    ownership:
      default: erp
      fields: {description: shop, name: either}
      conflict_fields: {description: report}
  - name: catalogue-back
    source: shop
    target: erp
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    return caught.value.problems


def test_the_reverse_flow_takes_the_pairs_ownership() -> None:
    settings = parse_settings(BASE)
    back = settings.flow("catalogue-back")
    assert reverse_flow(settings, back) is settings.flow("catalogue")
    ownership = ownership_of(settings, back)
    assert ownership is not None
    assert ownership.owner("description") == "shop" and ownership.owner("list_price") == "erp"
    assert ownership.policy("description") == "report" and ownership.policy("name") == "revert"


def test_an_owner_that_is_not_one_of_the_flows_connections_is_refused_with_its_place() -> None:
    found = problems(BASE.replace("description: shop,", "description: crm,"))
    assert found == [
        "flows[0].ownership.fields.description: owner 'crm' is none of either, erp, shop (line 11, column 29)"
    ]


def test_an_unknown_field_is_refused_naming_the_known_ones() -> None:
    (found,) = problems(BASE.replace("name: either", "nmae: either"))
    assert found.startswith("flows[0].ownership.fields.nmae: no field 'nmae' in ['category', 'product']")
    assert "description" in found and "(line 11, column " in found


def test_two_flows_of_a_pair_naming_different_owners_are_refused() -> None:
    text = BASE + "    ownership: {default: shop}\n"
    found = problems(text)
    tail = ", its reverse: name it once, in one of them"
    assert [problem.split(" (line")[0] for problem in found] == [
        "flows[0].ownership: differs from the ownership of flow 'catalogue-back'" + tail,
        "flows[1].ownership: differs from the ownership of flow 'catalogue'" + tail,
    ]


def test_customers_have_their_own_fields() -> None:
    text = BASE.replace("description: shop, name: either", "group: erp").replace(
        "conflict_fields: {description: report}", "conflicts: report"
    )
    text = text.replace("    target: shop\n", "    target: shop\n    entities: [customer]\n", 1)
    text = text.replace("    target: erp\n", "    target: erp\n    entities: [customer]\n", 1)
    settings = parse_settings(text)
    ownership = ownership_of(settings, settings.flow("catalogue-back"))
    assert (
        ownership is not None and ownership.owner("group") == "erp" and ownership.policy("group") == "report"
    )
    assert problems(text.replace("group: erp", "sku: erp"))[0].startswith(
        "flows[0].ownership.fields.sku: no field 'sku' in ['customer']"
    )
