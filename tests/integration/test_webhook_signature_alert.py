"""Deliveries that keep failing the signature check (a secret changed in the shop) raise one alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from emporion.alerts import Alert, AlertKind
from emporion.config import Settings, parse_settings
from emporion.server import WebhookSecrets, create_app
from emporion.server.signatures import THRESHOLD, SignatureWatch
from emporion.state import StateStore
from emporion.testing.webhooks import signed_delivery

SECRET = "the-secret-we-registered"  # a test secret


class Recorded:
    """An alert sink that keeps what it is told."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def notify(self, alert: Alert) -> None:
        """Keep the alert."""
        self.alerts.append(alert)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A memory shop taking webhooks with a configured secret, and a flow reading its products."""
    return parse_settings(
        f"""
state: {{url: "sqlite:///{tmp_path}/state.db"}}
connections:
  shop: {{type: memory, system: signature-shop, webhooks: true, webhook_secret: {SECRET}}}
  erp: {{type: memory, system: signature-erp}}
flows:
  - {{name: products, source: shop, target: erp, entities: [product]}}
"""
    )


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Recorded]]:
    """A client of the app, and the alerts its ingress raised."""
    store = await StateStore.connect(settings.state.url)
    app = create_app(settings, store, WebhookSecrets(settings, tmp_path / "secrets"))
    recorded = Recorded()
    app.state.signatures.alerts = recorded
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield http, recorded
    finally:
        await store.close()


async def deliver(http: httpx.AsyncClient, secret: str, key: str) -> int:
    """Post a product delivery signed with `secret`; the status."""
    headers, body = signed_delivery("product", key, secret)
    response = await http.post(
        "/webhooks/shop", content=body, headers=headers | {"Content-Type": "application/json"}
    )
    return response.status_code


async def test_deliveries_signed_with_a_changed_secret_raise_one_alert(
    client: tuple[httpx.AsyncClient, Recorded],
) -> None:
    http, recorded = client
    statuses = [await deliver(http, "a-secret-changed-in-the-shop", str(n)) for n in range(3 * THRESHOLD)]
    assert set(statuses) == {401}
    assert [(alert.kind, alert.subject) for alert in recorded.alerts] == [
        (AlertKind.WEBHOOK_SIGNATURE, "shop")
    ]
    assert "signature check" in recorded.alerts[0].message and SECRET not in recorded.alerts[0].message


async def test_a_few_stray_refusals_between_good_deliveries_raise_none(
    client: tuple[httpx.AsyncClient, Recorded],
) -> None:
    http, recorded = client
    for n in range(3):
        for _ in range(THRESHOLD - 1):
            assert await deliver(http, "forged", str(n)) == 401
        assert await deliver(http, SECRET, str(n)) == 200
    assert recorded.alerts == []


def test_refusals_spread_beyond_the_window_raise_none_and_alerts_repeat_once_per_window() -> None:
    now = [0.0]
    watch = SignatureWatch(Recorded(), threshold=3, window=60, clock=lambda: now[0])
    raised = []
    for _ in range(9):
        now[0] += 30  # three refusals span 60 s: within the window only just
        raised.append(watch.refused("shop") is not None)
    assert raised == [False, False, True, False, True, False, True, False, True]
    spread = SignatureWatch(Recorded(), threshold=3, window=60, clock=lambda: now[0])
    for _ in range(6):
        now[0] += 31
        assert spread.refused("shop") is None
