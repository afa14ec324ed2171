"""`emporion run -c config` as a real child process against a real Tryton and the sandbox shop.

Shared by the tests that need the whole program running (the SIGKILL chaos test, the browser tests): a
configuration with a catalogue flow (Tryton into the shop) and an order flow (the shop's orders back into
Tryton), and the process itself in its own process group, started, stopped or killed as one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import yaml

from emporion_devkit.erp.tryton_server import free_port
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton

CATALOGUE = "catalogue"
ORDERS = "orders"
REFERENCE_PREFIX = "WEB-"


def write_config(
    directory: Path,
    tryton: RunningTryton,
    shop: SandboxShop,
    state_url: str,
    console: dict[str, Any] | None = None,
) -> Path:
    """The configuration: Tryton's catalogue into the sandbox shop, the shop's orders back into Tryton.

    `console` goes into `server.console` (e.g. `{"secure_cookies": False}` for a browser on plain HTTP).
    """
    secrets = directory / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    for name, value in {
        "tryton": tryton.password,
        "shop-key": shop.consumer_key,
        "shop-secret": shop.consumer_secret,
    }.items():
        (secrets / name).write_text(value, encoding="utf-8")
        (secrets / name).chmod(0o600)
    port = free_port()
    config = {
        "version": 1,
        "state": {"url": state_url},
        "logging": {"format": "json", "level": "info"},
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            **({"console": console} if console else {}),
        },
        "connections": {
            "erp": {
                "type": "tryton",
                "url": tryton.url,
                "database": tryton.database,
                "username": tryton.user,
                "password": f"file:{secrets / 'tryton'}",
                "price_lists": ["Wholesale"],
                "sale_price_list": "Promotions",
                "custom_fields": {"ean": "product.ean"},
            },
            "shop": {
                "type": "woocommerce",
                "url": shop.base_url,
                "consumer_key": f"file:{secrets / 'shop-key'}",
                "consumer_secret": f"file:{secrets / 'shop-secret'}",
                "webhooks": True,
            },
        },
        "flows": [
            {
                "name": CATALOGUE,
                "source": "erp",
                "target": "shop",
                "entities": ["category", "product"],
                "poll_interval": 1,
                "batch_size": 10,  # many small batches: many moments to be killed between
                "warehouses": ["WH"],
                "safety_stock": 1,
            },
            {
                "name": ORDERS,
                "source": "shop",
                "target": "erp",
                "entities": ["order"],
                "poll_interval": 1,
                "batch_size": 5,
                "orders": {
                    "reference_prefix": REFERENCE_PREFIX,
                    "warehouse": "WH",
                    "shortage": "accept",
                    "carriers": {"*": "DHL"},
                    "payment_methods": {
                        "stripe": "Card",
                        "paypal": "Card",
                        "bacs": "Bank transfer",
                        "cod": "Bank transfer",
                    },
                },
            },
        ],
    }
    path = directory / "emporion.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class EmporionProcess:
    """`emporion run -c config` as a child in its own process group: started, SIGKILLed, started again."""

    config: Path
    log_path: Path
    state_url: str
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the engine (webhook server included); its output is appended to the log file."""
        assert self.process is None, "already running"
        self._log = self._log or self.log_path.open("ab")
        self._log.write(f"--- start {self.starts + 1}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emporion", "run", "-c", str(self.config)],
            cwd=self.config.parent,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
        self.starts += 1

    async def ready(self, seconds: float = 90.0) -> float:
        """Wait until the engine's server answers /healthz (startup is slow on a busy machine); seconds."""
        port = yaml.safe_load(self.config.read_text(encoding="utf-8"))["server"]["port"]
        start = time.monotonic()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            while time.monotonic() - start < seconds:
                assert self.alive(), f"emporion exited on its own:\n{self.tail()}"
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return time.monotonic() - start
                except httpx.TransportError:
                    pass
                await anyio.sleep(0.05)
        raise AssertionError(f"emporion did not come up in {seconds:.0f} s:\n{self.tail()}")

    def alive(self) -> bool:
        """Whether the process runs (a crash on its own is a failure of the test, not chaos)."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no graceful shutdown."""
        assert self.process is not None, "not running"
        returncode = self.process.poll()
        assert returncode is None, f"emporion exited on its own with {returncode}; see {self.log_path}"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> int:
        """Stop gracefully (Ctrl-C); the exit code."""
        assert self.process is not None, "not running"
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(timeout=30)
        self.process = None
        return code

    def close(self) -> None:
        """Kill what is left (after a failure) and close the log."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None
        if self._log:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        if self._log:
            self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])
