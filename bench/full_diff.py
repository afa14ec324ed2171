"""Benchmark: full-diff change detection on a 100,000-row stock table, on PostgreSQL and MariaDB.

Creates an article table and a stock table (id, artnr, lager, menge; two warehouses per article) in
a fresh database on each server, configures the SQL connector as a merchant would (articles by row
version, stock by full diff) and measures its product change feed (`SqlConnector.changes`) poll by
poll: it loads the snapshot from the cursor, pages through the stock table (keyset paging on the key,
one read transaction per page, each in a thread), hashes every row, diffs per SKU and writes the new
snapshot into the cursor. Between polls the "ERP" gives about 1% of the stock rows a new quantity,
deletes the stock of a few SKUs and adds a few articles; each poll must report exactly those SKUs.
`--via library` runs the same algorithm with the rows library alone (`rows.fulldiff.Differ`).

Prints one JSON object: per database and poll, wall time, this process's CPU time, stock rows, SKUs
reported (asserted equal to those changed), the cursor's size, the process's RSS, and the peak of
Python allocations during a repeat of the poll under tracemalloc (a repeat on unchanged data, which
must report nothing; traced apart because tracing slows the code it measures). The database
servers' own CPU is not counted.

    .venv/bin/python bench/full_diff.py [--rows 100000] [--cycles 5] [--change 0.01] [--page-size 5000]
        [--via connector|library] [--pg postgresql://...] [--mariadb mysql+pymysql://...]
        [--only postgresql|mariadb]

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
from emporion.connectors.sql.connector import SqlConnector  # noqa: E402
from emporion.connectors.sql.settings import SqlConnection  # noqa: E402

WAREHOUSES = ("Haupt", "Nord")
CHURN_SKUS = 5  # SKUs whose stock is deleted and new SKUs added per cycle, besides the quantity changes
METADATA = sa.MetaData()
ARTICLES = sa.Table(
    "artikel",
    METADATA,
    sa.Column("artnr", sa.String(40), primary_key=True),
    sa.Column("bezeichnung", sa.String(80), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, index=True),
)
STOCK = sa.Table(
    "lagerbestand",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("artnr", sa.String(40), nullable=False),
    sa.Column("lager", sa.String(20), nullable=False),
    sa.Column("menge", sa.Numeric(12, 3), nullable=False),
    sa.UniqueConstraint("artnr", "lager"),
)
Poll = tuple[set[str], str, int | None]  # keys reported, the next cursor, rows read (None: not counted)


def connector_settings(url: URL, page_size: int) -> SqlConnection:
    """The SQL connection a merchant would configure: articles by row version, stock by full diff."""
    return SqlConnection.model_validate(
        {
            "type": "sql",
            "url": url.render_as_string(hide_password=False),
            "page_size": page_size,
            "catalogue": {
                "products": {
                    "table": "artikel",
                    "key": "artnr",
                    "columns": {"sku": "artnr", "name": "bezeichnung"},
                    "change": {"mode": "monotonic", "column": "version"},
                },
                "stock": {
                    "table": "lagerbestand",
                    "key": "id",
                    "columns": {"sku": "artnr", "warehouse": "lager", "quantity": "menge"},
                    "change": {"mode": "full_diff"},
                },
            },
        }
    )


async def poll_connector(connector: SqlConnector, cursor: str | None, page_size: int) -> Poll:
    """One poll of the SQL connector's product feed (its stock source by full diff)."""
    batch = await connector.changes("product", cursor)
    assert not batch.more and batch.cursor is not None
    return set(batch.keys), batch.cursor, None


async def poll_library(engine: sa.Engine, cursor: str | None, page_size: int) -> Poll:
    """The same algorithm with the rows library alone: pages in threads, hashed into the diff at once."""
    previous = Snapshot.loads(cursor) if cursor is not None else None
    differ = Differ(previous)
    after: int | None = None
    total = 0
    while True:
        page = await asyncio.to_thread(_page, engine, after, page_size)
        differ.add((to_text(row["artnr"]), row_hash(row)) for row in page)
        total += len(page)
        if len(page) < page_size:
            break
        after = page[-1]["id"]
    changed, deleted, snapshot = differ.finish()
    return (set(changed) | set(deleted)) if previous is not None else set(), snapshot.dumps(), total


def _page(engine: sa.Engine, after: int | None, limit: int) -> list[dict[str, Any]]:
    """The next page of stock rows after the key `after` (keyset paging), in its own transaction."""
    statement = sa.select(STOCK).order_by(STOCK.c.id).limit(limit)
    if after is not None:
        statement = statement.where(STOCK.c.id > after)
    with engine.begin() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]


def _count(engine: sa.Engine) -> int:
    """The stock table's rows now."""
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(STOCK)).scalar_one())


def _sku(number: int) -> str:
    return f"ART-{number:07d}"


def seed(engine: sa.Engine, skus: int) -> None:
    """`skus` articles with stock in every warehouse."""
    METADATA.create_all(engine)
    with engine.begin() as connection:
        for start in range(0, skus, 5000):
            numbers = range(start, min(start + 5000, skus))
            connection.execute(
                ARTICLES.insert(),
                [{"artnr": _sku(n), "bezeichnung": f"Artikel {n}", "version": n} for n in numbers],
            )
            connection.execute(
                STOCK.insert(),
                [
                    {"artnr": _sku(n), "lager": w, "menge": Decimal(n % 97)}
                    for n in numbers
                    for w in WAREHOUSES
                ],
            )


def change(engine: sa.Engine, rng: random.Random, share: float, counter: list[int]) -> set[str]:
    """The ERP's changes between two polls: ~`share` of the stock rows get a new quantity, the stock
    of a few SKUs is deleted and a few articles with stock are added. The SKUs concerned."""
    with engine.begin() as connection:
        rows = connection.execute(sa.select(sa.func.count()).select_from(STOCK)).scalar_one()
        skus = [row[0] for row in connection.execute(sa.select(STOCK.c.artnr).distinct())]
        picked = rng.sample(skus, CHURN_SKUS + max(1, round(rows * share)))
        gone, moved = picked[:CHURN_SKUS], picked[CHURN_SKUS:]
        connection.execute(STOCK.delete().where(STOCK.c.artnr.in_(sorted(gone))))
        connection.execute(
            sa.update(STOCK)
            .where(STOCK.c.artnr == sa.bindparam("s"), STOCK.c.lager == sa.bindparam("w"))
            .values(menge=STOCK.c.menge + 1),
            [{"s": sku, "w": rng.choice(WAREHOUSES)} for sku in moved],
        )
        added = [_sku(counter[0] + i) for i in range(CHURN_SKUS)]
        connection.execute(
            ARTICLES.insert(),
            [{"artnr": sku, "bezeichnung": "neu", "version": counter[0] + i} for i, sku in enumerate(added)],
        )
        counter[0] += CHURN_SKUS
        connection.execute(
            STOCK.insert(),
            [{"artnr": sku, "lager": w, "menge": Decimal(3)} for sku in added for w in WAREHOUSES],
        )
    return set(gone) | set(moved) | set(added)


async def run(url: URL, via: str, rows: int, cycles: int, share: float, page_size: int) -> dict[str, Any]:
    """Seed the tables at `url`, then the first poll and `cycles` polls after changes, measured."""
    engine = sa.create_engine(url, pool_size=2)
    connector = SqlConnector("bench", connector_settings(url, page_size))
    rng = random.Random(15)
    skus = rows // len(WAREHOUSES)

    async def poll(cursor: str | None) -> Poll:
        if via == "connector":
            return await poll_connector(connector, cursor, page_size)
        return await poll_library(engine, cursor, page_size)

    try:
        seed(engine, skus)
        report: list[dict[str, Any]] = []
        cursor: str | None = None
        counter = [skus]
        for cycle in range(cycles + 1):
            expected = change(engine, rng, share, counter) if cycle else set()
            meter = Meter().start()
            found, cursor, read = await poll(cursor)
            meter.stop()
            assert found == expected, f"cycle {cycle}: the SKUs reported differ from those changed"
            tracemalloc.start()
            again = await poll(cursor)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert again[0] == set(), f"cycle {cycle}: an unchanged table reported changes"
            figures = {
                "cycle": "first" if cycle == 0 else cycle,
                "stock_rows": read if read is not None else _count(engine),
                "wall_s": round(meter.wall, 3),
                "cpu_s": round(meter.cpu, 3),
                "reported_skus": len(found),
                "cursor_bytes": len(cursor),
                "rss_mb": rss_mb(),
                "python_peak_mb": round(peak / 2**20, 1),
            }
            report.append(figures)
            print(json.dumps({"database": url.get_backend_name(), "via": via, **figures}), file=sys.stderr)
        polls = report[1:]
        return {
            "cycles": report,
            "mean_wall_s": round(sum(c["wall_s"] for c in polls) / len(polls), 3) if polls else None,
            "mean_cpu_s": round(sum(c["cpu_s"] for c in polls) / len(polls), 3) if polls else None,
        }
    finally:
        await connector.close()
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
    parser.add_argument(
        "--via",
        choices=("connector", "library"),
        default="connector",
        help="poll through the SQL connector's change feed, or the rows library's loop alone",
    )
    args = parser.parse_args()
    servers = {
        "postgresql": make_url(args.pg).set(drivername="postgresql+psycopg"),
        "mariadb": make_url(args.mariadb),
    }
    report: dict[str, Any] = {
        "benchmark": "full_diff",
        "command": (
            f"python bench/full_diff.py --rows {args.rows} --cycles {args.cycles} --change {args.change}"
            f" --page-size {args.page_size} --via {args.via}" + (f" --only {args.only}" if args.only else "")
        ),  # the servers' URLs left out: they may carry a password
        "via": args.via,
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
            report[name] = await run(url, args.via, args.rows, args.cycles, args.change, args.page_size)
        finally:
            _drop(server, url)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
