"""Memory of a first read of a large drop: 20,000 articles and 100,000 stock rows (5 per article).

Run: `.venv/bin/python -m tests.connectors.files.memory_probe [--top N]`. It writes the two exports
into a temporary folder, starts the product feed (`changes(None)`: the snapshots) and scans every
product, and prints time and the process's peak RSS per step; with `--top N` (0 or more) also the
peak of traced Python memory (tracemalloc) and the N lines holding the most after each step.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from emporion.connectors.files.connector import FilesConnector
from tests.connectors.files.erp import settings

ARTICLES = 20_000
WAREHOUSES = ("Aussenlager", "Hauptlager", "Filiale", "Versand", "Retouren")


def write_drop(root: Path) -> None:
    """A full export of the articles and of the stock, as a German ERP writes them (line by line, so
    that writing them does not count in the peak)."""
    export = root / "export"
    export.mkdir(parents=True)
    with (
        open(export / "artikel_1.csv", "w", encoding="cp1252", newline="\r\n") as articles,
        open(export / "bestand_1.csv", "w", encoding="cp1252", newline="\r\n") as stock,
    ):
        articles.write("ArtNr;Bezeichnung;VK\n")
        stock.write("Id;ArtNr;Lager;Menge\n")
        for number in range(ARTICLES):
            sku = f"A{number:06d}"
            articles.write(f"{sku};Artikel Nummer {number} aus Edelstahl;{number % 500},{number % 100:02d}\n")
            for place, warehouse in enumerate(WAREHOUSES):
                stock.write(f"{sku}-{place};{sku};{warehouse};{(number + place) % 40}\n")


def rss_mb() -> float:
    """The process's peak resident set so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def probe(root: Path, top: int) -> None:
    """Start the feed and scan every product, printing time and memory per step."""
    connector = FilesConnector("drop", settings(str(root), page_size=500))
    print(f"before: process peak RSS {rss_mb():.0f} MB (the interpreter and the imports)")
    if top >= 0:
        tracemalloc.start(10)
    for step in ("start", "scan"):
        if top >= 0:
            tracemalloc.reset_peak()
        began = time.perf_counter()
        if step == "start":
            await connector.changes("product", None)
        else:
            count = 0
            async for page in connector.scan("product"):
                count += len(page)
            assert count == ARTICLES, count
        line = f"{step}: {time.perf_counter() - began:.1f} s, process peak RSS {rss_mb():.0f} MB"
        if top >= 0:
            current, peak = tracemalloc.get_traced_memory()
            line += f", traced peak {peak / 2**20:.0f} MB, held after {current / 2**20:.0f} MB"
        print(line)
        if top > 0:
            for stat in tracemalloc.take_snapshot().statistics("lineno")[:top]:
                print(f"   {stat.size / 2**20:7.1f} MB  {stat.traceback}")
    await connector.close()


def main() -> None:
    """Parse the arguments and run the probe in a temporary folder."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--top",
        type=int,
        default=-1,
        help="trace allocations (tracemalloc; slower, and its own memory counts in RSS) and print the "
        "N lines holding the most after each step; without it only time and peak RSS are measured",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emporion-memory-") as folder:
        write_drop(Path(folder))
        asyncio.run(probe(Path(folder), arguments.top))


if __name__ == "__main__":
    main()
