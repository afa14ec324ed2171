"""Tiny JSON-RPC and JSON-2 callers the Odoo sandbox tests use (plain httpx, as a foreign client would)."""

from __future__ import annotations

from typing import Any

import httpx

KEY = "sandbox-test-key-0123456789abcdef"


def jsonrpc(url: str, service: str, method: str, *args: Any) -> dict[str, Any]:
    """One JSON-RPC call; the whole answer (result or error)."""
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 7,
        "params": {"service": service, "method": method, "args": list(args)},
    }
    response = httpx.post(url + "/jsonrpc", json=body)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def execute_kw(
    url: str,
    uid: int,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    key: str = KEY,
    database: str = "emporion",
) -> dict[str, Any]:
    """An `object.execute_kw` call as the integration user."""
    return jsonrpc(url, "object", "execute_kw", database, uid, key, model, method, args, kwargs or {})


def json2(
    url: str,
    model: str,
    method: str,
    body: dict[str, Any],
    *,
    key: str = KEY,
    database: str | None = "emporion",
) -> httpx.Response:
    """A JSON-2 call with a bearer key."""
    headers = {"Authorization": f"bearer {key}"}
    if database:
        headers["X-Odoo-Database"] = database
    return httpx.post(f"{url}/json/2/{model}/{method}", json=body, headers=headers)
