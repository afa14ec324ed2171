"""What every part of the contract shares: the `connector` fixture, the plugin, and small helpers."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import anyio
import pytest

from emporion.connectors.base import ChangeBatch, CheckResult, Outcome
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import ChangeFeed, Connection, RecordReader, missing_roles
from emporion.model import Record


class ContractPart:
    """Base of each role's part. A subclass provides the `connector` fixture (and `plugin`).

    ```python
    class TestMyShopAsTarget(CatalogueTargetContract):
        plugin = PLUGIN

        @pytest.fixture
        async def connector(self, my_shop):
            connector = MyShopConnector("shop", my_shop.url)
            yield connector
            await connector.close()
    ```
    """

    plugin: ClassVar[ConnectorPlugin]
    # seconds until a change is settled in the feed: a system stamping whole seconds may report a
    # change made in the second it polls once more (at-least-once), so the once-only checks wait this
    settle_seconds: ClassVar[float] = 0.0

    async def settle(self) -> None:
        """Wait until the changes made so far are settled in the system's feed."""
        if self.settle_seconds:
            await anyio.sleep(self.settle_seconds)

    @pytest.fixture
    def connector(self) -> Any:
        """The connector under test (override it in the subclass)."""
        raise NotImplementedError("a contract test class provides its own `connector` fixture")

    @pytest.fixture
    def tag(self) -> str:
        """A short unique word for this test, so natural keys never collide with earlier data."""
        return uuid.uuid4().hex[:8].upper()


class ConnectorContract(ContractPart):
    """What every connector owes whatever its roles: the roles its plugin declares, a check that reports."""

    def test_plays_every_role_its_plugin_declares(self, connector: Connection) -> None:
        """A plugin's roles are a promise: the connector satisfies each role's protocol."""
        assert missing_roles(connector, self.plugin.roles) == []

    async def test_check_reports_instead_of_raising(self, connector: Connection) -> None:
        """`check` answers with results (what was checked, whether it passed), never an exception."""
        results = await connector.check()
        assert results and all(isinstance(result, CheckResult) for result in results)
        assert all(result.ok for result in results), [r for r in results if not r.ok]


async def scan_keys(connector: RecordReader, entity: str) -> tuple[list[str], int]:
    """Every key a full scan yields (duplicates kept, to be caught) and how many pages it took."""
    keys: list[str] = []
    pages = 0
    async for page in connector.scan(entity):
        pages += 1
        keys += [record.key for record in page]
    return keys, pages


async def drain(connector: ChangeFeed, entity: str, cursor: str | None) -> ChangeBatch:
    """Every key the feed has right now (following `more`), with the cursor to ask with next."""
    keys: list[str] = []
    while True:
        batch = await connector.changes(entity, cursor)
        keys += batch.keys
        cursor = batch.cursor
        if not batch.more:
            return ChangeBatch(keys, cursor)


def by_key(outcomes: list[Outcome]) -> dict[str, Outcome]:
    """Outcomes by item key (a connector answers in any order), each item answered exactly once."""
    found = {outcome.key: outcome for outcome in outcomes}
    assert len(found) == len(outcomes), "one outcome per item"
    return found


def one(records: list[Record]) -> Record:
    """The single record of a read."""
    assert len(records) == 1, records
    return records[0]
