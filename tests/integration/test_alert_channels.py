"""Alerts end to end through real channels: a local SMTP server and a local chat-webhook receiver.

CIRCUIT_OPEN and DRIFT are raised by other parts through `Engine.alerts`; here they are raised the
same way and must arrive by e-mail and as Slack, Teams and generic JSON. Also: de-duplication with
the quiet period, resolutions, a kinds filter, TLS with a private CA, and broken channels.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emporion.alerts import Alert, AlertKind, Severity
from emporion.alerts.dispatcher import Dispatcher, alerts_from_settings
from emporion.alerts.email import EmailSender
from emporion.config import TLSSettings, parse_settings
from emporion.engine.worker import Engine
from emporion.state import StateStore
from tests.fixtures.alerts import SMTP_PASSWORD, SMTP_USER, ChatReceiver, Mailbox, _serve_smtp, free_port
from tests.integration.alert_support import TOKEN, alerts_block, hook_path


class Clock:
    """A clock the test moves by hand (the quiet period without waiting an hour)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def settings_text(state_url: str, alerts: str) -> str:
    return f"state:\n  url: {state_url}\nconnections: {{}}\n{alerts}"


CIRCUIT = Alert(
    AlertKind.CIRCUIT_OPEN,
    "shop-de",
    "connection shop-de failed 5 times in a row; calls paused for 30 s",
    Severity.CRITICAL,
    details={"failures": 5, "retry_in_seconds": 30},
)
CLOSED = Alert(AlertKind.CIRCUIT_OPEN, "shop-de", "calls to shop-de work again", resolved=True)
DRIFT = Alert(
    AlertKind.DRIFT,
    "shop-de",
    "reconciliation found 3 products that differ; repaired",
    flow="shop-de",
    details={"differing": 3, "repaired": 3},
)


async def test_circuit_and_drift_raised_through_the_engine_arrive_by_mail_and_webhooks(
    sqlite_url: str, smtp_server: Mailbox, chat_receiver: ChatReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_settings(
        settings_text(sqlite_url, alerts_block(smtp_server, chat_receiver, monkeypatch))
    )
    store = await StateStore.connect(settings.state.url)
    try:
        engine = Engine(settings, store, alerts=alerts_from_settings(settings, store))
        await engine.alerts.notify(CIRCUIT)
        await engine.alerts.notify(DRIFT)
        await engine.alerts.notify(
            Alert(AlertKind.CIRCUIT_OPEN, "shop-de", "calls work again", resolved=True)
        )
        mails = await smtp_server.wait_for(3)
        assert smtp_server.subjects() == [
            "emporion [CRITICAL] Connection unreachable (circuit open): shop-de",
            "emporion [WARNING] Reconciliation found drift: shop-de (flow shop-de)",
            "emporion [RESOLVED] Connection unreachable (circuit open): shop-de",
        ]
        assert smtp_server.recipients[0] == ["ops@shop.example", "oncall@shop.example"]
        body = mails[0].get_content()
        assert "failed 5 times in a row" in body and "retry_in_seconds: 30" in body
        assert mails[1]["X-Emporion-Alert"] == "drift:shop-de:shop-de"

        slack = chat_receiver.bodies(hook_path("slack"))
        assert [set(message) for message in slack] == [{"text"}] * 3
        assert slack[0]["text"].startswith("*[CRITICAL] Connection unreachable (circuit open): shop-de*\n")
        assert "reconciliation found 3 products" in slack[1]["text"]

        teams = chat_receiver.bodies(hook_path("teams"))
        assert len(teams) == 3 and teams[0]["type"] == "message"
        card = teams[1]["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard"
        facts = {f["title"]: f["value"] for f in card["content"]["body"][2]["facts"]}
        assert facts["kind"] == "drift" and facts["flow"] == "shop-de" and facts["differing"] == "3"

        generic = chat_receiver.bodies(hook_path("generic"))
        assert [(g["kind"], g["resolved"]) for g in generic] == [
            ("circuit_open", False),
            ("drift", False),
            ("circuit_open", True),
        ]
        assert generic[0]["details"] == {"failures": 5, "retry_in_seconds": 30}
        assert generic[0]["severity"] == "critical" and generic[1]["flow"] == "shop-de"
        assert [a.key for a in await store.list_alerts()] == ["circuit_open:shop-de", "drift:shop-de:shop-de"]
    finally:
        await store.close()


async def test_the_same_alert_within_the_quiet_period_is_sent_once(
    state_url: str, smtp_server: Mailbox, chat_receiver: ChatReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_settings(
        settings_text(state_url, alerts_block(smtp_server, chat_receiver, monkeypatch, quiet_period=600))
    )
    clock = Clock()
    store = await StateStore.connect(settings.state.url, clock=clock)
    try:
        sink = alerts_from_settings(settings, store)
        await sink.notify(CIRCUIT)
        clock.now += timedelta(seconds=300)
        await sink.notify(CIRCUIT)  # within the quiet period: not again
        # a second process on the same state database does not send it either
        other = alerts_from_settings(settings, store)
        await other.notify(CIRCUIT)
        assert len(await smtp_server.wait_for(1)) == 1
        assert len(chat_receiver.bodies(hook_path("generic"))) == 1
        clock.now += timedelta(seconds=301)
        await sink.notify(CIRCUIT)  # the quiet period is over and it still holds: a reminder
        await smtp_server.wait_for(2)
        await sink.notify(CLOSED)
        await smtp_server.wait_for(3)
        await sink.notify(CLOSED)
        assert [g["resolved"] for g in chat_receiver.bodies(hook_path("generic"))] == [False, False, True]
        assert len(smtp_server.messages) == 3
        [row] = await store.list_alerts()
        assert (row.status, row.count) == ("resolved", 4)
    finally:
        await store.close()


async def test_a_channel_takes_only_its_kinds(
    sqlite_url: str, chat_receiver: ChatReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK", f"{chat_receiver.url}/only-drift")
    extra = "  webhooks:\n    - {url: env:TEST_HOOK, format: generic, kinds: [drift]}\n"
    settings = parse_settings(settings_text(sqlite_url, f"alerts:\n{extra}"))
    store = await StateStore.connect(settings.state.url)
    try:
        sink = alerts_from_settings(settings, store)
        await sink.notify(CIRCUIT)
        await sink.notify(DRIFT)
        assert [body["kind"] for body in chat_receiver.bodies("/only-drift")] == ["drift"]
    finally:
        await store.close()


async def test_email_over_starttls_with_a_login_and_a_private_ca(
    sqlite_url: str, smtp_tls_server: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    email = f"""alerts:
  email:
    host: 127.0.0.1
    port: {smtp_tls_server.port}
    security: starttls
    username: {SMTP_USER}
    password: env:TEST_SMTP_PASSWORD
    from: emporion@shop.example
    to: [ops@shop.example]
    tls: {{ca_bundle: {smtp_tls_server.ca_bundle}}}
"""
    settings = parse_settings(settings_text(sqlite_url, email))
    store = await StateStore.connect(settings.state.url)
    try:
        await alerts_from_settings(settings, store).notify(CIRCUIT)
        [mail] = await smtp_tls_server.wait_for(1)
        assert "circuit open" in str(mail["Subject"])
        unverified = EmailSender(settings.alerts.email.model_copy(update={"tls": TLSSettings()}))
        with pytest.raises(ssl.SSLCertVerificationError):
            await unverified.send(DRIFT)
        assert len(smtp_tls_server.messages) == 1
    finally:
        await store.close()


async def test_a_broken_channel_neither_raises_nor_stops_the_others_and_is_retried(
    sqlite_url: str,
    chat_receiver: ChatReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from tests.fixtures.alerts import Mailbox as Box

    smtp_port = free_port()  # nothing listens here yet
    monkeypatch.setenv("TEST_HOOK_BROKEN", f"{chat_receiver.url}/broken/{TOKEN}")
    monkeypatch.setenv("TEST_HOOK_GOOD", f"{chat_receiver.url}/good")
    alerts = f"""alerts:
  email: {{host: 127.0.0.1, port: {smtp_port}, security: none, from: e@shop.example, to: [o@shop.example]}}
  webhooks:
    - {{url: env:TEST_HOOK_BROKEN, format: slack}}
    - {{url: env:TEST_HOOK_GOOD, format: generic}}
"""
    settings = parse_settings(settings_text(sqlite_url, alerts))
    store = await StateStore.connect(settings.state.url)
    try:
        sink = alerts_from_settings(settings, store)
        assert isinstance(sink, Dispatcher)
        sink.retry_seconds = 0
        await sink.notify(CIRCUIT)  # e-mail refused, slack answers 500: no exception
        assert [b["kind"] for b in chat_receiver.bodies("/good")] == ["circuit_open"]
        logged = "".join(capsys.readouterr())
        assert "alert channel failed" in logged and "webhook 1 (slack)" in logged and "HTTP 500" in logged
        assert TOKEN not in logged and chat_receiver.url not in logged
        # the mail server comes up: the next alert brings the one that failed along
        await sink.notify(CIRCUIT)  # within the quiet period: not sent, so no retry either
        mailbox = Box(port=smtp_port)
        controller = _serve_smtp(mailbox)
        try:
            await sink.notify(DRIFT)
            await mailbox.wait_for(2)
            assert ["circuit open" in s for s in mailbox.subjects()] == [True, False]
        finally:
            controller.stop()
        assert [b["kind"] for b in chat_receiver.bodies("/good")] == ["circuit_open", "drift"]
        assert TOKEN not in "".join(capsys.readouterr())
    finally:
        await store.close()
