"""minishop's wire protocol: the API key, paging, and HTTP answers turned into emporion's typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable
from emporion.connectors.circuit import CircuitBreaker

Json = dict[str, Any]


class Missing(Permanent):
    """The record asked for does not exist (HTTP 404)."""


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a `Retry-After` header asks for, if it gives a number."""
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def raise_for_answer(response: httpx.Response, record: str | None, fields: dict[str, str]) -> None:
    """Raise the typed error an answer means; `fields` names wire fields as canonical ones."""
    status = response.status_code
    if status < 400:
        return
    what = f"{response.request.method} {response.request.url.path}: HTTP {status}"
    if status == 429:
        raise RateLimited(what, after=retry_after(response))
    if status >= 500:
        raise Retryable(what, after=retry_after(response))
    if status in (401, 403):
        raise AuthError(f"{what}: the API key was refused")
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    reason, field = str(body.get("error") or what), body.get("field")
    error = Missing if status == 404 else Permanent
    raise error(reason, record=record, field=fields.get(field, field) if field else None)


class MinishopClient:
    """One HTTP client per connection: every request passes the circuit breaker and is translated."""

    def __init__(
        self,
        url: str,
        api_key: str,
        circuit: CircuitBreaker,
        *,
        fields: dict[str, str],
        page_size: int = 20,
        timeout: float = 10.0,
        verify: Any = True,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=f"{url.rstrip('/')}/api", headers={"X-Api-Key": api_key}, timeout=timeout, verify=verify
        )
        self.circuit = circuit
        self.fields = fields
        self.page_size = page_size

    async def request(self, method: str, path: str, *, record: str | None = None, **options: Any) -> Any:
        """One request's JSON answer; failures raise Retryable, RateLimited, AuthError or Permanent."""
        async with self.circuit.guard():
            try:
                response = await self.http.request(method, path, **options)
            except (
                httpx.TransportError
            ) as error:  # timeouts and refused connections: the write may have happened
                raise Retryable(f"{method} {path}: {error!r}") from error
            raise_for_answer(response, record, self.fields)
            return response.json()

    async def pages(self, path: str, params: dict[str, str] | None = None) -> AsyncIterator[Json]:
        """Every page of a list (`items`, `pages`, `server_time`), one request each."""
        number = 1
        while True:
            page = await self.request(
                "GET", path, params={**(params or {}), "page": number, "per_page": self.page_size}
            )
            yield page
            if number >= page["pages"]:
                return
            number += 1

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
