"""What httpx-based connectors share: telling a `RequestObserver` of every request and answer, and
reading a `Retry-After` header."""

from __future__ import annotations

import email.utils
import time

import httpx

from emporion.connectors.roles import RequestObserver


def observe_httpx(client: httpx.AsyncClient, observer: RequestObserver) -> None:
    """Call `observer` before each request of `client` (it may add headers) and after each answer."""

    async def on_request(request: httpx.Request) -> None:
        await observer.before(request.headers)

    async def on_response(response: httpx.Response) -> None:
        await observer.after(response.request.method, response.status_code)

    client.event_hooks["request"].append(on_request)
    client.event_hooks["response"].append(on_response)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
