"""The connector registry: entry-point plugins, roles kept, and configuration built from the registry."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import pytest
from typer.testing import CliRunner

from emporion.cli import app
from emporion.config import ConfigError, json_schema, parse_settings
from emporion.connectors import registry
from emporion.connectors.base import Capabilities, CheckResult
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Role, missing_roles
from emporion.connectors.settings import ConnectionSettings, Secret

BUILT_IN = {
    "memory": {},
    "tryton": {"url": "http://127.0.0.1:9", "database": "d", "username": "u", "password": "p"},
    "woocommerce": {"url": "http://127.0.0.1:9", "consumer_key": "ck", "consumer_secret": "cs"},
}


@pytest.mark.parametrize("kind", sorted(BUILT_IN))
async def test_each_shipped_connector_plays_the_roles_its_plugin_declares(kind: str) -> None:
    plugin = registry.plugins()[kind]
    settings = plugin.settings.model_validate({"type": kind, **BUILT_IN[kind]})
    connector = plugin.build("conn", settings)
    try:
        assert plugin.roles, f"{kind} declares no role"
        assert missing_roles(connector, plugin.roles) == []
    finally:
        await connector.close()


class LedgerConnection(ConnectionSettings):
    """Settings of a connector that exists only in this test."""

    type: Literal["ledger"]
    token: Secret
    webhooks: bool = False

    def takes_webhooks(self) -> bool:
        return self.webhooks


class LedgerConnector:
    """Plays no role but being a connection."""

    def __init__(self, name: str) -> None:
        self.name = name

    def capabilities(self) -> Capabilities:
        return Capabilities(reads=frozenset(), writes=frozenset())

    async def check(self) -> list[CheckResult]:
        return [CheckResult("reachable", True)]

    async def close(self) -> None:
        return None


def _build_ledger(name: str, settings: ConnectionSettings) -> Connection:
    return LedgerConnector(name)


LEDGER = ConnectorPlugin(
    type="ledger", title="Ledger", settings=LedgerConnection, factory=_build_ledger, roles=frozenset()
)


@pytest.fixture(autouse=True)
def _forget_the_ledger() -> Iterator[None]:
    yield
    registry.unregister("ledger")


def _config(flows: Sequence[str] = ()) -> str:
    return "\n".join(
        [
            "connections:",
            "  books: {type: ledger, token: env:LEDGER_TOKEN}",
            "  shop: {type: woocommerce, url: http://127.0.0.1:9, consumer_key: k, consumer_secret: s}",
            "flows:" if flows else "",
            *flows,
        ]
    )


def test_a_registered_connector_is_a_connection_type_with_secrets_marked_by_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry.register(LEDGER)
    monkeypatch.setenv("LEDGER_TOKEN", "t0ken")
    settings = parse_settings(_config())
    books = settings.connections["books"]
    assert isinstance(books, LedgerConnection)
    assert books.token.get_secret_value() == "t0ken"  # resolved, never the literal "env:LEDGER_TOKEN"
    assert "LedgerConnection" in json_schema()["$defs"]
    connector = registry.build("books", books)
    assert isinstance(connector, LedgerConnector)


def test_a_flow_needing_a_role_the_connection_does_not_play_names_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry.register(LEDGER)
    monkeypatch.setenv("LEDGER_TOKEN", "t0ken")
    with pytest.raises(ConfigError) as caught:
        parse_settings(_config(["  - {name: books-to-shop, source: books, target: shop}"]))
    assert caught.value.problems == [
        "flows[0].source: flow 'books-to-shop' needs a catalogue source but connection 'books' (Ledger)"
        " is not one (it plays: none) (line 5, column 35)"
    ]


def test_a_missing_secret_of_a_registered_connector_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.register(LEDGER)
    monkeypatch.delenv("LEDGER_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        parse_settings(_config())
    assert caught.value.problems == [
        "connections.books.token: environment variable LEDGER_TOKEN is not set (line 2, column 32)"
    ]


def test_webhooks_on_a_connection_that_cannot_take_them_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.register(LEDGER)
    monkeypatch.setenv("LEDGER_TOKEN", "t0ken")
    assert Role.WEBHOOK_SOURCE not in LEDGER.roles
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            _config().replace("token: env:LEDGER_TOKEN}", "token: env:LEDGER_TOKEN, webhooks: true}")
        )
    assert caught.value.problems == [
        "connections.books: connection 'books' cannot take webhooks (line 2, column 10)"
    ]


def test_the_cli_lists_installed_connection_types_with_their_roles_and_docs() -> None:
    registry.register(LEDGER)
    done = CliRunner().invoke(app, ["config", "connectors", "--json"])
    assert done.exit_code == 0, done.output
    listed = {row["type"]: row for row in json.loads(done.output)}
    assert {"tryton", "woocommerce", "memory", "ledger"} <= set(listed)
    assert listed["woocommerce"]["roles"] == sorted(registry.plugins()["woocommerce"].roles)
    assert listed["ledger"]["roles"] == []
    for kind in ("tryton", "woocommerce"):
        assert (Path(__file__).parents[2] / listed[kind]["docs"]).is_file()
