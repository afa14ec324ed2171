"""The guide to described shops (docs/connectors/rest.md) says what the code does.

Every whole YAML configuration in it is one emporion accepts; every fragment (a part of a connection:
`auth`, an entity, `webhooks`) is accepted once put into the worked example's shop connection; the
`emporion check` problems it quotes are the ones its worked example gives with the same mistakes;
the worked example's shop connection, pointed at a running minishop, syncs a catalogue, a
customer and an order through the engine; and the GraphQL example reads minishop's GraphQL API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from emporion.config import ConfigError, Settings, parse_settings
from emporion.connectors.rest.plugin import GRAPHQL_PLUGIN
from emporion.connectors.rest.settings import GraphQLConnection, RestConnection
from emporion.engine.sync import sync_flow, verify_flow
from emporion.model import Customer, Order, OrderStatus, Product, StockLevel
from emporion.testing import MemorySystem, forget_systems, system
from tests.example_shop.server import MiniShop
from tests.integration.engine_support import running_engine

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "connectors" / "rest.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
WORKED = "## Worked example"
REFERENCE = "## Reference"
SECRETS = {
    "TRYTON_PASSWORD": "not-the-real-password",
    "SHOP_API_KEY": "docs-shop-key",
    "SHOP_CLIENT_SECRET": "docs-client-secret",
    "SHOP_PASSWORD": "docs-shop-password",
    "SHOP_WEBHOOK_SECRET": "docs-webhook-secret",
    "MEDUSA_SECRET_KEY": "sk_docs",
    "VENDURE_PASSWORD": "docs-vendure-password",
    "MERCHANTPRO_KEY": "docs-merchantpro-key",
    "MERCHANTPRO_SECRET": "docs-merchantpro-secret",
}


def guide() -> str:
    """The text of the guide."""
    return GUIDE.read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[str]:
    """The guide's YAML examples, in order."""
    return YAML_BLOCK.findall(text)


def whole(block: str) -> bool:
    """Whether a YAML example is a whole configuration (else it is a fragment of a connection)."""
    data = yaml.safe_load(block)
    return isinstance(data, dict) and "connections" in data


def worked_block() -> str:
    """The worked example's whole configuration: the first one after the worked example's heading."""
    text = guide()
    section = text[text.index(WORKED) : text.index(REFERENCE)]
    return next(block for block in yaml_blocks(section) if whole(block))


@pytest.fixture(autouse=True)
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the examples' `env:` secrets name."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def test_the_guide_has_whole_examples_fragments_and_a_worked_example() -> None:
    """The worked example, the GraphQL and preset configurations, and fragments of the reference."""
    blocks = yaml_blocks(guide())
    assert sum(whole(block) for block in blocks) >= 5
    assert sum(not whole(block) for block in blocks) >= 6
    assert "flows" in yaml.safe_load(worked_block())


@pytest.mark.parametrize("number", [n for n, block in enumerate(yaml_blocks(guide())) if whole(block)])
def test_each_whole_example_is_a_configuration_emporion_accepts(number: int) -> None:
    """A whole configuration parses as the engine reads a file, with at least one described shop."""
    settings = parse_settings(yaml_blocks(guide())[number])
    assert any(isinstance(c, RestConnection) for c in settings.connections.values())


@pytest.mark.parametrize("number", [n for n, block in enumerate(yaml_blocks(guide())) if not whole(block)])
def test_each_fragment_fits_into_the_worked_examples_connection(number: int) -> None:
    """A fragment (keys of a connection) put into the worked example's shop still parses, and says what
    the fragment says (its keys end up in the parsed connection)."""
    fragment = yaml.safe_load(yaml_blocks(guide())[number])
    assert isinstance(fragment, dict) and fragment
    assert set(fragment) <= set(RestConnection.model_fields), f"not keys of a connection: {set(fragment)}"
    config = yaml.safe_load(worked_block())
    config["connections"]["shop"] = merged(config["connections"]["shop"], fragment)
    shop = parse_settings(yaml.safe_dump(config)).connections["shop"]
    assert isinstance(shop, RestConnection)
    for key, value in fragment.items():
        assert getattr(shop, key) is not None
        if isinstance(value, dict) and "kind" in value:
            assert getattr(shop, key).kind == value["kind"]
    for name, entity in fragment.get("entities", {}).items():
        for part, value in entity.items():
            parsed = getattr(shop.entities.configured()[name], part)
            if isinstance(value, dict) and "kind" in value:
                assert parsed.kind == value["kind"], (name, part)


def test_the_presets_examples_name_each_shipped_preset() -> None:
    """Medusa and MerchantPro as REST connections, Vendure as GraphQL, each from its preset."""
    presets: dict[str, type[RestConnection]] = {}
    for block in yaml_blocks(guide()):
        if whole(block) and "preset:" in block:
            (connection,) = parse_settings(block).connections.values()
            assert isinstance(connection, RestConnection) and connection.preset
            presets[connection.preset] = type(connection)
    assert presets == {"medusa": RestConnection, "vendure": GraphQLConnection, "merchantpro": RestConnection}


def merged(base: Any, top: Any) -> Any:
    """`top` over `base` key by key; a mapping with a `kind` (an auth, a paging) replaces the whole."""
    if isinstance(base, dict) and isinstance(top, dict) and "kind" not in top:
        return {key: merged(base[key], top[key]) if key in base else top[key] for key in top} | {
            key: value for key, value in base.items() if key not in top
        }
    return top


def broken_worked_example() -> str:
    """The worked example with the three mistakes the guide shows: no auth, a misspelt field, a paging
    kind that does not exist (the orders', the third paging)."""
    lines = [line for line in worked_block().splitlines() if not line.startswith("    auth:")]
    text = "\n".join(lines) + "\n"
    text = text.replace("list_price: $.price", "list_prize: $.price", 1)
    pagings = [m.start() for m in re.finditer(r"paging: \{kind: page, [^}]*\}", text)]
    third = pagings[2]
    end = text.index("}", third) + 1
    return text[:third] + "paging: {kind: pages, size: 50}" + text[end:]


def test_the_check_problems_quoted_are_those_of_the_worked_example_with_its_mistakes() -> None:
    """Each `- connections.shop...` line of the guide's failing `emporion check` is a problem found."""
    quoted = [
        line.strip().removeprefix("- ")
        for block in CONSOLE_BLOCK.findall(guide())
        if "emporion check -c broken.yaml" in block
        for line in block.splitlines()
        if line.strip().startswith("- connections.")
    ]
    assert len(quoted) == 3
    with pytest.raises(ConfigError) as refused:
        parse_settings(broken_worked_example())
    assert sorted(refused.value.problems) == sorted(quoted)


# -- the worked example against a running minishop ---------------------------------------------------

TEAS = [("TEA-1", "Sencha", "4.50", 12), ("TEA-2", "Matcha", "19.90", 3), ("TEA-3", "Bancha", "3.20", 40)]


@pytest.fixture
def shop() -> Iterator[MiniShop]:
    """A running minishop with the key of the examples, and pages of three."""
    with MiniShop(api_key=SECRETS["SHOP_API_KEY"], per_page=3).serve() as running:
        yield running


@pytest.fixture
def erp() -> Iterator[MemorySystem]:
    """The ERP: an in-memory system with three products."""
    forget_systems()
    erp = system("erp")
    for n, (sku, name, price, stock) in enumerate(TEAS, start=1):
        erp.put(
            "product",
            Product(
                key=f"p{n}", sku=sku, name=name, list_price=Decimal(price),
                stock=[StockLevel(warehouse="WH", quantity=Decimal(stock))],
            ),
        )  # fmt: skip
    yield erp
    forget_systems()


def worked_settings(shop: MiniShop, state_url: str, *, orders: bool = False) -> Settings:
    """The worked example with the shop's URL, the memory ERP and no server (webhooks: polled)."""
    config: dict[str, Any] = yaml.safe_load(worked_block())
    config["state"] = {"url": state_url}
    config.pop("server")
    config["connections"]["erp"] = {"type": "memory"}
    config["connections"]["shop"]["url"] = f"{shop.url}/api"
    del config["connections"]["shop"]["webhooks"]
    if orders:
        config["flows"].append(
            {"name": "orders", "source": "shop", "target": "erp", "entities": ["order"], "orders": {}}
        )
    return parse_settings(yaml.safe_dump(config))


async def test_the_worked_example_syncs_a_running_minishop(
    shop: MiniShop, erp: MemorySystem, sqlite_url: str
) -> None:
    """The catalogue arrives clean, a shop customer reaches the ERP, an order is one sale whose status
    goes back: the worked example's description is the shop's API."""
    shop.save("customers", {"email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace"})
    async with running_engine(worked_settings(shop, sqlite_url, orders=True)) as engine:
        (check,) = [engine.pool.get("shop")]
        assert all(result.ok for result in await check.check())
        catalogue = engine.runners["catalogue"]
        await sync_flow(catalogue)
        assert sorted((p["sku"], p["price"], p["stock"]) for p in shop.all("products")) == [
            ("TEA-1", "4.50", 12), ("TEA-2", "19.90", 3), ("TEA-3", "3.20", 40),
        ]  # fmt: skip
        assert (await verify_flow(catalogue)).clean
        await sync_flow(engine.runners["customers"])
        (ada,) = [c for c in erp.all("customer") if isinstance(c, Customer)]
        assert (ada.email, ada.last_name) == ("ada@example.org", "Lovelace")

        await engine.ensure_initial_sync()
        async with httpx.AsyncClient(
            base_url=f"{shop.url}/api", headers={"X-Api-Key": SECRETS["SHOP_API_KEY"]}
        ) as client:
            body = {"email": "ada@example.org", "lines": [{"sku": "TEA-2", "quantity": 2}], "paid": True}
            placed = (await client.post("/orders", json=body)).json()
        orders = engine.order_flows["orders"].flow
        await engine.drain(orders)
        (sale,) = [o for o in erp.all("order") if isinstance(o, Order) and placed["number"] in o.reference]
        assert sale.total == Decimal("39.80")
        erp.put("order", sale.model_copy(update={"status": OrderStatus.COMPLETED}))
        await engine.drain(orders)
        (order,) = [o for o in shop.all("orders") if o["id"] == placed["id"]]
        assert order["status"] == "done"


async def test_the_graphql_example_reads_minishops_graphql_api(shop: MiniShop) -> None:
    """The guide's GraphQL connection, pointed at minishop's /graphql, reads every product in pages,
    and its cost paths find the cost minishop reports."""
    (block,) = [b for b in yaml_blocks(guide()) if whole(b) and "type: graphql" in b and "preset" not in b]
    config = yaml.safe_load(block)
    config["connections"]["shop"]["url"] = f"{shop.url}/graphql"
    config["connections"]["shop"]["entities"]["product"]["paging"]["size"] = 2
    (connection,) = parse_settings(yaml.safe_dump(config)).connections.values()
    assert isinstance(connection, GraphQLConnection)
    for sku, name, price, stock in TEAS:
        shop.save("products", {"sku": sku, "name": name, "price": price, "stock": stock})
    connector = GRAPHQL_PLUGIN.build("shop", connection)
    try:
        assert all(result.ok for result in await connector.check())
        pages = [page async for page in connector.scan("product")]
    finally:
        await connector.close()
    assert len(pages) == 2
    found = {p.sku: p for page in pages for p in page if isinstance(p, Product)}
    assert {sku: (p.list_price, p.available) for sku, p in found.items()} == {
        sku: (Decimal(price), Decimal(stock)) for sku, _, price, stock in TEAS
    }
    assert connector.client.headroom.most_available > 0, "the cost paths found the budget minishop reports"
