"""The ASGI app of `emporion run` / `emporion serve` (webhook ingress, health) and the uvicorn runner."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import anyio
import uvicorn
from anyio.abc import TaskStatus
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Scope

from emporion import __version__
from emporion.alerts import AlertSink
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.config import ServerSettings, Settings
from emporion.engine.connections import ConnectorPool
from emporion.engine.singletons import Singletons
from emporion.engine.worker import worker_id
from emporion.logs import get_logger
from emporion.server.ingress import MAX_BODY_BYTES, receive_webhook, wrong_method
from emporion.server.limits import Authenticate, BodyRule, RequestLimits, bounded_protocol
from emporion.server.registration import CatchUp, keep_registered
from emporion.server.replay import ReplayGuard
from emporion.server.secrets import WebhookSecrets
from emporion.server.signatures import SignatureWatch
from emporion.state import StateStore

log = get_logger("emporion.server")
LOGIN_BODY_BYTES = 16 * 1024  # the login form: a user name, a password and the page to go on to
CONSOLE_BODY_BYTES = 64 * 1024  # the console's JSON bodies and dashboard actions
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - names of a bind to every address, compared only


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok", "version": __version__})


def create_app(
    settings: Settings,
    store: StateStore,
    secrets: WebhookSecrets | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    pool: ConnectorPool | None = None,
) -> Starlette:
    """The Starlette app: `POST /webhooks/{connection}` into the inbox, `GET /healthz`, then the console.

    The console (`/api/v1`, `/login`, `/logout`, `/metrics`) is mounted after the webhook and health
    routes, which stay outside its access control. Deliveries are checked by the connectors of `pool`;
    without one the app builds its own (connectors are built on first use) and closes it when served
    to the end by `serve_app`.
    """
    secrets = secrets or WebhookSecrets(settings)
    console: Any = None
    on_stop: list[Callable[[], None]] = []  # told when the server stops (e.g. to end event streams)
    on_close: list[Callable[[], Awaitable[None]]] = []  # awaited once the server has stopped
    if pool is None:
        pool = ConnectorPool(settings)
        on_close.append(pool.close)
    routes: list[Any] = [
        Route("/webhooks/{connection}", receive_webhook, methods=["POST"]),
        Route("/webhooks/{connection}", wrong_method, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if settings.server.console.enabled:
        from emporion.ops.api import create_console
        from emporion.ops.auth import session_key

        key = session_key(settings, secrets.directory)
        console = create_console(settings, store, pool, key)
        routes.append(Mount("", app=console))
        on_stop.append(console.state.console.close)
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings.server), www_redirect=False),
        Middleware(
            RequestLimits,
            rules=body_rules(),
            body_timeout=settings.server.body_timeout,
            authenticate=console_authentication(console) if console is not None else None,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.on_stop = on_stop
    app.state.on_close = on_close
    app.state.pool = pool
    app.state.settings = settings
    app.state.store = store
    app.state.secrets = secrets
    app.state.max_body_bytes = max_body_bytes
    app.state.replays = ReplayGuard()
    app.state.signatures = SignatureWatch(alerts_from_settings(settings, store))
    return app


def body_rules() -> list[BodyRule]:
    """Each route's body limit: webhooks bound their own; the console authenticates before reading."""
    return [
        BodyRule("/webhooks/", None),  # the ingress refuses above `max_body_bytes`, in its own terms
        BodyRule("/login", LOGIN_BODY_BYTES),
        BodyRule("/", CONSOLE_BODY_BYTES, authenticate=True),
    ]


def console_authentication(console: Any) -> Authenticate:
    """The console's identity check on a request's headers, answered as the console answers it."""
    from emporion.ops.access import identify
    from emporion.ops.auth import AccessError

    answer_refusal = console.exception_handlers[AccessError]

    async def authenticate(scope: Scope) -> Response | None:
        request = Request({**scope, "app": console})  # no `receive`: the body cannot be read here
        try:
            await identify(request)
        except AccessError as error:
            return await answer_refusal(request, error)
        return None

    return authenticate


def _host_name(address: str) -> str:
    """An address as it appears in a Host header (IPv6 in brackets), lower case."""
    return f"[{address}]" if ":" in address else address.lower()


def allowed_hosts(server: ServerSettings) -> list[str]:
    """The Host header names answered: public_url's, `allowed_hosts`, the bound address or loopback's.

    Other names are refused (400), so that a page whose name was rebound to this server's address
    (DNS rebinding) cannot reach it from a browser.
    """
    hosts = list(server.allowed_hosts)
    public = urlsplit(server.public_url or "").hostname
    if public:
        hosts.append(_host_name(public))
    if server.host in ANY_ADDRESS or server.host == "localhost" or _is_loopback(server.host):
        hosts.extend(LOOPBACK_HOSTS)
    else:
        hosts.append(_host_name(server.host))
    return hosts


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (0 = a free port).

    Made with IPPROTO_TCP named, because asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    sockets that say so: without it every keep-alive answer waits ~40 ms for a delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


GRACEFUL_SECONDS = 3  # how long a stopping server lets running requests finish


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
    server_settings = _server_settings(app)
    config = uvicorn.Config(
        app,
        http=bounded_protocol(server_settings.header_timeout),
        limit_concurrency=server_settings.max_connections,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        # open event streams (the dashboard's /events page) never end by themselves: cut them at shutdown
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
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
            for hook in getattr(getattr(app, "state", None), "on_stop", ()):
                hook()
            server.should_exit = True
    finally:
        sock.close()
        with anyio.CancelScope(shield=True):  # the app's own connectors are closed even when cancelled
            for close in getattr(getattr(app, "state", None), "on_close", ()):
                await close()


def _server_settings(app: ASGIApp) -> ServerSettings:
    """The server settings of an app made by `create_app`; the defaults for any other app."""
    settings = getattr(getattr(app, "state", None), "settings", None)
    return settings.server if isinstance(settings, Settings) else ServerSettings()


async def run_server(
    settings: Settings,
    store: StateStore,
    pool: ConnectorPool,
    stop: anyio.Event,
    secrets: WebhookSecrets | None = None,
    *,
    alerts: AlertSink | None = None,
    catch_up: CatchUp | None = None,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """The HTTP server of a configuration, plus webhook upkeep when `server.public_url` is set.

    `alerts` defaults to the configured channels; `catch_up` (the engine's) polls a shop whose
    webhooks were broken; without it the workers' regular polls catch up.
    """
    secrets = secrets or WebhookSecrets(settings)
    app = create_app(settings, store, secrets, pool=pool)
    async with anyio.create_task_group() as group:
        port = await group.start(serve_app, app, settings.server.host, settings.server.port, stop)
        if settings.server.public_url:  # one process of the fleet registers (a lease, see singletons.py)
            if alerts is None:
                from emporion.alerts.dispatcher import alerts_from_settings

                alerts = alerts_from_settings(settings, store)
            installation = await store.installation_id()
            register = partial(
                keep_registered, settings, pool, secrets, installation, stop, alerts=alerts, catch_up=catch_up
            )
            group.start_soon(_singletons(settings, store).run, "webhooks", register, stop)
        task_status.started(port)


def _singletons(settings: Settings, store: StateStore) -> Singletons:
    """The lease runner of this process, named like its engine's worker."""
    return Singletons(store, worker_id(), settings.state.lease_seconds)
