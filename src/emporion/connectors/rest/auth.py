"""Authentication of a declarative connection: one httpx.Auth per kind of the settings' `auth`.

Static credentials (API key, bearer token, HTTP Basic) are added to every request. Tokens (OAuth 2
client credentials, a login call) are fetched on first use, renewed `renew_before_seconds` before
they expire and once when the shop answers 401; one fetch at a time, however many requests wait.
The token request goes through the same httpx client (TLS, observers) as a step of httpx's auth
flow. A refusal by the token endpoint is an AuthError naming the connection; secrets never appear
in messages.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx

from emporion.connectors.base import AuthError, RateLimited, Retryable
from emporion.connectors.rest.settings import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    LoginAuth,
    OAuth2Auth,
)
from emporion.connectors.rest.settings.paths import HEADER, compiled
from emporion.connectors.rest.templates import render

Json = Any


def first(data: Json, path: str) -> Any:
    """The first value at JSON `path` in `data`, or None when nothing is there."""
    found = compiled(path).findall(data)
    return found[0] if found else None


def joined(base: str, path: str) -> str:
    """`path` if absolute, else appended to `base` as httpx's base_url does."""
    if path.startswith(("http://", "https://")):
        return path
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def basic_header(username: str, password: str) -> str:
    """The Authorization value of HTTP Basic (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class StaticAuth(httpx.Auth):
    """Adds fixed headers (and query parameters) to every request: API key, bearer, Basic."""

    def __init__(self, headers: dict[str, str], params: dict[str, str] | None = None) -> None:
        self._headers, self._params = headers, params or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(headers={sorted(self._headers)})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the credentials, send once."""
        request.headers.update(self._headers)
        if self._params:
            request.url = request.url.copy_merge_params(self._params)
        yield request


class TokenAuth(httpx.Auth):
    """A token fetched by a request of its own, kept until shortly before it expires or a 401."""

    def __init__(self, connection: str, base_url: str, renew_before: float) -> None:
        self.connection, self.base_url, self.renew_before = connection, base_url, renew_before
        self.fetches = 0  # tokens asked for (tests and metrics)
        self._token: str | None = None
        self._expires_at = float("inf")
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connection={self.connection!r})"

    def _fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._expires_at

    def forget(self) -> None:
        """Drop the token: the next request fetches a new one."""
        self._token = None

    def token_request(self) -> httpx.Request:
        """The request that fetches a token."""
        raise NotImplementedError

    def read_token(self, response: httpx.Response) -> tuple[str, float | None]:
        """The token and its lifetime in seconds (None: unknown) from the token request's answer."""
        raise NotImplementedError

    def apply(self, request: httpx.Request, token: str) -> None:
        """Put the token on a request."""
        request.headers["Authorization"] = f"Bearer {token}"

    def refused(self, response: httpx.Response, what: str) -> Exception:
        """The typed error for a token request that failed (never quoting what was sent)."""
        status = response.status_code
        if status == 429:
            return RateLimited(f"{self.connection}: {what} rate-limited (HTTP 429)")
        if status >= 500:
            return Retryable(f"{self.connection}: {what} failed (HTTP {status})")
        return AuthError(
            f"{self.connection}: {what} refused the credentials (HTTP {status}{reason(response)})"
        )

    def _store(self, response: httpx.Response) -> str:
        token, lifetime = self.read_token(response)
        self.fetches += 1
        self._token = token
        # renewed `renew_before` early, but never in the first half of its life (no fetch per request)
        early = min(self.renew_before, lifetime / 2) if lifetime else 0.0
        self._expires_at = time.monotonic() + lifetime - early if lifetime else float("inf")
        return token

    def _needs_token(self, refused: str | None) -> bool:
        """Whether to fetch a token: none is fresh, or (after a 401) the refused one is still held."""
        return self._token == refused if refused is not None else not self._fresh()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Fetch a token if none is fresh, send; on a 401 renew it once (unless another request did)."""
        refused: str | None = None
        for _ in range(2):  # sent once, and once more after a 401 with a renewed token
            if self._needs_token(refused):
                async with self._lock:
                    if self._needs_token(refused):
                        fetched = yield self.token_request()
                        await fetched.aread()
                        self._store(fetched)
            token = self._token
            assert token is not None
            self.apply(request, token)
            response = yield request
            if response.status_code != 401:
                return
            refused = token


def reason(response: httpx.Response) -> str:
    """The shop's short reason for a refusal (its `error`/`message` field), if it gives one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for name in ("error_description", "error", "message"):
            if isinstance(body.get(name), str):
                return f": {body[name][:200]}"
    return ""


class OAuth2ClientCredentials(TokenAuth):
    """OAuth 2 client credentials (RFC 6749 4.4): id and secret as Basic or in the form body."""

    def __init__(self, connection: str, base_url: str, settings: OAuth2Auth) -> None:
        super().__init__(connection, base_url, settings.renew_before_seconds)
        self.settings = settings

    def token_request(self) -> httpx.Request:
        """POST the token URL with grant_type=client_credentials."""
        settings, secret = self.settings, self.settings.client_secret.get_secret_value()
        form = {"grant_type": "client_credentials"}
        form |= {k: v for k, v in (("scope", settings.scope), ("audience", settings.audience)) if v}
        headers = {"Accept": "application/json"}
        if settings.send_credentials == "basic":
            headers["Authorization"] = basic_header(settings.client_id, secret)
        else:
            form |= {"client_id": settings.client_id, "client_secret": secret}
        return httpx.Request("POST", joined(self.base_url, settings.token_url), data=form, headers=headers)

    def read_token(self, response: httpx.Response) -> tuple[str, float | None]:
        """access_token and expires_in of the answer."""
        if response.status_code != 200:
            raise self.refused(response, "the token endpoint")
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(f"{self.connection}: the token endpoint answered without an access_token")
        lifetime = body.get("expires_in")
        return token, float(lifetime) if isinstance(lifetime, int | float) else None


class LoginToken(TokenAuth):
    """A login call (REST, or a GraphQL mutation through `body`) whose answer carries the token."""

    def __init__(self, connection: str, base_url: str, settings: LoginAuth) -> None:
        super().__init__(connection, base_url, renew_before=60.0)
        self.settings = settings

    def apply(self, request: httpx.Request, token: str) -> None:
        """The token in the configured header, after the configured prefix."""
        request.headers[self.settings.header] = f"{self.settings.prefix}{token}"

    def token_request(self) -> httpx.Request:
        """The login call with the user name and password filled in."""
        settings = self.settings
        values = {"username": settings.username, "password": settings.password.get_secret_value()}
        body = render(settings.body, values) if settings.body is not None else values
        url = joined(self.base_url, settings.path)
        if settings.method == "GET":
            return httpx.Request("GET", url, params=body, headers={"Accept": "application/json"})
        return httpx.Request(settings.method, url, json=body, headers={"Accept": "application/json"})

    def read_token(self, response: httpx.Response) -> tuple[str, float | None]:
        """The token (JSON path or header), its lifetime, or the login's error as an AuthError."""
        settings = self.settings
        if response.status_code != 200:
            raise self.refused(response, "the login")
        try:
            body = response.json()
        except ValueError:
            body = None
        failure = first(body, settings.error) if settings.error and body is not None else None
        errors = body.get("errors") if isinstance(body, dict) else None
        if failure or errors:
            text = failure if isinstance(failure, str) else "the shop answered with an error"
            raise AuthError(f"{self.connection}: the login was refused: {text[:200]}")
        if settings.token.startswith(HEADER):
            token = response.headers.get(settings.token.removeprefix(HEADER))
        else:
            token = first(body, settings.token) if body is not None else None
        if not isinstance(token, str) or not token:
            raise AuthError(f"{self.connection}: the login's answer has no token at {settings.token}")
        lifetime = first(body, settings.expires_in) if settings.expires_in and body is not None else None
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool):
            return token, float(lifetime)
        return token, settings.lifetime_seconds


def build_auth(connection: str, base_url: str, settings: Any) -> httpx.Auth:
    """The httpx.Auth of one connection's `auth` settings."""
    if isinstance(settings, ApiKeyAuth):
        key = settings.key.get_secret_value()
        if settings.query:
            return StaticAuth({}, {settings.query: key})
        return StaticAuth({settings.header: f"{settings.prefix}{key}"})
    if isinstance(settings, BearerAuth):
        return StaticAuth({"Authorization": f"Bearer {settings.token.get_secret_value()}"})
    if isinstance(settings, BasicAuth):
        password = settings.password.get_secret_value() if settings.password is not None else ""
        return StaticAuth({"Authorization": basic_header(settings.username.get_secret_value(), password)})
    if isinstance(settings, OAuth2Auth):
        return OAuth2ClientCredentials(connection, base_url, settings)
    if isinstance(settings, LoginAuth):
        return LoginToken(connection, base_url, settings)
    raise TypeError(f"unknown auth settings {type(settings).__name__}")
