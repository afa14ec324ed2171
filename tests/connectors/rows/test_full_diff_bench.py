"""The full-diff benchmark runs at a small size on real PostgreSQL and MariaDB and reports sane figures.

The benchmark asserts itself that each poll reports exactly the SKUs the ERP changed, deleted and
added; this test checks that it keeps running and that its figures are complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("via", ["connector", "library"])
def test_the_benchmark_finds_exactly_the_changes_on_both_servers(
    via: str, pg_url: str, mariadb_url: str
) -> None:
    # the fixtures make sure both servers answer; the benchmark makes its own databases on them
    command = [
        sys.executable, "bench/full_diff.py", "--rows", "2000", "--cycles", "2", "--page-size", "300",
        "--via", via, "--pg", pg_url, "--mariadb", mariadb_url,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["via"] == via
    for database in ("postgresql", "mariadb"):
        first, *polls = report[database]["cycles"]
        assert first["stock_rows"] == 2000 and first["reported_skus"] == 0  # the first poll starts the feed
        # 20 stock rows (1%) moved, the stock of 5 SKUs deleted, 5 articles added
        assert [p["reported_skus"] for p in polls] == [30, 30]
        assert all(p["cursor_bytes"] > 0 and p["cpu_s"] > 0 and p["python_peak_mb"] > 0 for p in polls)
