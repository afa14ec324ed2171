"""Where benchmarks keep their files: `var/bench/` in the repository (caches survive, scratch does not)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "bench"


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh folder under var/bench/ for one run's databases, removed afterwards."""
    VAR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=VAR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
