"""The chat webhook channel: alerts as Slack, Teams or generic JSON, POSTed over verified TLS.

A webhook URL carries its token, so it is a secret: logs and errors name the channel by its
position and format (`webhook 1 (slack)`), never by its URL.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from emporion.alerts import Alert, render
from emporion.config import WebhookChannel


class ChannelFailed(Exception):
    """A channel could not deliver; the text is safe to log (no URL, no token)."""


class WebhookSender:
    """POSTs alerts to one configured webhook."""

    def __init__(self, settings: WebhookChannel, index: int) -> None:
        self.settings = settings
        self.name = f"webhook {index + 1} ({settings.format})"
        self.kinds = set(settings.kinds) if settings.kinds is not None else None
        self._render = render.FORMATS[settings.format]

    def body(self, alert: Alert) -> dict[str, Any]:
        """The JSON body the webhook receives."""
        return self._render(alert)

    async def send(self, alert: Alert) -> None:
        """POST the alert; raises ChannelFailed (without the URL) on a network error or a non-2xx reply."""
        try:
            async with httpx.AsyncClient(verify=self._verify(), timeout=self.settings.timeout) as client:
                response = await client.post(self.settings.url.get_secret_value(), json=self.body(alert))
        except httpx.HTTPError as error:
            raise ChannelFailed(f"{self.name}: {type(error).__name__}") from None
        if not response.is_success:
            raise ChannelFailed(f"{self.name}: HTTP {response.status_code}")

    def _verify(self) -> ssl.SSLContext | bool:
        if self.settings.tls.ca_bundle:
            return ssl.create_default_context(cafile=self.settings.tls.ca_bundle)
        return self.settings.tls.verify
