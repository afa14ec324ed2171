"""Who is calling and what they may do: the console's shared state and the access dependencies."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Path, Query, Request

from emporion.config import Settings
from emporion.engine.connections import ConnectorPool
from emporion.state import StateStore

from .auth import CSRF_HEADER, SESSION_COOKIE, AccessError, Accounts, allows
from .limiter import ADDRESS_ATTEMPTS_FACTOR, LoginLimiter, TrustedProxies
from .models import USER_NAME_PATTERN, Identity, Scope
from .service import ConsoleService, Reconciles
from .sessions import Sessions

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**53  # ids beyond any database's range are refused as bad input, not passed on
Name = Annotated[str, Path(min_length=1, max_length=100, pattern=USER_NAME_PATTERN)]  # a user's name
Key = Annotated[str, Path(min_length=1, max_length=255)]
Ident = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
FlowQuery = Annotated[str | None, Query(max_length=100)]


class Console:
    """What the console's endpoints share: settings, store, service, accounts, sessions, limiter."""

    def __init__(self, settings: Settings, store: StateStore, pool: ConnectorPool, session_key: str) -> None:
        options = settings.server.console
        self.settings = settings
        self.store = store
        self.service = ConsoleService(settings, store, pool)
        self.reconciles = Reconciles(self.service)
        self.accounts = Accounts(store)
        self.sessions = Sessions(session_key, options.session_hours * 3600, store)
        address_attempts = options.login_address_attempts or ADDRESS_ATTEMPTS_FACTOR * options.login_attempts
        self.limiter = LoginLimiter(options.login_attempts, options.login_window, address_attempts)
        self.proxies = TrustedProxies(options.trusted_proxies)
        self.secure_cookies = options.secure_cookies
        self.closing = False

    def close(self) -> None:
        """The server stops: open event streams end (they would hold its shutdown up)."""
        self.closing = True


def console(request: Request) -> Console:
    """The console of the app serving this request."""
    return request.app.state.console


def client_address(request: Request) -> str:
    """The client's address: the direct peer, or the one a trusted proxy names in `X-Forwarded-For`."""
    peer = request.client.host if request.client else "unknown"
    return console(request).proxies.client(peer, request.headers.getlist("x-forwarded-for"))


def cross_site(request: Request) -> bool:
    """Whether a browser says this request comes from another site's page (a login CSRF, say).

    `Sec-Fetch-Site` answers where the browser sends it; otherwise `Origin` must name this host.
    Neither header (curl, scripts): not a browser's cross-site request.
    """
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    if fetch_site:
        return fetch_site not in {"same-origin", "none"}
    origin = request.headers.get("origin")
    if not origin:
        return False
    host = request.headers.get("host", "")
    return origin == "null" or urlsplit(origin).netloc.lower() != host.lower()


async def identify(request: Request) -> Identity:
    """Who calls: a bearer token, or a session cookie (with its CSRF token on unsafe methods)."""
    state = console(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessError(401, "use Authorization: Bearer <token>")
        return await state.accounts.identify_token(token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    session = await state.sessions.read(cookie)
    if session is None:
        why = "the session has ended: log in again" if cookie else "log in or send an API token"
        raise AccessError(401, why)
    if request.method not in SAFE_METHODS and not state.sessions.csrf_ok(
        session, request.headers.get(CSRF_HEADER)
    ):
        await state.store.audit(
            f"user:{session.user}",
            "csrf",
            target=request.url.path,
            outcome="denied",
            client=client_address(request),
        )
        raise AccessError(403, "missing or wrong X-CSRF-Token")
    return Identity(actor=f"user:{session.user}", kind="user", role=session.role)  # type: ignore[arg-type]


def need(scope: Scope) -> Any:
    """A dependency that lets through only identities allowed `scope` (and audits refused actions)."""

    async def check(request: Request) -> Identity:
        identity = await identify(request)
        if not allows(identity.role, scope):
            if request.method not in SAFE_METHODS:
                await console(request).store.audit(
                    identity.actor,
                    "denied",
                    target=f"{request.method} {request.url.path}",
                    outcome="denied",
                    client=client_address(request),
                )
            raise AccessError(403, f"needs the {scope} scope; {identity.actor} has the {identity.role} role")
        return identity

    return Depends(check)


Reader = Annotated[Identity, need("read")]
Operator = Annotated[Identity, need("operate")]
Admin = Annotated[Identity, need("admin")]


async def audited(
    request: Request, who: Identity, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Write the audit line of an action done."""
    await console(request).store.audit(
        who.actor, action, target=target, client=client_address(request), detail=detail
    )
