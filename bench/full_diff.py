"""Benchmark: full-diff change detection on a 100,000-row stock table, on PostgreSQL and MariaDB.

Creates a stock table (sku, warehouse, quantity; two warehouses per SKU) in a fresh database on each
server, then runs cycles of what the SQL connector's full-diff change feed does on each poll: load
the snapshot from the cursor text, page through the table (keyset paging on the primary key, one read
transaction per page, each page read in a thread), hash every row, diff per SKU against the snapshot,
and write the new snapshot into the cursor text. Between cycles the "ERP" changes about 1% of the
rows (quantities), deletes a few SKUs and adds a few; each cycle must report exactly those SKUs.

Prints one JSON object: per database and cycle, wall time, this process's CPU time, rows read, SKUs
reported changed and deleted (asserted equal to what was changed), the cursor's size, the process's
RSS, and the peak of Python allocations during a repeat of the cycle under tracemalloc (a repeat on
unchanged data, which must report nothing; traced separately because tracing slows the code it
measures). The database servers' own CPU is not counted.

    .venv/bin/python bench/full_diff.py [--rows 100000] [--cycles 5] [--change 0.01] [--page-size 5000]
        [--pg postgresql://...] [--mariadb mysql+pymysql://...] [--only postgresql|mariadb]

The URLs default to EMPORION_TEST_PG_URL and EMPORION_TEST_MARIADB_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.support.measure import Meter, machine, rss_mb  # noqa: E402
from emporion.connectors.rows.fulldiff import Differ, Snapshot, row_hash  # noqa: E402
from emporion.connectors.rows.values import to_text  # noqa: E402

WAREHOUSES = ("Haupt", "Nord")
CHURN_SKUS = 5  # SKUs deleted and SKUs added per cycle, besides the quantity changes
METADATA = sa.MetaData()
STOCK = sa.Table(
    "lagerbestand",
    METADATA,
    sa.Column("sku", sa.String(40), primary_key=True),
    sa.Column("warehouse", sa.String(20), primary_key=True),
    sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
)


async def poll(
    engine: sa.Engine, cursor: str | None, page_size: int
) -> tuple[list[str], list[str], str, int]:
    """One full-diff poll as the connector runs it: (changed SKUs, deleted SKUs, next cursor, rows read).

    Each page is read in a thread, in its own read transaction, and hashed into the diff at once:
    memory is the two snapshots and one page.
    """
    previous = Snapshot.loads(cursor) if cursor is not None else None
    differ = Differ(previous)
    after: tuple[Any, Any] | None = None
    total = 0
    while True:
        page = await asyncio.to_thread(_page, engine, after, page_size)
        differ.add((to_text(row["sku"]), row_hash(row)) for row in page)
        total += len(page)
        if len(page) < page_size:
            break
        after = (page[-1]["sku"], page[-1]["warehouse"])
    changed, deleted, snapshot = differ.finish()
    return changed, deleted, snapshot.dumps(), total


def _page(engine: sa.Engine, after: tuple[Any, Any] | None, limit: int) -> list[dict[str, Any]]:
    """The next page after the position `after` (keyset on sku, warehouse), in its own transaction."""
    statement = sa.select(STOCK).order_by(STOCK.c.sku, STOCK.c.warehouse).limit(limit)
    if after is not None:
        sku, warehouse = after
        statement = statement.where(
            sa.or_(STOCK.c.sku > sku, sa.and_(STOCK.c.sku == sku, STOCK.c.warehouse > warehouse))
        )
    with engine.begin() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]


def _sku(number: int) -> str:
    return f"ART-{number:07d}"


def seed(engine: sa.Engine, skus: int) -> None:
    """The stock table with `skus` SKUs in every warehouse."""
    METADATA.create_all(engine)
    with engine.begin() as connection:
        for start in range(0, skus, 5000):
            connection.execute(
                STOCK.insert(),
                [
                    {"sku": _sku(n), "warehouse": w, "quantity": Decimal(n % 97)}
                    for n in range(start, min(start + 5000, skus))
                    for w in WAREHOUSES
                ],
            )


def change(
    engine: sa.Engine, rng: random.Random, share: float, next_sku: list[int]
) -> tuple[set[str], set[str]]:
    """The ERP's changes between two polls: ~`share` of the rows get a new quantity, a few SKUs are
    deleted and a few added. (SKUs whose rows changed or were added, SKUs deleted.)"""
    with engine.begin() as connection:
        skus = [row[0] for row in connection.execute(sa.select(STOCK.c.sku).distinct())]
        rows = len(skus) * len(WAREHOUSES)
        picked = rng.sample(skus, CHURN_SKUS + max(1, round(rows * share)))
        gone, moved = set(picked[:CHURN_SKUS]), picked[CHURN_SKUS:]
        connection.execute(STOCK.delete().where(STOCK.c.sku.in_(sorted(gone))))
        updates = [(sku, rng.choice(WAREHOUSES)) for sku in moved]
        connection.execute(
            sa.update(STOCK)
            .where(STOCK.c.sku == sa.bindparam("s"), STOCK.c.warehouse == sa.bindparam("w"))
            .values(quantity=STOCK.c.quantity + 1),
            [{"s": sku, "w": warehouse} for sku, warehouse in updates],
        )
        added = [_sku(next_sku[0] + i) for i in range(CHURN_SKUS)]
        next_sku[0] += CHURN_SKUS
        connection.execute(
            STOCK.insert(),
            [{"sku": sku, "warehouse": w, "quantity": Decimal(3)} for sku in added for w in WAREHOUSES],
        )
    return {sku for sku, _ in updates} | set(added), gone


async def run(url: URL, rows: int, cycles: int, share: float, page_size: int) -> dict[str, Any]:
    """Seed the table at `url`, then the initial poll and `cycles` polls after changes, measured."""
    engine = sa.create_engine(url, pool_size=2)
    rng = random.Random(15)
    skus = rows // len(WAREHOUSES)
    try:
        seed(engine, skus)
        report: list[dict[str, Any]] = []
        cursor: str | None = None
        expected: tuple[set[str], set[str]] = (set(), set())
        next_sku = [skus]
        for cycle in range(cycles + 1):
            if cycle:
                expected = change(engine, rng, share, next_sku)
            meter = Meter().start()
            changed, deleted, cursor, read = await poll(engine, cursor, page_size)
            meter.stop()
            if cycle:
                assert set(changed) == expected[0], f"cycle {cycle}: reported SKUs differ from those changed"
                assert set(deleted) == expected[1], f"cycle {cycle}: reported deletes differ from those made"
            else:
                assert len(changed) == skus and not deleted
            tracemalloc.start()
            again = await poll(engine, cursor, page_size)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert again[:2] == ([], []), f"cycle {cycle}: an unchanged table reported changes"
            report.append(
                {
                    "cycle": "initial" if cycle == 0 else cycle,
                    "rows": read,
                    "wall_s": round(meter.wall, 3),
                    "cpu_s": round(meter.cpu, 3),
                    "cpu_us_per_row": round(meter.cpu / read * 1e6, 2),
                    "changed_skus": len(changed),
                    "deleted_skus": len(deleted),
                    "cursor_bytes": len(cursor),
                    "rss_mb": rss_mb(),
                    "python_peak_mb": round(peak / 2**20, 1),
                }
            )
            print(json.dumps({"database": url.get_backend_name(), **report[-1]}), file=sys.stderr)
        polls = report[1:]
        return {
            "cycles": report,
            "mean_wall_s": round(sum(c["wall_s"] for c in polls) / len(polls), 3) if polls else None,
            "mean_cpu_s": round(sum(c["cpu_s"] for c in polls) / len(polls), 3) if polls else None,
        }
    finally:
        engine.dispose()


def _fresh_database(admin: URL) -> tuple[URL, sa.Engine]:
    """A database with a random name on the server of `admin`, and an engine on that server."""
    name = f"emporion_bench_{secrets.token_hex(4)}"
    server = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        quoted = server.dialect.identifier_preparer.quote(name)
        suffix = " CHARACTER SET utf8mb4" if admin.get_backend_name() == "mysql" else ""
        connection.execute(sa.text(f"CREATE DATABASE {quoted}{suffix}"))
    return admin.set(database=name), server


def _drop(server: sa.Engine, url: URL) -> None:
    """Drop the benchmark's database."""
    quoted = server.dialect.identifier_preparer.quote(str(url.database))
    force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
    server.dispose()


async def main() -> None:
    """Run on PostgreSQL and MariaDB (each in a fresh database, dropped afterwards)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--change", type=float, default=0.01, help="share of rows changed between polls")
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("EMPORION_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--mariadb",
        default=os.environ.get("EMPORION_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/"),
    )
    parser.add_argument("--only", choices=("postgresql", "mariadb"))
    args = parser.parse_args()
    servers = {
        "postgresql": make_url(args.pg).set(drivername="postgresql+psycopg"),
        "mariadb": make_url(args.mariadb),
    }
    report: dict[str, Any] = {
        "benchmark": "full_diff",
        "rows": args.rows,
        "warehouses": len(WAREHOUSES),
        "change": args.change,
        "page_size": args.page_size,
        "machine": machine(),
    }
    for name, admin in servers.items():
        if args.only and name != args.only:
            continue
        url, server = _fresh_database(admin)
        try:
            report[name] = await run(url, args.rows, args.cycles, args.change, args.page_size)
        finally:
            _drop(server, url)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
