"""A Tryton database of a given catalogue size, prepared once and cached under var/, and its server."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bench.support.workdir import VAR
from emporion.connectors.tryton.client import TrytonClient
from emporion_devkit.erp.tryton_server import TrytonServer
from emporion_devkit.erp.tryton_setup import CatalogueSpec, TrytonDatabase, copy_database, create_database

CACHE = VAR.parent / "tryton-cache"
# the test suite's logins (and, at 60 products, its seed): a 60-product bench database is its cached template
ADMIN_PASSWORD = "admin-test-secret"  # noqa: S105 (a local database, never exposed)
EMPORION_PASSWORD = "emporion-test-secret"  # noqa: S105


@dataclass
class BenchTryton:
    """A running Tryton server on a private copy of the prepared database."""

    server: TrytonServer
    db: TrytonDatabase
    prepare_seconds: float  # building the template (or finding it in the cache) and copying it
    built: bool  # whether the template had to be built this time

    def login(self) -> dict[str, Any]:
        """emporion's login, for the benchmark configuration."""
        return {
            "url": self.server.url,
            "database": self.server.database,
            "user": self.server.user,
            "password": self.server.password,
        }

    def admin(self) -> TrytonClient:
        """A JSON-RPC client logged in as admin, to change data the way a merchant would."""
        return TrytonClient(self.server.url, self.server.database, "admin", self.db.admin_password)


def prepare(products: int) -> tuple[TrytonDatabase, float, bool]:
    """The cached template with `products` sample products; built (slow) the first time only."""
    spec = CatalogueSpec(products=products, variant_share=0.1, seed=7 if products == 60 else 1)
    began = time.perf_counter()
    before = set(CACHE.glob("*.sqlite")) if CACHE.exists() else set()
    template = create_database(
        VAR / "tryton-templates",
        f"bench{products}",
        admin_password=ADMIN_PASSWORD,
        emporion_password=EMPORION_PASSWORD,
        catalogue=spec,
        cache_dir=CACHE,
    )
    built = set(CACHE.glob("*.sqlite")) != before
    return template, time.perf_counter() - began, built


@contextmanager
def bench_tryton(products: int, folder: Path | None = None) -> Iterator[BenchTryton]:
    """A Tryton server on a fresh copy of the prepared database, stopped afterwards."""
    template, seconds, built = prepare(products)
    folder = folder or (VAR / "tryton-run" / f"{products}")
    began = time.perf_counter()
    db = copy_database(template, folder, name="bench")
    seconds += time.perf_counter() - began
    with TrytonServer(db) as server:
        yield BenchTryton(server, db, round(seconds, 1), built)


async def keep_tryton_up(erp: BenchTryton, crashes: list[dict[str, Any]], until: anyio.Event) -> None:
    """Until `until` is set, start Tryton again if its process ends, noting its exit code and last log lines.

    A crashed ERP is an outage emporion must ride out without losing or duplicating anything; the
    benchmark goes on, and its JSON says that (and why) it happened.
    """
    while not until.is_set():
        await anyio.sleep(0.5)
        if erp.server.running:
            continue
        process = erp.server._process
        exit_code = process.returncode if process else None
        log_tail = erp.server.log_text()[-3000:]
        crashes.append({"exit_code": exit_code, "log_tail": log_tail})
        print(f"trytond exited with {exit_code}; starting it again:\n{log_tail}", file=sys.stderr)
        await anyio.to_thread.run_sync(erp.server.restart)
