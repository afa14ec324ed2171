"""Jobs that must run in one process at a time (a flow's change feed, the order reconcile, webhook
registration), wherever several `worker`, `run` and `serve` processes share one state database.

Each job is guarded by a lease in the state database: the process that takes it runs the job and
renews the lease every third of its length; the others try again at the same pace. A holder that dies
stops renewing, so another process takes the job over once the lease has expired. A holder that cannot
renew (its lease was taken, or the database is unreachable past the lease's end) stops the job.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from emporion.logs import get_logger
from emporion.state import StateStore

log = get_logger("emporion.leases")
DEFAULT_LEASE_SECONDS = 30.0
Job = Callable[[], Awaitable[None]]


class Singletons:
    """Runs named jobs of this process under leases, so that one process in the fleet runs each."""

    def __init__(self, store: StateStore, owner: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds

    @property
    def pace(self) -> float:
        """Seconds between renewals by the holder and between attempts by the others."""
        return self.lease_seconds / 3

    async def run(self, name: str, job: Job, stop: anyio.Event) -> None:
        """Take the lease `name` when free, run `job` while holding it, give it back when `job` ends.

        Returns when `job` returns or `stop` is set; a lost lease stops the job and waits for the
        lease again.
        """
        while not stop.is_set():
            if await self._try_acquire(name):
                log.info("lease taken", lease=name, owner=self.owner)
                try:
                    lost = await self._hold(name, job, stop)
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._release(name)
                if not lost:
                    return
            with anyio.move_on_after(self.pace):
                await stop.wait()

    async def _try_acquire(self, name: str) -> bool:
        try:
            return await self.store.acquire_lease(name, self.owner, self.lease_seconds)
        except Exception as error:  # the state database is away: try again later
            log.warning("lease not reachable", lease=name, error=str(error))
            return False

    async def _hold(self, name: str, job: Job, stop: anyio.Event) -> bool:
        """Run `job` and renew the lease meanwhile; True when the lease was lost and the job stopped."""
        lost = False

        async def renew(scope: anyio.CancelScope) -> None:
            nonlocal lost
            renewed = time.monotonic()
            while True:
                await anyio.sleep(self.pace)
                try:
                    if await self.store.acquire_lease(name, self.owner, self.lease_seconds):
                        renewed = time.monotonic()
                        continue
                    log.warning("lease lost to another process", lease=name, owner=self.owner)
                except Exception as error:
                    if time.monotonic() - renewed < self.lease_seconds - self.pace:
                        log.warning("lease renewal failed, trying again", lease=name, error=str(error))
                        continue
                    log.warning("lease expired unrenewed", lease=name, owner=self.owner, error=str(error))
                lost = True
                scope.cancel()
                return

        async with anyio.create_task_group() as group:
            group.start_soon(renew, group.cancel_scope)
            await job()
            group.cancel_scope.cancel()
        return lost and not stop.is_set()

    async def _release(self, name: str) -> None:
        try:
            if await self.store.release_lease(name, self.owner):
                log.info("lease released", lease=name, owner=self.owner)
        except Exception as error:  # it expires by itself
            log.warning("lease release failed", lease=name, error=str(error))
