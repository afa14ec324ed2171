"""Engine tests on memory systems: the real engine, state store and configuration, no real system.

`harness` gives two fresh memory systems (`erp`, `shop`) and builds an engine from YAML flows with
`type: memory` connections and a SQLite state database in the test's directory.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from emporion.config import Settings, parse_settings
from emporion.connectors import registry
from emporion.engine.worker import Engine
from emporion.state import StateStore
from emporion.testing import PLUGIN, MemorySystem, forget_systems, system


@pytest.fixture(autouse=True)
def memory_plugin() -> Iterator[None]:
    """The memory connector is known to the configuration (its entry point, or registered here)."""
    added = "memory" not in registry.plugins()
    if added:
        registry.register(PLUGIN)
    yield
    if added:
        registry.unregister(PLUGIN.type)
    forget_systems()


@dataclass
class Harness:
    """An ERP and a shop in memory, and the configuration that connects them."""

    erp: MemorySystem
    shop: MemorySystem
    state_url: str

    def settings(self, flows: str) -> Settings:
        """A configuration with `erp` and `shop` as memory connections and `flows` (a YAML list)."""
        return parse_settings(
            f"""
state:
  url: {self.state_url}
retry:
  base: 0.01
  max: 0.02
connections:
  erp:
    type: memory
    system: {self.erp.name}
  shop:
    type: memory
    system: {self.shop.name}
flows:
{flows}
"""
        )

    @asynccontextmanager
    async def engine(self, flows: str) -> AsyncIterator[Engine]:
        """An engine for `flows` on the SQLite state database, closed afterwards."""
        settings = self.settings(flows)
        store = await StateStore.connect(settings.state.url, migrate=False)  # a migrated copy
        engine = Engine(settings, store, worker="test-worker")
        try:
            yield engine
        finally:
            await engine.pool.close()
            await store.close()


@pytest.fixture(scope="session")
def migrated_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state database migrated once per session; each test works on a copy."""
    path = tmp_path_factory.mktemp("state") / "template.db"

    async def migrate() -> None:
        await StateStore.migrate(f"sqlite:///{path}")

    anyio.run(migrate)
    return path


@pytest.fixture
def harness(tmp_path: Path, migrated_state: Path) -> Harness:
    """Fresh memory systems for this test and a state database file in its directory."""
    run = uuid.uuid4().hex[:8]
    shutil.copyfile(migrated_state, tmp_path / "state.db")
    return Harness(system(f"erp-{run}"), system(f"shop-{run}"), f"sqlite:///{tmp_path / 'state.db'}")
