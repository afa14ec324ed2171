"""The example connector of docs/connectors.md, installed through its entry point, end to end.

The minishop connector (tests/example_shop) is found the way a pip package is: a dist-info with an
`emporion.connectors` entry point on the path. The ERP is the in-memory test system (and a real
Tryton for the run through the `emporion` command in another process).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from emporion.config import ConfigError, Settings, json_schema, parse_settings
from emporion.connectors import registry
from emporion.engine.sync import sync_flow, verify_flow
from emporion.model import Category, Order, OrderStatus, Product, StockLevel
from emporion.testing import MemorySystem, forget_systems, system
from tests.example_shop.install import install
from tests.example_shop.server import MiniShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine

API_KEY = "minishop-test-key"
EMPORION = Path(sys.executable).with_name("emporion")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The connector installed in a private site directory, as `pip install` would leave it."""
    site = tmp_path / "site"
    install(site, monkeypatch)
    monkeypatch.setenv("MINISHOP_KEY", API_KEY)
    yield site
    monkeypatch.undo()
    registry.plugins.cache_clear()


@pytest.fixture
def shop() -> Iterator[MiniShop]:
    """A running minishop with small pages, so that every list spans several."""
    with MiniShop(api_key=API_KEY, per_page=3).serve() as running:
        yield running


TEAS = [("Sencha", "4.50", 12), ("Matcha", "19.90", 3), ("Gyokuro", "12.00", 0), ("Bancha", "3.20", 40)]


@pytest.fixture
def erp() -> Iterator[MemorySystem]:
    """The ERP: an in-memory system with two categories (one inside the other) and four products."""
    forget_systems()
    erp = system("erp")
    erp.put("category", Category(key="c1", name="Tea", slug="tea"))
    erp.put("category", Category(key="c2", name="Green tea", slug="green-tea", parent_key="c1"))
    for n, (name, price, stock) in enumerate(TEAS, start=1):
        erp.put(
            "product",
            Product(
                key=f"p{n}", sku=f"TEA-{n}", name=name, list_price=Decimal(price),
                stock=[StockLevel(warehouse="WH", quantity=Decimal(stock))], categories=["c2"],
            ),
        )  # fmt: skip
    yield erp
    forget_systems()


def config(shop: MiniShop, flows: str, state: str = "sqlite:///state.db", erp: str = "{type: memory}") -> str:
    """A configuration with the memory ERP as `erp`, the minishop as `shop`, and `flows`."""
    return f"""
state: {{url: "{state}"}}
connections:
  erp: {erp}
  shop: {{type: minishop, url: "{shop.url}", api_key: env:MINISHOP_KEY, page_size: 3}}
flows:
{flows}
"""


CATALOGUE = "  - {name: catalogue, source: erp, target: shop}\n"
ORDERS = (
    "  - {name: orders, source: shop, target: erp, entities: [order],"
    ' orders: {reference_prefix: "WEB-", shortage: accept}}\n'
)


def settings(shop: MiniShop, flows: str, sqlite_url: str) -> Settings:
    return parse_settings(config(shop, flows, sqlite_url))


def by_sku(shop: MiniShop) -> dict[str, dict]:
    return {product["sku"]: product for product in shop.all("products")}


def test_the_entry_point_makes_minishop_a_connection_type(installed: Path, shop: MiniShop) -> None:
    plugin = registry.plugins()["minishop"]
    assert type(plugin).__module__ == "emporion.connectors.registry"
    assert plugin.settings.__module__ == "emporion_minishop.settings"
    from emporion_minishop.settings import MinishopConnection

    parsed = parse_settings(config(shop, CATALOGUE)).connections["shop"]
    assert isinstance(parsed, MinishopConnection)
    assert parsed.api_key.get_secret_value() == API_KEY  # resolved from the environment
    assert "MinishopConnection" in json_schema()["$defs"]
    with pytest.raises(ConfigError) as refused:  # a shop is no catalogue source
        parse_settings(config(shop, "  - {name: back, source: shop, target: erp}\n"))
    assert "needs a catalogue source but connection 'shop' (minishop (REST)) is not one" in str(refused.value)


async def test_catalogue_arrives_in_the_minishop_changes_follow_and_a_resync_writes_nothing(
    installed: Path, shop: MiniShop, erp: MemorySystem, sqlite_url: str
) -> None:
    shop.save(
        "products", {"sku": "TEA-2", "name": "Matcha (made in the shop)", "price": "1"}
    )  # behind our back
    async with running_engine(settings(shop, CATALOGUE, sqlite_url)) as engine:
        runner = engine.runners["catalogue"]
        await sync_flow(runner)
        categories = {c["slug"]: c for c in shop.all("categories")}
        assert categories["green-tea"]["parent_id"] == categories["tea"]["id"]
        products = by_sku(shop)
        assert len(shop.all("products")) == 4, "the product made in the shop was matched, not duplicated"
        assert products["TEA-2"]["name"] == "Matcha" and products["TEA-2"]["price"] == "19.90"
        assert products["TEA-1"]["stock"] == 12 and products["TEA-3"]["stock"] == 0
        assert products["TEA-1"]["category_ids"] == [categories["green-tea"]["id"]]
        assert (await verify_flow(runner)).clean

        await engine.ensure_initial_sync()
        sencha = erp.get("product", "p1")
        assert isinstance(sencha, Product)
        erp.put("product", sencha.model_copy(update={"list_price": Decimal("5.10")}))
        await engine.drain(runner.flow)
        assert by_sku(shop)["TEA-1"]["price"] == "5.10"

        writes = shop.writes
        report = await sync_flow(runner)
        assert shop.writes == writes, "a re-sync of an unchanged catalogue writes nothing"
        assert sum(entity.counts.get("unchanged", 0) for entity in report.entities) == 6


async def place_order(shop: MiniShop, email: str, lines: list[tuple[str, int]]) -> dict:
    """An order placed through the shop's API, as its storefront would."""
    async with httpx.AsyncClient(base_url=f"{shop.url}/api", headers={"X-Api-Key": API_KEY}) as client:
        body = {"email": email, "lines": [{"sku": sku, "quantity": n} for sku, n in lines], "paid": True}
        response = await client.post("/orders", json=body)
        response.raise_for_status()
        return response.json()


def sales(erp: MemorySystem, number: str) -> list[Order]:
    return [s for s in erp.all("order") if isinstance(s, Order) and s.reference == f"WEB-{number}"]


async def test_a_minishop_order_becomes_one_sale_whose_progress_goes_back(
    installed: Path, shop: MiniShop, erp: MemorySystem, sqlite_url: str
) -> None:
    async with running_engine(settings(shop, CATALOGUE + ORDERS, sqlite_url)) as engine:
        await sync_flow(engine.runners["catalogue"])
        await engine.ensure_initial_sync()
        orders = engine.order_flows["orders"].flow
        placed = await place_order(shop, "Ada@example.org", [("TEA-1", 2), ("TEA-4", 1)])
        await engine.drain(orders)
        (sale,) = sales(erp, placed["number"])
        assert [(line.sku, line.quantity) for line in sale.lines] == [("TEA-1", 2), ("TEA-4", 1)]
        assert sale.total == Decimal("12.20")

        await engine.store.enqueue(orders.name, "order", [str(placed["id"])], reason="webhook")  # seen again
        await engine.drain(orders)
        assert len(sales(erp, placed["number"])) == 1

        erp.put("order", sale.model_copy(update={"status": OrderStatus.COMPLETED}))  # the ERP ships it
        await engine.drain(orders)
        (order,) = [o for o in shop.all("orders") if o["id"] == placed["id"]]
        assert order["status"] == "done"


def run_emporion(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `emporion` command in a process of its own (it finds the connector through PYTHONPATH)."""
    return subprocess.run([str(EMPORION), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_emporion_check_in_another_process_finds_the_connector(
    installed: Path, shop: MiniShop, tmp_path: Path
) -> None:
    (tmp_path / "emporion.yaml").write_text(config(shop, "  []\n").replace("  erp: {type: memory}\n", ""))
    result = run_emporion("check", "-c", "emporion.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reach and authenticate" in result.stdout and "0 products" in result.stdout


@pytest.mark.tryton
def test_emporion_sync_in_another_process_fills_the_minishop_from_tryton(
    installed: Path,
    shop: MiniShop,
    tryton_server: RunningTryton,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRYTON_PASSWORD", tryton_server.password)
    tryton = (
        f"{{type: tryton, url: {tryton_server.url}, database: {tryton_server.database},"
        f" username: {tryton_server.user}, password: env:TRYTON_PASSWORD}}"
    )
    simple = "  - {name: catalogue, source: erp, target: shop, filter: {expression: 'not variants'}}\n"
    (tmp_path / "emporion.yaml").write_text(config(shop, simple, erp=tryton))
    first = run_emporion("sync", "-c", "emporion.yaml", "--no-verify", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    products = shop.all("products")
    assert products and all(p["sku"] and Decimal(p["price"]) > 0 for p in products)
    assert any(p["stock"] > 0 for p in products) and any(p["category_ids"] for p in products)
    writes = shop.writes
    again = run_emporion("sync", "-c", "emporion.yaml", "--no-verify", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert shop.writes == writes, "the second run found everything unchanged"
