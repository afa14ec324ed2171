"""`emporion alerts test` and `emporion alerts list` against a local SMTP server and chat receiver."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from emporion.alerts import Alert, AlertKind
from emporion.alerts.dispatcher import alerts_from_settings
from emporion.cli import app
from emporion.config import load_settings
from emporion.state import StateStore
from tests.fixtures.alerts import ChatReceiver, Mailbox
from tests.integration.alert_support import TOKEN, alerts_block, hook_path

runner = CliRunner()


def write_config(tmp_path: Path, alerts: str) -> Path:
    path = tmp_path / "emporion.yaml"
    path.write_text(f"state:\n  url: sqlite:///state.db\nconnections: {{}}\n{alerts}")
    return path


def test_alerts_test_sends_through_every_channel_and_fails_on_a_broken_one(
    tmp_path: Path, smtp_server: Mailbox, chat_receiver: ChatReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, alerts_block(smtp_server, chat_receiver, monkeypatch))
    result = runner.invoke(app, ["alerts", "test", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "  ok email",
        "  ok webhook 1 (slack)",
        "  ok webhook 2 (teams)",
        "  ok webhook 3 (generic)",
    ]
    assert [str(m["Subject"]) for m in smtp_server.messages] == ["emporion [INFO] Test alert: channels"]
    assert chat_receiver.bodies(hook_path("generic"))[0]["kind"] == "test"

    broken = write_config(tmp_path, alerts_block(None, chat_receiver, monkeypatch, broken=True))
    result = runner.invoke(app, ["alerts", "test", "-c", str(broken)])
    assert result.exit_code == 1
    assert "FAIL webhook 4 (slack): ChannelFailed" in result.output and "HTTP 500" in result.output
    assert TOKEN not in result.output

    nothing = write_config(tmp_path, "")
    result = runner.invoke(app, ["alerts", "test", "-c", str(nothing)])
    assert result.exit_code == 1 and "no alert channel is configured" in result.output


def test_alerts_list_shows_what_was_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, "")
    settings = load_settings(config)

    async def raise_two() -> None:
        store = await StateStore.connect(settings.state.url)
        try:
            sink = alerts_from_settings(settings, store)
            await sink.notify(Alert(AlertKind.LOW_STOCK, "SKU-7", "SKU-7: 1 available", flow="shop"))
            await sink.notify(Alert(AlertKind.CIRCUIT_OPEN, "erp", "erp unreachable"))
            await sink.notify(Alert(AlertKind.CIRCUIT_OPEN, "erp", "erp reachable again", resolved=True))
        finally:
            await store.close()

    anyio.run(raise_two)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["alerts", "list", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert (
        "SKU-7" in result.output and "low_stock" in result.output and "erp reachable again" in result.output
    )
    result = runner.invoke(app, ["alerts", "list", "--status", "open", "-c", str(config)])
    assert "SKU-7" in result.output and "circuit_open" not in result.output
