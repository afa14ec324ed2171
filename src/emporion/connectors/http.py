"""What httpx-based connectors share: telling a `RequestObserver` of every request and answer."""

from __future__ import annotations

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
