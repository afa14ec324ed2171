"""The ASGI app of `emporion run` / `emporion serve` (webhook ingress, health) and the uvicorn runner."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import uvicorn
from anyio.abc import TaskStatus
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emporion import __version__
from emporion.config import Settings
from emporion.engine.connections import ConnectorPool
from emporion.logs import get_logger
from emporion.server.ingress import MAX_BODY_BYTES, receive_webhook
from emporion.server.registration import keep_registered
from emporion.server.secrets import WebhookSecrets
from emporion.state import StateStore

log = get_logger("emporion.server")


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok", "version": __version__})


def create_app(
    settings: Settings,
    store: StateStore,
    secrets: WebhookSecrets | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The Starlette app: `POST /webhooks/{connection}` into the inbox and `GET /healthz`."""
    app = Starlette(
        routes=[
            Route("/webhooks/{connection}", receive_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    app.state.settings = settings
    app.state.store = store
    app.state.secrets = secrets or WebhookSecrets(settings)
    app.state.max_body_bytes = max_body_bytes
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (0 = a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


async def serve_app(
    app: Any,
    host: str,
    port: int,
    stop: anyio.Event,
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` with uvicorn until `stop` is set; reports the bound port once it accepts connections.

    If uvicorn ends by itself (Ctrl-C, SIGTERM), `stop` is set so the rest of the process ends too.
    """
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", proxy_headers=False, server_header=False
    )
    server = uvicorn.Server(config)

    async def run_uvicorn() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            stop.set()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run_uvicorn)
            while not server.started and not stop.is_set():  # noqa: ASYNC110 - uvicorn exposes a flag only
                await anyio.sleep(0.01)
            log.info("server listening", host=host, port=bound_port)
            task_status.started(bound_port)
            await stop.wait()
            server.should_exit = True
    finally:
        sock.close()


async def run_server(
    settings: Settings,
    store: StateStore,
    pool: ConnectorPool,
    stop: anyio.Event,
    secrets: WebhookSecrets | None = None,
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """The HTTP server of a configuration, plus webhook registration when `server.public_url` is set."""
    secrets = secrets or WebhookSecrets(settings)
    app = create_app(settings, store, secrets)
    async with anyio.create_task_group() as group:
        port = await group.start(serve_app, app, settings.server.host, settings.server.port, stop)
        if settings.server.public_url:
            group.start_soon(keep_registered, settings, pool, secrets, stop)
        task_status.started(port)
