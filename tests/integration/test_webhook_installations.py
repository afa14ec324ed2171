"""Two installations pointed at the same shop: each recognises, keeps and repairs only its own webhooks.

A second installation (its own state database, so its own id) once took over the first one's
webhooks because every webhook named `emporion ...` looked like its own. Webhooks named before
installations had ids are adopted once by the installation they deliver to, never by another.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emporion.config import Settings, parse_settings
from emporion.connectors.woocommerce.webhooks import ORDER_TOPICS, secret_tag
from emporion.engine.connections import ConnectorPool
from emporion.server import WebhookSecrets
from emporion.server.registration import ensure_all, repair_all
from emporion.state import StateStore
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.engine_support import shop_api


@dataclass
class Installation:
    """One installation: its configuration, state database, connectors, secrets and id."""

    settings: Settings
    store: StateStore
    pool: ConnectorPool
    secrets: WebhookSecrets
    ident: str

    @property
    def url(self) -> str:
        """Where the shop delivers this installation's webhooks."""
        return f"{self.settings.server.public_url}/webhooks/shop"


@asynccontextmanager
async def installation(
    shop: SandboxShop, folder: Path, public_url: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Installation]:
    """An installation with an order flow from the sandbox shop, taking its webhooks at `public_url`."""
    monkeypatch.setenv("SHOP_KEY", shop.consumer_key)
    monkeypatch.setenv("SHOP_SECRET", shop.consumer_secret)
    os.makedirs(folder)
    settings = parse_settings(
        f"""
state: {{url: "sqlite:///{folder}/state.db"}}
server: {{public_url: "{public_url}"}}
connections:
  shop: {{type: woocommerce, url: "{shop.base_url}", consumer_key: env:SHOP_KEY,
         consumer_secret: env:SHOP_SECRET, webhooks: true, webhook_secret: "{secret}"}}
  erp: {{type: memory, system: "erp-{folder.name}"}}
flows:
  - {{name: orders, source: shop, target: erp, entities: [order], orders: {{reference_prefix: "WEB-"}}}}
"""
    )
    store = await StateStore.connect(settings.state.url)
    pool = ConnectorPool(settings)
    try:
        ident = await store.installation_id()
        yield Installation(settings, store, pool, WebhookSecrets(settings, folder / "secrets"), ident)
    finally:
        await pool.close()
        await store.close()


def hooks(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The shop's webhooks by id."""
    return {str(hook["id"]): hook for hook in api.get("/webhooks", params={"per_page": 100}).json()}


def towards(api: httpx.Client, url: str) -> dict[str, tuple[str, str]]:
    """Topic and status of each webhook delivering to `url`, by id."""
    return {i: (h["topic"], h["status"]) for i, h in hooks(api).items() if h["delivery_url"] == url}


async def test_two_installations_on_one_shop_keep_their_own_webhooks(
    sandbox_shop: SandboxShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    async with (
        installation(sandbox_shop, tmp_path / "a", "http://127.0.0.1:9", "secret-a", monkeypatch) as a,
        installation(sandbox_shop, tmp_path / "b", "http://127.0.0.1:10", "secret-b", monkeypatch) as b,
    ):
        assert a.ident != b.ident
        ids_a = (await ensure_all(a.settings, a.pool, a.secrets, a.ident))["shop"]
        ids_b = (await ensure_all(b.settings, b.pool, b.secrets, b.ident))["shop"]
        for _ in range(2):  # each keeper's regular check finds its own webhooks well
            assert await repair_all(a.settings, a.pool, a.secrets, a.ident) == {}
            assert await repair_all(b.settings, b.pool, b.secrets, b.ident) == {}
        ids_a_again = (await ensure_all(a.settings, a.pool, a.secrets, a.ident))["shop"]
        api.put(f"/webhooks/{ids_b[0]}", json={"status": "disabled"}).raise_for_status()
        repaired_a = await repair_all(a.settings, a.pool, a.secrets, a.ident)
        repaired_b = await repair_all(b.settings, b.pool, b.secrets, b.ident)
        found = hooks(api)

    assert not set(ids_a) & set(ids_b) and ids_a_again == ids_a
    assert towards(api, a.url) == {i: (t, "active") for i, t in zip(ids_a, ORDER_TOPICS, strict=True)}
    assert towards(api, b.url) == {i: (t, "active") for i, t in zip(ids_b, ORDER_TOPICS, strict=True)}
    assert repaired_a == {} and repaired_b == {"shop": {ORDER_TOPICS[0]: "disabled"}}
    assert all(f"@{a.ident} #{secret_tag('secret-a')}" in found[i]["name"] for i in ids_a)
    assert all(f"@{b.ident} #{secret_tag('secret-b')}" in found[i]["name"] for i in ids_b)
    assert len(found) == 2 * len(ORDER_TOPICS)


async def test_webhooks_named_before_installation_ids_are_adopted_once_by_their_own_installation(
    sandbox_shop: SandboxShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop_api(sandbox_shop)
    async with (
        installation(sandbox_shop, tmp_path / "a", "http://127.0.0.1:9", "secret-a", monkeypatch) as a,
        installation(sandbox_shop, tmp_path / "b", "http://127.0.0.1:10", "secret-b", monkeypatch) as b,
    ):
        old = {  # as an earlier release named them: no installation id
            topic: api.post(
                "/webhooks",
                json={
                    "name": f"emporion {topic} #{secret_tag('secret-a')}",
                    "topic": topic,
                    "delivery_url": a.url,
                    "secret": "secret-a",
                },
            ).json()["id"]
            for topic in ORDER_TOPICS
        }
        ids_b = (await ensure_all(b.settings, b.pool, b.secrets, b.ident))["shop"]  # not b's to take
        states_a = await repair_all(a.settings, a.pool, a.secrets, a.ident, first=True)
        ids_a = (await ensure_all(a.settings, a.pool, a.secrets, a.ident))["shop"]
        found = hooks(api)

    assert states_a == {}  # the old ones were adopted (renamed), not taken for missing
    assert ids_a == [str(old[topic]) for topic in ORDER_TOPICS]  # adopted, none duplicated
    assert not set(ids_a) & set(ids_b)
    assert all(found[i]["name"].endswith(f"@{a.ident} #{secret_tag('secret-a')}") for i in ids_a)
    assert all(found[i]["delivery_url"] == a.url for i in ids_a)
    assert all(found[i]["delivery_url"] == b.url for i in ids_b)
    assert len(found) == 2 * len(ORDER_TOPICS)
