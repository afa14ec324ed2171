"""A configuration or state database a person must fix ends a command with one line and exit 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emporion.cli import app

runner = CliRunner()
FLOWS = """
connections:
  erp: {type: memory, system: cli-errors-erp}
  shop: {type: memory, system: cli-errors-shop}
flows:
  - name: products
    source: erp
    target: shop
    entities: [product]
"""


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_line(output: str, *expected: str) -> None:
    """No traceback, and each expected text on one line of its own."""
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    for text in expected:
        assert any(text in line for line in lines), (text, lines)


def test_a_configuration_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "emporion.yaml"
    config.write_bytes(b'state: {url: "sqlite:///state.db"}\n# caf\xe9 in Latin-1\n' + FLOWS.encode())
    result = runner.invoke(app, ["config", "validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert_one_line(result.output, "line 2: the file is not UTF-8 text (byte 0xe9)")


@pytest.mark.parametrize("command", [["config", "validate"], ["plan"]])
def test_a_template_or_expression_that_does_not_parse_is_refused_with_its_place(
    tmp_path: Path, command: list[str]
) -> None:
    config = tmp_path / "emporion.yaml"
    mapping = """    mapping:
      name: {template: "{{ name "}
      sku: {expression: "sku |"}
    filter: {expression: "list_price >"}
"""
    config.write_text(f'state: {{url: "sqlite:///{tmp_path}/state.db"}}\n{FLOWS}{mapping}', encoding="utf-8")
    result = runner.invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert_one_line(
        result.output,
        "flows[0].mapping.name.template: not a valid Jinja2 template at line 1 of the template",
        "flows[0].mapping.sku.expression: not a valid Jinja2 expression",
        "flows[0].filter.expression: not a valid Jinja2 expression",
    )


def test_run_with_an_unreachable_postgresql_state_database_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "emporion.yaml"
    url = f"postgresql://emporion:secret-pw@127.0.0.1:{closed_port()}/state"
    config.write_text(f'state: {{url: "{url}"}}\n{FLOWS}', encoding="utf-8")
    result = runner.invoke(app, ["run", "--once", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert_one_line(result.output, "the state database cannot be used: connection failed")
    assert len(result.output.strip().splitlines()) == 1 and "secret-pw" not in result.output
