"""The real engine with a file drop as its ERP and a shop in memory: sync, changes, removals, bad input."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from emporion.config import parse_settings
from emporion.engine.worker import Engine
from emporion.model import Customer, Order, OrderLine, OrderStatus, Product
from emporion.model.orders import PaymentState
from emporion.state import StateStore
from emporion.testing import MemorySystem, system
from tests.connectors.files.erp import ExportingErp
from tests.connectors.files.test_formats import write_export
from tests.engine.conftest import memory_plugin, migrated_state  # noqa: F401 - fixtures used here
from tests.fixtures.sftp import SftpServer

# the drop's catalogue exports: German CSV articles and stock (a template part, braces doubled)
CATALOGUE = """    catalogue:
      products:
        key: ArtNr
        pattern: "artikel_*.csv"
        csv: {{encoding: cp1252, decimal_comma: true}}
        columns: {{sku: ArtNr, name: Bezeichnung, list_price: VK}}
      stock:
        key: Id
        pattern: "bestand_*.csv"
        csv: {{encoding: cp1252, decimal_comma: true}}
        columns: {{sku: ArtNr, warehouse: Lager, quantity: Menge}}
"""

CONFIG = (
    """
state: {{url: "sqlite:///{state}"}}
retry: {{base: 0.01, max: 0.02}}
connections:
  wawi:
    type: files
    location: {location}
    settle_seconds: 0
    currency: EUR{login}
"""
    + CATALOGUE
    + """  shop:
    type: memory
    system: {shop}
flows:
  - name: catalogue
    source: wawi
    target: shop
    entities: [product]
"""
)


@pytest.fixture
def shop() -> MemorySystem:
    return system(f"shop-{uuid.uuid4().hex[:8]}")


@dataclass(frozen=True)
class DropPlace:
    """Where the ERP writes its files (a local folder) and how the connection reaches them."""

    folder: Path
    location: str
    login: str = ""  # YAML lines of the connection's credentials


@pytest.fixture(params=["local", "sftp"])
def drop(request: pytest.FixtureRequest, tmp_path: Path) -> DropPlace:
    """The drop as a local folder, or the same folder served by the test SFTP server."""
    if request.param == "local":
        return DropPlace(tmp_path / "drop", str(tmp_path / "drop"))
    server: SftpServer = request.getfixturevalue("sftp_server")
    folder: Path = request.getfixturevalue("sftp_folder")
    login = f"\n    private_key: file:{server.private_key}\n    known_hosts: {server.known_hosts}"
    return DropPlace(folder, server.location(folder), login)


@asynccontextmanager
async def engine_for(
    tmp_path: Path, migrated: Path, shop: MemorySystem, drop: DropPlace
) -> AsyncIterator[Engine]:
    """An engine syncing the drop into the memory shop."""
    template = CONFIG.replace("{location}", drop.location).replace("{login}", drop.login)
    async with engine_of(template, tmp_path, migrated, shop) as engine:
        yield engine


@asynccontextmanager
async def engine_of(
    template: str, tmp_path: Path, migrated: Path, shop: MemorySystem
) -> AsyncIterator[Engine]:
    """An engine on a copy of the migrated state for a configuration template (state and shop filled in)."""
    state = tmp_path / "state.db"
    shutil.copyfile(migrated, state)
    settings = parse_settings(template.format(state=state, shop=shop.name))
    store = await StateStore.connect(settings.state.url, migrate=False)
    engine = Engine(settings, store, worker="test-worker")
    try:
        yield engine
    finally:
        await engine.pool.close()
        await store.close()


async def step(engine: Engine) -> None:
    """Poll the feed, then work the queue until it is empty."""
    flow = engine.settings.flow("catalogue")
    await engine.poll(flow)
    while await engine.work(flow):
        pass


def shop_products(shop: MemorySystem) -> dict[str, Product]:
    return {p.sku: p for p in shop.all("product") if isinstance(p, Product)}


async def test_exports_reach_the_shop_once_each_and_bad_rows_become_dead_letters(
    tmp_path: Path,
    migrated_state: Path,  # noqa: F811 - the fixture imported above
    shop: MemorySystem,
    drop: DropPlace,
) -> None:
    erp = ExportingErp(drop.folder)
    for n in range(1, 4):
        erp.add(f"A-{n}", f"Artikel {n}", Decimal("9.90"), Decimal(5))
    erp.export_articles()
    erp.export_stock()
    async with engine_for(tmp_path, migrated_state, shop, drop) as engine:
        await engine.ensure_initial_sync()
        products = shop_products(shop)
        assert set(products) == {"A-1", "A-2", "A-3"}
        assert products["A-1"].list_price == Decimal("9.90") and products["A-1"].available == Decimal(5)

        erp.reprice("A-2", Decimal(1))
        del erp.articles["A-3"]
        erp.stock[("A-1", "Hauptlager")] = Decimal(2)
        erp.export_articles()
        erp.export_stock()
        await step(engine)
        products = shop_products(shop)
        assert products["A-2"].list_price == Decimal("10.90")
        assert products["A-1"].available == Decimal(2)
        assert not products["A-3"].active, "a row gone from the full export is unpublished (on_remove)"
        assert (await engine.store.list_dead("catalogue")) == []
        assert sorted(p.name for p in (drop.folder / "export").iterdir()) == [
            "artikel_00003.csv",
            "bestand_00004.csv",
        ]

        bad = write_export(drop.folder, "artikel_00005.csv", "ArtNr;Bezeichnung;VK\nA-1;Artikel 1;zwei\n")
        os.utime(bad, (erp.clock + 10, erp.clock + 10))
        await step(engine)
        (dead,) = await engine.store.list_dead("catalogue")
        assert (dead.key, dead.record, dead.field) == ("A-1", "file artikel_00005.csv row 2", "VK")
        assert shop_products(shop)["A-2"].list_price == Decimal("10.90")  # nothing else stops
        await step(engine)
        assert sorted(p.name for p in (drop.folder / "export").iterdir()) == []


ORDER_CONFIG = (
    """
state: {{url: "sqlite:///{state}"}}
retry: {{base: 0.01, max: 0.02}}
connections:
  wawi:
    type: files
    location: {drop}
    settle_seconds: 0
"""
    + CATALOGUE
    + """    orders: {{folder: import, format: opentrans, supplier_id: WAWI}}
    progress:
      statuses: {{versendet: completed}}
      orders:
        key: Beleg
        pattern: "status_*.csv"
        full: false
        columns: {{reference: Bestellung, status: Status, number: Beleg}}
      shipments:
        key: Paket
        pattern: "versand_*.csv"
        full: false
        columns: {{reference: Bestellung, carrier: Versender, tracking: Sendung}}
  shop:
    type: memory
    system: {shop}
flows:
  - name: orders
    source: shop
    target: wawi
    entities: [order]
"""
)


async def test_a_shop_order_lands_once_as_a_file_and_its_tracking_comes_back(
    tmp_path: Path,
    migrated_state: Path,  # noqa: F811 - the fixture imported above
    shop: MemorySystem,
) -> None:
    drop = tmp_path / "drop"
    erp = ExportingErp(drop)
    erp.add("MUG-1", "Tasse", Decimal(8), Decimal(10))
    erp.export_articles()
    erp.export_stock()
    line = OrderLine(key="1", sku="MUG-1", quantity=Decimal(2), unit_price=Decimal(8), total=Decimal(16))
    placed = Order(
        key="",
        number="1001",
        status=OrderStatus.PROCESSING,
        payment_state=PaymentState.PAID,
        currency="EUR",
        customer=Customer(key="", email="ada@example.com", first_name="Ada"),
        lines=[line],
        total=Decimal(16),
    )
    key = shop.put("order", placed).key
    template = ORDER_CONFIG.replace("{drop}", str(drop))
    async with engine_of(template, tmp_path, migrated_state, shop) as engine:
        flow = engine.settings.flow("orders")
        await engine.ensure_initial_sync()
        while await engine.poll(flow) or await engine.work(flow):
            pass
        shop.put("order", shop.get("order", key))  # the shop touches the order again
        while await engine.poll(flow) or await engine.work(flow):
            pass
        files = sorted(p.name for p in (drop / "import").iterdir() if p.is_file())
        assert files == ["order-ORDERS-1001.xml"], "one file, written once"
        assert b"<ORDER_ID>ORDERS-1001</ORDER_ID>" in (drop / "import" / files[0]).read_bytes()
        write_export(drop, "status_1.csv", "Beleg;Bestellung;Status\nLS-9;ORDERS-1001;versendet\n")
        write_export(
            drop, "versand_1.csv", "Paket;Bestellung;Versender;Sendung\nP1;ORDERS-1001;DHL;TRACK-1\n"
        )
        while await engine.poll(flow) or await engine.work(flow):
            pass
        assert await engine.store.list_dead("orders") == []
    order = shop.get("order", key)
    assert isinstance(order, Order) and order.status is OrderStatus.COMPLETED
    assert [s.tracking_numbers for s in order.shipments] == [["TRACK-1"]]
