"""Install the example connector the way pip would: a dist-info with its entry point, on sys.path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emporion.connectors import registry

PACKAGE_ROOT = Path(__file__).resolve().parent  # holds emporion_minishop/
ENTRY_POINTS = "[emporion.connectors]\nminishop = emporion_minishop.plugin:PLUGIN\n"
METADATA = "Metadata-Version: 2.1\nName: emporion-minishop\nVersion: 0.1\n"


def write_dist_info(site: Path) -> Path:
    """Write `emporion_minishop-0.1.dist-info` (METADATA, entry_points.txt) into `site`; the directory."""
    dist_info = site / "emporion_minishop-0.1.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(METADATA)
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    return dist_info


def search_path(site: Path) -> list[str]:
    """The directories a process needs on its path to find the installed connector."""
    return [str(site), str(PACKAGE_ROOT)]


def install(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the connector importable and discoverable here and in the processes this one starts.

    Undone with `monkeypatch.undo()` (then call `registry.plugins.cache_clear()` again).
    """
    write_dist_info(site)
    for entry in reversed(search_path(site)):
        monkeypatch.syspath_prepend(entry)
    inherited = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([*search_path(site), *([inherited] if inherited else [])])
    )
    registry.plugins.cache_clear()
