"""`emporion status`, a process of its own, shows each connection's circuit as the workers left it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
from typer.testing import CliRunner

from emporion.cli import app
from emporion.state import CircuitRecord, StateStore

CONFIG = """
state:
  url: sqlite:///state.db
connections:
  erp: {type: tryton, url: "http://127.0.0.1:9", database: db, username: u, password: p}
  shop: {type: woocommerce, url: "http://127.0.0.1:9", consumer_key: k, consumer_secret: s}
flows: [{name: catalogue, source: erp, target: shop}]
"""


def test_status_lists_every_connection_with_its_circuit(tmp_path: Path) -> None:
    config = tmp_path / "emporion.yaml"
    config.write_text(CONFIG)

    async def record() -> None:
        store = await StateStore.connect(f"sqlite:///{tmp_path / 'state.db'}", migrate=True)
        try:
            since = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
            error = "cannot reach Tryton at http://***@erp.example.com: ConnectError"
            entry = CircuitRecord("erp", "open", since, 5, error, worker="w1")
            await store.record_circuit(entry, opened=True)
        finally:
            await store.close()

    anyio.run(record)
    result = CliRunner().invoke(app, ["status", "-c", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    erp = next(line for line in result.output.splitlines() if "│ erp" in line)
    assert "open" in erp and "2026-11-23 12:00:00 UTC" in erp and "ConnectError" in erp
    shop = next(line for line in result.output.splitlines() if "│ shop" in line)
    assert "closed" in shop  # never reported a transition: closed
