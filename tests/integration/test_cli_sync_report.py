"""The report `emporion sync` prints says whether both sides were compared."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli_failures import erp, invoke, write_config

__all__ = ["erp"]  # the memory ERP of three products, used by every test here


def report_table(output: str) -> tuple[str, list[list[str]]]:
    """The report table's title and its rows' cells."""
    lines = output.splitlines()
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines if line.startswith("│")]
    return lines[0].strip(), rows


def test_a_sync_without_verification_is_not_titled_a_verification(tmp_path: Path) -> None:
    config = write_config(tmp_path, "{type: memory, system: cli-sync-report-shop}")
    result = invoke("sync", "--no-verify", "-c", str(config))
    assert result.exit_code == 0, result.output
    title, rows = report_table(result.stdout)
    assert title == "sync of flow catalogue (not verified)" and "verification" not in result.stdout
    assert [row[-2:] for row in rows] == [["-", "-"]] * 2  # nothing compared: no missing, no differ

    result = invoke("sync", "-c", str(config))
    assert result.exit_code == 0, result.output
    title, rows = report_table(result.stdout)
    assert title == "verification of flow catalogue"
    assert [row[-2:] for row in rows] == [["0", "0"]] * 2
