"""Async JSON-RPC client for Tryton: session login, Tryton's typed values, paging and typed errors."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import httpx

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable
from emporion.connectors.circuit import CircuitBreaker, guarded
from emporion.connectors.http import observe_httpx
from emporion.connectors.roles import RequestObserver

MAX_PAGE = 1000
Domain = list[Any]


def encode(value: Any) -> Any:
    """Turn Python values into Tryton's JSON (`{"__class__": ...}` objects for Decimal, dates, bytes)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(item) for item in value]
    return value


def _decode_object(data: dict[str, Any]) -> Any:
    kind = data.get("__class__")
    if kind is None:
        return data
    if kind == "Decimal":
        return Decimal(data["decimal"])
    if kind == "datetime":
        return dt.datetime(
            data["year"],
            data["month"],
            data["day"],
            data["hour"],
            data["minute"],
            data["second"],
            data.get("microsecond", 0),
        )
    if kind == "date":
        return dt.date(data["year"], data["month"], data["day"])
    if kind == "time":
        return dt.time(data["hour"], data["minute"], data["second"], data.get("microsecond", 0))
    if kind == "timedelta":
        return dt.timedelta(seconds=data["seconds"])
    if kind == "bytes":
        return base64.b64decode(data["base64"])
    return data


def decode(text: str | bytes) -> Any:
    """Parse Tryton's JSON, turning its `__class__` objects back into Python values."""
    return json.loads(text, object_hook=_decode_object)


class TrytonWarning(Permanent):
    """A warning Tryton asks a person to confirm; `key` names it (a `res.user.warning` skips it once)."""

    def __init__(self, reason: str, key: str) -> None:
        super().__init__(reason)
        self.key = key


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return float(response.headers.get("Retry-After", default))
    except ValueError:
        return default


def error_from_rpc(method: str, error: Any) -> Exception:
    """Map a JSON-RPC `error` member to a typed connector error."""
    if isinstance(error, list | tuple) and error and isinstance(error[0], str):
        kind, args = error[0], error[1] if len(error) > 1 else None
        if kind == "UserError" and isinstance(args, list | tuple) and args:
            detail = f"{args[0]} {args[1]}".strip() if len(args) > 1 and args[1] else str(args[0])
            return Permanent(f"Tryton refused {method}: {detail}")
        if kind == "UserWarning" and isinstance(args, list | tuple) and len(args) > 1:
            return TrytonWarning(f"Tryton warns on {method}: {args[1]}", key=str(args[0]))
        if kind == "ConcurrencyException":
            return Retryable(f"Tryton reports a concurrent change on {method}: {args}", after=1.0)
        if kind == "LoginException":
            return AuthError(f"Tryton asks for more login data ({args})")
        if kind.startswith("Too many requests") or "RateLimit" in kind:
            return RateLimited(f"Tryton rate-limits {method}", after=60.0)
        # Any other server exception: the message first, the traceback second.
        first_line = kind.strip().splitlines()[0] if kind.strip() else "unknown error"
        if "database is locked" in kind or "could not serialize" in kind:
            return Retryable(f"Tryton database busy on {method}: {first_line}", after=1.0)
        return Permanent(f"Tryton failed on {method}: {first_line}")
    return Permanent(f"Tryton failed on {method}: {error!r}")


class TrytonClient:
    """One connection to one Tryton database over JSON-RPC, with its own session and HTTP client."""

    def __init__(
        self,
        url: str,
        database: str,
        username: str,
        password: str,
        *,
        timeout: float = 55.0,
        verify: bool | ssl.SSLContext = True,
        language: str = "en",
        circuit: CircuitBreaker | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.username = username
        self._password = password
        self.language = language
        self.circuit = circuit
        self._slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0),
            verify=verify,
            headers={"Accept-Encoding": "gzip", "Content-Type": "application/json"},
        )
        self._ids = itertools.count(1)
        self._session: str | None = None
        self._login_lock = asyncio.Lock()
        self.user_id: int | None = None
        self.context: dict[str, Any] = {}

    @property
    def endpoint(self) -> str:
        return f"{self.url}/{self.database}/rpc/"

    async def _post(self, method: str, params: Sequence[Any], session: str | None) -> httpx.Response:
        body = json.dumps({"id": next(self._ids), "method": method, "params": encode(list(params))})
        headers = {"Authorization": f"Session {session}"} if session else {}
        async with self._slots or contextlib.nullcontext(), guarded(self.circuit) as call:
            try:
                response = await self._http.post(self.endpoint, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                raise Retryable(
                    f"Tryton did not answer {method} in time ({type(exc).__name__})", after=5.0
                ) from exc
            except httpx.TransportError as exc:
                raise Retryable(
                    f"cannot reach Tryton at {self.url}: {type(exc).__name__}", after=5.0
                ) from exc
            if response.status_code >= 500 or response.status_code == 429:
                call.fail(f"Tryton answered HTTP {response.status_code} to {method}")
        return response

    async def login(self) -> None:
        """Open a session with the password and load the user's preferences as the base context."""
        params = [self.username, {"password": self._password}, self.language]
        response = await self._post("common.db.login", params, None)
        if response.status_code == 429:
            raise RateLimited(
                f"Tryton locked login {self.username!r} after failed attempts; try later",
                after=_retry_after(response, 300.0),
            )
        result = None if response.status_code in (401, 403) else self._result("common.db.login", response)
        if not result:
            raise AuthError(
                f"Tryton refused the login {self.username!r} on database {self.database!r}: bad credentials"
            )
        user_id, token = result[0], result[1]
        self.user_id = int(user_id)
        raw = f"{self.username}:{user_id}:{token}".encode()
        self._session = base64.b64encode(raw).decode()
        preferences = await self._call_with_session("model.res.user.get_preferences", [True, {}])
        self.context = {
            key: preferences[key]
            for key in ("company", "language", "locale", "company_work_time", "employee", "currency")
            if key in preferences and preferences[key] is not None
        }

    def _result(self, method: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 401:
            raise AuthError(f"Tryton session refused on {method}")
        if status == 403:
            raise AuthError(f"Tryton forbids {method} for user {self.username!r}")
        if status == 404:
            raise Permanent(f"Tryton has no database {self.database!r} at {self.url}")
        if status == 429:
            raise RateLimited(f"Tryton rate-limits {method}", after=_retry_after(response, 60.0))
        if status in (409, 423):
            raise Retryable(f"Tryton reports a lock conflict on {method}", after=1.0)
        if status >= 500:
            raise Retryable(f"Tryton answered {status} to {method}", after=_retry_after(response, 5.0))
        if status >= 400:
            raise Permanent(f"Tryton answered {status} to {method}: {response.text[:200]}")
        payload = decode(response.content)
        if payload.get("error") is not None:
            raise error_from_rpc(method, payload["error"])
        return payload.get("result")

    async def _call_with_session(self, method: str, params: Sequence[Any]) -> Any:
        response = await self._post(method, params, self._session)
        if response.status_code == 401:
            raise _SessionExpired
        return self._result(method, response)

    async def _ensure_session(self, stale: str | None = None) -> None:
        async with self._login_lock:
            if self._session is None or self._session == stale:
                await self.login()

    async def call(self, method: str, *params: Any) -> Any:
        """Call `method` with `params` as given (the caller supplies the context); re-login once on 401."""
        await self._ensure_session()
        session = self._session
        try:
            return await self._call_with_session(method, params)
        except _SessionExpired:
            await self._ensure_session(stale=session)
            try:
                return await self._call_with_session(method, params)
            except _SessionExpired:
                raise AuthError(f"Tryton refuses a fresh session for {self.username!r} on {method}") from None

    async def model(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """Call `model.<model>.<method>(*args, context)` with the user's context merged with `context`."""
        await self._ensure_session()
        return await self.call(f"model.{model}.{method}", *args, {**self.context, **(context or {})})

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """One search_read call."""
        return await self.model(
            model,
            "search_read",
            domain,
            offset,
            limit,
            [list(o) for o in order or []],
            list(fields),
            context=context,
        )

    async def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str],
        *,
        context: dict[str, Any] | None = None,
        page_size: int = 500,
    ) -> list[dict[str, Any]]:
        """Read `ids` in pages, so that each call stays well inside the server's request timeout."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), page_size):
            chunk = list(ids[start : start + page_size])
            rows.extend(await self.model(model, "read", chunk, list(fields), context=context))
        return rows

    async def pages(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        page_size: int = 500,
        context: dict[str, Any] | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every row matching `domain`, ordered by id, one page at a time (keyset paging on id)."""
        page_size = min(page_size, MAX_PAGE)
        last_id = 0
        while True:
            rows = await self.search_read(
                model,
                [("id", ">", last_id), domain],
                fields,
                limit=page_size,
                order=[("id", "ASC")],
                context=context,
            )
            if rows:
                yield rows
                last_id = rows[-1]["id"]
            if len(rows) < page_size:
                return

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request this client sends and of every answer."""
        observe_httpx(self._http, observer)

    async def close(self) -> None:
        """Close the HTTP client (the session simply expires on the server)."""
        await self._http.aclose()


class _SessionExpired(Exception):
    """Internal: the server answered 401 to a call made with a session."""
