"""The webhook server knows no system: a connector that lives only in this test takes deliveries through it.

The beacon system signs a delivery with the hex HMAC-SHA256 of its body in `X-Beacon-Signature`, names
the event in `X-Beacon-Event`, carries the delivery id in the body and pings with a JSON body. Its
connector is registered in the connector registry as a third-party package would be, and the server,
the inbox and the registration reach it only through the `WebhookSource` role.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
import httpx
import pytest

from emporion.config import Settings, parse_settings
from emporion.connectors import registry
from emporion.connectors.base import Capabilities, ChangeBatch, CheckResult
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import Connection, Delivery, Role, WebhookHint
from emporion.connectors.settings import ConnectionSettings, Secret
from emporion.engine.connections import ConnectorPool
from emporion.engine.inbox import InboxProcessor
from emporion.logs import CORRELATION_HEADER
from emporion.model import Record
from emporion.server import WebhookSecrets, create_app, ensure_all, serve_app
from emporion.server.registration import repair_all
from emporion.state import StateStore
from tests.fixtures.offline import offline_shop

SECRET = "beacon-s3cret"
SIGNATURE = "X-Beacon-Signature"
EVENT = "X-Beacon-Event"
PING = b'{"ping": true}'


@dataclass
class Hook:
    """One webhook registered in the beacon system."""

    id: str
    url: str
    secret: str
    state: str = "active"


HOOKS: dict[str, Hook] = {}  # the beacon system's webhooks by topic


class BeaconConnection(ConnectionSettings):
    """Settings of the beacon system: it only sends webhooks."""

    type: Literal["beacon"]
    webhooks: bool = False
    webhook_secret: Secret | None = None

    def takes_webhooks(self) -> bool:
        return self.webhooks

    def configured_webhook_secret(self) -> str | None:
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None


def header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class BeaconConnector:
    """A catalogue source with nothing to read that tells of changes by webhook."""

    def __init__(self, name: str) -> None:
        self.name = name

    def capabilities(self) -> Capabilities:
        return Capabilities(reads=frozenset({"product"}), writes=frozenset())

    async def check(self) -> list[CheckResult]:
        return [CheckResult("reachable", True)]

    async def close(self) -> None:
        return None

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        return []

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        yield []

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        return ChangeBatch([], cursor)

    def webhook_topics(self, entities: Sequence[str]) -> list[str]:
        return [f"{entity}.changed" for entity in entities]

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        return header(headers, EVENT) or ""

    def is_ping(self, headers: Mapping[str, str], body: bytes) -> bool:
        return not self.webhook_topic(headers) and body == PING

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        return hmac.compare_digest(sign(body, secret), header(headers, SIGNATURE) or "")

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        topic = self.webhook_topic(headers)
        return Delivery(str(json.loads(body)["event"]), topic, {EVENT.lower(): topic})

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
        data = json.loads(body)
        entity = self.webhook_topic(headers).removesuffix(".changed")
        return WebhookHint(entity, [str(data["record"])], self.webhook_topic(headers), str(data["event"]))

    async def ensure_webhooks(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> list[str]:
        for topic in topics:
            hook = HOOKS.get(topic) or Hook(str(len(HOOKS) + 1), delivery_url, secret)
            HOOKS[topic] = Hook(hook.id, delivery_url, secret)
        return [HOOKS[topic].id for topic in topics]

    async def webhook_states(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> dict[str, str]:
        states = {}
        for topic in topics:
            hook = HOOKS.get(topic)
            if hook is None or hook.state != "active":
                states[topic] = hook.state if hook else "missing"
            else:
                states[topic] = "active" if (hook.url, hook.secret) == (delivery_url, secret) else "outdated"
        return states


def build(name: str, settings: ConnectionSettings) -> Connection:
    return BeaconConnector(name)


BEACON = ConnectorPlugin(
    type="beacon",
    title="Beacon",
    settings=BeaconConnection,
    factory=build,
    roles=frozenset({Role.CATALOGUE_SOURCE, Role.WEBHOOK_SOURCE}),
)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """The beacon (taking webhooks) feeding an offline shop's products, from a configuration file."""
    registry.register(BEACON)
    config = {
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        "server": {"public_url": "https://emporion.example"},
        "connections": {
            "beacon": {"type": "beacon", "webhooks": True, "webhook_secret": SECRET},
            "shop": offline_shop(),
        },
        "flows": [{"name": "beacon-products", "source": "beacon", "target": "shop", "entities": ["product"]}],
    }
    try:
        yield parse_settings(json.dumps(config))
    finally:
        registry.unregister("beacon")
        HOOKS.clear()


def sent(record: int, event: str, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """A beacon delivery saying product `record` changed."""
    body = json.dumps({"event": event, "record": record}).encode()
    headers = {"Content-Type": "application/json", EVENT: "product.changed", SIGNATURE: sign(body, secret)}
    return body, headers


async def test_the_server_takes_a_registered_connectors_deliveries_into_the_flows_work(
    settings: Settings, store: StateStore, tmp_path: Path
) -> None:
    app = create_app(settings, store, WebhookSecrets(settings, tmp_path / "secrets"))  # builds its own pool
    body, headers = sent(42, "evt-1")
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        port = await group.start(serve_app, app, "127.0.0.1", 0, stop)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def post(content: bytes, headers: dict[str, str]) -> tuple[int, str]:
                response = await client.post("/webhooks/beacon", content=content, headers=headers)
                return response.status_code, response.json()["status"]

            ping = await post(PING, {"Content-Type": "application/json"})
            stored = await post(body, headers)
            again = await post(body, headers)
            forged = await post(*sent(43, "evt-2", "guess"))
            woo_signed = await post(body, {**headers, SIGNATURE: "", "X-WC-Webhook-Signature": sign(body)})
            form = await post(b"webhook_id=3", {"Content-Type": "application/x-www-form-urlencoded"})
        stop.set()
    assert (ping, stored, again) == ((200, "ping"), (200, "stored"), (200, "duplicate"))
    assert (forged, woo_signed) == ((401, "bad signature"), (401, "bad signature"))
    assert form == (415, "unsupported content type")  # a form that is not the connector's ping

    [kept] = await store.inbox_claim(worker="look", limit=10, lease_seconds=0.01)
    assert (kept.source, kept.delivery_id, kept.topic) == ("beacon", "evt-1", "product.changed")
    assert kept.body == body
    assert set(kept.headers) == {"x-beacon-event", CORRELATION_HEADER}  # the connector chose what to keep
    await anyio.sleep(0.05)  # the look's lease runs out

    pool = ConnectorPool(settings)
    try:
        assert await InboxProcessor(settings, store, pool, worker="inbox-test").process_once() == 1
    finally:
        await pool.close()
    [item] = await store.claim("beacon-products", "product", worker="w", limit=10)
    assert (item.key, item.reason) == ("42", "webhook")


async def test_registration_asks_the_connector_for_its_topics_and_repairs_them(
    settings: Settings, tmp_path: Path
) -> None:
    secrets = WebhookSecrets(settings, tmp_path / "secrets")
    pool = ConnectorPool(settings)
    try:
        assert await ensure_all(settings, pool, secrets, "i1") == {"beacon": ["1"]}
        [(topic, hook)] = HOOKS.items()
        assert (topic, hook.url, hook.secret) == (
            "product.changed",
            "https://emporion.example/webhooks/beacon",
            SECRET,
        )
        assert await repair_all(settings, pool, secrets, "i1") == {}  # all active: nothing to do
        hook.state = "disabled"
        assert await repair_all(settings, pool, secrets, "i1") == {"beacon": {"product.changed": "disabled"}}
        assert HOOKS["product.changed"].state == "active"
    finally:
        await pool.close()
