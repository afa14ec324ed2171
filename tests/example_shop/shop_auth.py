"""minishop's ways of letting a caller in: API key, bearer token, HTTP Basic, OAuth 2, a login call.

One `Gate` per shop, chosen by `mode`. Tokens issued by `/oauth/token` (client credentials; also at
`/api/oauth/token`) and `/api/login` live `lifetime` seconds and are then refused with 401, as are
revoked ones, so that a client's renewal is tested against a real clock. Counters say how many
tokens were asked for.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from typing import Literal

from starlette.requests import Request
from starlette.responses import JSONResponse

Mode = Literal["api_key", "bearer", "basic", "oauth2", "login"]


class Gate:
    """Checks each request's credentials for one mode and issues the short-lived tokens of two."""

    def __init__(
        self,
        mode: Mode = "api_key",
        *,
        api_key: str = "minishop-key",
        token: str = "minishop-token",  # noqa: S107 - the test shop's own
        username: str = "shop-user",
        password: str = "shop-password",  # noqa: S107
        client_id: str = "shop-client",
        client_secret: str = "shop-secret",  # noqa: S107
        lifetime: float = 3600.0,
    ) -> None:
        self.mode = mode
        self.api_key, self.token = api_key, token
        self.username, self.password = username, password
        self.client_id, self.client_secret = client_id, client_secret
        self.lifetime = lifetime
        self.issued: dict[str, float] = {}  # token -> when it expires (monotonic)
        self.token_requests = 0  # token or login calls answered, granted or not
        self.refused = 0  # requests refused for bad credentials
        self._lock = threading.Lock()

    def allows(self, request: Request) -> bool:
        """Whether the request carries valid credentials for this gate's mode."""
        headers = request.headers
        if self.mode == "api_key":
            given = headers.get("x-api-key") or request.query_params.get("api_key")
            ok = given == self.api_key
        elif self.mode == "basic":
            ok = headers.get("authorization", "") == basic(self.username, self.password)
        else:
            given = headers.get("authorization", "").removeprefix("Bearer ")
            ok = given == self.token if self.mode == "bearer" else self._valid(given)
        if not ok:
            self.refused += 1
        return ok

    def _valid(self, token: str) -> bool:
        with self._lock:
            expires = self.issued.get(token)
            return expires is not None and time.monotonic() < expires

    def issue(self) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self.issued[token] = time.monotonic() + self.lifetime
        return token, self.lifetime

    def revoke(self) -> None:
        """Refuse every token issued so far (as a shop does when a key is rotated)."""
        with self._lock:
            self.issued.clear()

    async def oauth_token(self, request: Request) -> JSONResponse:
        """POST /oauth/token: client credentials (Basic or in the form body) -> a bearer token."""
        self.token_requests += 1
        form = await request.form()
        client = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
        if request.headers.get("authorization", "").startswith("Basic "):
            raw = base64.b64decode(request.headers["authorization"][6:]).decode()
            client = (raw.partition(":")[0], raw.partition(":")[2])
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if self.mode != "oauth2" or client != (self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client", "error_description": "bad client"}, 401)
        token, lifetime = self.issue()
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": lifetime})

    async def login(self, request: Request) -> JSONResponse:
        """POST /api/login {username, password} -> {token, expires_in} (and header X-Auth-Token)."""
        self.token_requests += 1
        body = await request.json()
        if not self.check_login(str(body.get("username")), str(body.get("password"))):
            return JSONResponse({"error": "wrong user name or password"}, 401)
        token, lifetime = self.issue()
        return JSONResponse({"token": token, "expires_in": lifetime}, headers={"X-Auth-Token": token})

    def check_login(self, username: str, password: str) -> bool:
        """Whether a login's user name and password are right (and this gate takes logins)."""
        return self.mode == "login" and (username, password) == (self.username, self.password)


def basic(username: str, password: str) -> str:
    """The Authorization header value of HTTP Basic."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
