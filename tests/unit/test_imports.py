"""The engine stands on its own: importing it never loads the HTTP server or the operations console.

Each import runs in a fresh interpreter, so that modules other tests have loaded cannot hide a leak.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ENGINE_MODULES = ["emporion.engine.worker", "emporion.engine.sync", "emporion.engine.flow"]
FORBIDDEN = ("emporion.server", "emporion.ops", "emporion.runtime", "emporion.cli")
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(name for name in sys.modules if name.startswith("emporion"))))
"""


def loaded_after_import(module: str) -> list[str]:
    """The emporion modules a fresh interpreter holds after importing `module`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_importing_the_engine_leaves_the_server_and_console_out(module: str) -> None:
    loaded = loaded_after_import(module)
    assert module in loaded
    leaked = [name for name in loaded if name.startswith(FORBIDDEN)]
    assert leaked == [], f"importing {module} loaded {leaked}"


def test_the_runtime_is_where_engine_and_server_meet() -> None:
    loaded = loaded_after_import("emporion.runtime")
    assert "emporion.engine.worker" in loaded and "emporion.server.app" in loaded
