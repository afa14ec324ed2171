"""`emporion check` against the Odoo sandbox: login, access per model naming the missing group,
warehouses, pricelists and the API key's remaining lifetime."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from emporion.alerts import AlertKind, RecordingAlerts
from emporion.alerts.credentials import check_credentials
from emporion.connectors.base import CheckResult
from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.roles import ExpiringCredentials
from tests.connectors.odoo.conftest import SANDBOX_KEY, RunningSandbox, running_sandbox


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    """The check's lines by name."""
    return {result.name: result for result in results}


async def run_check(running: RunningSandbox, **settings: object) -> dict[str, CheckResult]:
    """The check's lines of a connector to `running` with `settings`."""
    connector = OdooConnector("odoo", running.settings(**settings))
    try:
        return by_name(await connector.check())
    finally:
        await connector.close()


async def test_every_line_passes_for_a_well_set_up_user(odoo_sandbox: RunningSandbox) -> None:
    lines = await run_check(odoo_sandbox, warehouses=["WH", "WH2"])
    assert all(line.ok for line in lines.values()), [line for line in lines.values() if not line.ok]
    assert f"Odoo {odoo_sandbox.version}.0" in lines["login"].detail
    assert f"over {odoo_sandbox.api}" in lines["login"].detail
    assert "'emporion'" in lines["login"].detail
    assert lines["warehouses"].detail.startswith("WH=")
    assert lines["access sale.order"].detail == "read, create, write"
    assert "api key" in lines


async def test_a_missing_group_is_named_with_the_models_it_opens(odoo_sandbox: RunningSandbox) -> None:
    sandbox = odoo_sandbox.sandbox
    groups = sandbox.ids["groups"]
    keep = [
        groups["base.group_user"],
        groups["base.group_partner_manager"],
        groups["sales_team.group_sale_salesman_all_leads"],
    ]
    sandbox.write("res.users", [sandbox.ids["integration"]], {"group_ids": [(6, 0, keep)]})
    lines = await run_check(odoo_sandbox)
    stock = lines["access stock.picking"]
    assert not stock.ok
    assert "'Inventory: user' (stock.group_stock_user)" in stock.detail and "read, write" in stock.detail
    billing = lines["access account.move"]
    assert not billing.ok and "'Invoicing: billing' (account.group_account_invoice)" in billing.detail
    assert lines["access sale.order"].ok and lines["access product.template"].ok
    assert lines["login"].ok


async def test_the_keys_lifetime_and_a_warning_before_it_ends(tmp_path: Path) -> None:
    expires = (datetime.now(UTC) + timedelta(days=10, hours=1)).replace(microsecond=0)
    with running_sandbox(tmp_path, 19, "json2", key_expires=expires.replace(tzinfo=None)) as running:
        lines = await run_check(running)
        key = lines["api key"]
        assert key.ok
        assert "expires in 10 days" in key.detail and expires.strftime("%Y-%m-%d") in key.detail
        assert "renew it" in key.detail  # inside the 14 days' warning window
        quiet = await run_check(running, key_expiry_warning_days=5)
        assert "renew it" not in quiet["api key"].detail
        connector = OdooConnector("odoo", running.settings())
        try:
            assert await connector.key_expires_at() == expires
            # the engine's expiry alert asks through the connector-neutral capability
            assert isinstance(connector, ExpiringCredentials)
            expiry = await connector.credential_expiry()
            assert expiry is not None and expiry.expires_at == expires
            assert expiry.warn_before == timedelta(days=14)
            sink = RecordingAlerts()
            await check_credentials(sink, {"odoo": connector})
            (alert,) = sink.alerts
            assert alert.kind is AlertKind.CREDENTIALS_EXPIRING and not alert.resolved
            assert "in 10 days" in alert.message
        finally:
            await connector.close()


async def test_unknown_warehouses_and_pricelists_are_named(odoo_sandbox: RunningSandbox) -> None:
    lines = await run_check(odoo_sandbox, warehouses=["WH", "NOPE"], pricelists=["No such list"])
    assert not lines["warehouses"].ok and "NOPE" in lines["warehouses"].detail
    assert "WH2" in lines["warehouses"].detail  # what Odoo does have
    assert not lines["pricelists"].ok and "No such list" in lines["pricelists"].detail


async def test_a_wrong_key_fails_the_login_line_alone(odoo_sandbox: RunningSandbox) -> None:
    lines = await run_check(odoo_sandbox, api_key="wrong-key-42")
    assert list(lines) == ["login"]
    assert not lines["login"].ok
    assert "'emporion'" in lines["login"].detail and "wrong-key-42" not in lines["login"].detail


async def test_odoo_17_is_asked_with_check_access_rights(odoo_sandbox_17: RunningSandbox) -> None:
    sandbox = odoo_sandbox_17.sandbox
    groups = sandbox.ids["groups"]
    keep = [groups["base.group_user"], groups["stock.group_stock_user"]]
    sandbox.write("res.users", [sandbox.ids["integration"]], {"group_ids": [(6, 0, keep)]})
    lines = await run_check(odoo_sandbox_17)
    assert "Odoo 17.0" in lines["login"].detail
    assert lines["access stock.picking"].ok
    sale = lines["access sale.order"]
    assert not sale.ok and "'Sales: all documents' (sales_team.group_sale_salesman_all_leads)" in sale.detail


async def test_with_several_keys_the_first_valid_one_to_expire_is_reported(tmp_path: Path) -> None:
    from emporion_devkit.sandbox.odoo.access import add_key

    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    soon, later = now + timedelta(days=30), now + timedelta(days=60)
    with running_sandbox(tmp_path, 18, "jsonrpc", key_expires=later) as running:
        sandbox = running.sandbox
        with sandbox.server.store.transaction():
            uid = sandbox.ids["integration"]
            add_key(sandbox.env(), uid, "an-old-key", (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"))
            add_key(sandbox.env(), uid, "a-second-key", soon.strftime("%Y-%m-%d %H:%M:%S"))
        key = (await run_check(running))["api key"]
        assert key.ok
        assert "expires in 30 days" in key.detail and "3 keys" in key.detail
        assert "renew it" not in key.detail


def test_emporion_check_prints_the_missing_group_and_the_keys_lifetime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = datetime.now(UTC).replace(microsecond=0, tzinfo=None) + timedelta(days=40, hours=1)
    with running_sandbox(tmp_path, 19, "json2", key_expires=expires) as running:
        sandbox = running.sandbox
        groups = sandbox.ids["groups"]
        keep = [
            groups[g] for g in ("base.group_user", "base.group_partner_manager", "stock.group_stock_user")
        ]
        sandbox.write("res.users", [sandbox.ids["integration"]], {"group_ids": [(6, 0, keep)]})
        monkeypatch.setenv("TEST_ODOO_KEY", SANDBOX_KEY)
        connection = {
            "type": "odoo",
            "url": running.url,
            "database": sandbox.database,
            "username": sandbox.username,
            "api_key": "env:TEST_ODOO_KEY",
            "warehouses": ["WH", "WH2"],
        }
        document = {
            "version": 1,
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "connections": {"erp": connection},
        }
        config = tmp_path / "emporion.yaml"
        config.write_text(yaml.safe_dump(document), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "emporion", "check", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = " ".join(done.stdout.split())
    assert done.returncode != 0, output
    assert "Sales: all documents" in output and "sales_team.group_sale_salesman_all_leads" in output
    assert "expires in 40 days" in output
    assert SANDBOX_KEY not in done.stdout + done.stderr
