"""The connector boundary: outside `connectors/` no system is named, no connector reached past its roles."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import emporion

PACKAGE = Path(emporion.__file__).parent
SYSTEM_NAMES = re.compile(r"woocommerce|tryton|wc_", re.IGNORECASE)
CONNECTOR_WORDS = re.compile(r"connector|\bsource\b|\btarget\b|\bshop\b|\berp\b|pool\.get", re.IGNORECASE)


def _core_modules() -> list[Path]:
    """Every module of the runtime package outside the connector folders."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "connectors" not in p.relative_to(PACKAGE).parts)


def test_no_module_outside_the_connectors_names_a_system() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in _core_modules()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SYSTEM_NAMES.search(line)
    ]
    assert found == []


def test_no_connector_is_reached_through_getattr_any_or_type_ignore() -> None:
    found = []
    for path in _core_modules():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                subject = ast.unparse(node.args[0]) if node.args else ""
                if CONNECTOR_WORDS.search(subject):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: getattr({subject}, …)")
            if isinstance(node, ast.AnnAssign | ast.arg):
                annotation = node.annotation
                name = ast.unparse(node.target) if isinstance(node, ast.AnnAssign) else node.arg
                typed_any = annotation is not None and ast.unparse(annotation) == "Any"
                if typed_any and CONNECTOR_WORDS.search(name):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}: Any")
        for number, line in enumerate(lines, 1):
            if "type: ignore" in line and CONNECTOR_WORDS.search(line.split("#")[0]):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_runtime_package_carries_no_dev_kit() -> None:
    assert not any((PACKAGE / name).exists() for name in ("sandbox", "demo", "erp"))


def test_importing_the_engine_loads_no_system_but_the_plugins_settings() -> None:
    code = (
        "import sys, emporion.config, emporion.engine.worker\n"
        "heavy = [m for m in sys.modules if m.startswith('emporion.connectors.') and m.count('.') > 2\n"
        "         and not m.endswith(('.plugin', '.settings')) and '.settings.' not in m]\n"
        "print(','.join(sorted(heavy)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
