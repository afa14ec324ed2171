"""Every benchmark scenario in bench/scenarios/ runs at a small size and reports complete, sane figures.

Speed targets are not checked here (they depend on the machine); that the benchmarks keep working is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    path.stem for path in (ROOT / "bench" / "scenarios").glob("*.py") if not path.stem.startswith("_")
)
# small runs: a few hundred products, a few seconds of load, a handful of orders
SMALL: dict[str, list[str]] = {
    "catalog": ["--size", "200"],
    "noop": ["--size", "200"],
    "naive": ["--size", "40", "--latency", "0.005"],
    "changes": ["--size", "60", "--rate", "10", "--duration", "5"],
    "orders": ["--size", "3", "--rate", "1"],
    "two_way": ["--size", "60", "-o", "changes=5"],
}
DEFAULT_SMALL = ["--size", "100"]
TIMEOUT_S = 900


def run_scenario(name: str) -> dict[str, Any]:
    """`python bench/run.py NAME --json` at a small size; its JSON output."""
    command = [sys.executable, "bench/run.py", name, "--json", *SMALL.get(name, DEFAULT_SMALL)]
    # its own session, so that a run that overstays is stopped with the servers it started
    process = subprocess.Popen(command, cwd=ROOT, stdout=PIPE, stderr=PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"bench/run.py {name} took more than {TIMEOUT_S} s:\n{stderr[-4000:]}")
    assert process.returncode == 0, f"bench/run.py {name} failed:\n{stdout[-2000:]}\n{stderr[-4000:]}"
    return json.loads(stdout)


def check_common(name: str, result: dict[str, Any]) -> None:
    """What every scenario reports: its name, machine, command and targets."""
    assert result["scenario"] == name
    assert result["machine"]["cpus"] >= 1 and result["total_s"] > 0
    assert result["command"].startswith(f"python bench/run.py {name}")
    assert result["targets"], "every scenario states its targets"
    for key, entry in result["targets"].items():
        assert set(entry) >= {"value", "target", "met"}, key
        assert isinstance(entry["met"], bool), key


def check_catalog(result: dict[str, Any]) -> None:
    """Every product reached the shop, in batches."""
    assert result["products"] == result["size"] == result["shop_products"] == 200
    assert result["variants"] == 80  # every tenth product has 4 variants
    assert result["failed"] == 0 and result["counts"]["product.created"] == 200
    assert 0 < result["requests_per_item"] < 1, "batches, not one request per product"
    assert result["items_per_s"] > 0 and result["cpu_us_per_item"] > 0 and result["peak_rss_mb"] > 0


def check_noop(result: dict[str, Any]) -> None:
    """An idle cycle queues and writes nothing; the sweep finds everything unchanged."""
    cycle = result["cycle"]
    assert len(result["cycles"]) >= 1 and cycle["queued"] == 0 and cycle["handled"] == 0
    assert cycle["shop_requests"] == 0, "nothing changed, so nothing is written to the shop"
    assert cycle["wall_s"] >= 0 and cycle["requests"] >= 0
    sweep = result["sweep"]
    assert sweep["counts"]["product.unchanged"] == 200 and sweep["shop_requests"] == 0


def check_naive(result: dict[str, Any]) -> None:
    """Both ways pushed the whole catalogue; emporion with fewer requests."""
    naive, emporion = result["naive"], result["emporion"]
    assert naive["products"] == emporion["products"] == 40
    assert naive["shop_products"] == emporion["shop_products"] == 40
    assert naive["errors"] == 0 and naive["requests_per_item"] >= 1
    assert emporion["requests_per_item"] < naive["requests_per_item"]
    assert result["speedup"] > 0


def check_changes(result: dict[str, Any]) -> None:
    """Changes were written to Tryton and reached the shop."""
    assert result["changes"] > 0 and result["delivered"] > 0
    assert result["delivered"] + result["not_delivered"] == result["changes"]
    assert result["latency_s"]["p50"] is not None and result["latency_s"]["p50"] >= 0


def check_orders(result: dict[str, Any]) -> None:
    """Orders became sales in Tryton, none twice."""
    assert result["orders_placed"] > 0 and result["sales_in_erp"] > 0
    assert result["duplicates"] == 0, "an order became two sales"
    assert result["orders_taken"] + result["not_taken"] == result["orders_placed"]
    assert result["emporion_cpu_s"] > 0
    # a Tryton that crashed was started again (exit code and log in the JSON): its CPU time is unknown
    assert result["tryton_cpu_s"] is None if result["tryton_crashes"] else result["tryton_cpu_s"] > 0
    assert all({"exit_code", "log_tail"} <= set(crash) for crash in result["tryton_crashes"])


def check_two_way(result: dict[str, Any]) -> None:
    """Each edit was written once, to the other system; the echo came back and was left alone; the
    pair's first run matched both full systems without creating anything."""
    one, two, first = result["one_way"], result["two_way"], result["first_run"]
    assert one["price_edits"] == 5 and one["writes_by_flow"] == {"catalogue": 5}
    assert two["price_edits"] == two["description_edits"] == 5
    assert two["writes_by_flow"] == {"catalogue": 5, "catalogue-back": 5}, "an echo was written"
    assert two["writes_per_change"] == 1.0 and two["written_twice"] == 0
    # each write's echo is read back and left alone, on its own or (when the feed catches it with the
    # edit of the same record, as on a loaded machine) together with that edit: never more than one each
    assert two["echoes_unchanged"] <= 10, "an echo was read back more than once"
    for figures in (one, two):
        assert figures["settle_s"] > 0 and figures["peak_rss_mb"] > 0
        assert figures["erp_requests_per_change"] > 0 and figures["shop_requests_per_change"] > 0
    assert first["failed"] == 0 and first["after"] == first["before"], "the first run created products"
    assert first["before"]["shop_products"] > 0
    assert first["plan"]["counts"]["catalogue-back.product.match"] == first["before"]["shop_products"]
    assert first["plan"]["wall_s"] > 0 and first["sync"]["wall_s"] > 0


CHECKS = {
    "catalog": check_catalog,
    "noop": check_noop,
    "naive": check_naive,
    "changes": check_changes,
    "orders": check_orders,
    "two_way": check_two_way,
}


def test_run_lists_every_scenario() -> None:
    """`bench/run.py --help` names every scenario module."""
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in SCENARIOS:
        assert name in done.stdout


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_runs_small(name: str) -> None:
    """The scenario runs at a small size and its figures are complete and sane."""
    result = run_scenario(name)
    check_common(name, result)
    if name in CHECKS:
        CHECKS[name](result)
