"""`emporion worker` refuses what it cannot run safely: an old schema, a second engine on SQLite."""

from __future__ import annotations

from pathlib import Path

import anyio
from typer.testing import CliRunner

from emporion.cli import app
from emporion.state import StateStore

runner = CliRunner()


def write_config(directory: Path) -> Path:
    config = directory / "emporion.yaml"
    config.write_text(
        f"""
state: {{url: "sqlite:///{directory / "state.db"}"}}
connections:
  erp: {{type: tryton, url: "http://127.0.0.1:9", database: erp, username: u, password: p}}
  shop: {{type: woocommerce, url: "http://127.0.0.1:9", consumer_key: ck, consumer_secret: cs}}
flows:
  - {{name: catalogue, source: erp, target: shop}}
"""
    )
    return config


def test_worker_needs_an_upgraded_state_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["worker", "-c", str(write_config(tmp_path))])
    assert result.exit_code == 2
    assert "emporion db upgrade" in " ".join(result.output.split())  # the console wraps lines


def test_worker_refuses_to_share_sqlite_with_a_running_engine(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0

    async def another_engine_runs() -> None:
        store = await StateStore.connect(f"sqlite:///{tmp_path / 'state.db'}", migrate=False)
        try:
            assert await store.acquire_lease("feed:catalogue", "elsewhere:4242", 60)
        finally:
            await store.close()

    anyio.run(another_engine_runs)
    result = runner.invoke(app, ["worker", "-c", str(config)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "elsewhere:4242" in message and "PostgreSQL" in message
