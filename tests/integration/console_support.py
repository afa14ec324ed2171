"""Helpers for console tests: a configuration, a running server with its store, users and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from emporion.config import Settings
from emporion.ops.auth import Accounts
from emporion.server import WebhookSecrets, create_app, serve_app
from emporion.state import StateStore
from tests.fixtures.offline import CATALOGUE_FLOW, ORDER_FLOW, offline_erp, offline_shop

PASSWORD = "correct horse battery"


def console_settings(state_url: str, **console: Any) -> Settings:
    """A catalogue flow and an order flow between unreachable systems: the console reads state only."""
    return Settings.model_validate(
        {
            "state": {"url": state_url},
            "server": {"console": {"secure_cookies": False} | console},
            "connections": {
                "shop": offline_shop(webhooks=True, webhook_secret="whsec-console"),
                "erp": offline_erp(),
            },
            "flows": [CATALOGUE_FLOW, ORDER_FLOW],
        }
    )


@dataclass
class Running:
    """A console server, its store, and a client for it."""

    store: StateStore
    client: httpx.AsyncClient
    base_url: str


@asynccontextmanager
async def running_console(settings: Settings, secrets_dir: Path) -> AsyncIterator[Running]:
    """The server (webhooks, health, console) on a free port of 127.0.0.1 over real HTTP."""
    store = await StateStore.connect(settings.state.url, migrate=True)
    app = create_app(settings, store, WebhookSecrets(settings, secrets_dir))
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            port = await group.start(serve_app, app, "127.0.0.1", 0, stop)
            base_url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
                yield Running(store, client, base_url)
            stop.set()
    finally:
        await store.close()


async def add_user(store: StateStore, name: str, role: str) -> None:
    """A console user with the shared test password."""
    await Accounts(store).add_user(name, role, PASSWORD, actor="test")


async def token(store: StateStore, scope: str, name: str | None = None) -> dict[str, str]:
    """Headers carrying a new API token of `scope`."""
    created = await Accounts(store).create_token(name or f"{scope}-token", scope, actor="test")
    return {"Authorization": f"Bearer {created.token}"}


async def login(base_url: str, name: str) -> tuple[httpx.AsyncClient, str]:
    """A client logged in as `name` (its own cookie jar) and the session's CSRF token."""
    client = httpx.AsyncClient(base_url=base_url, timeout=20)
    response = await client.post("/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]
