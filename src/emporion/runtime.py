"""The process: the engine's loops and, when asked, the HTTP server (webhooks, console) beside them.

The engine knows nothing of HTTP: this module wires the two together for `emporion run`, `emporion
worker`, `emporion serve` and the demo, so that importing the engine never imports the server.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from functools import partial

import anyio

from emporion.config import Settings
from emporion.engine.connections import ConnectorPool
from emporion.engine.worker import Engine
from emporion.server.app import run_server
from emporion.server.secrets import WebhookSecrets
from emporion.state import StateStore


async def run(
    engine: Engine,
    *,
    stop: anyio.Event | None = None,
    serve: bool = False,
    secrets: WebhookSecrets | None = None,
) -> None:
    """Run the engine until `stop` is set; with `serve`, its HTTP server too (webhooks, console).

    The server is up before the engine starts its flows, so that no delivery during an initial sync is
    refused; it polls a shop through the engine when that shop's webhooks were broken.
    """
    stop = stop or anyio.Event()
    async with anyio.create_task_group() as group:
        if serve:
            server = partial(run_server, alerts=engine.alerts, catch_up=engine.catch_up)
            await group.start(server, engine.settings, engine.store, engine.pool, stop, secrets)
        await engine.run(stop=stop)
        group.cancel_scope.cancel()


async def serve_only(
    settings: Settings,
    store: StateStore,
    pool: ConnectorPool,
    stop: anyio.Event,
    *,
    secrets: WebhookSecrets | None = None,
    started: Callable[[int], None] | None = None,
) -> None:
    """Only the HTTP server (webhooks into the inbox) until `stop`; workers elsewhere process the inbox.

    `started` is told the port once the server listens.
    """
    async with anyio.create_task_group() as group:
        port = await group.start(run_server, settings, store, pool, stop, secrets)
        if started is not None:
            started(port)


async def stop_on_signal(stop: anyio.Event) -> None:
    """Set `stop` on SIGTERM or SIGINT, so that leases are given back before the process ends."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            stop.set()
            return
