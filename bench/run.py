"""Runs one benchmark scenario and prints its figures (a Rich summary, or JSON with --json).

    python bench/run.py SCENARIO [--size N] [--json] [--strict] [--latency S] [--rate R] [-o KEY=VALUE]
    python bench/run.py naive --size 1000 --model wc10 [--model-scale 3] [--time-scale 0.5] --json

Scenarios are the modules in bench/scenarios/; each defines DEFAULT_SIZE and run(size, options).
Exit code 0, or 1 when a target is missed and --strict is given; 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.support.measure import machine  # noqa: E402

SCENARIOS = ROOT / "bench" / "scenarios"


def scenario_names() -> list[str]:
    """The scenario modules present in bench/scenarios/."""
    modules = pkgutil.iter_modules([str(SCENARIOS)])
    return sorted(info.name for info in modules if not info.name.startswith("_"))


def load(name: str) -> ModuleType:
    """Import a scenario module."""
    return importlib.import_module(f"bench.scenarios.{name}")


def summary(name: str) -> str:
    """The first line of a scenario's docstring, without importing what it needs at run time."""
    text = (SCENARIOS / f"{name}.py").read_text(encoding="utf-8")
    start = text.find('"""')
    return text[start + 3 : text.find("\n", start)].strip().rstrip('"').strip() if start >= 0 else ""


def _option(text: str) -> tuple[str, Any]:
    """Parse one `-o KEY=VALUE` (the value as JSON when it is JSON)."""
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def parser() -> argparse.ArgumentParser:
    """The command line, listing the scenarios found."""
    names = scenario_names()
    listing = "\n".join(f"  {name:<10} {summary(name)}" for name in names)
    cli = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Run one emporion benchmark scenario.",
        epilog=f"scenarios:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("scenario", choices=names, metavar="SCENARIO", help="one of: " + ", ".join(names))
    cli.add_argument("--size", type=int, help="catalogue size / number of events (default: the scenario's)")
    cli.add_argument("--json", action="store_true", help="print the result as JSON")
    cli.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    cli.add_argument("--latency", type=float, help="seconds the sandbox waits before each answer")
    cli.add_argument("--rate", type=float, help="events per second (changes, orders)")
    cli.add_argument("--duration", type=float, help="seconds of sustained load (changes, orders)")
    cli.add_argument("--source", choices=["synthetic", "tryton"], help="catalogue source (catalog, noop)")
    cli.add_argument("--workers", type=int, help="number of workers (scale)")
    cli.add_argument("--model", help="sandbox latency model: wc10 (WooCommerce 10 on 2 cores) or none")
    cli.add_argument("--model-scale", type=float, help="cost factor of the latency model (3 = 3x slower)")
    cli.add_argument("--time-scale", type=float, help="wall seconds per model second (0.5 = twice as fast)")
    cli.add_argument("-o", "--option", type=_option, action="append", default=[], metavar="KEY=VALUE")
    return cli


def render(name: str, result: dict[str, Any]) -> None:
    """A Rich summary: the figures, then the targets."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    figures = Table(title=f"bench {name}", show_header=False)
    for key, value in result.items():
        if key in ("targets", "machine"):
            continue
        text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        figures.add_row(key, text if len(text) < 160 else text[:157] + "...")
    console.print(figures)
    targets = Table(title="targets")
    for column in ("target", "value", "limit", "met"):
        targets.add_column(column)
    for key, entry in result.get("targets", {}).items():
        met = "[green]yes[/]" if entry["met"] else "[red]no[/]"
        targets.add_row(key, str(entry["value"]), str(entry["target"]), met)
    console.print(targets)


def main(argv: list[str] | None = None) -> int:
    """Run the scenario; returns the exit code."""
    args = parser().parse_args(argv)
    module = load(args.scenario)
    options: dict[str, Any] = dict(args.option)
    for key in ("latency", "rate", "duration", "source", "workers", "model", "model_scale", "time_scale"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    size = args.size if args.size is not None else module.DEFAULT_SIZE
    began = time.perf_counter()
    result = module.run(size, options)
    result = {
        "scenario": args.scenario,
        **result,
        "total_s": round(time.perf_counter() - began, 1),
        "command": " ".join(["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        render(args.scenario, result)
    missed = [key for key, entry in result.get("targets", {}).items() if not entry["met"]]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
