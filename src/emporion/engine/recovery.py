"""After a crash: free the leases that workers of this machine left behind when they were killed.

A worker is named `host:pid` (see `worker_id`). A lease held under this host's name by a process
that no longer exists can never be finished or given back; waiting for it to expire would stall its
work (and the orders behind a customer claim) for minutes after every restart. Leases of other
machines, and of processes still alive here, are left alone: they expire on their own if need be.
"""

from __future__ import annotations

import os
import socket

from emporion.logs import get_logger
from emporion.state import StateStore

log = get_logger("emporion.engine")


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_local_workers(owners: set[str], host: str | None = None) -> list[str]:
    """The owners named `host:pid` for this host whose process is gone."""
    host = host or socket.gethostname()
    dead = []
    for owner in sorted(owners):
        name, _, pid = owner.rpartition(":")
        if name != host or not pid.isdigit():
            continue
        if not process_alive(int(pid)):
            dead.append(owner)
    return dead


async def release_dead_workers(store: StateStore) -> int:
    """Free the leases and claims of this machine's dead workers; how many were freed."""
    dead = dead_local_workers(await store.lease_holders())
    if not dead:
        return 0
    freed = await store.release_holders(dead)
    log.info("freed the leases of stopped workers", workers=len(dead), leases=freed)
    return freed
