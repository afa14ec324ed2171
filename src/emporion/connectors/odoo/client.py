"""The Odoo client: one request path (`call`) over JSON-RPC (17, 18) or JSON-2 (19), chosen by version.

`connect()` asks the server its version (JSON-RPC `common.version`, else `GET /web/version` on 19),
picks the version profile (`profiles.py`) and the API (`api: auto`: JSON-2 from 19 on), and logs in:
JSON-RPC `common.authenticate` with the API key as the password, JSON-2 a bearer key (the user id
from `res.users.context_get`). Safe reads are retried on transient failures; a write whose outcome is
unknown is never retried here (the caller looks it up). JSON-RPC re-authenticates once when Odoo
refuses the key mid-session (a restarted server, a rotated key), then gives up with AuthError.

Values: numbers with a fraction arrive as `Decimal`; datetimes are Odoo's UTC text
"YYYY-MM-DD HH:MM:SS" (`odoo_datetime` / `odoo_text` convert); many2one fields read as `[id, name]`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from emporion.connectors.base import AuthError, Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.http import observe_httpx
from emporion.connectors.odoo.errors import Call, OdooAccessDenied
from emporion.connectors.odoo.orm import Domain, OrmCalls
from emporion.connectors.odoo.profiles import Profile, profile_for, supported
from emporion.connectors.odoo.settings import OdooConnection
from emporion.connectors.odoo.transport import Json2, JsonRpc, Wire
from emporion.connectors.odoo.values import ServerVersion, odoo_datetime, odoo_text, parse_version
from emporion.connectors.roles import RequestObserver

__all__ = ["Domain", "OdooClient", "ServerVersion", "odoo_datetime", "odoo_text", "parse_version"]
SAFE_METHODS = frozenset(
    {
        "search_read",
        "search",
        "search_count",
        "read",
        "read_group",
        "fields_get",
        "name_search",
        "has_access",
        "check_access_rights",
        "context_get",
        "default_get",
    }
)
READ_ATTEMPTS = 3


class OdooClient(OrmCalls):
    """One Odoo connection: version, API, login and the one request path every model call takes."""

    profile: Profile
    version: ServerVersion
    uid: int

    def __init__(self, settings: OdooConnection, circuit: CircuitBreaker) -> None:
        self.settings = settings
        self.login = settings.username
        self._key = settings.api_key.get_secret_value()
        self.database = settings.database
        self.wire = Wire(
            settings.url,
            timeout=settings.timeout,
            verify=settings.tls.httpx_verify(),
            circuit=circuit,
            max_concurrency=settings.max_concurrency,
        )
        self.url = self.wire.url
        self.jsonrpc = JsonRpc(self.wire)
        self.json2 = Json2(self.wire, self._key, settings.database)
        self.api = ""  # "jsonrpc" or "json2", set by connect()
        self._connect_lock = asyncio.Lock()
        self._connected = False
        self._login_generation = 0

    def _call(self, model: str, method: str) -> Call:
        return Call(model, method, self.login, self.url)

    # -- connecting -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Learn the version, choose profile and API, and log in; does nothing once connected."""
        if self._connected:
            return
        async with self._connect_lock:
            if self._connected:
                return
            self.version = await self.server_version()
            if not supported(self.version.major):
                raise Permanent(
                    f"Odoo {self.version.serie} at {self.url} is older than 17, which is not supported"
                )
            chosen = self.settings.version
            self.profile = profile_for(self.version.major if chosen == "auto" else int(chosen))
            # `api: auto` follows the server (a pinned profile changes field names, not the protocol)
            native = profile_for(self.version.major).api
            self.api = native if self.settings.api == "auto" else self.settings.api
            if self.api == "json2" and self.version.major < 19:
                raise Permanent(
                    f"Odoo {self.version.serie} at {self.url} has no JSON-2 API (from 19 on):"
                    " set api: jsonrpc"
                )
            await self._login()
            self._connected = True

    async def server_version(self) -> ServerVersion:
        """The server's version: JSON-RPC `common.version`, else `GET /web/version` (Odoo 19)."""
        try:
            info = await self.jsonrpc.rpc(self._call("", "common.version"), "common", "version", [])
        except Permanent as rpc_error:
            answer = await self.wire.send(self._call("", "web/version"), "GET", "/web/version")
            if answer.status != 200 or not isinstance(answer.body, dict):
                raise rpc_error from None
            info = answer.body
        if not isinstance(info, dict):
            raise Permanent(f"{self.url} did not answer common.version like an Odoo server")
        return parse_version(info)

    async def _database(self) -> str:
        """The database JSON-RPC logs into: the configured one, else the server's only database."""
        if self.database:
            return self.database
        try:
            names = await self.jsonrpc.rpc(self._call("", "db.list"), "db", "list", [])
        except Permanent:
            names = None
        if isinstance(names, list) and len(names) == 1:
            self.database = str(names[0])
            return self.database
        raise Permanent(f"Odoo at {self.url} does not name its only database: set `database`")

    async def _login(self) -> None:
        """Authenticate (JSON-RPC) or find the key's user (JSON-2) and remember the user id."""
        if self.api == "jsonrpc":
            database = await self._database()
            call = self._call("", "common.authenticate")
            uid = await self.jsonrpc.rpc(
                call, "common", "authenticate", [database, self.login, self._key, {}]
            )
            if not uid or not isinstance(uid, int):
                raise OdooAccessDenied(
                    f"Odoo at {self.url} refused the login {self.login!r} on database {database!r}"
                    " (wrong, revoked or expired API key, or no such user)"
                )
            self.uid = uid
        else:
            self.uid = await self._key_user()
        self._login_generation += 1

    async def _key_user(self) -> int:
        """JSON-2: the id of the user the API key belongs to (context_get's uid, else found by login)."""
        try:
            context = await self.json2.call(self._call("res.users", "context_get"), {})
        except AuthError:
            raise
        except Permanent:
            context = None
        if isinstance(context, dict) and isinstance(context.get("uid"), int):
            return int(context["uid"])
        call = self._call("res.users", "search")
        found = await self.json2.call(call, {"domain": [["login", "=", self.login]], "limit": 1})
        if not found:
            raise Permanent(f"Odoo at {self.url} has no user with the login {self.login!r}")
        return int(found[0])

    async def _relogin(self, generation: int) -> None:
        """Log in again, once for all calls that failed on the same login."""
        async with self._connect_lock:
            if self._login_generation == generation:
                await self._login()

    # -- the one request path ---------------------------------------------------------------------

    async def call(self, model: str, method: str, ids: list[int] | None = None, /, **params: Any) -> Any:
        """`model.method` on records `ids` (None: a model method) with named `params` (context inside).

        JSON-RPC: `execute_kw(db, uid, key, model, method, [ids] or [], params)`, except `create`'s
        `vals_list` and `write`'s `vals`, which go positionally (Odoo's call_kw reads `create`'s from
        args, and on 18 overrides of `write` name the argument `values`); JSON-2:
        `POST /json/2/<model>/<method>` with `{"ids": ids, **params}`. Safe reads are retried on
        transient failures; anything else is sent once.
        """
        await self.connect()
        attempts = READ_ATTEMPTS if method in SAFE_METHODS else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(model, method, ids, params)
            except Retryable as error:
                if attempt == attempts or type(error) is not Retryable:
                    raise
                await asyncio.sleep(min(error.after or 0.5, 1.0) * attempt)
        raise AssertionError("unreachable")

    async def _send(self, model: str, method: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
        """One attempt; JSON-RPC logs in again once when Odoo refuses the key."""
        call = self._call(model, method)
        if self.api == "json2":
            body = {"ids": ids, **params} if ids is not None else dict(params)
            return await self.json2.call(call, body)
        generation = self._login_generation
        try:
            return await self._execute_kw(call, ids, params)
        except OdooAccessDenied:
            await self._relogin(generation)
            return await self._execute_kw(call, ids, params)

    async def _execute_kw(self, call: Call, ids: list[int] | None, params: dict[str, Any]) -> Any:
        kwargs = dict(params)
        args: list[Any] = [ids] if ids is not None else []
        if call.method == "create" and "vals_list" in kwargs:
            args = [kwargs.pop("vals_list")]
        elif call.method == "write" and "vals" in kwargs:
            # by position: on 18 many `write` overrides (sale.order's among them) name it `values`
            args = [*args, kwargs.pop("vals")]
        database = self.database or ""
        return await self.jsonrpc.rpc(
            call,
            "object",
            "execute_kw",
            [database, self.uid, self._key, call.model, call.method, args, kwargs],
        )

    async def now(self) -> datetime:
        """The server's clock in UTC (from a fresh answer's Date header; this machine's when it has none)."""
        self.wire.last_date = None
        try:
            await self.server_version()
        except Retryable:
            raise
        except Permanent:
            pass
        return self.wire.last_date or datetime.now(UTC)

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request to Odoo and of every answer."""
        observe_httpx(self.wire.http, observer)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.wire.close()
