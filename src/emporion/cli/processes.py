"""`emporion run`, `emporion worker` and `emporion serve`: the long-running processes.

`run` is the engine with its HTTP server in one process; `worker` (any number, on PostgreSQL) is the
engine without the server; `serve` is only the server. The wiring itself is in emporion.runtime
(imported when a process starts: it brings the HTTP server, which the other commands never load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from emporion.cli.common import (
    USAGE,
    ConfigOption,
    err,
    load,
    naming_connections,
    open_store,
    run_async,
    webhook_secrets,
    with_engine,
)
from emporion.engine.connections import ConnectorPool
from emporion.engine.worker import Engine, worker_id
from emporion.state import SchemaNotCurrent, StateStore


def run(
    config: ConfigOption = Path("emporion.yaml"),
    once: Annotated[bool, typer.Option("--once", help="Poll and work until idle, then exit.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Also serve webhooks (server.host:port).")
    ] = True,
) -> None:
    """Follow the change feeds and keep the targets in sync until stopped (Ctrl-C)."""
    settings = load(config)

    async def work(engine: Engine) -> None:
        from emporion import runtime

        if once:
            await _work_until_idle(engine)
        else:
            await runtime.run(engine, serve=serve, secrets=webhook_secrets(settings, config))

    try:
        run_async(lambda: with_engine(settings, work))
    except KeyboardInterrupt:
        err.print("stopped")


IDLE_ROUNDS = 10  # `run --once`: rounds over the flows for work they queue for each other


async def _work_until_idle(engine: Engine) -> None:
    """`run --once`: start the flows, take the inbox a `serve` process has kept, drain every flow."""
    from emporion.engine.inbox import InboxProcessor

    await engine.ensure_initial_sync()
    inbox = InboxProcessor(engine.settings, engine.store, engine.pool, engine.worker)
    while await inbox.process_once():
        pass
    flows = [runner.flow for runner in [*engine.runners.values(), *engine.order_flows.values()]]
    for flow in flows:
        await engine.drain(flow)
    # one flow's work can queue another's (an order moves stock: its products are written again)
    for _ in range(IDLE_ROUNDS):
        handled = 0
        for flow in flows:
            handled += await engine.drain(flow, poll=False)
        if not handled:
            break


def serve(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Serve only the HTTP side (webhooks into the inbox); workers elsewhere process it (PostgreSQL)."""
    settings = load(config)

    def started(port: int) -> None:
        err.print(f"serving webhooks on http://{settings.server.host}:{port}")

    async def work() -> None:
        from emporion import runtime

        store = await open_store(settings.state.url)
        pool = ConnectorPool(settings)
        try:
            stop = anyio.Event()
            async with naming_connections(pool), anyio.create_task_group() as group:
                group.start_soon(runtime.stop_on_signal, stop)  # SIGTERM: give the webhooks lease back
                secrets = webhook_secrets(settings, config)
                await runtime.serve_only(settings, store, pool, stop, secrets=secrets, started=started)
        finally:
            await pool.close()
            await store.close()

    try:
        run_async(work)
    except KeyboardInterrupt:
        err.print("stopped")


def worker(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Claim and process work, follow change feeds and the inbox, without the HTTP server (scale-out).

    Run any number of workers (and `emporion serve` for webhooks) on one PostgreSQL state database:
    work is shared, and each flow's change feed, initial sync and order reconcile runs in one process
    at a time. Run `emporion db upgrade` once before starting a new version. SIGTERM stops cleanly.
    """
    settings = load(config)

    async def work() -> None:
        from emporion import runtime

        try:
            store = await open_store(settings.state.url, migrate=False)
        except SchemaNotCurrent as error:
            err.print(f"[red]{error}[/]")
            raise typer.Exit(USAGE) from None
        pool = ConnectorPool(settings)
        try:
            if store.dialect == "sqlite":
                await _refuse_a_second_engine(store)
            engine = Engine(settings, store, pool)
            stop = anyio.Event()
            async with naming_connections(pool), anyio.create_task_group() as group:
                group.start_soon(runtime.stop_on_signal, stop)
                err.print(f"worker {engine.worker} started ({store.dialect})")
                await runtime.run(engine, stop=stop)
                group.cancel_scope.cancel()
        finally:
            await pool.close()
            await store.close()

    run_async(work)
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
        raise typer.Exit(USAGE)
