"""What the real-shop server tests share: a server process that dies at start, with its log."""

from __future__ import annotations

import subprocess
from pathlib import Path


def dying_server(log: Path, script: str) -> subprocess.Popen[bytes]:
    """A node process that runs `script` (a server failing at start), its output written to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(["node", "-e", script], stdout=out, stderr=subprocess.STDOUT)
