"""Provisioning: the CLI creates a database from the cache, and a server that cannot start fails loudly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emporion_devkit.erp.cli import tryton_app
from emporion_devkit.erp.tryton_server import TrytonServer
from emporion_devkit.erp.tryton_setup import TrytonDatabase, copy_database
from tests.fixtures.tryton import ADMIN_PASSWORD, CACHE_DIR, EMPORION_PASSWORD, TEST_CATALOGUE

pytestmark = pytest.mark.tryton


def test_cli_init_creates_a_provisioned_database(tryton_template: TrytonDatabase, tmp_path: Path) -> None:
    arguments = [
        "init",
        str(tmp_path),
        "--name",
        "shop",
        "--admin-password",
        ADMIN_PASSWORD,
        "--password",
        EMPORION_PASSWORD,
        "--products",
        str(TEST_CATALOGUE.products),
        "--seed",
        str(TEST_CATALOGUE.seed),
        "--cache-dir",
        str(CACHE_DIR),
    ]
    result = CliRunner().invoke(tryton_app, arguments)
    assert result.exit_code == 0, result.output
    assert "database shop ready" in result.output and EMPORION_PASSWORD not in result.output
    with sqlite3.connect(tmp_path / "shop.sqlite") as conn:
        goods = "SELECT count(*) FROM product_template WHERE type != 'service'"  # services: carriers
        assert conn.execute(goods).fetchone()[0] == TEST_CATALOGUE.products
        codes = {row[0] for row in conn.execute("SELECT code FROM stock_location WHERE type = 'warehouse'")}
        logins = {row[0] for row in conn.execute("SELECT login FROM res_user")}
    assert codes == {"WH", "WH2"} and "emporion" in logins


def test_server_on_a_missing_database_raises_with_its_log(
    tryton_template: TrytonDatabase, tmp_path: Path
) -> None:
    db = copy_database(tryton_template, tmp_path, name="broken")
    assert db.sqlite_file is not None
    db.sqlite_file.write_bytes(b"this is not a database")
    with pytest.raises(RuntimeError, match="trytond"):
        with TrytonServer(db, startup_timeout=20):
            pass
