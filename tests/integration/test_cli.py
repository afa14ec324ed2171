"""The `emporion` command against a real Tryton server and the sandbox: check, plan, sync, run, schema."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from emporion.cli import app
from emporion_devkit.demo.erp_changes import set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import file_connections

pytestmark = pytest.mark.tryton
runner = CliRunner()


def write_config(path: Path, tryton: RunningTryton, shop: SandboxShop, key: str, secret: str) -> Path:
    connections = file_connections(path, tryton, shop, key=key, secret=secret)
    config = path / "emporion.yaml"
    config.write_text(
        f"""
state: {{url: sqlite:///state.db}}
{connections}flows:
  - name: catalogue
    source: erp
    target: shop
    poll_interval: 0.5
"""
    )
    return config


@pytest.fixture
def config(tmp_path: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop) -> Path:
    return write_config(
        tmp_path, tryton_server, sandbox_shop, sandbox_shop.consumer_key, sandbox_shop.consumer_secret
    )


def shop_products(shop: SandboxShop) -> list[dict]:
    response = httpx.get(
        f"{shop.base_url}/wp-json/wc/v3/products",
        params={"per_page": 100},
        auth=(shop.consumer_key, shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
    )
    response.raise_for_status()
    return response.json()


def test_config_schema_is_a_json_schema_that_accepts_the_file(config: Path) -> None:
    result = runner.invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(config.read_text()), schema)


def test_check_reports_a_config_error_precisely(config: Path) -> None:
    text = (
        config.read_text()
        .replace("target: shop", "target: shopp")
        .replace("poll_interval: 0.5", "poll_interval: -1")
    )
    config.write_text(text)
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "flows[0].poll_interval: Input should be greater than 0 (line 19, column 20)" in output


def test_check_connects_and_names_missing_permissions(
    tmp_path: Path, config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and "erp" in result.output and "shop" in result.output
    read_key, read_secret = sandbox_shop.add_key(permission="read")
    other = tmp_path / "read-only"
    other.mkdir()
    result = runner.invoke(
        app, ["check", "-c", str(write_config(other, tryton_server, sandbox_shop, read_key, read_secret))]
    )
    assert result.exit_code == 1
    assert "read permission only" in " ".join(result.output.split())
    (other / "secrets" / "erp").write_text("wrong password")
    result = runner.invoke(app, ["check", "-c", str(other / "emporion.yaml")])
    assert result.exit_code == 1 and "FAIL erp" in result.output


def test_plan_writes_nothing_then_sync_and_run_once(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    result = runner.invoke(app, ["plan", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "plan for flow catalogue" in result.output and "create" in result.output
    assert shop_products(sandbox_shop) == []

    result = runner.invoke(app, ["sync", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "flow catalogue: clean" in result.output
    products = shop_products(sandbox_shop)
    assert products

    result = runner.invoke(app, ["plan", "-c", str(config)])
    assert "create" in result.output and "SKU-" not in result.output  # nothing left to do

    sku = next(p["sku"] for p in products if p["type"] == "simple")

    async def change() -> None:
        admin = tryton_server.admin()
        try:
            from decimal import Decimal

            await set_list_price(admin, sku, Decimal("123.45"))
        finally:
            await admin.close()

    import anyio

    anyio.run(change)
    result = runner.invoke(app, ["run", "--once", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert next(p for p in shop_products(sandbox_shop) if p["sku"] == sku)["regular_price"] == "123.45"

    result = runner.invoke(app, ["status", "-c", str(config)])
    assert result.exit_code == 0 and "catalogue" in result.output


def test_sync_of_an_order_flow_says_that_run_takes_its_orders(config: Path) -> None:
    config.write_text(
        config.read_text()
        + """  - name: orders
    source: shop
    target: erp
    entities: [order]
"""
    )
    result = runner.invoke(app, ["sync", "-f", "orders", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "flow orders: orders come with `emporion run`" in result.output
    result = runner.invoke(app, ["plan", "-c", str(config)])
    assert "flow orders: orders come with" in result.output and "plan for flow catalogue" in result.output
