"""The Odoo guide says what the code does.

Every YAML example in `docs/connectors/odoo.md` is a configuration emporion accepts; its worked
example is the configuration `emporion demo --erp odoo` writes (so the guide cannot drift from the
demo); the version table is the connector's profiles; and the `emporion check` lines it quotes are
the lines the connector prints against the dev kit's Odoo 19 sandbox (with a group taken away for
the failing one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from emporion.config import parse_settings
from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.profiles import PROFILES
from emporion.connectors.odoo.settings import OdooConnection
from emporion_devkit.demo import odoo_config
from emporion_devkit.sandbox.odoo import OdooSandbox

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "connectors" / "odoo.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
ANY_BLOCK = re.compile(r"^```\w*\n(.*?)^```", re.MULTILINE | re.DOTALL)
WORKED = "## Worked example"
SECRETS = {"ODOO_API_KEY": "not-the-real-key", "SHOP_KEY": "ck_example", "SHOP_SECRET": "cs_example"}
SANDBOX_KEY = "docs-odoo-api-key-00000001"


def guide() -> str:
    """The text of the Odoo guide."""
    return GUIDE.read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[str]:
    """The guide's YAML examples, in order."""
    return YAML_BLOCK.findall(text)


@pytest.fixture(autouse=True)
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the examples' `env:` secrets name."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("number", range(len(yaml_blocks(guide()))))
def test_each_yaml_example_is_a_configuration_emporion_accepts(number: int) -> None:
    """A whole configuration (never a fragment), valid, with at least one Odoo connection."""
    block = yaml_blocks(guide())[number]
    data = yaml.safe_load(block)
    assert isinstance(data, dict) and "connections" in data, "an example is a whole configuration"
    settings = parse_settings(block)
    assert any(isinstance(c, OdooConnection) for c in settings.connections.values())


def test_the_guide_has_examples_and_a_worked_example() -> None:
    """At least the connection example and the worked example."""
    text = guide()
    assert len(yaml_blocks(text)) >= 2
    assert WORKED in text and yaml_blocks(text[text.index(WORKED) :])


def test_the_worked_example_is_the_demos_configuration() -> None:
    """The connections and flows are what `emporion demo --erp odoo` writes (addresses and secrets aside)."""
    text = guide()
    (block,) = yaml_blocks(text[text.index(WORKED) :])
    documented = yaml.safe_load(block)
    erp = documented["connections"]["erp"]
    assert erp.pop("api_key") == "env:ODOO_API_KEY"
    assert erp == {
        k: v
        for k, v in odoo_config.odoo_connection(erp["url"], erp["database"], "x").items()
        if k != "api_key"
    }
    shop = documented["connections"]["shop"]
    assert shop == odoo_config.shop_connection(
        shop["url"], "env:SHOP_KEY", "env:SHOP_SECRET", webhooks=shop["webhooks"]
    )
    assert documented["flows"] == [odoo_config.catalogue_flow(), odoo_config.order_flow()]


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """The first Markdown table after `heading`: first cell -> the other cells (backticks removed)."""
    section = text[text.index(heading) :]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            cells = [cell.strip().replace("`", "") for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
        elif rows:
            break
    return rows


def test_the_version_table_is_the_connectors_profiles() -> None:
    """Each row of the guide's version table names what the profile of 17, 18 and 19 holds."""
    rows = table_rows(guide(), "## Versions: 17, 18 and 19")
    versions = [int(v) for v in rows["what"]]
    assert versions == [17, 18, 19]
    fields = {
        "sale order line taxes": "sale_line_taxes",
        "sale order line unit": "sale_line_uom",
        "a user's groups": "user_groups",
        "stock context: warehouse": "stock_warehouse_context",
        "access probe": "access_method",
        "return wizard's action": "return_picking_method",
    }
    for row, attribute in fields.items():
        assert rows[row] == [getattr(PROFILES[v], attribute) for v in versions], row
    api = {"jsonrpc": "JSON-RPC", "json2": "JSON-2"}
    assert rows["API (api: auto)"] == [api[PROFILES[v].api] for v in versions]
    storable = []
    for version in versions:
        ((field, _, value),) = PROFILES[version].storable_domain
        storable.append(field if value is True else f"{field} = '{value}'")
    assert rows["storable products"] == storable


def quoted_check_lines() -> list[str]:
    """The `ok`/`FAIL` lines the guide quotes in its check section."""
    text = guide()
    section = text[text.index("## `emporion check`") :]
    section = section[: section.index("\n## ", 1)]
    lines = [line.strip() for block in ANY_BLOCK.findall(section) for line in block.splitlines()]
    return [line for line in lines if line.startswith(("ok ", "FAIL "))]


@pytest.fixture
def odoo_19(tmp_path: Path) -> Iterator[OdooSandbox]:
    """The dev kit's Odoo 19 sandbox, its key expiring in 90 days as the demo makes it."""
    expires = datetime.now(UTC) + timedelta(days=90)
    sandbox = OdooSandbox(tmp_path / "odoo.sqlite", version=19, api_key=SANDBOX_KEY, key_expires=expires)
    with sandbox:
        yield sandbox


async def printed(sandbox: OdooSandbox) -> list[str]:
    """`emporion check` of the demo's connection to the sandbox, as the command prints its lines."""
    data: dict[str, Any] = odoo_config.odoo_connection(sandbox.base_url, sandbox.database, SANDBOX_KEY)
    connector = OdooConnector("erp", OdooConnection.model_validate(data))
    try:
        results = await connector.check()
    finally:
        await connector.close()
    return [f"{'ok' if r.ok else 'FAIL'} erp: {r.name} — {r.detail}" for r in results]


def without_date(line: str) -> str:
    """A check line without the key's expiry moment (the day it runs decides it)."""
    return re.sub(r", on \d{4}-\d\d-\d\d \d\d:\d\d UTC$", "", line)


async def test_the_check_lines_quoted_are_what_check_prints(odoo_19: OdooSandbox) -> None:
    """Every `ok` line is printed for the demo's sandbox; the `FAIL` line once the sales group is gone."""
    quoted = [without_date(line) for line in quoted_check_lines()]
    assert len(quoted) >= 6
    lines = [without_date(line) for line in await printed(odoo_19)]
    assert all(line in lines for line in quoted if line.startswith("ok ")), (quoted, lines)
    sales = odoo_19.ids["groups"]["sales_team.group_sale_salesman_all_leads"]
    odoo_19.write("res.users", [odoo_19.ids["integration"]], {"group_ids": [(3, sales)]})
    lines = await printed(odoo_19)
    failed = [line for line in quoted if line.startswith("FAIL ")]
    assert failed and all(line in lines for line in failed), (failed, lines)
