"""The declarative connector's tests on minishop: the shop and the connector of minishop.yaml.

A test module with a `shop` or `connector` fixture of its own (another shop, another description)
uses its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.plugin import PLUGIN
from tests.connectors.rest.test_contract import API_KEY, description
from tests.example_shop.server import MiniShop

AUTH = {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"}


@pytest.fixture
def shop() -> Iterator[MiniShop]:
    """A minishop with its API key, paging by three."""
    with MiniShop(api_key=API_KEY, per_page=3).serve() as running:
        yield running


@pytest.fixture
async def connector(shop: MiniShop) -> AsyncIterator[DeclarativeConnector]:
    """The connector of minishop.yaml."""
    connector = PLUGIN.build("minishop", description(shop, AUTH))
    assert isinstance(connector, DeclarativeConnector)
    yield connector
    await connector.close()
