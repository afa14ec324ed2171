"""Helpers for alert tests: an `alerts:` configuration block pointing at the local receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import pytest

from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import Settings
from emporion.engine.worker import Engine
from emporion.state import StateStore
from tests.fixtures.alerts import ChatReceiver, Mailbox

TOKEN = "T0KEN-in-the-url"  # the secret part of a chat webhook URL: must never appear in logs


def alerts_block(
    mailbox: Mailbox | None,
    receiver: ChatReceiver | None,
    monkeypatch: pytest.MonkeyPatch,
    *,
    quiet_period: float = 3600,
    extra: str = "",
    broken: bool = False,
) -> str:
    """YAML for `alerts:` with e-mail to `mailbox` and Slack, Teams and generic webhooks to `receiver`.

    `broken` adds a fourth webhook whose receiver answers every POST with HTTP 500.
    """
    text = f"alerts:\n  quiet_period: {quiet_period}\n{extra}"
    if mailbox is not None:
        text += f"""  email:
    host: 127.0.0.1
    port: {mailbox.port}
    security: none
    from: emporion@shop.example
    to: [ops@shop.example, oncall@shop.example]
"""
    if receiver is not None:
        for fmt in ("slack", "teams", "generic"):
            monkeypatch.setenv(f"TEST_HOOK_{fmt.upper()}", f"{receiver.url}/{fmt}/{TOKEN}")
        text += """  webhooks:
    - {url: env:TEST_HOOK_SLACK, format: slack}
    - {url: env:TEST_HOOK_TEAMS, format: teams}
    - {url: env:TEST_HOOK_GENERIC, format: generic}
"""
        if broken:
            monkeypatch.setenv("TEST_HOOK_BROKEN", f"{receiver.url}/broken/{TOKEN}")
            text += "    - {url: env:TEST_HOOK_BROKEN, format: slack}\n"
    return text


def hook_path(fmt: str) -> str:
    """The receiver path a webhook format POSTs to."""
    return f"/{fmt}/{TOKEN}"


@asynccontextmanager
async def alerting_engine(settings: Settings) -> AsyncIterator[Engine]:
    """An engine whose alerts go through the configured channels, running until the block ends."""
    store = await StateStore.connect(settings.state.url, migrate=True)
    engine = Engine(settings, store, alerts=alerts_from_settings(settings, store))
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(partial(engine.run, stop=stop))
            try:
                yield engine
            finally:
                stop.set()
    finally:
        await engine.pool.close()
        await store.close()


async def eventually(probe: Callable[[], Awaitable[Any]], what: str, within: float = 90.0) -> Any:
    """Wait until `probe()` gives something truthy and return it; fail naming `what` after `within` s."""
    deadline = anyio.current_time() + within
    while anyio.current_time() < deadline:
        found = await probe()
        if found:
            return found
        await anyio.sleep(0.2)
    raise AssertionError(f"not reached within {within} s: {what}")
