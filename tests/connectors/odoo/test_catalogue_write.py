"""A shop's catalogue written into Odoo 17, 18 and 19 (the sandbox): categories, simple and variable
products by SKU, read back equal; updates honour `only` and `keep_on_update`; stock and cost untouched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.engine.compare import diff_records
from emporion.model import Category, Image, Product, Variant
from tests.connectors.odoo.conftest import RunningSandbox, running_sandbox

# what Odoo does not keep of a shop's product through this connector
NOT_KEPT = {"images", "short_description", "tax_class", "sale_price", "available", "custom"}
API_OF_VERSION = {17: "jsonrpc", 18: "jsonrpc", 19: "json2"}
WRITER_GROUP = "stock.group_stock_manager"  # Inventory/Administrator may create and write products


def allow_product_writes(running: RunningSandbox) -> None:
    """Give the integration user the group Odoo asks for to create products."""
    sandbox = running.sandbox
    group = sandbox.ids["groups"][WRITER_GROUP]
    sandbox.write("res.users", [sandbox.ids["integration"]], {"group_ids": [(4, group)]})


@pytest.fixture(params=[17, 18, 19])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    """The sandbox playing Odoo 17, 18 (JSON-RPC) and 19 (JSON-2), its integration user allowed to write."""
    version = int(request.param)
    with running_sandbox(tmp_path, version, API_OF_VERSION[version], products=2) as sandbox:
        allow_product_writes(sandbox)
        yield sandbox


@pytest.fixture
async def connector(running: RunningSandbox) -> AsyncIterator[OdooConnector]:
    connector = OdooConnector("odoo", running.settings())
    yield connector
    await connector.close()


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


async def write_one(connector: OdooConnector, entity: str, item: WriteItem) -> Outcome:
    (outcome,) = await connector.write(entity, [item], [])
    assert outcome.ok, outcome.error
    return outcome


def simple(tag: str, categories: list[str] | None = None, **values: Any) -> Product:
    return Product(
        key=f"shop-s-{tag}",
        sku=f"S-{tag}",
        name=f"Enamel mug {tag}",
        description="Holds 300 ml.",
        list_price=Decimal("12.50"),
        weight=Decimal("0.35"),
        categories=categories or [],
        images=[Image(url="https://shop.example/mug.jpg")],
        **values,
    )


def variable(tag: str, categories: list[str] | None = None, sizes: tuple[str, ...] = ("S", "M")) -> Product:
    variants = [
        Variant(
            key=f"shop-{tag}-{size}",
            sku=f"T-{tag}-{size}",
            attributes={"Shop size": size, "Shop colour": "Sand"},
            list_price=Decimal("20.00") if size != "XL" else Decimal("22.00"),
        )
        for size in sizes
    ]
    return Product(
        key=f"shop-v-{tag}",
        sku=f"T-{tag}",
        name=f"Linen shirt {tag}",
        description="Washed linen.",
        categories=categories or [],
        attributes={"Shop colour": ["Sand"], "Shop size": sorted(sizes)},
        variants=variants,
    )


async def categories(connector: OdooConnector, tag: str) -> tuple[str, str]:
    """A parent and a child category written through the connector; their Odoo ids."""
    parent = await write_one(
        connector, "category", WriteItem("c1", Category(key="c1", name=f"Apparel {tag}"))
    )
    assert parent.status is OutcomeStatus.CREATED and parent.target_ref
    child = Category(key="c2", name=f"Shirts {tag}", parent_key=str(parent.target_ref["id"]))
    made = await write_one(connector, "category", WriteItem("c2", child))
    assert made.target_ref
    return str(parent.target_ref["id"]), str(made.target_ref["id"])


async def read_back(connector: OdooConnector, outcome: Outcome) -> Product:
    assert outcome.target_ref
    (product,) = await connector.read("product", [str(outcome.target_ref["id"])])
    assert isinstance(product, Product), product
    return product


def variants_of(running: RunningSandbox, template: int) -> dict[str, bool]:
    """Every variant of a template (archived too): code -> active."""
    rows = running.sandbox.search_read(
        "product.product",
        [("product_tmpl_id", "=", template)],
        ["default_code", "active"],
        context={"active_test": False},
    )
    return {str(row["default_code"]): bool(row["active"]) for row in rows if row["default_code"]}


async def test_simple_and_variable_products_read_back_equal(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    parent, child = await categories(connector, tag)
    written = [simple(tag, [parent]), variable(tag, [child], sizes=("S", "M", "XL"))]
    outcomes = await connector.write("product", [WriteItem(p.key, p) for p in written], [])
    assert [outcome.status for outcome in outcomes] == [OutcomeStatus.CREATED] * 2
    for product, outcome in zip(written, outcomes, strict=True):
        back = await read_back(connector, outcome)
        assert diff_records(product, back, NOT_KEPT) == []
    ref = outcomes[1].target_ref
    assert ref and set(ref["variants"]) == {f"T-{tag}-S", f"T-{tag}-M", f"T-{tag}-XL"}
    back = await read_back(connector, outcomes[1])
    assert back.sku == f"T-{tag}" and back.list_price == Decimal("20.00")
    assert {v.sku: v.list_price for v in back.variants}[f"T-{tag}-XL"] == Decimal("22.00")
    # goods are storable: `detailed_type` 'product' on 17, `is_storable` from 18 on
    assert outcomes[0].target_ref
    field = "detailed_type" if running.version == 17 else "is_storable"
    (row,) = running.sandbox.search_read(
        "product.template", [("id", "=", outcomes[0].target_ref["id"])], [field, "uom_id"]
    )
    assert row[field] == ("product" if running.version == 17 else True)
    assert row["uom_id"][1] == "Units"


async def test_only_the_shops_combinations_stay_active(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    """Odoo makes every combination of the lines' values; those the shop does not sell are archived."""
    product = variable(tag).model_copy(
        update={
            "variants": [
                Variant(key="a", sku=f"T-{tag}-S-R", attributes={"Size": "S", "Colour": "Red"}),
                Variant(key="b", sku=f"T-{tag}-M-B", attributes={"Size": "M", "Colour": "Blue"}),
            ],
            "attributes": {"Colour": ["Blue", "Red"], "Size": ["M", "S"]},
        }
    )
    outcome = await write_one(connector, "product", WriteItem(product.key, product))
    assert outcome.target_ref
    back = await read_back(connector, outcome)
    assert sorted(v.sku for v in back.variants) == [f"T-{tag}-M-B", f"T-{tag}-S-R"]
    assert {v.sku: v.attributes for v in back.variants}[f"T-{tag}-S-R"] == {"Size": "S", "Colour": "Red"}


async def test_new_sizes_extend_the_line_and_a_dropped_one_is_archived(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    first = await write_one(connector, "product", WriteItem(f"shop-v-{tag}", variable(tag)))
    assert first.target_ref
    template = int(first.target_ref["id"])
    changed = variable(tag, sizes=("M", "XL"))
    again = await write_one(connector, "product", WriteItem(changed.key, changed, first.target_ref))
    assert again.status is OutcomeStatus.UPDATED and again.target_ref
    assert set(again.target_ref["variants"]) == {f"T-{tag}-M", f"T-{tag}-XL"}
    assert variants_of(running, template) == {f"T-{tag}-S": False, f"T-{tag}-M": True, f"T-{tag}-XL": True}
    assert diff_records(changed, await read_back(connector, again), NOT_KEPT) == []
    found = await connector.lookup("product", [f"T-{tag}-XL", f"T-{tag}-S"])
    assert {sku: ref["id"] for sku, ref in found.items()} == {f"T-{tag}-XL": template, f"T-{tag}-S": template}


async def test_updates_write_only_what_is_sent_and_not_kept(connector: OdooConnector, tag: str) -> None:
    product = simple(tag)
    first = await write_one(connector, "product", WriteItem(product.key, product))
    changed = product.model_copy(
        update={"name": f"Renamed {tag}", "description": "Shop text", "list_price": Decimal("14.00")}
    )
    kept = WriteItem(product.key, changed, first.target_ref, keep_on_update=frozenset({"name"}))
    await write_one(connector, "product", kept)
    back = await read_back(connector, first)
    assert (back.name, back.description, back.list_price) == (product.name, "Shop text", Decimal("14.00"))
    only = WriteItem(
        product.key,
        changed.model_copy(update={"list_price": Decimal("99.00")}),
        first.target_ref,
        only=frozenset({"name"}),
    )
    await write_one(connector, "product", only)
    back = await read_back(connector, first)
    assert (back.name, back.list_price) == (f"Renamed {tag}", Decimal("14.00"))


async def test_a_lost_link_matches_by_sku_and_makes_no_second_template(
    connector: OdooConnector, tag: str
) -> None:
    parent, _ = await categories(connector, tag)
    written = [simple(tag, [parent]), variable(tag)]
    first = await connector.write("product", [WriteItem(p.key, p) for p in written], [])
    count = await connector.count("product")
    again = await connector.write("product", [WriteItem(p.key, p) for p in written], [])
    assert [o.status for o in again] == [OutcomeStatus.MATCHED] * 2
    assert [o.target_ref["id"] for o in again if o.target_ref] == [
        o.target_ref["id"] for o in first if o.target_ref
    ]
    assert await connector.count("product") == count
    (category,) = await connector.write(
        "category", [WriteItem("c1", Category(key="c1", name=f"Apparel {tag}"))], []
    )
    assert category.status is OutcomeStatus.MATCHED and category.target_ref == {"id": int(parent)}
    assert (await connector.lookup("category", [f"Apparel {tag}"]))[f"Apparel {tag}"] == {"id": int(parent)}


async def test_create_defaults_name_units_and_taxes_odoo_has(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    good = simple(tag)
    bad = simple(f"{tag}B")
    outcomes = await connector.write(
        "product",
        [
            WriteItem(good.key, good, defaults={"unit": "kg", "customer_taxes": "7%", "type": "consumable"}),
            WriteItem(bad.key, bad, defaults={"unit": "Crates"}),
        ],
        [],
    )
    assert outcomes[0].status is OutcomeStatus.CREATED and outcomes[0].target_ref
    failure = outcomes[1]
    assert failure.status is OutcomeStatus.FAILED and isinstance(failure.error, Permanent)
    assert failure.error.field == "create_defaults.unit" and failure.error.record == f"S-{tag}B"
    assert "Crates" in failure.error.reason
    storable = "detailed_type" if running.version == 17 else "is_storable"
    (row,) = running.sandbox.search_read(
        "product.template", [("id", "=", outcomes[0].target_ref["id"])], ["uom_id", "taxes_id", storable]
    )
    assert row["uom_id"][1] == "kg" and row["taxes_id"] == [running.sandbox.ids["taxes"]["7"]]
    assert row[storable] in ("consu", False)
    (unknown,) = await connector.write(
        "product", [WriteItem("x", simple(f"{tag}X"), defaults={"colour": "red"})], []
    )
    assert isinstance(unknown.error, Permanent) and unknown.error.field == "create_defaults.colour"


async def test_stock_and_cost_are_never_written(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    product = simple(tag)
    first = await write_one(connector, "product", WriteItem(product.key, product))
    assert first.target_ref
    running.sandbox.receive_stock(product.sku, 7)
    running.sandbox.write("product.template", [first.target_ref["id"]], {"standard_price": 4.2})
    quants = running.sandbox.search_read(
        "stock.quant", [("product_id.default_code", "=", product.sku)], ["quantity"]
    )
    changed = product.model_copy(update={"list_price": Decimal("13.00"), "available": Decimal(0)})
    await write_one(connector, "product", WriteItem(product.key, changed, first.target_ref))
    after = running.sandbox.search_read(
        "stock.quant", [("product_id.default_code", "=", product.sku)], ["quantity"]
    )
    assert after == quants and sum(row["quantity"] for row in after) == 7
    (row,) = running.sandbox.search_read(
        "product.template", [("id", "=", first.target_ref["id"])], ["standard_price", "list_price"]
    )
    assert (row["standard_price"], row["list_price"]) == (4.2, 13.0)


async def test_a_deleted_product_is_archived_and_a_bad_category_fails_alone(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    good, bad = simple(tag), simple(f"{tag}B", ["987654"])
    outcomes = await connector.write("product", [WriteItem(good.key, good), WriteItem(bad.key, bad)], [])
    assert outcomes[0].status is OutcomeStatus.CREATED and outcomes[0].target_ref
    assert isinstance(outcomes[1].error, Permanent) and outcomes[1].error.field == "categories"
    (gone,) = await connector.write("product", [], [WriteItem(good.key, good, outcomes[0].target_ref)])
    assert gone.status is OutcomeStatus.DELETED
    template = int(outcomes[0].target_ref["id"])
    assert await connector.read("product", [str(template)]) == []
    assert variants_of(running, template) == {good.sku: False}


async def test_a_create_cut_off_before_the_variants_codes_is_matched_by_name(
    connector: OdooConnector, running: RunningSandbox, tag: str
) -> None:
    """The template was made but its variants' SKUs never written: the next try finds it, codes it."""
    product = variable(tag)
    first = await write_one(connector, "product", WriteItem(product.key, product))
    assert first.target_ref
    template = int(first.target_ref["id"])
    variant_ids = list(first.target_ref["variants"].values())
    running.sandbox.write("product.product", variant_ids, {"default_code": False})
    count = await connector.count("product")
    again = await write_one(connector, "product", WriteItem(product.key, product))
    assert again.status is OutcomeStatus.MATCHED and again.target_ref
    assert again.target_ref["id"] == template and await connector.count("product") == count
    assert variants_of(running, template) == {f"T-{tag}-S": True, f"T-{tag}-M": True}
