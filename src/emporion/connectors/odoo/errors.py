"""Odoo's answers turned into the connector's typed errors: JSON-RPC error objects and JSON-2 HTTP errors.

Odoo serialises an exception as `{name, message, arguments, context, debug}` (odoo/http.py
`serialize_exception`): inside `error.data` of a JSON-RPC answer, as the body of a JSON-2 error with
the exception's `http_status` (UserError 422, AccessDenied/AccessError 403, MissingError 404,
LockError 409, anything else 500). Messages keep Odoo's own text but never its `debug` traceback, the
API key or a customer's data beyond what Odoo's message itself says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from emporion.connectors.base import AuthError, ConnectorError, Permanent, RateLimited, Retryable

MAX_MESSAGE = 300
CONCURRENCY_NAMES = ("SerializationFailure", "LockNotAvailable", "DeadlockDetected", "ConcurrencyError")
CONCURRENCY_TEXT = ("could not serialize access", "could not obtain lock", "deadlock detected")
TRANSIENT_PREFIXES = ("psycopg2", "builtins.MemoryError", "werkzeug.exceptions.ServiceUnavailable")
PERMANENT_NAMES = ("ValidationError", "UserError", "MissingError", "RedirectWarning", "ValueError")


@dataclass(frozen=True)
class Call:
    """What a request was about, for error messages: model, method, the login and the server."""

    model: str
    method: str
    login: str
    url: str

    @property
    def what(self) -> str:
        """`model.method` as Odoo would name it."""
        return f"{self.model}.{self.method}" if self.model else self.method


class OdooAccessDenied(AuthError):
    """Odoo refused the login or the API key (odoo.exceptions.AccessDenied, HTTP 401)."""


def short(text: Any) -> str:
    """One line of Odoo's message, bounded in length."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def is_odoo_com(url: str) -> bool:
    """Whether the server is hosted on odoo.com (the external API needs a Custom plan there)."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "odoo.com" or host.endswith(".odoo.com")


def access_error(call: Call, message: str) -> AuthError:
    """A refused operation, naming the model, the operation and the login (and the plan on odoo.com)."""
    detail = f"Odoo refuses {call.what} to user {call.login!r}: {short(message)}"
    if is_odoo_com(call.url):
        detail += " (on odoo.com the external API needs a Custom plan)"
    return AuthError(detail, record=call.model or None)


def denied(call: Call) -> OdooAccessDenied:
    """The login or API key was refused: names the login and the server, never the key."""
    return OdooAccessDenied(
        f"Odoo at {call.url} refused the login {call.login!r} with its API key"
        " (wrong, revoked or expired key)"
    )


def from_exception(call: Call, data: dict[str, Any], status: int | None = None) -> ConnectorError:
    """The typed error for Odoo's serialised exception `data` (JSON-RPC `error.data` or a JSON-2 body)."""
    name = str(data.get("name") or "")
    message = str(data.get("message") or "")
    last = name.rsplit(".", 1)[-1]
    if last == "AccessDenied" or status == 401:
        return denied(call)
    if last == "AccessError" or status == 403:
        return access_error(call, message)
    if last in CONCURRENCY_NAMES or last == "LockError" or any(t in message for t in CONCURRENCY_TEXT):
        return Retryable(f"Odoo reports a concurrent update on {call.what}: {short(message)}", after=1.0)
    if last in PERMANENT_NAMES or status in (404, 422):
        return Permanent(f"Odoo refused {call.what}: {short(message)}", record=call.model or None)
    if "database" in message and "does not exist" in message:  # psycopg2's answer to a wrong `database`
        return Permanent(f"Odoo at {call.url} has no such database: {short(message)}")
    if name.startswith(TRANSIENT_PREFIXES) or (status is not None and status >= 500 and not name):
        return Retryable(
            f"Odoo failed on {call.what} ({last or 'server error'}): {short(message)}", after=5.0
        )
    # any other exception Odoo names (a TypeError, a KeyError in the server's code) fails the same way
    # each time it is sent these arguments: a person has to look
    return Permanent(
        f"Odoo failed on {call.what} ({last or 'error'}): {short(message)}", record=call.model or None
    )


def from_rpc_error(call: Call, error: Any) -> ConnectorError:
    """The typed error for a JSON-RPC `error` member (`{code, message, data}`)."""
    if not isinstance(error, dict):
        return Permanent(f"Odoo failed on {call.what}: {short(error)}")
    data = error.get("data")
    if isinstance(data, dict) and data.get("name"):
        return from_exception(call, data)
    code = error.get("code")
    if code == 100:  # "Odoo Session Expired": the caller authenticates again
        return denied(call)
    if code == 404:
        return Permanent(f"Odoo has no route for {call.what}: {short(error.get('message'))}")
    return Retryable(f"Odoo failed on {call.what}: {short(error.get('message'))}", after=5.0)


def retry_after(headers: Any, default: float) -> float:
    """Seconds from a Retry-After header (a number), or `default`."""
    try:
        return max(0.0, float(headers.get("Retry-After", default)))
    except (TypeError, ValueError):
        return default


def from_status(call: Call, status: int, body: Any, headers: Any) -> ConnectorError:
    """The typed error for a JSON-2 (or any HTTP) error status with Odoo's JSON body, if it has one."""
    if status == 429:
        return RateLimited(f"Odoo rate-limits {call.what} (HTTP 429)", after=retry_after(headers, 60.0))
    if isinstance(body, dict) and ("name" in body or "message" in body):
        return from_exception(call, body, status)
    if status == 401:
        return denied(call)
    if status == 403:
        return access_error(call, "HTTP 403")
    if status >= 500:
        return Retryable(f"Odoo answered HTTP {status} to {call.what}", after=retry_after(headers, 5.0))
    return Permanent(f"Odoo answered HTTP {status} to {call.what}")
