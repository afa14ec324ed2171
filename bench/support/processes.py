"""Stopping a server process the benchmarks or the tests started: asked to end, killed if it hangs."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes], grace_seconds: float = 20.0) -> None:
    """Terminate `process`, wait `grace_seconds` for it to end, else kill it; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
