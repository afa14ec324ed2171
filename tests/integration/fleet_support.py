"""Scale-out test helpers: a configuration file, `emporion worker`/`serve` processes, and their lease logs."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import file_connections
from tests.integration.process_support import free_port


@dataclass
class FleetProcess:
    """One `emporion` process of a fleet, logging JSON lines to its own file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    killed_at: float | None = None
    stopped_at: float | None = None

    @property
    def owner(self) -> str:
        """The name its leases and work claims carry (host:pid, as `worker_id()`)."""
        return f"{socket.gethostname()}:{self.popen.pid}"

    def events(self) -> list[dict[str, Any]]:
        """Its structured log lines (other output, such as the start banner, is skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def kill(self) -> None:
        """SIGKILL: no lease is given back, no batch finished."""
        self.killed_at = time.time()
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


def write_config(
    directory: Path,
    tryton: RunningTryton,
    shop: SandboxShop,
    state_url: str,
    *,
    flows: str,
    shop_options: str = "",
    lease_seconds: float = 10,
    work_lease_seconds: float = 15,
) -> Path:
    """A configuration file with secrets in files beside it; the server gets a free port."""
    connections = file_connections(directory, tryton, shop, webhook_secret="fleet-webhook-secret")
    port = free_port()
    config = directory / "emporion.yaml"
    config.write_text(
        f"""
state:
  url: {state_url}
  lease_seconds: {lease_seconds}
  work_lease_seconds: {work_lease_seconds}
logging: {{format: json, level: info}}
server: {{host: 127.0.0.1, port: {port}, public_url: "http://127.0.0.1:{port}"}}
{connections}{shop_options}
flows:
{flows}
"""
    )
    return config


def emporion(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one `emporion` command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "emporion", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(config: Path, command: str, name: str) -> FleetProcess:
    """Start `emporion COMMAND -c CONFIG` in the background, its output in `<name>.log` beside the config."""
    log = config.parent / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "emporion", command, "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    return FleetProcess(name, popen, log)


def stop(processes: list[FleetProcess]) -> None:
    """SIGTERM every live process (they give their leases back), then wait; SIGKILL stragglers."""
    for process in processes:
        if process.popen.poll() is None:
            process.stopped_at = time.time()
            process.popen.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Holding:
    """A process's hold on one lease, from its log: taken at `start`, given back or lost at `end`."""

    owner: str
    start: float
    end: float
    how: str = field(default="released")


def _at(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def holdings(processes: list[FleetProcess]) -> dict[str, list[Holding]]:
    """Every lease's holders over time, read from the processes' logs (a killed holder ends at its kill)."""
    found: dict[str, list[Holding]] = {}
    for process in processes:
        open_: dict[str, float] = {}
        for event in process.events():
            name = event.get("lease")
            if event.get("event") == "lease taken":
                open_[name] = _at(event)
            elif event.get("event") in ("lease released", "lease lost to another process") and name in open_:
                how = "released" if event["event"] == "lease released" else "lost"
                found.setdefault(name, []).append(Holding(process.name, open_.pop(name), _at(event), how))
        end = process.killed_at or process.stopped_at or time.time()
        for name, begun in open_.items():
            how = "killed" if process.killed_at else "open"
            found.setdefault(name, []).append(Holding(process.name, begun, end, how))
    for entries in found.values():
        entries.sort(key=lambda holding: holding.start)
    return found


def overlapping(found: dict[str, list[Holding]], tolerance: float = 0.2) -> list[str]:
    """Leases two processes held at once (the next holder began before the previous one ended)."""
    problems = []
    for name, entries in found.items():
        for before, after in itertools.pairwise(entries):
            if after.start < before.end - tolerance:
                problems.append(f"{name}: {before} and {after}")
    return problems
