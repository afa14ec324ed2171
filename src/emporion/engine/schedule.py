"""The reconcile schedule of `emporion run`: each catalogue flow is reconciled every `reconcile.interval`.

The next run is due one interval after the flow's last saved report, so that a restart neither skips
the nightly sweep nor runs it again at once; a failed run is tried again after at most ten minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import anyio

from emporion.config import FlowSettings
from emporion.engine.reconcile import Reconciler
from emporion.logs import get_logger
from emporion.state import StateStore, utc_now

if TYPE_CHECKING:
    from emporion.engine.worker import Engine

log = get_logger("emporion.reconcile")
RETRY_FAILED_AFTER = 600.0


async def reconcile_schedule(engine: Engine, stop: anyio.Event) -> None:
    """Run each catalogue flow's scheduled reconcile until `stop` is set."""
    async with anyio.create_task_group() as group:
        for runner in engine.runners.values():
            if runner.flow.reconcile.enabled:
                group.start_soon(_flow_schedule, engine, runner.flow, stop)
        await stop.wait()
        group.cancel_scope.cancel()


async def next_due(store: StateStore, flow: FlowSettings, started: datetime) -> datetime:
    """When the flow's next scheduled reconcile is due (`started`: when this process began waiting)."""
    interval = flow.reconcile.interval
    last = await store.list_reports(flow.name, limit=1)
    if not last:
        return started + timedelta(seconds=interval)
    if last[0].status == "failed":
        interval = min(interval, RETRY_FAILED_AFTER)
    return last[0].finished_at + timedelta(seconds=interval)


async def _flow_schedule(engine: Engine, flow: FlowSettings, stop: anyio.Event) -> None:
    """Wait for the flow's next due time, reconcile, and again, until `stop` is set."""
    reconciler = Reconciler(engine)
    started = utc_now()
    while not stop.is_set():
        wait = (await next_due(engine.store, flow, started) - utc_now()).total_seconds()
        with anyio.move_on_after(max(wait, 0.0)):
            await stop.wait()
        if stop.is_set():
            return
        try:
            await reconciler.reconcile(flow.name, repair=flow.reconcile.repair)
        except Exception as error:  # a broken run must not stop the engine; the report records failures
            log.error("scheduled reconcile failed", flow=flow.name, error=str(error))
            started = utc_now()
            with anyio.move_on_after(RETRY_FAILED_AFTER):
                await stop.wait()
