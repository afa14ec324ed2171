"""`emporion worker`: the engine without the HTTP server, one of any number of processes on PostgreSQL."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import typer

from emporion.cli import ConfigOption, _settings, err
from emporion.engine.connections import ConnectorPool
from emporion.engine.worker import Engine, worker_id
from emporion.state import SchemaNotCurrent, StateStore


def worker(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Claim and process work, follow change feeds and the inbox, without the HTTP server (scale-out).

    Run any number of workers (and `emporion serve` for webhooks) on one PostgreSQL state database:
    work is shared, and each flow's change feed, initial sync and order reconcile runs in one process
    at a time. Run `emporion db upgrade` once before starting a new version. SIGTERM stops cleanly.
    """
    settings = _settings(config)

    async def work() -> None:
        try:
            store = await StateStore.connect(settings.state.url, migrate=False)
        except SchemaNotCurrent as error:
            err.print(f"[red]{error}[/]")
            raise typer.Exit(2) from None
        pool = ConnectorPool(settings)
        try:
            if store.dialect == "sqlite":
                await _refuse_a_second_engine(store)
            engine = Engine(settings, store, pool)
            stop = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(stop_on_signal, stop)
                err.print(f"worker {engine.worker} started ({store.dialect})")
                await engine.run(stop=stop, serve=False)
                group.cancel_scope.cancel()
        finally:
            await pool.close()
            await store.close()

    anyio.run(work)
    err.print("stopped")


async def _refuse_a_second_engine(store: StateStore) -> None:
    """SQLite serves one engine process: refuse to start next to a live `run` or `worker` (exit 2)."""
    me = worker_id()
    others = sorted({lease.owner for lease in await store.leases("feed:") if lease.owner != me})
    if others:
        err.print(
            f"[red]another engine process ({', '.join(others)}) runs on this SQLite state database[/]: "
            "SQLite serves one `run` or `worker` process; use a PostgreSQL state database "
            "(state.url: postgresql://...) for several workers"
        )
        raise typer.Exit(2)


async def stop_on_signal(stop: anyio.Event) -> None:
    """Set `stop` on SIGTERM or SIGINT, so that leases are given back before the process ends."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            stop.set()
            return
