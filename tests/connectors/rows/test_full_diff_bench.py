"""The full-diff benchmark runs at a small size on real PostgreSQL and MariaDB and reports sane figures.

The benchmark asserts itself that each poll reports exactly the SKUs the ERP changed, deleted and
added; this test checks that it keeps running and that its figures are complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_benchmark_finds_exactly_the_changes_on_both_servers(pg_url: str, mariadb_url: str) -> None:
    # the fixtures make sure both servers answer; the benchmark makes its own databases on them
    command = [
        sys.executable, "bench/full_diff.py", "--rows", "2000", "--cycles", "2", "--page-size", "300",
        "--pg", pg_url, "--mariadb", mariadb_url,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    for database in ("postgresql", "mariadb"):
        initial, *polls = report[database]["cycles"]
        assert initial["rows"] == 2000 and initial["changed_skus"] == 1000
        assert [p["changed_skus"] for p in polls] == [25, 25]  # 20 rows (1%) moved, 5 SKUs added
        assert [p["deleted_skus"] for p in polls] == [5, 5]
        assert all(p["cursor_bytes"] > 0 and p["cpu_s"] > 0 and p["python_peak_mb"] > 0 for p in polls)
