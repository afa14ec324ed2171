"""Draws docs/performance.png: items/s and peak RSS of the catalogue sync against catalogue size.

    python bench/chart.py [RESULTS ...] [--out docs/performance.png]

RESULTS are JSON files written by `python bench/run.py catalog --size N --json` (default: every
docs/performance/catalog-*.json). Needs the `bench` extra (matplotlib).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = ROOT / "docs" / "performance"  # the figures docs/performance.md quotes


def load(paths: list[Path]) -> list[dict[str, Any]]:
    """Catalogue results that ran to the end, smallest catalogue first."""
    results = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        synthetic = data.get("scenario") == "catalog" and data.get("source") == "synthetic"
        if synthetic and data.get("items_per_s"):
            results.append(data)
    return sorted(results, key=lambda data: data["size"])


def draw(results: list[dict[str, Any]], out: Path) -> None:
    """Two panels sharing the size axis (log scale): throughput, and peak memory against its target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in results]
    figure, (rate, memory) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    rate.plot(sizes, [r["items_per_s"] for r in results], marker="o", label="products/s")
    rate.plot(sizes, [r["records_per_s"] for r in results], marker="s", label="records/s (with variants)")
    rate.set(xscale="log", xlabel="catalogue size (products)", ylabel="per second", title="Initial sync rate")
    rate.set_ylim(bottom=0)
    rate.legend()
    rate.grid(True, alpha=0.3)
    memory.plot(sizes, [r["peak_rss_mb"] for r in results], marker="o", color="tab:green", label="peak RSS")
    memory.axhline(300, color="tab:red", linestyle="--", label="target 300 MB")
    memory.set(xscale="log", xlabel="catalogue size (products)", ylabel="MB", title="emporion peak RSS")
    memory.set_ylim(0, 350)
    memory.legend()
    memory.grid(True, alpha=0.3)
    machine = results[-1].get("machine", {})
    figure.suptitle(
        f"emporion catalogue sync into the WooCommerce sandbox ({machine.get('cpus', '?')} cores, "
        f"{machine.get('cpu', '')}, Python {machine.get('python', '')})",
        fontsize=10,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> None:
    """Draw the chart from the given (or the committed) results."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("results", nargs="*", type=Path, help="catalog result JSON files")
    cli.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.png")
    args = cli.parse_args(argv)
    paths = args.results or sorted(DEFAULT_RESULTS.glob("catalog-*.json"))
    results = load(paths)
    if not results:
        raise SystemExit("no catalogue results: run `bench/run.py catalog --size N --json > FILE` first")
    draw(results, args.out)
    print(f"{args.out}: {len(results)} catalogue sizes ({', '.join(str(r['size']) for r in results)})")


if __name__ == "__main__":
    main()
