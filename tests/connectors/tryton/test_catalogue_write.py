"""A shop's catalogue written into a real Tryton: categories, simple and variable products, by SKU."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.connectors.tryton.product_plan import codes_of, prices
from emporion.engine.compare import diff_records
from emporion.model import Category, Image, Product, StockLevel, Variant
from emporion_devkit.erp.catalogue import plan
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton
# what this Tryton does not keep of a shop's product (no images module; no shop texts or tax classes)
NOT_KEPT = {"images", "short_description", "tax_class", "sale_price", "available", "custom"}


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


@pytest.fixture
async def connector(tryton_server_module: RunningTryton) -> AsyncIterator[TrytonConnector]:
    connector = tryton_server_module.connector()
    yield connector
    await connector.close()


async def write_one(connector: TrytonConnector, entity: str, item: WriteItem) -> Outcome:
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
            weight=Decimal("0.2"),
        )
        for size in sizes
    ]
    return Product(
        key=f"shop-v-{tag}",
        sku=f"T-{tag}",
        name=f"Linen shirt {tag}",
        description="Washed linen.",
        weight=Decimal("0.2"),
        categories=categories or [],
        attributes={"Shop colour": ["Sand"], "Shop size": sorted(sizes)},
        variants=variants,
    )


async def categories(connector: TrytonConnector, tag: str) -> tuple[str, str]:
    """A parent and a child category written through the connector; their Tryton ids."""
    parent = await write_one(
        connector, "category", WriteItem("c1", Category(key="c1", name=f"Apparel {tag}"))
    )
    assert parent.status is OutcomeStatus.CREATED and parent.target_ref
    child = Category(key="c2", name=f"Shirts {tag}", parent_key=str(parent.target_ref["id"]))
    made = await write_one(connector, "category", WriteItem("c2", child))
    assert made.target_ref
    return str(parent.target_ref["id"]), str(made.target_ref["id"])


async def read_back(connector: TrytonConnector, outcome: Outcome) -> Product:
    assert outcome.target_ref
    (product,) = await connector.read("product", [str(outcome.target_ref["id"])])
    assert isinstance(product, Product)
    return product


async def rows(
    server: RunningTryton, model: str, domain: list[Any], fields: list[str]
) -> list[dict[str, Any]]:
    return list(
        await server.rpc(model, "search_read", domain, 0, None, None, fields, context={"active_test": False})
    )


async def test_simple_and_variable_products_read_back_equal(connector: TrytonConnector, tag: str) -> None:
    parent, child = await categories(connector, tag)
    written = [simple(tag, [parent]), variable(tag, [child], sizes=("S", "M", "XL"))]
    outcomes = await connector.write("product", [WriteItem(p.key, p) for p in written], [])
    assert [outcome.status for outcome in outcomes] == [OutcomeStatus.CREATED] * 2
    for product, outcome in zip(written, outcomes, strict=True):
        back = await read_back(connector, outcome)
        assert diff_records(product, back, NOT_KEPT) == []
    variable_ref = outcomes[1].target_ref
    assert variable_ref and set(variable_ref["variants"]) == {f"T-{tag}-S", f"T-{tag}-M", f"T-{tag}-XL"}
    back = await read_back(connector, outcomes[1])
    assert back.sku == f"T-{tag}" and back.list_price == Decimal("20.00")
    assert {v.sku: v.list_price for v in back.variants}[f"T-{tag}-XL"] == Decimal("22.00")


async def test_variants_without_the_product_sku_as_prefix_keep_their_own_codes(
    connector: TrytonConnector, tryton_server_module: RunningTryton, tag: str
) -> None:
    product = variable(tag)
    product.variants[1].sku = f"OTHER-{tag}"
    outcome = await write_one(connector, "product", WriteItem(product.key, product))
    back = await read_back(connector, outcome)
    assert back.sku == ""  # the template has no code: Tryton's variant code is template code + suffix
    assert sorted(v.sku for v in back.variants) == sorted([f"T-{tag}-S", f"OTHER-{tag}"])
    assert diff_records(product, back, NOT_KEPT | {"sku"}) == []


async def test_a_lost_link_matches_by_sku_instead_of_creating_again(
    connector: TrytonConnector, tryton_server_module: RunningTryton, tag: str
) -> None:
    for product in (simple(tag), variable(tag)):
        first = await write_one(connector, "product", WriteItem(product.key, product))
        renamed = product.model_copy(update={"name": f"Renamed {tag}"})
        again = await write_one(connector, "product", WriteItem(product.key, renamed))
        assert first.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
        assert first.target_ref and again.target_ref and again.target_ref["id"] == first.target_ref["id"]
        assert again.target_ref["variants"] == first.target_ref["variants"]
        templates = await rows(
            tryton_server_module, "product.template", [("name", "like", f"%{tag}")], ["code"]
        )
        assert len([row for row in templates if row["code"] == product.sku]) == 1
        assert (await read_back(connector, again)).name == f"Renamed {tag}"
    found = await connector.lookup("product", [f"S-{tag}", f"T-{tag}-M", f"NOPE-{tag}"])
    assert set(found) == {f"S-{tag}", f"T-{tag}-M"}


async def test_updates_write_only_what_is_sent(connector: TrytonConnector, tag: str) -> None:
    product = simple(tag)
    first = await write_one(connector, "product", WriteItem(product.key, product))
    changed = product.model_copy(
        update={"name": "Not this name", "list_price": Decimal("15.00"), "description": "Not this text."}
    )
    item = WriteItem(product.key, changed, first.target_ref, only=frozenset({"list_price"}))
    assert (await write_one(connector, "product", item)).status is OutcomeStatus.UPDATED
    back = await read_back(connector, first)
    assert (back.name, back.list_price, back.description) == (
        product.name,
        Decimal("15.00"),
        product.description,
    )
    kept = product.model_copy(
        update={"name": "Kept away", "description": "New text.", "weight": Decimal("0.5")}
    )
    item = WriteItem(product.key, kept, first.target_ref, keep_on_update=frozenset({"name", "weight"}))
    await write_one(connector, "product", item)
    back = await read_back(connector, first)
    assert (back.name, back.weight, back.description) == (product.name, product.weight, "New text.")


async def test_variants_are_added_and_gone_ones_deactivated(
    connector: TrytonConnector, tryton_server_module: RunningTryton, tag: str
) -> None:
    product = variable(tag, sizes=("S", "M"))
    first = await write_one(connector, "product", WriteItem(product.key, product))
    changed = variable(tag, sizes=("M", "L"))
    update = await write_one(connector, "product", WriteItem(product.key, changed, first.target_ref))
    back = await read_back(connector, update)
    assert sorted(v.sku for v in back.variants if v.active) == [f"T-{tag}-L", f"T-{tag}-M"]
    assert diff_records(changed, back, NOT_KEPT) == []
    (gone,) = await rows(tryton_server_module, "product.product", [("code", "=", f"T-{tag}-S")], ["active"])
    assert not gone["active"]  # deactivated, never deleted
    selection = await rows(
        tryton_server_module, "product.attribute", [("name", "=", "Shop size")], ["selection"]
    )
    assert {"S", "M", "L"} <= {line.split(":")[0] for line in selection[0]["selection"].splitlines()}


async def test_delete_deactivates_the_template(
    connector: TrytonConnector, tryton_server_module: RunningTryton, tag: str
) -> None:
    product = simple(tag)
    first = await write_one(connector, "product", WriteItem(product.key, product))
    (gone,) = await connector.write("product", [], [WriteItem(product.key, product, first.target_ref)])
    assert gone.status is OutcomeStatus.DELETED and first.target_ref
    assert await connector.read("product", [str(first.target_ref["id"])]) == []
    (row,) = await rows(
        tryton_server_module, "product.template", [("id", "=", first.target_ref["id"])], ["active"]
    )
    assert not row["active"]


async def test_create_defaults_fill_what_tryton_requires(
    connector: TrytonConnector, tryton_server_module: RunningTryton, tag: str
) -> None:
    defaults = {"unit": "Unit", "account_category": "Goods", "customer_taxes": "VAT 19%", "type": "goods"}
    product = simple(tag)
    outcome = await write_one(connector, "product", WriteItem(product.key, product, defaults=defaults))
    assert outcome.target_ref
    (row,) = await rows(
        tryton_server_module,
        "product.template",
        [("id", "=", outcome.target_ref["id"])],
        ["account_category.name", "default_uom.symbol", "sale_uom.symbol", "type", "salable"],
    )
    assert row["account_category."]["name"] == "Goods" and row["type"] == "goods" and row["salable"]
    assert row["default_uom."]["symbol"] == row["sale_uom."]["symbol"] == "u"


@pytest.mark.parametrize(
    ("defaults", "field", "value"),
    [
        ({"unit": "crate"}, "create_defaults.unit", "crate"),
        ({"account_category": "Nope"}, "create_defaults.account_category", "Nope"),
        ({"type": "kit"}, "create_defaults.type", "kit"),
        (
            {"account_category": "Goods", "customer_taxes": "VAT 99%"},
            "create_defaults.customer_taxes",
            "VAT 99%",
        ),
        ({"customer_taxes": "VAT 19%"}, "create_defaults.customer_taxes", "VAT 19%"),
    ],
)
async def test_a_default_tryton_does_not_have_fails_the_item_naming_it(
    connector: TrytonConnector, tag: str, defaults: dict[str, str], field: str, value: str
) -> None:
    good, bad = simple(tag), simple(f"{tag}X")
    items = [WriteItem(good.key, good), WriteItem(bad.key, bad, defaults=defaults)]
    created, failed = await connector.write("product", items, [])
    assert created.status is OutcomeStatus.CREATED
    assert failed.status is OutcomeStatus.FAILED and isinstance(failed.error, Permanent)
    assert failed.error.field == field and value in str(failed.error)
    assert await connector.lookup("product", [bad.sku]) == {}


async def test_a_write_never_touches_stock_or_cost(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    spec = tryton_server_module.catalogue
    item = next(
        item
        for item in plan(spec.products, spec.variant_share, spec.seed)
        if item.salable and len(item.variants) == 1 and item.variants[0].stock["WH"]
    )
    (before,) = await connector.read(
        "product", [str((await connector.lookup("product", [item.code]))[item.code]["id"])]
    )
    fields = ["quantity", "cost_price"]
    (costs,) = await rows(tryton_server_module, "product.product", [("code", "=", item.code)], fields)
    assert isinstance(before, Product)
    shop = before.model_copy(
        update={
            "key": "shop-stock",
            "name": f"{before.name} (shop)",
            "available": Decimal(999),
            "stock": [StockLevel(warehouse="WH", quantity=Decimal(999))],
        }
    )
    outcome = await write_one(connector, "product", WriteItem(shop.key, shop))
    assert outcome.status is OutcomeStatus.MATCHED
    after = await read_back(connector, outcome)
    assert after.name == shop.name and after.stock == before.stock
    assert await rows(tryton_server_module, "product.product", [("code", "=", item.code)], fields) == [costs]


async def test_a_record_tryton_refuses_fails_alone(connector: TrytonConnector, tag: str) -> None:
    """A new variant whose SKU another product holds is refused by Tryton; the batch's others go in."""
    taken = simple(tag)
    await write_one(connector, "product", WriteItem(taken.key, taken))
    clashing, fine = variable(f"{tag}A"), variable(f"{tag}B")
    links = [await write_one(connector, "product", WriteItem(p.key, p)) for p in (clashing, fine)]
    grown = [variable(f"{tag}A", sizes=("S", "M", "L")), variable(f"{tag}B", sizes=("S", "M", "L"))]
    grown[0].variants[2].sku = taken.sku
    items = [WriteItem(p.key, p, link.target_ref) for p, link in zip(grown, links, strict=True)]
    outcomes = {o.key: o for o in await connector.write("product", items, [])}
    assert outcomes[fine.key].status is OutcomeStatus.UPDATED
    assert sorted(v.sku for v in (await read_back(connector, outcomes[fine.key])).variants) == sorted(
        v.sku for v in grown[1].variants
    )
    failure = outcomes[clashing.key]
    assert failure.status is OutcomeStatus.FAILED and isinstance(failure.error, Permanent)
    assert failure.error.record == clashing.sku and failure.error.field in ("sku", "variants.sku")
    bad = variable(f"{tag}C")
    bad.variants[1].attributes = {"Shop size": "a:b"}
    (refused,) = await connector.write("product", [WriteItem(bad.key, bad)], [])
    assert isinstance(refused.error, Permanent) and refused.error.field == "variants.attributes"


async def test_categories_match_by_name_and_parent_and_look_up_by_slug(
    connector: TrytonConnector, tag: str
) -> None:
    parent, child = await categories(connector, tag)
    again = Category(key="c2", name=f"Shirts {tag}", parent_key=parent)
    matched = await write_one(connector, "category", WriteItem("c2", again))
    assert matched.status is OutcomeStatus.MATCHED and matched.target_ref == {"id": int(child)}
    renamed = again.model_copy(update={"name": f"Tops {tag}"})
    await write_one(connector, "category", WriteItem("c2", renamed, matched.target_ref))
    (back,) = await connector.read("category", [child])
    assert isinstance(back, Category) and (back.name, back.parent_key) == (f"Tops {tag}", parent)
    found = await connector.lookup("category", [f"Apparel {tag}", f"tops-{tag.lower()}", "no-such"])
    assert found == {f"Apparel {tag}": {"id": int(parent)}, f"tops-{tag.lower()}": {"id": int(child)}}
    orphan = Category(key="c3", name=f"Orphan {tag}", parent_key="987654321")
    (failed,) = await connector.write("category", [WriteItem("c3", orphan)], [])
    assert isinstance(failed.error, Permanent) and failed.error.field == "parent_key"


async def test_check_reports_write_access_to_templates(connector: TrytonConnector) -> None:
    results = {result.name: result for result in await connector.check()}
    assert results["write product.template"].ok, results["write product.template"].detail


async def test_deactivating_a_product_with_stock_is_left_to_a_person(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    spec = tryton_server_module.catalogue
    item = next(
        item
        for item in plan(spec.products, spec.variant_share, spec.seed)
        if item.salable and len(item.variants) == 1 and item.variants[0].stock["WH"]
    )
    ref = (await connector.lookup("product", [item.code]))[item.code]
    record = Product(key="shop-gone", sku=item.code, name=item.name)
    (outcome,) = await connector.write("product", [], [WriteItem(record.key, record, ref)])
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert outcome.error.record == item.code and outcome.error.field == "active"
    assert len(await connector.read("product", [str(ref["id"])])) == 1


class Requests:
    """Counts the requests a connection sends."""

    def __init__(self) -> None:
        self.sent = 0

    async def before(self, headers: Any) -> None:
        self.sent += 1

    async def after(self, method: str, status: int) -> None:
        return None


async def test_a_batch_is_written_in_a_few_requests(connector: TrytonConnector, tag: str) -> None:
    await write_one(connector, "product", WriteItem("warm", simple(f"{tag}W")))  # login, set-up, units
    requests = Requests()
    connector.observe_requests(requests)
    products = [simple(f"{tag}{n}") for n in range(12)] + [variable(f"{tag}V{n}") for n in range(3)]
    outcomes = await connector.write("product", [WriteItem(p.key, p) for p in products], [])
    assert [o.status for o in outcomes] == [OutcomeStatus.CREATED] * len(products)
    assert requests.sent <= 8, requests.sent
    requests.sent = 0
    renamed = [p.model_copy(update={"name": f"{p.name} v2"}) for p in products]
    items = [WriteItem(p.key, p, o.target_ref) for p, o in zip(renamed, outcomes, strict=True)]
    assert {o.status for o in await connector.write("product", items, [])} == {OutcomeStatus.UPDATED}
    assert requests.sent <= 8, requests.sent


def test_codes_split_variant_skus_after_the_product_sku_or_keep_them_whole(tag: str) -> None:
    assert codes_of(simple(tag)) == (f"S-{tag}", {f"S-{tag}": ""})
    assert codes_of(variable(tag)) == (f"T-{tag}", {f"T-{tag}-S": "-S", f"T-{tag}-M": "-M"})
    mixed = variable(tag)
    mixed.variants[0].sku = f"X-{tag}"
    assert codes_of(mixed) == ("", {f"X-{tag}": f"X-{tag}", f"T-{tag}-M": f"T-{tag}-M"})


def test_prices_round_to_the_currency_and_variants_keep_their_own_only_when_different(tag: str) -> None:
    product = variable(tag, sizes=("S", "XL"))
    product.variants[0].list_price = Decimal("19.995")
    template, own = prices(product, 2)
    assert template == Decimal("20.00") and own == {f"T-{tag}-S": None, f"T-{tag}-XL": Decimal("22.00")}
    assert prices(simple(tag).model_copy(update={"list_price": Decimal("1.005")}), 2)[0] == Decimal("1.01")
