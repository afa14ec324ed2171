"""`emporion demo --once` as a user runs it: a real Tryton, the sandbox, a sync and a clean report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from emporion.ops.auth import verify_password
from emporion.state import StateStore
from tests.fixtures.tryton import CACHE_DIR

pytestmark = pytest.mark.tryton


def test_demo_once_syncs_and_verifies_clean(tmp_path: Path) -> None:
    env = {**os.environ, "EMPORION_TRYTON_CACHE": str(CACHE_DIR), "COLUMNS": "160"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emporion",
            "demo",
            "--once",
            "--products",
            "40",
            "--dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flow catalogue: clean" in result.stdout
    assert "0 dead letters" in result.stdout and "sales in Tryton (WEB-" in result.stdout
    assert "product" in result.stdout and "category" in result.stdout
    config = (tmp_path / "demo" / "emporion.yaml").read_text()
    secrets = [
        (tmp_path / "demo" / "secrets" / name).read_text()
        for name in ("tryton-password", "shop-consumer-secret")
    ]
    assert not any(secret in config for secret in secrets)  # the config names secret files, never secrets
    assert oct((tmp_path / "demo" / "secrets" / "tryton-password").stat().st_mode & 0o777) == "0o600"
    assert anyio.run(console_login_works, tmp_path / "demo")


async def console_login_works(demo: Path) -> bool:
    """The demo made its dashboard admin, whose password is the one in its secrets folder."""
    password = (demo / "secrets" / "console-password").read_text().strip()
    assert oct((demo / "secrets" / "console-password").stat().st_mode & 0o777) == "0o600"
    store = await StateStore.connect(f"sqlite:///{demo / 'state.db'}")
    try:
        user = await store.get_user("demo")
    finally:
        await store.close()
    assert user is not None and user.role == "admin"
    return verify_password(user.password_hash, password)
