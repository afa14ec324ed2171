"""The WooCommerce sandbox in its own process (so that its CPU is not counted as emporion's)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.support.measure import process_cpu_seconds
from bench.support.processes import stop_process
from emporion_devkit.erp.tryton_server import free_port

KEY, SECRET = "ck_bench", "cs_bench"


@dataclass
class SandboxProcess:
    """A running sandbox process: its URL, keys and pid."""

    process: subprocess.Popen[bytes]
    port: int
    consumer_key: str = KEY
    consumer_secret: str = SECRET

    @property
    def base_url(self) -> str:
        """The store URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The REST API root."""
        return self.base_url + "/wp-json/wc/v3"

    def client(self, timeout: float = 120) -> httpx.Client:
        """A REST client authenticating as WooCommerce allows behind a TLS proxy."""
        return httpx.Client(
            base_url=self.api_url,
            auth=(self.consumer_key, self.consumer_secret),
            headers={"X-Forwarded-Proto": "https"},
            timeout=timeout,
        )

    def set_latency(self, seconds: float) -> None:
        """Every API request waits `seconds` before it is answered (a slow host), 0 clears."""
        with self.client() as http:
            http.delete(self.base_url + "/__sandbox/faults").raise_for_status()
            if seconds > 0:
                answer = http.post(self.base_url + "/__sandbox/faults", json={"latency": seconds})
                answer.raise_for_status()

    def cpu_seconds(self) -> float:
        """CPU the sandbox process has used so far."""
        return process_cpu_seconds(self.process.pid)

    def count(self, path: str = "/products") -> int:
        """How many records a collection holds (X-WP-Total)."""
        with self.client() as http:
            answer = http.get(path, params={"per_page": 1})
            answer.raise_for_status()
            return int(answer.headers["X-WP-Total"])

    def get(self, path: str, **params: Any) -> Any:
        """GET a path of the API and return its JSON."""
        with self.client() as http:
            answer = http.get(path, params=params)
            answer.raise_for_status()
            return answer.json()


def model_options(options: dict[str, Any]) -> list[str]:
    """Sandbox command-line flags for a scenario's latency model options (`model`, `model_scale`, ...).

    `model: wc10` serves under the latency model calibrated on WooCommerce 10.0.2; `model_scale: 3` makes
    every cost three times higher; `time_scale: 0.5` runs the model twice as fast (wall = model x scale);
    `background: 0` turns the WP-Cron runs off.
    """
    model = options.get("model")
    if not model or model == "none":
        return []
    flags = ["--latency", str(model)]
    for key, flag in (
        ("model_scale", "--latency-scale"),
        ("time_scale", "--latency-time-scale"),
        ("model_workers", "--latency-workers"),
        ("background", "--latency-background"),
    ):
        if options.get(key) is not None:
            flags += [flag, str(options[key])]
    return flags


def model_figures(options: dict[str, Any]) -> dict[str, Any]:
    """The latency model a scenario ran on, for its JSON output."""
    if not options.get("model") or options.get("model") == "none":
        return {"model": None}
    return {
        "model": options["model"],
        "model_scale": float(options.get("model_scale", 1.0)),
        "time_scale": float(options.get("time_scale", 1.0)),
    }


@contextmanager
def sandbox_process(
    db: Path, latency: float = 0.0, options: list[str] | None = None
) -> Iterator[SandboxProcess]:
    """Start `python -m emporion_devkit.sandbox.woocommerce` on a file database; stop it afterwards."""
    port = free_port()
    module = "emporion_devkit.sandbox.woocommerce"
    command = [sys.executable, "-m", module, "--port", str(port), "--db", str(db)]
    command += ["--consumer-key", KEY, "--consumer-secret", SECRET, *(options or [])]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shop = SandboxProcess(process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(shop.api_url, timeout=2)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})") from None
                time.sleep(0.1)
        shop.set_latency(latency)
        yield shop
    finally:
        stop_process(process)
