"""`emporion dead` and `emporion reconcile` as a merchant runs them: real Tryton, sandbox shop, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
import yaml
from typer.testing import CliRunner

from emporion.cli import app
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import shop_api
from tests.integration.test_catalogue_sync import by_sku, salable_templates
from tests.integration.test_cli import write_config

pytestmark = pytest.mark.tryton
cli = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Run the command; its exit code and what it printed (stdout and stderr)."""
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def invoke_json(*args: str) -> tuple[int, object]:
    """Run a command with --json; its exit code and the JSON on stdout (logs go to stderr)."""
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def set_line_map(config: Path, table: dict[str, str]) -> None:
    """A strict value map from SKU to a product line on the catalogue flow (a missing SKU is an error)."""
    data = yaml.safe_load(config.read_text())
    data["flows"][0]["mapping"] = {"custom.line": {"from": "sku", "map": table, "strict": True}}
    config.write_text(yaml.safe_dump(data))


@pytest.fixture
def config(tmp_path: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop) -> Path:
    return write_config(
        tmp_path, tryton_server, sandbox_shop, sandbox_shop.consumer_key, sandbox_shop.consumer_secret
    )


def test_dead_letter_from_a_config_gap_is_retried_after_the_fix(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    codes = [t["code"] for t in anyio.run(salable_templates, tryton_server)]
    fixed, dropped = codes[0], codes[1]
    lines = {code: "garden" for code in codes[2:]}
    set_line_map(config, lines)  # two products have no entry in the strict map

    code, output = invoke("sync", "-c", str(config))
    assert code == 1, output
    code, letters = invoke_json("dead", "list", "-c", str(config))
    assert code == 0 and isinstance(letters, list)
    assert {letter["record"] for letter in letters} == {fixed, dropped}
    assert all(letter["field"] == "custom.line" and letter["status"] == "open" for letter in letters)
    assert all("not in the value map" in letter["reason"] for letter in letters)
    ident = next(letter["id"] for letter in letters if letter["record"] == fixed)
    other = next(letter["id"] for letter in letters if letter["record"] == dropped)

    code, output = invoke("dead", "list", "-c", str(config))
    assert code == 0 and fixed in output and dropped in output and "custom.line" in output
    code, output = invoke("dead", "show", str(ident), "-c", str(config))
    assert code == 0, output
    shown = json.loads(output)
    assert shown["payload"]["sku"] == fixed and shown["key"] and shown["attempts"] == 0
    api = shop_api(sandbox_shop)
    assert api.get("/products", params={"sku": fixed}).json() == []

    set_line_map(config, {**lines, fixed: "kitchen"})  # the merchant fixes the configuration
    code, output = invoke("dead", "retry", str(ident), "-c", str(config))
    assert code == 0 and "retried 1" in output, output
    code, output = invoke("run", "--once", "-c", str(config))
    assert code == 0, output
    arrived = by_sku(api, fixed)
    assert {m["key"]: m["value"] for m in arrived["meta_data"]}["line"] == "kitchen"

    code, listed = invoke_json("dead", "list", "-c", str(config), "--status", "all")
    statuses = {letter["id"]: letter["status"] for letter in listed}  # type: ignore[attr-defined]
    assert statuses == {ident: "retried", other: "open"}
    code, output = invoke("dead", "retry", str(ident), "-c", str(config))
    assert code == 1 and str(ident) in output  # no longer open
    code, output = invoke("dead", "discard", "--all", "--flow", "catalogue", "-c", str(config))
    assert code == 0 and "discarded 1" in output, output
    assert invoke_json("dead", "list", "-c", str(config)) == (0, [])

    assert invoke("dead", "retry", "-c", str(config))[0] == 2  # neither ids nor --all
    assert invoke("dead", "show", "999999", "-c", str(config))[0] == 2
    assert invoke("dead", "list", "--status", "lost", "-c", str(config))[0] == 2


def test_reconcile_command_reports_repairs_and_exits_by_the_result(
    config: Path, sandbox_shop: SandboxShop
) -> None:
    code, output = invoke("sync", "-c", str(config))
    assert code == 0, output
    code, output = invoke("reconcile", "-c", str(config))
    assert code == 0 and "reconcile catalogue: clean" in output, output

    api = shop_api(sandbox_shop)
    product = next(p for p in api.get("/products", params={"per_page": 20}).json() if p["type"] == "simple")
    api.put(f"/products/{product['id']}", json={"regular_price": "0.99"}).raise_for_status()
    code, output = invoke("reconcile", "-c", str(config))
    assert code == 1, output
    assert product["sku"] in output and "list_price" in output and "0.99" in output

    code, reports = invoke_json("reconcile", "--repair", "-c", str(config))
    assert code == 0, reports
    [report] = reports  # type: ignore[misc]
    assert report["status"] == "repaired" and report["counts"]["different"] == 1
    [item] = report["items"]
    assert item["label"] == product["sku"] and item["repaired"] is True
    assert item["fields"] == [{"field": "list_price", "expected": product["regular_price"], "actual": "0.99"}]

    code, output = invoke("run", "--once", "-c", str(config))
    assert code == 0, output
    assert by_sku(api, product["sku"])["regular_price"] == product["regular_price"]
    code, output = invoke("reconcile", "-c", str(config), "--flow", "catalogue")
    assert code == 0 and "clean" in output, output
    assert invoke("reconcile", "-c", str(config), "--flow", "nope")[0] == 2
