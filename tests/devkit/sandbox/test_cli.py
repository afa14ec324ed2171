"""The command line entry: prints its URL and keys, serves the API, keeps the shop in its file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


def start(db: Path, *extra: str, wanted: str = "") -> tuple[subprocess.Popen[str], dict[str, str]]:
    module = "emporion_devkit.sandbox.woocommerce"
    command = [sys.executable, "-m", module, "--port", "0", "--db", str(db), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed: dict[str, str] = {}
    assert process.stdout is not None
    while "database" not in printed or (wanted and wanted not in printed):
        line = process.stdout.readline()
        assert line, "the sandbox exited before printing its URL and keys"
        label, _, value = line.partition(":")
        printed[label.strip()] = value.strip()
    return process, printed


def test_cli_serves_and_keeps_the_shop(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    process, printed = start(
        db, "--consumer-key", "ck_cli", "--consumer-secret", "cs_cli", "--simulate-orders", "0"
    )
    try:
        assert printed["consumer key"] == "ck_cli" and printed["consumer secret"] == "cs_cli"
        api = printed["REST API"]
        assert api == printed["WooCommerce sandbox"] + "/wp-json/wc/v3"
        auth = {"auth": ("ck_cli", "cs_cli"), "headers": {"X-Forwarded-Proto": "https"}}
        created = httpx.post(api + "/products", json={"name": "From the CLI"}, **auth)  # type: ignore[arg-type]
        assert created.status_code == 201
    finally:
        process.terminate()
        process.wait(timeout=10)
    process, printed = start(
        db, "--consumer-key", "ck_cli", "--consumer-secret", "cs_cli", "--simulate-orders", "20"
    )
    try:
        auth = {"auth": ("ck_cli", "cs_cli"), "headers": {"X-Forwarded-Proto": "https"}}
        listed = httpx.get(printed["REST API"] + "/products", **auth)  # type: ignore[arg-type]
        assert [p["name"] for p in listed.json()] == ["From the CLI"]
        stock = {"name": "Sellable", "regular_price": "3.00", "manage_stock": True, "stock_quantity": 1000}
        httpx.post(printed["REST API"] + "/products", json=stock, **auth)  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        orders = 0
        while orders < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = httpx.get(printed["REST API"] + "/orders", **auth)  # type: ignore[arg-type]
            orders = int(answer.headers["X-WP-Total"])
        assert orders >= 3
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_serves_under_the_latency_model(tmp_path: Path) -> None:
    flags = ("--latency", "wc10", "--latency-scale", "3", "--latency-time-scale", "0.01")
    process, printed = start(tmp_path / "slow.sqlite", *flags, wanted="latency model")
    try:
        assert printed["latency model"] == "wc10 x3, 5 workers"
        auth = {
            "auth": (printed["consumer key"], printed["consumer secret"]),
            "headers": {"X-Forwarded-Proto": "https"},
        }
        base = printed["WooCommerce sandbox"]
        created = httpx.post(base + "/wp-json/wc/v3/products", json={"name": "Slow"}, **auth)  # type: ignore[arg-type]
        model = httpx.get(base + "/__sandbox/latency", **auth).json()  # type: ignore[arg-type]
        assert created.status_code == 201
        assert (model["name"], model["scale"], model["time_scale"], model["requests"]) == ("wc10", 3, 0.01, 1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    refused = subprocess.run(
        [sys.executable, "-m", "emporion_devkit.sandbox.woocommerce", "--port", "0", "--latency", "wc3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "unknown latency profile 'wc3'" in refused.stderr
