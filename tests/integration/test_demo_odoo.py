"""`emporion demo --erp odoo --once` as a user runs it: the demo's whole story on the Odoo sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def emporion(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `emporion` command as a user would, with a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "emporion", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(("version", "api"), [("19", "JSON-2"), ("18", "JSON-RPC")])
def test_demo_on_the_odoo_sandbox_tells_the_whole_story_and_exits_clean(
    version: str, api: str, tmp_path: Path
) -> None:
    """`--once` on 19 (JSON-2) and 18 (JSON-RPC): the whole story; the API key kept secret."""
    demo = tmp_path / "demo"
    args = ["demo", "--erp", "odoo", "--odoo-version", version, "--once", "--products", "40"]
    result = emporion(*args, "--dir", str(demo))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Odoo {version} sandbox at http://127.0.0.1:" in result.stdout and f"{api})" in result.stdout
    assert f"ok erp: login — Odoo {version}.0" in result.stdout
    assert "FAIL" not in result.stdout
    assert "flow catalogue: clean" in result.stdout
    assert "received into WH2; the shop shows" in result.stdout
    assert (
        "5 placed in the shop, 5 sale orders in Odoo" in result.stdout and "0 dead letters" in result.stdout
    )
    assert "shipped with Standard delivery JJD0001234 and invoiced as INV/" in result.stdout
    assert "the shop order is completed with its tracking number and invoice number" in result.stdout
    if version == "19":  # Odoo 19 keys expire: check says when
        assert "ok erp: api key — the API key expires in 90 days" in result.stdout

    config = yaml.safe_load((demo / "emporion.yaml").read_text(encoding="utf-8"))
    erp = config["connections"]["erp"]
    assert erp["type"] == "odoo" and erp["api_key"] == f"file:{demo / 'secrets' / 'odoo-api-key'}"
    key = (demo / "secrets" / "odoo-api-key").read_text(encoding="utf-8").strip()
    assert key and key not in (demo / "emporion.yaml").read_text(encoding="utf-8") and key not in output
    assert oct((demo / "secrets" / "odoo-api-key").stat().st_mode & 0o777) == "0o600"


def test_a_second_run_keeps_the_odoo_database_and_is_clean_again(tmp_path: Path) -> None:
    """The demo's folder is reused: the same Odoo database, clean again, new orders once each."""
    demo = tmp_path / "demo"
    args = ["demo", "--erp", "odoo", "--once", "--products", "20", "--dir", str(demo)]
    first = emporion(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    second = emporion(*args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "flow catalogue: clean" in second.stdout
    assert "5 placed in the shop, 5 sale orders in Odoo" in second.stdout
    assert sorted(p.name for p in demo.glob("odoo-*.sqlite")) == ["odoo-19.sqlite"]
