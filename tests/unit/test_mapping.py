"""Flow mapping: prices, available stock, field rules, filters, and the errors that name record and field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.config import FlowSettings
from emporion.connectors.base import Permanent
from emporion.engine.mapping import FlowMapper, expand_categories
from emporion.model import Category, Product, SalePrice, StockLevel, Variant


def flow(**options: Any) -> FlowSettings:
    return FlowSettings.model_validate({"name": "f", "source": "erp", "target": "shop", **options})


def product(**fields: Any) -> Product:
    base: dict[str, Any] = {
        "key": "7",
        "sku": "SKU-7",
        "name": "Kettle",
        "list_price": Decimal("10.00"),
        "price_lists": {"Webshop": Decimal("12.50")},
        "stock": [
            StockLevel(warehouse="WH", quantity=Decimal(5)),
            StockLevel(warehouse="WH2", quantity=Decimal("3.5")),
        ],
        "categories": ["1"],
    }
    return Product(**{**base, **fields})


def test_stock_from_chosen_warehouses_minus_buffer() -> None:
    assert FlowMapper(flow()).map(product()).available == Decimal(8)  # floor(8.5)
    assert FlowMapper(flow(warehouses=["WH"], safety_stock=2)).map(product()).available == Decimal(3)
    assert FlowMapper(flow(warehouses=["WH2"], safety_stock=9)).map(product()).available == Decimal(0)


def test_price_list_choice_and_missing_price() -> None:
    assert FlowMapper(flow()).map(product()).list_price == Decimal("10.00")
    assert FlowMapper(flow(price_list="Webshop")).map(product()).list_price == Decimal("12.50")
    with pytest.raises(Permanent) as caught:
        FlowMapper(flow(price_list="B2B")).map(product())
    assert caught.value.field == "price_lists.B2B"
    assert caught.value.record == "SKU-7"


def test_rules_template_expression_map_round_constant() -> None:
    mapper = FlowMapper(
        flow(
            mapping={
                "name": {"template": "{{ name }} ({{ sku }})"},
                "list_price": {"expression": "list_price * decimal('1.19')", "round": 2},
                "categories": {"map": {"1": "target:99"}},
                "custom.brand": {"constant": "ACME"},
                "description": {"from": "name"},
                "tax_class": {"from": "custom.tax", "map": {"full": "standard", "half": "reduced-rate"}},
            }
        )
    )
    mapped = mapper.map(product(custom={"tax": "half"}))
    assert mapped.name == "Kettle (SKU-7)"
    assert mapped.list_price == Decimal("11.90")
    assert mapped.categories == ["target:99"]
    assert mapped.custom["brand"] == "ACME"
    assert mapped.description == "Kettle"
    assert mapped.tax_class == "reduced-rate"
    assert mapped.stock == [] and mapped.price_lists == {}  # never sent to a target


def test_strict_value_map_names_record_and_field() -> None:
    mapper = FlowMapper(
        flow(mapping={"tax_class": {"from": "custom.tax", "map": {"full": "standard"}, "strict": True}})
    )
    with pytest.raises(Permanent) as caught:
        mapper.map(product(custom={"tax": "exotic"}))
    assert caught.value.field == "tax_class"
    assert "exotic" in str(caught.value) and "SKU-7" in str(caught.value)


def test_bad_expression_is_a_permanent_error() -> None:
    mapper = FlowMapper(flow(mapping={"list_price": {"expression": "list_price * 1.19"}}))  # Decimal * float
    with pytest.raises(Permanent) as caught:
        mapper.map(product())
    assert caught.value.field == "list_price"


def test_variants_inherit_price_and_sale_and_get_own_stock() -> None:
    sale = SalePrice(price=Decimal("8.00"))
    variable = product(
        sku="TEE",
        sale_price=sale,
        variants=[
            Variant(
                key="70",
                sku="TEE-S",
                attributes={"size": "S"},
                stock=[StockLevel(warehouse="WH", quantity=Decimal(4))],
            ),
            Variant(key="71", sku="TEE-M", attributes={"size": "M"}, list_price=Decimal("11"), stock=[]),
        ],
    )
    mapped = FlowMapper(
        flow(safety_stock=1, variant_mapping={"custom.size": {"from": "attributes.size"}})
    ).map(variable)
    assert mapped.available is None
    small, medium = mapped.variants
    assert (small.list_price, small.available, small.sale_price) == (Decimal("10.00"), Decimal(3), sale)
    assert (medium.list_price, medium.available) == (Decimal(11), Decimal(0))
    assert small.custom["size"] == "S"


def test_invalid_records_name_record_and_field() -> None:
    with pytest.raises(Permanent) as caught:
        FlowMapper(flow()).map(product(sku=""))
    assert caught.value.field == "sku"
    with pytest.raises(Permanent) as caught:
        FlowMapper(flow()).map(product(list_price=Decimal(-3)))
    assert caught.value.field == "list_price"
    with pytest.raises(Permanent) as caught:
        FlowMapper(flow()).map(product(stock=[StockLevel(warehouse="WH", quantity=Decimal("1e12"))]))
    assert caught.value.field == "stock"


def test_filters() -> None:
    tree = [
        Category(key="1", name="Kitchen"),
        Category(key="2", name="Kettles", parent_key="1"),
        Category(key="3", name="Garden"),
    ]
    allowed = expand_categories(["Kitchen"], tree)
    assert allowed == {"1", "2"}
    mapper = FlowMapper(flow(filter={"categories": ["Kitchen"], "expression": "list_price > 5"}), allowed)
    assert mapper.accepts(product(categories=["2"]))
    assert not mapper.accepts(product(categories=["3"]))
    assert not mapper.accepts(product(categories=["2"], list_price=Decimal(4)))
    assert not mapper.accepts(product(salable=False))
    assert FlowMapper(flow(filter={"salable_only": False})).accepts(product(salable=False))
